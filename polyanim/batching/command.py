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
from .plan import FORMATS, BatchError, Result, Unit, _finish, parse_formats, plan, up_to_date


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
        from ..gallery import write_index

        write_index(out_dir / "index.html", ordered)
    return ordered


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
    from ..errors import run_command

    def body() -> int:
        args = build_parser().parse_args(argv)
        results = run(args.inputs, args.out_dir, args.format, args.workers, args.scheduler, args.grid,
                      args.sets, quiet=args.quiet, force=args.force, shared=args.shared)
        print(summary(results, args.out_dir), flush=True)
        return 0 if all(r.succeeded for r in results) else 1

    return run_command("polyanim batch", body,
                       lambda: "finished units are kept: run the same command again to resume")


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
