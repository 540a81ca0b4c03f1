"""Many small animations: one ``polyanim batch`` vs separate ``render.py`` processes vs a Dask LocalCluster.

Writes 24 small configs (Legendre fits of sin(x): 6 optimizer/learning-rate
settings x degrees 2-5, 400 steps, 41 snapshots, 480x360 GIF) and, in each
round, alternating the order so a burst of load from elsewhere hits every
variant alike:

- ``separate``: 24 ``python render.py CONFIG --out X.gif -q``, one after another (what a shell loop does);
- ``separate -P2``: the same 24 processes two at a time (``xargs -P 2``);
- ``batch``: one ``python render.py batch DIR --out-dir D -q`` (local pool, ``--workers auto``);
- ``dask``: the same batch sent to a fresh 2-worker ``distributed.LocalCluster`` (processes, loopback),
  timed with and without starting the cluster.

Medians over ``--rounds`` are printed with ratios against ``separate``. Then
per-unit costs measured inside the workers and a *calculation* (not a
measurement) of what a 64-core cluster would take for 1,000 such units.

    python benchmarks/batch_bench.py [--rounds 3] [--units 24]
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=str(ROOT))
SETTINGS = [("sgd", 0.05), ("sgd", 0.1), ("sgd", 0.3), ("adam", 0.01), ("adam", 0.03), ("adam", 0.1)]
CONFIG = """name: {name}
seed: 0
data: {{points: 500}}
model: {{kind: legendre, degree: {degree}}}
train: {{steps: 400, optimizer: {opt}, lr: {lr}, loss: mse_mean, record_every: 10, log_every: 0, workers: 1}}
render: {{size: [480, 360], fps: 20, hold: 0.5}}
"""


def write_configs(folder: Path, n: int) -> list[Path]:
    paths = []
    for k, ((opt, lr), degree) in enumerate(itertools.islice(itertools.cycle(
            itertools.product(SETTINGS, (2, 3, 4, 5))), n)):
        path = folder / f"u{k:02d}_{opt}_{lr:g}_d{degree}.yaml"
        path.write_text(CONFIG.format(name=path.stem, degree=degree, opt=opt, lr=lr))
        paths.append(path)
    return paths


def separate(configs, out: Path, parallel: int = 1) -> float:
    cmds = [[sys.executable, "render.py", str(c), "--out", str(out / f"{c.stem}.gif"), "-q"] for c in configs]
    start = time.perf_counter()
    running = []
    for cmd in cmds:
        running.append(subprocess.Popen(cmd, cwd=ROOT, env=ENV, stdout=subprocess.DEVNULL))
        if len(running) >= parallel:
            _check(running.pop(0))
    for proc in running:
        _check(proc)
    return time.perf_counter() - start


def _check(proc) -> None:
    if proc.wait() != 0:
        raise SystemExit(f"{proc.args}: exit {proc.returncode}")


def batch_cli(src: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "render.py", "batch", str(src), "--out-dir", str(out), "-q"], cwd=ROOT, env=ENV,
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def dask_batch(src: Path, out: Path) -> tuple[float, float]:
    """(seconds with the cluster's start, seconds of the batch alone) on a fresh LocalCluster."""
    import distributed

    import polyanim

    start = time.perf_counter()
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        began = time.perf_counter()
        results = polyanim.batch(src, out, scheduler=cluster.scheduler_address)
        done = time.perf_counter()
    assert all(r.status in ("ok", "diverged") for r in results), [r.error for r in results]
    return done - start, done - began


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child process (and their children): robust to load."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def worker_start() -> float:
    """A spawned worker's cost before its first unit: interpreter, imports, warm-up (a fresh process)."""
    code = ("import time; t = time.perf_counter()\n"
            "from polyanim.batching.worker import _init_worker\n"
            "_init_worker(True); print(time.perf_counter() - t)")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--units", type=int, default=24)
    args = p.parse_args()
    sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import polyanim
    from polyanim.batching import plan, workers_for
    from polyanim.multirun import usable_cores

    work = Path(tempfile.mkdtemp(prefix="polyanim-batch-bench-"))
    src = work / "configs"
    src.mkdir()
    configs = write_configs(src, args.units)
    units = [u for u in plan([src]) if hasattr(u, "estimate")]
    print(f"{len(configs)} configs; {usable_cores()} usable cores; auto picks {workers_for(units)} workers; "
          f"load average {os.getloadavg()[0]:.2f} at start")
    times = {k: [] for k in ("separate", "separate -P2", "batch", "dask (with cluster start)", "dask (batch only)")}
    cpu = {k: [] for k in ("separate", "separate -P2", "batch")}
    unit_seconds, starts = [], []
    variants = ["separate", "separate -P2", "batch", "dask"]
    for r in range(args.rounds):
        for name in variants[r % len(variants):] + variants[: r % len(variants)]:  # rotate the order
            out = work / f"out-{name.replace(' ', '')}-{r}"
            out.mkdir()
            used = _children_cpu()
            if name == "separate":
                times[name].append(separate(configs, out))
            elif name == "separate -P2":
                times[name].append(separate(configs, out, parallel=2))
            elif name == "batch":
                times[name].append(batch_cli(src, out))
            if name in cpu:
                cpu[name].append(_children_cpu() - used)
            else:
                whole, alone = dask_batch(src, out)
                times["dask (with cluster start)"].append(whole)
                times["dask (batch only)"].append(alone)
            shutil.rmtree(out)
        local = polyanim.batch(src, work / f"units-{r}", workers=1)  # per-unit costs, one worker, no contention
        unit_seconds += [x.seconds for x in local]
        starts.append(worker_start())
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in times.items()) +
              ", CPU " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in cpu.items()) +
              f"; load average {os.getloadavg()[0]:.2f}", flush=True)
    unit_bytes = sum(f.stat().st_size for f in (work / "units-0").iterdir() if f.is_file()
                     and f.name != "index.html") / len(configs)
    report(times, cpu, unit_seconds, starts, unit_bytes, units, len(configs))
    shutil.rmtree(work)


