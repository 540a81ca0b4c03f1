"""Planning a batch: inputs x ``--grid`` → units, and the resume record of each finished unit.

A config is read and validated here, in the parent (cheap: no torch, no
matplotlib), so a bad config fails at once as its own unit. After a unit's
outputs are in place :func:`_finish` writes a small sidecar,
``DIR/.polyanim-batch/NAME.json``, with a digest of the resolved config, the
formats and polyanim's version: :func:`up_to_date` skips a unit whose sidecar
matches and whose outputs are all there, so re-running a command resumes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from pathlib import Path

from .. import config, costs, limits
from ..errors import InputError, one_line
from ..fileio import atomic_path
from ..registry.formats import FORMATS as FORMAT_TABLE
from ..version import __version__

FORMATS = ("gif",)
STATE_DIR = ".polyanim-batch"
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
    def succeeded(self) -> bool:
        return self.status == "ok" or (self.status == "skipped" and self.previous == "ok")


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
    """Seconds one unit takes on one core: training by multirun's cost model, drawing by limits' frame model."""
    from ..multirun import estimated_seconds

    runs = [run.config for run in cfg.runs] or [cfg]
    from ..writers import writer_for

    n = limits.timeline(cfg)
    rates = [writer_for(Path(f"unit.{f}")).frame_rate for f in formats]  # each format's own frame count
    drawing = sum(limits.render_seconds(limits.frames(n, cfg.render, rate), cfg.render) for rate in rates)
    return sum(estimated_seconds(c) for c in runs) + drawing


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
