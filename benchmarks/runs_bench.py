"""Side-by-side runs: training one after another vs in worker processes (not run by CI).

Each measurement is a fresh interpreter that loads a multi-run config and
trains its runs with a given number of workers, as ``render.py`` does (so the
parent's ``import torch``, which parallel training skips, is counted), and
the best of ``--repeat`` wall times is kept. It also fits the cost model that
``polyanim.multirun`` uses for ``train.workers: auto``.

    python benchmarks/runs_bench.py [--repeat 3] [configs/lr_sweep.yaml ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ["configs/sgd_vs_adam.yaml", "configs/degree_sweep.yaml", "configs/lr_sweep.yaml"]

CHILD = """
import sys, time
start = time.perf_counter()
from polyanim import config
from polyanim.multirun import train_runs
if __name__ == "__main__":
    cfg = config.load(sys.argv[1])
    train_runs(cfg, quiet=True, workers=int(sys.argv[2]))
    print(time.perf_counter() - start)
"""


def wall(config: str, workers: int) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", CHILD, config, str(workers)], check=True, cwd=ROOT,
                   capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("configs", nargs="*", default=DEFAULT)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from polyanim import config
    from polyanim.multirun import estimated_seconds, usable_cores, workers_for

    cores = usable_cores()
    print(f"{cores} usable cores; load average {os.getloadavg()[0]:.2f}")
    print(f"{'config':28} {'runs':>4} {'estimate':>8} {'auto':>4} " +
          " ".join(f"{f'{n} proc':>8}" for n in range(1, cores + 1)))
    for path in args.configs:
        cfg = config.load(ROOT / path)
        best = {}
        for _ in range(args.repeat):
            for n in range(1, cores + 1):  # interleaved, so a burst of load hits both alike
                best[n] = min(best.get(n, float("inf")), wall(path, n))
        estimate = sum(estimated_seconds(run.config) for run in cfg.runs)
        print(f"{path:28} {len(cfg.runs):>4} {estimate:>7.1f}s {workers_for(cfg, cores):>4} " +
              " ".join(f"{best[n]:>7.2f}s" for n in range(1, cores + 1)))


if __name__ == "__main__":
    main()
