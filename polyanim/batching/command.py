"""The batch as a whole: ``polyanim batch`` and :func:`polyanim.batch`, progress and the summary table."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from ..registry.formats import FORMATS as FORMAT_TABLE
from .cluster import _connect, _run_dask
from .local import _run_local, workers_for
from .plan import FORMATS, MAX_UNITS, BatchError, Result, Unit, parse_formats, plan
from .resume import _finish, up_to_date

# a batch this big (units or estimated seconds) says so before it starts: the user may not have meant it
ANNOUNCE_UNITS, ANNOUNCE_SECONDS = 100, 600.0


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


def run(inputs, out_dir, formats=FORMATS, workers="auto", scheduler: str | None = None, grid=(), sets=(),
        quiet: bool = True, force: bool = False, shared: bool = False, err=None,
        max_units: int = MAX_UNITS) -> list[Result]:
    """Plan, skip what is up to date, run the rest locally or on Dask, write the gallery; Results in order.

    Raises :class:`BatchError` (or a config error) for bad usage before any
    unit runs. A unit's own failure is its Result, never an exception.
    """
    err = err or sys.stderr
    formats = parse_formats(formats)
    workers = _parse_workers(workers)
    out_dir = _out_dir(out_dir)
    items = plan(_inputs(inputs), formats, grid, sets, _parse_max_units(max_units))
    results = {r.name: r for r in items if isinstance(r, Result)}
    todo = _still_to_do(items, out_dir, force, results)
    client = _connect(scheduler) if todo and scheduler else None  # before any file is touched
    if client is None and todo:
        workers = min(workers_for(todo) if workers == "auto" else workers, len(todo))
    if not quiet:
        _announce(todo, len(client.nthreads()) if client is not None else workers, err)
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
            _run_local(todo, formats, out_dir, workers, finish)
    finally:
        progress.close()
        ordered = [results[i.name] for i in items if i.name in results]
        from ..gallery import write_index

        write_index(out_dir / "index.html", ordered)
    return ordered


def _still_to_do(items, out_dir: Path, force: bool, results: dict) -> list[Unit]:
    """The units to run; an up-to-date unit's kept Result goes into ``results`` instead."""
    todo = []
    for unit in (u for u in items if isinstance(u, Unit)):
        kept = None if force else up_to_date(unit, out_dir)
        if kept is not None:
            results[unit.name] = kept
        else:
            todo.append(unit)
    return todo


def _announce(todo, workers: int, err) -> None:
    """Say how many units and roughly how long before a large batch starts (--workers auto's estimates)."""
    seconds = sum(u.estimate for u in todo) / max(1, workers)
    if len(todo) >= ANNOUNCE_UNITS or seconds >= ANNOUNCE_SECONDS:
        took = f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"
        print(f"polyanim batch: {len(todo):,} units to run, about {took} on {workers} worker(s)", file=err, flush=True)


def _inputs(inputs) -> list:
    """``inputs`` as a list of paths: one path, or a list or tuple of them."""
    if isinstance(inputs, (str, os.PathLike)):
        return [inputs]
    if not isinstance(inputs, (list, tuple)) or not all(isinstance(p, (str, os.PathLike)) for p in inputs):
        raise BatchError(f"inputs: expected a path or a list of paths (configs, histories, folders), got {inputs!r}")
    return list(inputs)


def _parse_max_units(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BatchError(f"--max-units: must be a whole number >= 1, got {value!r}")
    return value


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
    if not isinstance(path, (str, os.PathLike)):
        raise BatchError(f"--out-dir: expected a folder path, got {path!r}")
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
    """The table printed at the end: unit, status, whether it was kept, final loss, seconds, error; then one
    line of counts. A kept unit counts as what it was when made (ok or diverged)."""
    width = max([len(r.name) for r in results] + [4])
    lines = [f"{'unit':<{width}}  {'status':<8}  {'run':<4}  {'final loss':>10}  {'seconds':>7}  error"]
    for r in results:
        loss = f"{r.final_loss:10.4g}" if r.final_loss is not None else f"{'-':>10}"
        run = "kept" if r.status == "skipped" else "now"
        lines.append(f"{r.name:<{width}}  {r.outcome:<8}  {run:<4}  {loss}  {r.seconds:7.1f}  {r.error}".rstrip())
    counts = {s: sum(r.outcome == s for r in results) for s in ("ok", "diverged", "failed")}
    kept = sum(r.status == "skipped" for r in results)
    lines.append(f"{len(results)} units: {counts['ok']} ok, {counts['diverged']} diverged, {counts['failed']} "
                 f"failed ({kept} up to date, kept); gallery: {Path(out_dir) / 'index.html'}")
    return "\n".join(lines)


def warnings(results) -> list[str]:
    """One stderr line per diverged unit: its animation is written, as a single render's would be."""
    return [f"polyanim batch: warning: {r.name}: {r.error or 'diverged'} (the animation shows it)"
            for r in results if r.outcome == "diverged"]


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
    p.add_argument("--max-units", type=int, default=MAX_UNITS, metavar="N",
                   help=f"refuse a batch of more than N units (default {MAX_UNITS}; a large --grid multiplies fast)")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress; only the summary")
    return p


def main(argv: list[str]) -> int:
    """``polyanim batch ...``: 0 when every unit wrote its outputs (a diverged one is a warning), 1 when some
    failed, 2 for bad usage."""
    from ..errors import run_command

    def body() -> int:
        args = build_parser().parse_args(argv)
        results = run(args.inputs, args.out_dir, args.format, args.workers, args.scheduler, args.grid,
                      args.sets, quiet=args.quiet, force=args.force, shared=args.shared, max_units=args.max_units)
        print(summary(results, args.out_dir), flush=True)
        for line in warnings(results):
            print(line, file=sys.stderr, flush=True)
        return 0 if all(r.succeeded for r in results) else 1

    return run_command("polyanim batch", body,
                       lambda: "finished units are kept: run the same command again to resume")


def batch(inputs, out_dir, formats=FORMATS, workers="auto", scheduler: str | None = None, grid=None, sets=None,
          quiet: bool = True, force: bool = False, shared: bool = False, max_units: int = MAX_UNITS) -> list[Result]:
    """Train and render many units side by side, as ``polyanim batch``; return one :class:`Result` per unit.

    ``inputs`` are configs, History files or folders of them (a single path
    is fine); ``formats`` a sequence or ``"gif,mp4"``; ``grid`` a mapping
    ``{"train.lr": [1e-6, 3e-6]}`` (or ``["train.lr=1e-6,3e-6"]``); ``sets`` a
    mapping ``{"train.steps": 500}`` (or ``["train.steps=500"]``);
    ``scheduler`` a Dask scheduler address; more than ``max_units`` units are
    refused. A unit's failure is in its Result (``status``, ``error``); a
    diverged unit's animation is written (``status`` diverged, ``succeeded``).
    Bad usage raises :class:`BatchError` or a config error before anything
    runs. Locally the units run in spawned processes, so a script calling
    this needs the usual ``if __name__ == "__main__":``.
    """
    return run(inputs, out_dir, formats, workers, scheduler, grid, sets, quiet=quiet, force=force, shared=shared,
               err=sys.stderr, max_units=max_units)  # plan reads a grid or sets of None as none
