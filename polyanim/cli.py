"""Command line: ``polyanim CONFIG_OR_HISTORY [--out PATH] [--set KEY=VALUE ...] [--quiet] [--live]``.

``polyanim batch INPUT... --out-dir DIR ...`` is :func:`polyanim.batching.main`.

Exit codes: 0 success; 2 bad usage, config or history file (one line on
stderr naming the file, the key and what is allowed); 1 anything else.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import api, config
from .errors import InputError, run_command
from .version import __version__


class UsageError(InputError):
    """Bad command-line usage: exit 2 with this one line."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line (exit 2) instead of a usage block."""

    def error(self, message):
        raise UsageError(f"{message} (see polyanim --help)")


def _suffixes() -> list[str]:
    from .registry.formats import FORMATS

    return list(FORMATS)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every option defaults to "not given" so the config decides."""
    p = _Parser(
        prog="polyanim",
        description="Train a small model and render its training as an animation, "
                    "or re-render a saved history without training.")
    p.add_argument("input", metavar="CONFIG_OR_HISTORY",
                   help="a YAML config (trains, then renders) or a saved .history.npz (renders only)")
    p.add_argument("--out", "-o", metavar="PATH", action="append", default=None,
                   help=f"output file; the suffix picks the format: {', '.join(_suffixes())} "
                        "(default: outputs/NAME.gif for a config, NAME.gif next to a history). Repeatable: "
                        "--out a.gif --out a.mp4 --out a.png draws the frames once for all of them")
    p.add_argument("--set", dest="sets", metavar="KEY=VALUE", action="append", default=[],
                   help="override a config value by its dotted key, e.g. --set train.lr=1e-5 (repeatable); "
                        "when replaying a history only render.* keys apply")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="no progress bars, no training log; warnings and errors still show, on stderr")
    p.add_argument("--live", action="store_true",
                   help="also show a window that redraws while training runs (a history: replays it at "
                        "render.fps); the output files are written as without it. Without a display: "
                        "one line on stderr, and the files only")
    p.add_argument("--version", action="version", version=f"polyanim {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["batch"]:  # its own parser; a file named batch is ./batch
        from .batching import main as batch_main

        return batch_main(argv[1:])
    written: list[Path] = []

    def interrupted() -> str:
        return f"kept {', '.join(map(str, written))}" if written else "no output was written"

    return run_command("polyanim", lambda: _run(build_parser().parse_args(argv), written), interrupted)


def _run(args, written: list) -> int:
    """One command: resolve the input and outputs, train or load, render, and hold the live window."""
    source = Path(args.input)
    replay = source.suffix.lower() == ".npz"
    if replay:
        hist, settings, name, out = _resolve_replay(source, args)
        cfg = None
    else:
        cfg = config.load(source, args.sets)
        settings = cfg.render
        out = Path(args.out[0]) if args.out else Path("outputs") / f"{cfg.name}.gif"
        name = cfg.name
    outs = _check_outputs(args, out, cfg, source, settings)

    window = _open_window(name, out) if args.live else None
    try:
        if replay:
            if window is not None:
                from .live import replay as replay_live

                replay_live(window, hist, settings)
            shown = time.monotonic()
        else:
            hist = _train(cfg, args, window)
            shown = time.monotonic()
            written.append(hist.save(out.with_name(f"{_stem(out)}.history.npz")))
            print(written[-1])
        _render(hist, outs, out, settings, args, written)
        if window is not None:  # the final frame stays up render.hold seconds after it was shown
            try:
                window.wait(settings.hold - (time.monotonic() - shown))
            except KeyboardInterrupt:  # the files are written: nothing to undo
                pass
    finally:
        if window is not None:
            window.close()
    return 0


def _resolve_replay(source: Path, args):
    """A saved history, its render settings with ``--set render.*`` applied, its name and the first output."""
    bad = [s for s in args.sets if not s.partition("=")[0].strip().startswith("render.")]
    if bad:
        raise UsageError(f"--set {bad[0]}: only render.* keys apply when replaying a saved history "
                         "(retrain from the config to change the others)")
    hist, settings = api.resolve_sets(source, args.sets)
    name = hist.config.get("name") if isinstance(hist.config.get("name"), str) else "run"
    if not args.out and not config.plain_name(name):  # the default output is NAME.gif beside the History
        raise UsageError(f"{source}: name: {name!r} is not a plain file name (no slashes, NUL or leading dot); "
                         "give --out")
    out = Path(args.out[0]) if args.out else source.with_name(f"{name}.gif")
    return hist, settings, name, out


def _check_outputs(args, out: Path, cfg, source: Path, settings) -> list[Path]:
    """Every output path, checked before any training or drawing import (a config's limits too); no two the
    same file."""
    outs = [Path(o) for o in args.out] if args.out else [out]
    for each in outs:
        api.check_output(each, settings)
        if cfg is not None:
            _check_limits(cfg, source, each)
    resolved = [o.resolve() for o in outs]
    for k, each in enumerate(resolved):
        if each in resolved[:k]:
            raise UsageError(f"--out {outs[k]}: the same file as --out {outs[resolved.index(each)]}")
    return outs


def _train(cfg, args, window):
    """Train ``cfg`` (one run, or several for a multi-run config), drawing live in ``window`` if there is one."""
    if cfg.problem.given or cfg.multi:
        if cfg.problem.given:  # optimizers on a test function: numpy only, no torch
            from .train_paths import train as race

            hist = race(cfg, quiet=args.quiet)
        else:
            from .multirun import train_runs  # torch: imported there, or only in its worker processes

            hist = train_runs(cfg, quiet=args.quiet)
        if window is not None:  # a race, or runs trained back to back or elsewhere: shown once trained
            from .live import replay as replay_live

            replay_live(window, hist, cfg.render)
        return hist
    _preload_drawing()
    from .train import drawing_inputs, train  # torch is imported here and only here

    view = None
    if window is not None:
        from .live import TrainingView

        view = TrainingView(window, cfg, **drawing_inputs(cfg))
    hist = train(cfg, quiet=args.quiet, on_snapshot=view)
    if view is not None:
        view.finish(hist)
    return hist


def _render(hist, outs: list[Path], out: Path, settings, args, written: list) -> None:
    """Draw the frames once into every output file and print their paths."""
    from .renderer import render

    render(hist, outs if len(outs) > 1 else out, settings, quiet=args.quiet)
    written.extend(outs)
    print("\n".join(map(str, outs)), flush=True)


def _preload_drawing() -> None:
    """Import the drawing side (matplotlib) in a thread while torch is imported and trains.

    Training runs torch on one thread for small problems, so the second core is
    otherwise idle; measured 0.1-0.2 s sooner to the first file on 2 cores
    (docs/performance.md). An import error there surfaces again, with its
    message, when the renderer is imported for real.
    """
    import threading

    def load():
        try:
            from . import renderer  # noqa: F401
        except Exception:  # reported by the real import after training
            pass

    threading.Thread(target=load, name="polyanim-preload", daemon=True).start()


def _open_window(name: str, out: Path):
    """The ``--live`` window, or None with one line on stderr when none can open here."""
    from . import live  # tkinter and matplotlib: only with --live

    try:
        return live.Window(title=f"polyanim: {name}")
    except live.NoDisplay as exc:
        print(f"polyanim: --live {exc}; rendering {out} instead", file=sys.stderr)
        return None


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def _check_limits(cfg, source: Path, out: Path) -> None:
    """Refuse, before training, a config whose History or animation exceeds a limit (docs/limits.md);
    print the estimate when it is large but allowed."""
    from . import limits
    from .writers import writer_for

    cls = writer_for(out)
    try:
        cls.check(tuple(cfg.render.size), cfg.render)  # before training: a size the format cannot stream
        notes = limits.check_config(cfg, still=cls.still, frame_rate=cls.frame_rate)
    except config.ConfigError as exc:
        raise config.ConfigError(f"{source}: {exc}") from None
    for line in notes:
        print(f"polyanim: {line}", file=sys.stderr)

