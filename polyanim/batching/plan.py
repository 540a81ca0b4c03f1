"""Planning a batch: inputs x ``--grid`` → units, each with the digest that keys its resume record.

A config is read and validated here, in the parent (cheap: no torch, no
matplotlib), so a bad config fails at once as its own unit. A unit's
digest (resolved config, formats, polyanim's version) keys its resume record
(:mod:`.resume`). A grid that would make more than :data:`MAX_UNITS` units is
refused before a single config is read for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import re
from pathlib import Path

from .. import config, costs, limits
from ..errors import InputError, one_line
from ..fileio import open_regular
from ..history_io import MAX_FILE_BYTES
from ..registry.formats import FORMATS as FORMAT_TABLE
from ..version import __version__

FORMATS = ("gif",)
# a batch of more units than this is refused unless --max-units (max_units=) raises it: thousands of units
# are hours of work, more likely a mistaken --grid than a plan (docs/batch.md)
MAX_UNITS = 1000
CONFIG_SUFFIXES = (".yaml", ".yml")
HISTORY_SUFFIX = ".npz"
# --workers auto: a worker per core only while each has WORKER_START_SECONDS of work (polyanim.costs).
WORKER_START_SECONDS = costs.SPAWN_START_SECONDS
FRAME_SECONDS = costs.frame_seconds(640 * 480)  # a small frame, for a History unit's estimate


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
    def outcome(self) -> str:
        """ok, diverged or failed: what the unit is, whether it ran now or was kept from an earlier run."""
        return self.previous if self.status == "skipped" else self.status

    @property
    def succeeded(self) -> bool:
        # a diverged unit wrote its animation, as a single render of it does: a warning, not a failure
        return self.outcome in ("ok", "diverged")


def parse_formats(formats) -> tuple[str, ...]:
    """``"gif,mp4"`` or ``["gif", ".mp4"]`` → ``("gif", "mp4")``; an unknown one is a BatchError."""
    allowed = [s.lstrip(".") for s in FORMAT_TABLE]
    items = formats.split(",") if isinstance(formats, str) else _sequence(formats)
    if items is None or not all(isinstance(item, str) for item in items):
        raise BatchError(f"--format: expected format names such as 'gif,mp4' or ['gif', 'mp4'], got {formats!r}")
    out = []
    for item in items:
        fmt = item.strip().lower().lstrip(".")
        if fmt not in allowed:
            raise BatchError(f"--format {item}: unknown format; allowed: {', '.join(allowed)}")
        if fmt not in out:
            out.append(fmt)
    if not out:
        raise BatchError(f"--format: give at least one of {', '.join(allowed)}")
    return tuple(out)


def parse_grid(items) -> list[tuple[str, list[str]]]:
    """``["train.lr=1e-6,3e-6", ...]`` or ``{"train.lr": [1e-6, 3e-6]}`` → ``[(key, [value text, ...])]``.

    Values are split on commas outside brackets, so ``render.size=[320,240],[640,480]`` is two values.
    """
    if isinstance(items, dict):
        items = list(items.items())  # (key, values) pairs, checked below
    listed = _sequence(items) if items is not None else []
    if listed is None:
        raise BatchError(f"--grid: expected {{key: [values]}} or ['KEY=V1,V2', ...], got {items!r}")
    out = []
    for item in listed:
        if isinstance(item, (tuple, list)) and len(item) == 2:  # a (key, values) pair, as dict.items() gives
            out.append((_checked_key(_key(item[0], "--grid"), "--grid"), _grid_values(item[0], item[1])))
            continue
        if not isinstance(item, str):
            raise BatchError(f"--grid: expected 'KEY=V1,V2' text or a (key, values) pair, got {item!r}")
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
        kind = config.type_at(parts)
    except (KeyError, TypeError):
        kind = None
    if kind is None or dataclasses.is_dataclass(kind):
        try:
            allowed = config.known_keys(parts[:-1])
        except (KeyError, TypeError):
            allowed = config.known_keys([])
        raise BatchError(config.unknown_key(option, key, allowed).replace("unknown key", "not a config value"))
    return key


def _sequence(value) -> list | None:
    """A list or tuple as a list; None for anything else (text is not split into its characters)."""
    return list(value) if isinstance(value, (list, tuple)) else None


def _key(key, option: str) -> str:
    if not isinstance(key, str):
        raise BatchError(f"{option}: keys are dotted text such as 'train.lr', got {key!r}")
    return key


def _grid_values(key, values) -> list[str]:
    """A mapping's values for one key: a non-empty list (a bare value would be split or dropped)."""
    listed = _sequence(values)
    if listed is None:
        raise BatchError(f"--grid {key}: expected a list of values such as [1e-6, 3e-6], got {values!r}")
    if not listed:
        raise BatchError(f"--grid {key}: give at least one value")
    return [_text(v) for v in listed]


