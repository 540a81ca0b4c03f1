"""Many animations at once: ``polyanim batch INPUT... --out-dir DIR``.

A *unit* is one config (or one point of its ``--grid``) or one History file:
config → train → ``NAME.history.npz`` → one file per format. Units are
independent, so they run side by side: locally in a pool of worker processes
that stay alive across units (``import torch`` and matplotlib are paid once
per worker, not once per unit), or on a Dask cluster with ``--scheduler``.
There is no scheduler here beyond handing units to those two.

The parent reads and validates every config (cheap: no torch, no
matplotlib), so a bad config fails at once as its own unit; a worker rebuilds
the config from its resolved dict, which is why a Dask worker needs no access
to the config files. After a unit's outputs are in place the parent writes a
small sidecar, ``DIR/.polyanim-batch/NAME.json``, with a hash of the resolved
config, the formats and polyanim's version: a unit whose sidecar matches and
whose outputs are all there is skipped, so re-running a command resumes it.
Finally ``DIR/index.html`` shows every unit of the batch (see
:mod:`polyanim.gallery`). Details: docs/batch.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import itertools
import json
import os
import re
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

from . import __version__, config, history as history_mod, targets, writers
from .registry.formats import FORMATS as FORMAT_TABLE
from .errors import InputError
from .fileio import atomic_path

FORMATS = ("gif",)
STATE_DIR = ".polyanim-batch"
CONFIG_SUFFIXES = (".yaml", ".yml")
HISTORY_SUFFIX = ".npz"
USAGE = (config.ConfigError, history_mod.HistoryError, writers.UnsupportedFormat, targets.ExpressionError)
# A spawned worker costs about 2 s on an idle core before its first unit (Python, torch, matplotlib, the
# warm-up run; benchmarks/runs_bench.py measured the same start for multirun's workers), and a small frame
# about 6 ms to draw and encode at 640x480. benchmarks/batch_bench.py, on the loaded 2-core box, measured
# 4.2 s per start and 0.57 s per unit where this model says 0.29 s: both twice as slow, the same ratio,
# which is what ``--workers auto`` uses: a worker per core only while each has WORKER_START_SECONDS of work.
WORKER_START_SECONDS = 2.0
FRAME_SECONDS = 0.006
CRASH_HOOK = "POLYANIM_BATCH_CRASH"  # tests: a worker given the unit of this name dies as if killed


class BatchError(InputError):
    """Bad batch usage (inputs, formats, --grid, --workers, the output folder): exit 2 with this one line."""


@dataclasses.dataclass(frozen=True)
class Unit:
    """One independent piece of work: what to train or replay, its file name stem, label and digest."""

    name: str
    label: str
    source: str
    kind: str                   # "config" (train, then render) or "history" (render only)
    config: dict | None = None  # the resolved config of a config unit
    sets: tuple = ()            # render.* overrides of a history unit
    digest: str = ""
    estimate: float = 1.0       # seconds on one core, for --workers auto


@dataclasses.dataclass
class Result:
    """What became of a unit: ``status`` is ok, diverged, failed or skipped (up to date, kept as it was)."""

    name: str
    label: str
    status: str
    final_loss: float | None = None
    seconds: float = 0.0
    error: str = ""
    outputs: list = dataclasses.field(default_factory=list)
    previous: str = ""          # a skipped unit's status when it was made (ok or diverged)
    source: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "ok" or (self.status == "skipped" and self.previous == "ok")


# --- planning: inputs x grid -> units ------------------------------------------------------------


def parse_grid(items) -> list[tuple[str, list[str]]]:
    """``["train.lr=1e-6,3e-6", ...]`` or ``{"train.lr": [1e-6, 3e-6]}`` → ``[(key, [value text, ...])]``.

    Values are split on commas outside brackets, so ``render.size=[320,240],[640,480]`` is two values.
    """
    if isinstance(items, dict):
        return [(_checked_key(k, "--grid"), [_text(v) for v in values]) for k, values in items.items()]
    out = []
    for item in items or ():
        key, sep, raw = item.partition("=")
        values = [v.strip() for v in _split_top(raw)] if sep else []
        if not key.strip() or not values or not all(values):
            raise BatchError(f"--grid {item}: expected KEY=V1,V2,... e.g. --grid train.lr=1e-6,3e-6")
        out.append((_checked_key(key.strip(), "--grid"), values))
    keys = [k for k, _ in out]
    if len(set(keys)) != len(keys):
        raise BatchError(f"--grid: {next(k for k in keys if keys.count(k) > 1)} is given twice; "
                         "list all its values in one --grid")
    return out


def _split_top(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += {"[": 1, "{": 1, "]": -1, "}": -1}.get(c, 0)
        if c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _checked_key(key: str, option: str) -> str:
    """``key`` if it names a config value, else a BatchError with the allowed keys (a typo fails at once)."""
    parts = key.split(".")
    try:
        kind = config._type_at(parts)
    except (KeyError, TypeError):
        kind = None
    if kind is None or dataclasses.is_dataclass(kind):
        try:
            allowed = config._known_keys(parts[:-1])
        except (KeyError, TypeError):
            allowed = config._known_keys([])
        raise BatchError(config._unknown(option, key, allowed).replace("unknown key", "not a config value"))
    return key


def _sets(items) -> list[str]:
    if isinstance(items, dict):
        items = [f"{k}={_text(v)}" for k, v in items.items()]
    items = list(items or ())
    for item in items:
        key = config.parse_override(item)[0]
        if key not in ("runs", "sweep"):
            _checked_key(key, "--set")
    return items


def input_files(inputs) -> list[Path]:
    """The config and History files ``inputs`` name: files as given, folders' files sorted (not recursive)."""
    files = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and _kind(p))
            if not found:
                raise BatchError(f"{path}: no config (.yaml, .yml) or history (.npz) files in this folder")
            files += found
        elif not path.exists():
            raise BatchError(f"{path}: no such file or folder")
        elif not _kind(path):
            raise BatchError(f"{path}: not a config (.yaml, .yml) or a history (.history.npz) file")
        else:
            files.append(path)
    if not files:
        raise BatchError("no inputs: give configs, history files or folders of them")
    return files


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "config" if suffix in CONFIG_SUFFIXES else "history" if suffix == HISTORY_SUFFIX else None


