"""Runaway training resources and huge frames (issue 16, items 11-13): each must be refused in under 5 s, before any work.

Each case is ``python render.py configs/seed.yaml --set … --out x.gif`` in a fresh process; the
parent waits for it with ``os.wait4`` and prints its wall time, its exit code, its peak resident
memory (``ru_maxrss`` of that one child) and its one-line message, and asserts exit code 2 in under
5 s. A baseline row is the same command refused for a plain bad key (``train.lr=-1``), so the memory
column reads against the interpreter's own start-up. Children run under a 6 GB address-space limit
and a 30 s timer, so a case that is not refused cannot take the shared machine down.

    python benchmarks/resource_bombs.py [--repeat 3]

Cases: a degree of 10^9; chebyshev of degree 100,000 on 200,000 points; an MLP of four 4096-wide
layers on 200,000 points; a 353 MB ``.npz`` data file (22 million rows, written to a temporary
folder); a 10-million-row CSV; degree 200 on [-pi, pi], whose monomials overflow float32; and (item
13) 7680x7680 frames to MP4 from a config and to GIF and MP4 from a saved History, which no animated
format can stream in bounded memory (refused before matplotlib is imported).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
LIMIT_SECONDS = 5.0
SEED = ROOT / "configs/seed.yaml"


def cases(tmp: Path) -> dict[str, list[str]]:
    npz = tmp / "big.npz"
    n = 22_000_000  # 2 x 8 bytes x 22 M = 352 MB uncompressed
    np.savez(npz, x=np.arange(n, dtype=np.float64), y=np.zeros(n))
    csv = tmp / "rows.csv"
    block = b"".join(b"%d.5,%d.25\n" % (k, k) for k in range(1000))
    with open(csv, "wb") as f:
        f.write(b"x,y\n")
        for _ in range(10_000):  # 10,000 x 1,000 rows
            f.write(block)
    history = tmp / "small.history.npz"  # replayed at a frame size no animated format streams (item 13)
    # written by another process: a child's peak RSS counts the parent image it was forked from
    subprocess.run([sys.executable, "-c", "from conftest import make_history; import sys; "
                    "make_history(frames=11, points=100).save(sys.argv[1])", str(history)],
                   cwd=ROOT / "tests", env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True)
    huge = "render.size=[7680,7680]"
    return {
        "baseline (train.lr=-1)": ["train.lr=-1"],
        "model.degree=1e9": ["model.degree=1000000000"],
        "chebyshev 100,000 x 200,000 points": ["model.kind=chebyshev", "model.degree=100000", "data.points=200000"],
        "mlp [4096]*4 x 200,000 points": ["model.kind=mlp", "model.hidden=[4096,4096,4096,4096]",
                                           "data.points=200000"],
        f"data.file .npz {npz.stat().st_size / 1e6:.0f} MB": [f"data.file={npz}", "data.domain=null"],
        f"data.file 10 M-row CSV ({csv.stat().st_size / 1e6:.0f} MB)": [f"data.file={csv}", "data.domain=null"],
        "model.degree=200 on [-pi, pi]": ["model.degree=200"],
        "config, render.size 7680x7680 to .mp4": ([huge], SEED, ".mp4"),
        "History replay, render.size 7680x7680 to .gif": ([huge], history, ".gif"),
        "History replay, render.size 7680x7680 to .mp4": ([huge], history, ".mp4"),
    }


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


def run(case, out: Path) -> tuple[float, int, float, str]:
    """(wall seconds, exit code, peak RSS MiB, last stderr line) of one refused render.

    ``case``: the ``--set`` items for configs/seed.yaml to ``out``, or (items, input, suffix of ``out``)."""
    sets, source, suffix = case if isinstance(case, tuple) else (case, SEED, out.suffix)
    cmd = [sys.executable, str(ROOT / "render.py"), str(source), "--quiet", "--out", str(out.with_suffix(suffix))]
    for item in sets:
        cmd += ["--set", item]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_limits)
    timer = __import__("threading").Timer(30, proc.kill)
    timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    timer.cancel()
    err = proc.stderr.read().decode(errors="replace").strip().splitlines()
    proc.stderr.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, proc.returncode, usage.ru_maxrss / 1024, (err[-1] if err else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        table = cases(Path(tmp))
        results = {name: [] for name in table}
        for _ in range(args.repeat):  # alternating: the machine is shared
            for name, sets in table.items():
                results[name].append(run(sets, Path(tmp) / "x.gif"))
        print("| case | median wall s | exit | peak RSS MiB | message |")
        print("|---|---|---|---|---|")
        for name, runs in results.items():
            wall = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[2] for r in runs)
            code, line = runs[-1][1], runs[-1][3]
            print(f"| {name} | {wall:.2f} | {code} | {rss:.0f} | {line[:150]} |")
            if code != 2 or max(r[0] for r in runs) >= LIMIT_SECONDS or len(line.splitlines()) != 1:
                failed.append(name)
    if failed:
        print(f"NOT refused in under {LIMIT_SECONDS:g} s with exit 2: {', '.join(failed)}")
        return 1
    print(f"every case refused with exit 2 in under {LIMIT_SECONDS:g} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