def _sets(items) -> list[str]:
    if isinstance(items, dict):
        items = [f"{_key(k, '--set')}={_text(v)}" for k, v in items.items()]
    given = items
    items = [items] if isinstance(items, str) else _sequence(items) if items is not None else []
    if items is None or not all(isinstance(item, str) for item in items):
        raise BatchError(f"--set: expected {{key: value}} or ['KEY=VALUE', ...], got {given!r}")
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
            with open_regular(path, None, BatchError, "config or history file"):  # a FIFO is refused, unread
                files.append(path)
    if not files:
        raise BatchError("no inputs: give configs, history files or folders of them")
    return files


def _kind(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return "config" if suffix in CONFIG_SUFFIXES else "history" if suffix == HISTORY_SUFFIX else None


def plan(inputs, formats=FORMATS, grid=(), sets=(), max_units: int = MAX_UNITS) -> list:
    """Every unit of a batch in input order: a :class:`Unit`, or a failed :class:`Result` for a config
    that does not validate.

    A config is expanded over the cartesian product of ``grid``; a History
    takes only the ``render.*`` keys of ``grid`` and ``sets`` (it cannot be
    retrained). Unit names are the config's name (a History's file name)
    followed by the grid values, made safe for file names. Two units with one
    name are a :class:`BatchError`, as are more than ``max_units`` units
    (counted before any config is read for them).
    """
    grid = parse_grid(grid)
    sets = _sets(sets)
    files = input_files(inputs)
    _check_count(files, grid, max_units)
    items = []
    for path in files:
        items += _config_units(path, grid, sets, formats) if _kind(path) == "config" else \
            _history_units(path, grid, sets, formats)
    seen = {}
    for item in items:
        if item.name in seen:
            raise BatchError(f"{item.source}: unit name {item.name!r} is also the name of a unit from "
                             f"{seen[item.name]}; names must differ (set name: in the config, or rename the file)")
        seen[item.name] = item.source
    return items


def _check_count(files, grid, max_units: int) -> None:
    """Refuse a batch of more than ``max_units`` units, counted from the grid's sizes alone."""
    full = math.prod(len(values) for _, values in grid)
    render = math.prod(len(values) for key, values in grid if key.startswith("render."))
    count = sum(full if _kind(p) == "config" else render for p in files)
    if count > max_units:
        raise BatchError(f"--grid: {count:,} units ({len(files)} input(s) x the grid's combinations) is more than "
                         f"{max_units:,}; give --max-units {count} to run them all")


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
        except InputError as exc:
            name = unit_name(base, point)
            items.append(Result(name, label(base, point), "failed", error=one_line(exc), source=str(path)))
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
    content = file_sha256(path, MAX_FILE_BYTES, "history file")
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


def file_sha256(path: Path, cap: int | None = None, what: str = "output") -> str:
    """The SHA-256 of a regular file, read in blocks (an output may be a large video)."""
    h = hashlib.sha256()
    with open_regular(path, cap, BatchError, what) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _estimate(cfg, formats) -> float:
    """Seconds one unit takes on one core: training by multirun's cost model, drawing by limits' frame model."""
    from ..multirun import estimated_seconds

    runs = [run.config for run in cfg.runs] or [cfg]
    from ..writers import writer_for

    n = limits.timeline(cfg)
    rates = [writer_for(Path(f"unit.{f}")).frame_rate for f in formats]  # each format's own frame count
    drawing = sum(limits.render_seconds(limits.frames(n, cfg.render, rate), cfg.render) for rate in rates)
    return sum(estimated_seconds(c) for c in runs) + drawing