def plan(inputs, formats=FORMATS, grid=(), sets=()) -> list:
    """Every unit of a batch in input order: a :class:`Unit`, or a failed :class:`Result` for a config
    that does not validate.

    A config is expanded over the cartesian product of ``grid``; a History
    takes only the ``render.*`` keys of ``grid`` and ``sets`` (it cannot be
    retrained). Unit names are the config's name (a History's file name)
    followed by the grid values, made safe for file names. Two units with one
    name are a :class:`BatchError`.
    """
    grid = parse_grid(grid)
    sets = _sets(sets)
    items = []
    for path in input_files(inputs):
        items += _config_units(path, grid, sets, formats) if _kind(path) == "config" else \
            _history_units(path, grid, sets, formats)
    seen = {}
    for item in items:
        if item.name in seen:
            raise BatchError(f"{item.source}: unit name {item.name!r} is also the name of a unit from "
                             f"{seen[item.name]}; names must differ (set name: in the config, or rename the file)")
        seen[item.name] = item.source
    return items


def _points(grid):
    """The grid's cartesian product as lists of ``(key, value text)``; one empty point without a grid."""
    return [list(zip([k for k, _ in grid], combo)) for combo in itertools.product(*[v for _, v in grid])]


def _config_units(path: Path, grid, sets, formats) -> list:
    items = []
    for point in _points(grid):
        overrides = sets + [f"{k}={v}" for k, v in point]
        base = path.stem
        try:
            cfg = config.load(path, overrides)
            base = cfg.name
        except USAGE as exc:
            name = unit_name(base, point)
            items.append(Result(name, label(base, point), "failed", error=_one_line(exc), source=str(path)))
            continue
        resolved = cfg.to_dict()
        items.append(Unit(unit_name(cfg.name, point), label(cfg.name, point), str(path), "config",
                          config=resolved, digest=_digest("config", resolved, formats),
                          estimate=_estimate(cfg, formats)))
    return items


def _history_units(path: Path, grid, sets, formats):
    stem = path.name[: -len(".history.npz")] if path.name.lower().endswith(".history.npz") else path.stem
    render_grid = [(k, v) for k, v in grid if k.startswith("render.")]
    render_sets = tuple(s for s in sets if s.partition("=")[0].strip().startswith("render."))
    content = _file_hash(path)
    units = []
    for point in _points(render_grid):
        overrides = render_sets + tuple(f"{k}={v}" for k, v in point)
        units.append(Unit(unit_name(stem, point), label(stem, point), str(path), "history", sets=overrides,
                          digest=_digest("history", {"file": content, "sets": overrides}, formats),
                          estimate=FRAME_SECONDS * 200 * len(formats)))
    return units