def report(times, cpu, unit_seconds, starts, unit_bytes, units, n) -> None:
    base = statistics.median(times["separate"])
    print(f"\nmedians of {len(times['separate'])} rounds, run alternately (shared, loaded 2-core machine):")
    for name, values in times.items():
        med = statistics.median(values)
        print(f"  {name:28} {med:7.1f} s   {med / base:5.2f}x separate   (all: {', '.join(f'{v:.1f}' for v in values)})")
    cpu_base = statistics.median(cpu["separate"])
    print("CPU seconds of all processes (user + system; barely depends on the load from elsewhere):")
    for name, values in cpu.items():
        med = statistics.median(values)
        print(f"  {name:28} {med:7.1f} s   {med / cpu_base:5.2f}x separate")
    unit = statistics.median(unit_seconds)
    start = statistics.median(starts)
    estimate = statistics.median(u.estimate for u in units)
    print(f"\nper unit, inside a warm worker: median {unit:.2f} s (cost model's estimate {estimate:.2f} s); "
          f"worker start (spawn, imports, warm-up): median {start:.1f} s")
    dask_alone = statistics.median(times["dask (batch only)"])
    local = statistics.median(times["batch"])
    print(f"dask batch alone vs local batch: {dask_alone / local:.2f}x")
    per_core = 1000 / 64
    t64 = start + per_core * unit
    print(f"\nCALCULATION (not measured): 1,000 such units on a 64-core Dask cluster, one single-threaded worker "
          f"per core, cores as fast as these, per-unit cost as measured here ({unit:.2f} s):\n"
          f"  worker start {start:.1f} s + ceil(1000/64) = {int(-(-1000 // 64))} units per core x {unit:.2f} s "
          f"= {start + int(-(-1000 // 64)) * unit:.0f} s (perfect balance: {t64:.0f} s)\n"
          f"  vs 1,000 separate render.py processes one after another: "
          f"1000 x {base / n:.2f} s = {1000 * base / n / 60:.0f} min; vs one local worker: "
          f"{(start + 1000 * unit) / 60:.0f} min")
    total = 1000 * unit_bytes
    print(f"  bytes sent back to the client per unit (history + GIF): {unit_bytes / 1e3:.0f} kB; 1,000 units: "
          f"{total / 1e6:.0f} MB, {total * 8 / 1e9:.1f} s at 1 Gbit/s, so the network is not the limit")


if __name__ == "__main__":
    main()
