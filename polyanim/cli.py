"""Command line: ``polyanim CONFIG_OR_HISTORY [--out PATH] [--set KEY=VALUE ...] [--quiet]``.

Exit codes: 0 success; 2 bad usage, config or history file (one line on
stderr naming the file, the key and what is allowed); 1 anything else.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__, config, history as history_mod, targets, writers

USAGE_ERRORS = (config.ConfigError, history_mod.HistoryError, writers.UnsupportedFormat, targets.ExpressionError)


class UsageError(ValueError):
    """Bad command-line usage: exit 2 with this one line."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; every option defaults to "not given" so the config decides."""
    p = argparse.ArgumentParser(
        prog="polyanim",
        description="Train a small model and render its training as an animation, "
                    "or re-render a saved history without training.")
    p.add_argument("input", metavar="CONFIG_OR_HISTORY",
                   help="a YAML config (trains, then renders) or a saved .history.npz (renders only)")
    p.add_argument("--out", "-o", metavar="PATH", default=None,
                   help=f"output file; the suffix picks the format: {', '.join(writers.SUFFIXES)} "
                        "(default: outputs/NAME.gif for a config, NAME.gif next to a history)")
    p.add_argument("--set", dest="sets", metavar="KEY=VALUE", action="append", default=[],
                   help="override a config value by its dotted key, e.g. --set train.lr=1e-5 (repeatable); "
                        "when replaying a history only render.* keys apply")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bars, no training log")
    p.add_argument("--version", action="version", version=f"polyanim {__version__}")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except USAGE_ERRORS + (UsageError,) as exc:
        print(f"polyanim: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("polyanim: interrupted; no output was written", file=sys.stderr)
        return 130
    except Exception as exc:  # anything else is exit 1, still one line unless debugging
        if os.environ.get("POLYANIM_DEBUG"):
            raise
        print(f"polyanim: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _run(args) -> int:
    source = Path(args.input)
    replay = source.suffix.lower() == ".npz"
    if replay:
        hist = history_mod.load(source)
        bad = [s for s in args.sets if not s.partition("=")[0].strip().startswith("render.")]
        if bad:
            raise UsageError(f"--set {bad[0]}: only render.* keys apply when replaying a saved history "
                             "(retrain from the config to change the others)")
        cfg = config.from_dict(hist.config, source=f"{source} (meta.config)", overrides=args.sets)
        out = Path(args.out) if args.out else source.with_name(f"{cfg.name}.gif")
    else:
        cfg = config.load(source, args.sets)
        out = Path(args.out) if args.out else Path("outputs") / f"{cfg.name}.gif"
    writers.writer_for(out)  # unsupported suffix: fail before any training
    _check_folder(out.parent)

    if not replay:
        from .train import train  # torch is imported here and only here

        hist = train(cfg, quiet=args.quiet)
        saved = hist.save(out.with_name(f"{_stem(out)}.history.npz"))
        print(saved)
    else:
        hist.meta["config"] = cfg.to_dict()
    from .renderer import render

    render(hist, out, cfg.render, quiet=args.quiet)
    print(out)
    return 0


def _stem(path: Path) -> str:
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def _check_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"{folder}: cannot create the output folder ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{folder}: output folder is not writable")