def unit_name(base: str, point) -> str:
    """``sin__train.lr=1e-06__model.degree=5``: the name plus each grid value, safe as a file name."""
    parts = [base] + [f"{k}={_short(v)}" for k, v in point]
    name = re.sub(r"[^A-Za-z0-9._=+-]+", "_", "__".join(parts))
    return name if not name.startswith(".") else "_" + name[1:]


def label(base: str, point) -> str:
    """What the gallery and the summary call a unit: ``sin  train.lr=1e-06, model.degree=5``."""
    return base + ("  " + ", ".join(f"{k}={_short(v)}" for k, v in point) if point else "")


def _short(text: str) -> str:
    value = config.parse_override(f"v={text}")[1]
    if isinstance(value, (list, tuple)):
        return "x".join(_short(_text(v)) for v in value)
    if isinstance(value, (int, float, bool)) or not isinstance(value, str):
        return f"{value:g}" if isinstance(value, float) else str(value)
    try:  # PyYAML reads 1e-6 as text
        return f"{float(value):g}"
    except ValueError:
        return value


def _digest(kind: str, what: dict, formats) -> str:
    blob = json.dumps({"kind": kind, "what": what, "formats": list(formats), "version": __version__},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _estimate(cfg, formats) -> float:
    """Seconds one unit takes on one core: training by multirun's cost model, drawing by frames x pixels."""
    from .multirun import estimated_seconds
    from .recording import planned_steps

    runs = [run.config for run in cfg.runs] or [cfg]
    snapshots = len(planned_steps(cfg.train) or range(cfg.train.max_frames))
    frames = snapshots * (cfg.render.interpolate + 1) + cfg.render.fps * (cfg.render.hold + cfg.render.hold_start)
    pixels = cfg.render.size[0] * cfg.render.size[1] / (640 * 480)
    return sum(estimated_seconds(c) for c in runs) + FRAME_SECONDS * frames * pixels * len(formats)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return text if isinstance(exc, USAGE) else f"{type(exc).__name__}: {text}".rstrip(": ")


# --- one unit, in whichever process runs it --------------------------------------------------------


def _init_worker(needs_torch: bool) -> None:
    """Pool initializer: pay the imports once per worker, leave Ctrl-C to the parent, one torch thread."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool

    def stop(signum, frame):  # terminate() from the parent: unwind a unit, so no temporary file is left
        if _busy:
            raise KeyboardInterrupt
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    _warm_up(needs_torch)


def _warm_up(needs_torch: bool) -> None:
    """Train and draw a tiny run once: torch imports much of itself lazily at the first optimizer step
    (seconds of imports, measured), and matplotlib loads its fonts at the first draw; a worker pays that
    here, once, instead of in its first unit."""
    from .renderer import render

    with tempfile.TemporaryDirectory(prefix="polyanim-warm-") as tmp:
        tiny = config.from_dict({"data": {"points": 8}, "train": {"steps": 2, "record_every": 1, "log_every": 0},
                                 "render": {"size": [64, 64]}})
        if needs_torch:
            _one_torch_thread()
            from .train import train

            hist = train(tiny, quiet=True, out=io.StringIO(), err=io.StringIO())
        else:
            import numpy as np

            x = np.linspace(-1, 1, 8)
            hist = history_mod.History([0, 1], [1.0, 0.5], x, x, np.stack([0 * x, x]), meta={"config": tiny.to_dict()})
        render(hist, Path(tmp) / "warm.png", tiny.render, quiet=True)


def _one_torch_thread() -> None:
    """Units run side by side, one per core: torch's own threads would only compete with the others."""
    import torch  # noqa: F401  (imported here so a worker pays it before its first unit)

    from . import train  # noqa: F401

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


_busy = False  # a unit is running in this process (a worker's SIGTERM handler unwinds it)


def execute(unit: Unit, formats, out_dir: str | None = None, payload: bytes | None = None) -> dict:
    """Run one unit; never raises. Returns its status, final loss, seconds and error line.

    With ``out_dir`` the files are written there (atomically); without it
    they are rendered into a temporary folder and returned as bytes under
    ``"files"`` (a Dask worker without the client's file system). A History
    unit may come as ``payload``, the file's bytes, for the same reason. A
    History unit never imports torch.
    """
    global _busy
    started = time.perf_counter()
    if os.environ.get(CRASH_HOOK) == unit.name:
        os._exit(70)
    _busy = True
    out = {"version": __version__, "status": "failed", "final_loss": None, "error": "", "outputs": []}
    try:
        with tempfile.TemporaryDirectory(prefix="polyanim-batch-") as tmp:
            hist, cfg, note = _history_for(unit, Path(tmp), payload)
            where = Path(out_dir) if out_dir else Path(tmp)
            written = [hist.save(where / f"{unit.name}.history.npz")] if unit.kind == "config" else []
            from .renderer import render

            for fmt in formats:
                written.append(render(hist, where / f"{unit.name}.{fmt}", cfg.render, quiet=True, err=io.StringIO()))
            out["outputs"] = [p.name for p in written]
            if not out_dir:
                out["files"] = {p.name: p.read_bytes() for p in written}
        out.update(status="diverged" if note else "ok", error=note, final_loss=_final_loss(hist))
    except Exception as exc:  # the unit's failure is its result; the batch goes on
        out["error"] = _one_line(exc)
    finally:
        _busy = False
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


def _history_for(unit: Unit, tmp: Path, payload: bytes | None):
    """The unit's History, its config (render keys applied) and a divergence note ("" if none)."""
    if unit.kind == "history":
        path = Path(unit.source)
        if payload is not None:
            path = tmp / "input.history.npz"
            path.write_bytes(payload)
        hist = history_mod.load(path)
        cfg = config.from_dict(hist.config, source=f"{unit.source} (meta.config)", overrides=list(unit.sets))
        hist.meta["config"] = cfg.to_dict()
        return hist, cfg, ""
    cfg = config.from_dict(unit.config, source=unit.source)
    _one_torch_thread()
    quiet = dict(quiet=True, out=io.StringIO(), err=io.StringIO())
    if cfg.multi:
        from .multirun import train_runs

        hist = train_runs(cfg, workers=1, **quiet)  # this process is already one of the batch's workers
        runs = [(lbl, h.meta.get("stopped")) for lbl, h in hist]
    else:
        from .train import train

        hist = train(cfg, **quiet)
        runs = [("", hist.meta.get("stopped"))]
    notes = [f"{f'[{lbl}] ' if lbl else ''}{s['reason']} at step {s['step']}" for lbl, s in runs if s]
    return hist, cfg, "; ".join(notes)


def _final_loss(hist) -> float:
    """The last recorded loss; of several runs, the best one's."""
    if isinstance(hist, history_mod.RunSet):
        return min(float(h.loss[-1]) for h in hist.histories)
    return float(hist.loss[-1])


# --- resume: a sidecar per finished unit -----------------------------------------------------------


def _state_path(out_dir: Path, name: str) -> Path:
    return out_dir / STATE_DIR / f"{name}.json"


def up_to_date(unit: Unit, out_dir: Path) -> Result | None:
    """The unit's earlier Result if its sidecar matches its digest and every output is there, else None."""
    try:
        state = json.loads(_state_path(out_dir, unit.name).read_text(encoding="utf-8"))
        outputs = state["outputs"]
        if state["digest"] != unit.digest or state["version"] != __version__:
            return None
        if any(not (out_dir / f).is_file() or (out_dir / f).stat().st_size != size for f, size in outputs.items()):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return Result(unit.name, unit.label, "skipped", state.get("final_loss"), state.get("seconds", 0.0),
                  state.get("error", ""), list(outputs), previous=state.get("status", ""), source=unit.source)


def _finish(unit: Unit, raw: dict, out_dir: Path) -> Result:
    """A worker's answer → files in place (bytes from a remote worker), then the sidecar, then the Result."""
    if raw.get("version") != __version__:
        raw = dict(raw, status="failed", outputs=[], files={},
                   error=f"the worker runs polyanim {raw.get('version')}, this side {__version__}; "
                         "install the same version on every worker")
    for name, data in (raw.get("files") or {}).items():
        with atomic_path(out_dir / name) as tmp:
            tmp.write_bytes(data)
    result = Result(unit.name, unit.label, raw["status"], raw.get("final_loss"), raw.get("seconds", 0.0),
                    raw.get("error", ""), list(raw.get("outputs", ())), source=unit.source)
    if result.status in ("ok", "diverged"):  # written last: a sidecar means the outputs are complete
        state = {"digest": unit.digest, "version": __version__, "status": result.status, "label": unit.label,
                 "final_loss": result.final_loss, "seconds": result.seconds, "error": result.error,
                 "outputs": {f: (out_dir / f).stat().st_size for f in result.outputs}}
        path = _state_path(out_dir, unit.name)
        path.parent.mkdir(exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    return result


def _died(unit: Unit, why: str) -> dict:
    return {"version": __version__, "status": "failed", "final_loss": None, "outputs": [], "seconds": 0.0,
            "error": why}


# --- running the units -----------------------------------------------------------------------------


def workers_for(units, cores: int | None = None) -> int:
    """``--workers auto``: one worker per core, but only as many as have WORKER_START_SECONDS of work each."""
    from .multirun import usable_cores

    cores = usable_cores() if cores is None else cores
    total = sum(u.estimate for u in units)
    return max(1, min(cores, len(units), int(total // WORKER_START_SECONDS)))


def _run_local(units, formats, out_dir: Path, workers: int, finish) -> None:
    """Units in a pool of spawned processes that live across units.

    A worker that dies (killed, out of memory, a crash in native code) breaks
    the whole pool, and the units it was running cannot tell which of them
    killed it: the pool is made anew and those units run again, one at a
    time; one that breaks the pool when running alone is reported as failed.
    """
    import concurrent.futures as cf
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    needs_torch = any(u.kind == "config" for u in units)

    def start():
        return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_init_worker, initargs=(needs_torch,))

    waiting = deque((u, False) for u in units)  # (unit, alone): alone = suspected of killing a worker
    running = {}
    pool = start()
    try:
        while waiting or running:
            _fill(pool, waiting, running, workers, (tuple(formats), str(out_dir)))
            if not running:  # nothing could be submitted: the pool broke with no unit left to blame
                pool.shutdown(wait=True)
                pool = start()
                continue
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
            if broken:  # every unit still in the pool fails the same way
                done = cf.wait(running)[0]
            suspects = []
            for fut in done:
                unit, alone = running.pop(fut)
                exc = fut.exception()
                if isinstance(exc, BrokenProcessPool):
                    if alone:
                        finish(unit, _died(unit, "the worker process died running this unit (killed, out of "
                                                 "memory or crashed)"))
                    else:
                        suspects.append((unit, True))
                else:
                    finish(unit, _died(unit, _one_line(exc)) if exc else fut.result())
            if broken:
                pool.shutdown(wait=True)
                pool = start()
                waiting.extendleft(reversed(suspects))
    except BaseException:
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _fill(pool, waiting, running, workers: int, args) -> None:
    """Hand waiting units to free workers; a suspect runs only by itself."""
    while waiting and len(running) < workers:
        unit, alone = waiting[0]
        if running and (alone or any(a for _, a in running.values())):
            return
        from concurrent.futures.process import BrokenProcessPool

        try:
            future = pool.submit(execute, unit, *args)
        except BrokenProcessPool:  # a worker died since the last wait: its unit's future tells the loop
            return
        waiting.popleft()
        running[future] = (unit, alone)


def _terminate(pool) -> None:
    """Stop the workers now (Ctrl-C, SIGTERM): each unwinds its unit, so no temporary file stays behind."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        process.join(5)


def _connect(address: str):
    """A ``dask.distributed.Client`` for ``address``; a BatchError (exit 2) without Dask or a scheduler."""
    try:
        from distributed import Client
    except ImportError:
        raise BatchError('--scheduler needs Dask: pip install -e ".[dask]" (or pip install "dask[distributed]")') \
            from None
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BatchError(f"--scheduler {address}: cannot connect ({_one_line(exc)})") from None


def _run_dask(units, formats, out_dir: Path, client, shared: bool, finish) -> None:
    """Units as tasks on a Dask cluster: the same :func:`execute`, results back as bytes unless ``shared``."""
    from distributed import as_completed

    dest = str(out_dir.resolve()) if shared else None
    with client:
        futures = {}
        for unit in units:
            # no shared file system: a History input travels with its task
            payload = Path(unit.source).read_bytes() if unit.kind == "history" and not shared else None
            futures[client.submit(execute, unit, tuple(formats), dest, payload, pure=False)] = unit
        for fut in as_completed(futures):
            unit = futures.pop(fut)
            try:
                raw = fut.result()
            except Exception as exc:  # KilledWorker after the scheduler's retries, a lost connection, ...
                raw = _died(unit, _one_line(exc))
            fut.release()
            finish(unit, raw)


class _Progress:
    """One bar for the batch on a terminal (units done, failures, time left); a line per unit otherwise."""

    def __init__(self, total: int, done: int, quiet: bool, err):
        self.total, self.done, self.failed, self.quiet, self.err = total, done, 0, quiet, err
        self.bar = None
        if not quiet and getattr(err, "isatty", lambda: False)():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=done, desc="batch", unit="unit", file=err, mininterval=0.2)

    def add(self, result: Result) -> None:
        self.done += 1
        self.failed += result.status != "ok"
        if self.quiet:
            return
        line = f"[{self.done}/{self.total}] {result.name}: {result.status} ({result.seconds:.1f} s)" + \
            (f": {result.error}" if result.error else "")
        if self.bar is None:
            print(line, file=self.err, flush=True)
            return
        if result.status != "ok":
            self.bar.write(line, file=self.err)
        self.bar.set_postfix_str(f"{self.failed} failed" if self.failed else "", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --- the batch as a whole ----------------------------------------------------------------------------


def run(inputs, out_dir, formats=FORMATS, workers="auto", scheduler: str | None = None, grid=(), sets=(),
        quiet: bool = True, force: bool = False, shared: bool = False, err=None) -> list[Result]:
    """Plan, skip what is up to date, run the rest locally or on Dask, write the gallery; Results in order.

    Raises :class:`BatchError` (or a config error) for bad usage before any
    unit runs. A unit's own failure is its Result, never an exception.
    """
    err = err or sys.stderr
    formats = parse_formats(formats)
    workers = _parse_workers(workers)
    out_dir = _out_dir(out_dir)
    items = plan(inputs, formats, grid, sets)
    results = {r.name: r for r in items if isinstance(r, Result)}
    todo = []
    for unit in (u for u in items if isinstance(u, Unit)):
        kept = None if force else up_to_date(unit, out_dir)
        if kept is not None:
            results[unit.name] = kept
        else:
            todo.append(unit)
    client = _connect(scheduler) if todo and scheduler else None  # before any file is touched
    invalid = [r for r in results.values() if r.status == "failed"]
    progress = _Progress(len(items), len(items) - len(todo) - len(invalid), quiet, err)
    for result in invalid:
        progress.add(result)

    def finish(unit, raw):
        results[unit.name] = _finish(unit, raw, out_dir)
        progress.add(results[unit.name])

    try:
        if client is not None:
            _run_dask(todo, formats, out_dir, client, shared, finish)
        elif todo:
            n = workers_for(todo) if workers == "auto" else workers
            _run_local(todo, formats, out_dir, min(n, len(todo)), finish)
    finally:
        progress.close()
        ordered = [results[i.name] for i in items if i.name in results]
        from .gallery import write_index

        write_index(out_dir / "index.html", ordered)
    return ordered


def parse_formats(formats) -> tuple[str, ...]:
    """``"gif,mp4"`` or ``["gif", ".mp4"]`` → ``("gif", "mp4")``; an unknown one is a BatchError."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    allowed = [s.lstrip(".") for s in FORMAT_TABLE]
    out = []
    for item in items:
        fmt = str(item).strip().lower().lstrip(".")
        if fmt not in allowed:
            raise BatchError(f"--format {item}: unknown format; allowed: {', '.join(allowed)}")
        if fmt not in out:
            out.append(fmt)
    if not out:
        raise BatchError(f"--format: give at least one of {', '.join(allowed)}")
    return tuple(out)


def _parse_workers(value):
    if value == "auto":
        return value
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = 0
    if n < 1 or isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise BatchError(f"--workers: must be auto or a whole number >= 1, got {value!r}")
    return n


def _out_dir(path) -> Path:
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BatchError(f"--out-dir {path}: is a file; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise BatchError(f"--out-dir {path}: cannot write files there ({exc.strerror or exc})") from None
    return path


def summary(results, out_dir) -> str:
    """The table printed at the end: unit, status, final loss, seconds, error; then one line of counts."""
    width = max([len(r.name) for r in results] + [4])
    lines = [f"{'unit':<{width}}  {'status':<8}  {'final loss':>10}  {'seconds':>7}  error"]
    for r in results:
        status = r.status if r.status != "skipped" else f"kept {r.previous}" if r.previous != "ok" else "kept"
        loss = f"{r.final_loss:10.4g}" if r.final_loss is not None else f"{'-':>10}"
        lines.append(f"{r.name:<{width}}  {status:<8}  {loss}  {r.seconds:7.1f}  {r.error}".rstrip())
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "diverged", "failed", "skipped")}
    lines.append(f"{len(results)} units: {counts['ok']} ok, {counts['skipped']} up to date (kept), "
                 f"{counts['diverged']} diverged, {counts['failed']} failed; gallery: {Path(out_dir) / 'index.html'}")
    return "\n".join(lines)


# --- command line --------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise BatchError(f"{message} (see polyanim batch --help)")


def build_parser() -> argparse.ArgumentParser:
    """The ``polyanim batch`` argument parser."""
    p = _Parser(prog="polyanim batch", description="Train and render many configs (and re-render History files) "
                "side by side; outputs, a resume record and a gallery page go to --out-dir.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="configs (.yaml, .yml), History files (.npz) or folders of them (not recursive)")
    p.add_argument("--out-dir", "-d", required=True, metavar="DIR", help="where NAME.history.npz, NAME.gif, ... "
                   "and index.html go")
    p.add_argument("--format", "-f", default="gif", metavar="FMT[,FMT...]",
                   help=f"output formats: {', '.join(s.lstrip('.') for s in FORMAT_TABLE)} (default: gif)")
    p.add_argument("--workers", "-j", default="auto", metavar="N|auto",
                   help="local worker processes (default auto: from the cores and the estimated work)")
    p.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="run the units on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs pip install -e \".[dask]\")")
    p.add_argument("--shared", action="store_true",
                   help="with --scheduler: the workers see --out-dir at the same path and write there "
                        "(default: files come back to this machine as bytes)")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                   help="expand every config over these values; several --grid: every combination")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value for every unit (History files take only render.* keys)")
    p.add_argument("--force", action="store_true", help="run every unit, even those that are up to date")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress; only the summary")
    return p


def main(argv: list[str]) -> int:
    """``polyanim batch ...``: 0 when every unit succeeded, 1 when some failed, 2 for bad usage."""
    from .cli import UsageError, _terminate_as_interrupt

    previous = _terminate_as_interrupt()
    try:
        args = build_parser().parse_args(argv)
        results = run(args.inputs, args.out_dir, args.format, args.workers, args.scheduler, args.grid,
                      args.sets, quiet=args.quiet, force=args.force, shared=args.shared)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except USAGE + (BatchError, UsageError) as exc:
        print(f"polyanim batch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("polyanim batch: interrupted; finished units are kept: run the same command again to resume",
              file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or the system: one line unless debugging
        if os.environ.get("POLYANIM_DEBUG"):
            raise
        print(f"polyanim batch: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)
    print(summary(results, args.out_dir), flush=True)
    return 0 if all(r.succeeded for r in results) else 1


def batch(inputs, out_dir, formats=FORMATS, workers="auto", scheduler: str | None = None, grid=None, sets=None,
          quiet: bool = True, force: bool = False, shared: bool = False) -> list[Result]:
    """Train and render many units side by side, as ``polyanim batch``; return one :class:`Result` per unit.

    ``inputs`` are configs, History files or folders of them (a single path
    is fine); ``formats`` a sequence or ``"gif,mp4"``; ``grid`` a mapping
    ``{"train.lr": [1e-6, 3e-6]}`` (or ``["train.lr=1e-6,3e-6"]``); ``sets`` a
    mapping ``{"train.steps": 500}`` (or ``["train.steps=500"]``);
    ``scheduler`` a Dask scheduler address. A unit's failure is in its Result
    (``status``, ``error``); bad usage raises :class:`BatchError` or a config
    error before anything runs. Locally the units run in spawned processes,
    so a script calling this needs the usual ``if __name__ == "__main__":``.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    return run(inputs, out_dir, formats, workers, scheduler, grid or (), sets or (), quiet=quiet, force=force,
               shared=shared, err=sys.stderr)

