"""YAML config → frozen dataclasses, with one validation path for files and ``--set``.

Precedence is defaults < file < command line. Every problem is reported as a
:class:`ConfigError` whose message is one line: where the value came from (a
file or ``--set``), the dotted key, and what is allowed.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from . import targets


class ConfigError(ValueError):
    """Bad config input; ``str(err)`` is the one line to show the user."""


def _spec(default, *, check=None, choices=None, doc=""):
    """A dataclass field carrying its validation rule and its README description."""
    meta = {"check": check, "choices": choices, "doc": doc}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def _positive(v):
    return None if v > 0 else "must be > 0"


def _non_negative(v):
    return None if v >= 0 else "must be >= 0"


def _at_least(n):
    return lambda v: None if v >= n else f"must be >= {n}"


def _expression(v):
    try:
        targets.parse(v)
    except targets.ExpressionError as exc:
        return str(exc)
    return None


def _interval(v):
    return None if v[0] < v[1] else f"low must be < high, got [{v[0]:g}, {v[1]:g}]"


def _size(v):
    return None if min(v) >= 16 and max(v) <= 7680 else "width and height must be between 16 and 7680 pixels"


PANELS = ("fit", "loss")


def _panels(v):
    if not v:
        return f"needs at least one of {', '.join(PANELS)}"
    bad = [p for p in v if p not in PANELS]
    if bad or len(set(v)) != len(v):
        return f"each of {', '.join(PANELS)} at most once, got {list(v)}"
    return None


@dataclass(frozen=True)
class Data:
    target: str = _spec("sin(x)", check=_expression,
                        doc="target function of x: numbers, x, pi, e, + - * / **, sin cos exp log sqrt abs tanh …")
    domain: tuple[float, float] = _spec((-math.pi, math.pi), check=_interval,
                                        doc="[low, high] of x; numbers or constant expressions like -pi")
    points: int = _spec(2000, check=_at_least(2), doc="evenly spaced x values, used to train and to draw")
    noise: float = _spec(0.0, check=_non_negative, doc="std of Gaussian noise added to the training targets")


@dataclass(frozen=True)
class Model:
    kind: str = _spec("polynomial", choices=("polynomial",), doc="model family")
    degree: int = _spec(3, check=_at_least(0),
                        doc="polynomial degree; coefficients drawn highest power first, like the post")


@dataclass(frozen=True)
class Train:
    steps: int = _spec(2000, check=_positive, doc="optimisation steps")
    optimizer: str = _spec("sgd", choices=("sgd", "adam"), doc="sgd or adam")
    lr: float = _spec(1e-6, check=_positive, doc="learning rate")
    momentum: float = _spec(0.0, check=_non_negative, doc="SGD momentum (ignored by adam)")
    loss: str = _spec("mse_sum", choices=("mse_sum", "mse_mean"),
                      doc="mse_sum (the post's MSELoss(reduction='sum')) or mse_mean")
    record_every: int = _spec(100, check=_positive, doc="take a snapshot (one animation frame) every N steps")
    log_every: int = _spec(100, check=_at_least(0), doc="print `step loss` every N steps (0: never)")


@dataclass(frozen=True)
class Render:
    size: tuple[int, int] = _spec((640, 480), check=_size, doc="[width, height] of the output in pixels")
    dpi: float = _spec(100.0, check=_positive, doc="text and line scale at 640x480; other sizes scale it, so the layout looks the same")
    fps: float = _spec(10.0, check=_positive,
                       doc="frames per second (GIF: rounded to a whole centisecond delay, at most 50)")
    hold: float = _spec(1.0, check=_non_negative, doc="seconds to hold the last frame")
    title: str = _spec("", doc="figure title (empty: none)")
    panels: tuple[str, ...] = _spec(("fit", "loss"), check=_panels,
                                    doc="panels: fit, loss; stacked, or side by side when width/height >= 1.6")
    theme: str = _spec("light", choices=("light", "dark"), doc="light or dark colours")
    quality: str = _spec("medium", choices=("high", "medium", "small"),
                         doc="GIF palette preset (see Performance): high, medium or small")


@dataclass(frozen=True)
class Config:
    name: str = _spec("run", doc="base name of the output files")
    seed: int | None = _spec(0, doc="random seed (null: not seeded)")
    data: Data = field(default_factory=Data)
    model: Model = field(default_factory=Model)
    train: Train = field(default_factory=Train)
    render: Render = field(default_factory=Render)

    def __post_init__(self):
        if self.train.record_every > self.train.steps:
            raise ConfigError(f"train.record_every: must be <= train.steps ({self.train.steps}), "
                              f"got {self.train.record_every}")
        lo, hi = self.data.domain
        grid = np.linspace(lo, hi, self.data.points)
        y = targets.parse(self.data.target)(grid)
        bad = ~np.isfinite(y)
        if bad.any():
            raise ConfigError(f"data.target: {self.data.target!r} is not finite on the domain "
                              f"(e.g. at x={grid[bad][0]:g}); narrow data.domain or change the target")
        if not self.name or any(c in self.name for c in "/\\\0") or self.name.startswith("."):
            raise ConfigError(f"name: must be a plain file name (no slashes), got {self.name!r}")

    def to_dict(self) -> dict:
        """The fully resolved config as plain YAML/JSON-friendly values."""
        return _plain(dataclasses.asdict(self))


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config)}


def load(path: str | Path, overrides: typing.Sequence[str] = ()) -> Config:
    """Read a YAML config file and apply ``KEY=VALUE`` overrides; validate everything."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.__class__.__name__}: {exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    data.setdefault("name", path.stem)
    return from_dict(data, source=str(path), overrides=overrides)


def from_dict(data: dict, source: str = "config", overrides: typing.Sequence[str] = ()) -> Config:
    """Build a validated :class:`Config` from nested dicts, then apply ``KEY=VALUE`` overrides."""
    config = _build(data, source)
    if overrides:
        merged = config.to_dict()
        for item in overrides:
            key, value = parse_override(item)
            _set_dotted(merged, key, value, "--set")
        config = _build(merged, "--set")
    return config


def parse_override(item: str) -> tuple[str, object]:
    """Split ``"train.lr=1e-5"`` into the key and a YAML-typed value."""
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item}: expected KEY=VALUE, e.g. --set train.lr=1e-5")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _set_dotted(tree: dict, key: str, value, source: str) -> None:
    parts = key.split(".")
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            known = _known_keys(parts[:depth])
            raise ConfigError(_unknown(source, ".".join(parts[: depth + 1]), known))
        node = child
    if parts[-1] not in node:
        raise ConfigError(_unknown(source, key, _known_keys(parts[:-1])))
    node[parts[-1]] = value


def _known_keys(prefix: list[str]) -> list[str]:
    cls = Config
    for part in prefix:
        cls = typing.get_type_hints(cls)[part]
    return [f.name for f in dataclasses.fields(cls)]


def _unknown(source: str, key: str, allowed: list[str]) -> str:
    head, _, leaf = key.rpartition(".")
    close = difflib.get_close_matches(leaf, allowed, n=1)
    hint = f"did you mean '{(head + '.' if head else '') + close[0]}'? " if close else ""
    return f"{source}: {key}: unknown key; {hint}(allowed: {', '.join(allowed)})"


def _build(data: dict, source: str, cls=Config, prefix: str = ""):
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, raw in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(_unknown(source, dotted, list(fields)))
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            if raw is None:
                raw = {}
            if not isinstance(raw, dict):
                raise ConfigError(f"{source}: {dotted}: expected a section of keys "
                                  f"({', '.join(_known_keys([key]))}), got {raw!r}")
            values[key] = _build(raw, source, kind, dotted + ".")
            continue
        meta = fields[key].metadata
        try:
            value = _coerce(raw, kind)
        except (TypeError, ValueError, targets.ExpressionError) as exc:
            raise ConfigError(f"{source}: {dotted}: {exc}") from None
        problem = None
        if meta.get("choices") and value not in meta["choices"]:
            problem = f"must be one of {', '.join(meta['choices'])}, got {value!r}"
        elif meta.get("check"):
            problem = meta["check"](value)
        if problem:
            raise ConfigError(f"{source}: {dotted}: {problem}")
        values[key] = value
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {prefix}{exc}") from None


def _coerce(raw, kind):
    """Convert a YAML value to the annotated type, or raise with what was expected."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        if raw is None and type(None) in args:
            return None
        return _coerce(raw, next(a for a in args if a is not type(None)))
    if origin is tuple:
        if not isinstance(raw, (list, tuple)):
            raise TypeError(f"expected a list, got {raw!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in raw)
        if len(raw) != len(args):
            raise TypeError(f"expected a list of {len(args)} values, got {list(raw)!r}")
        return tuple(_coerce(v, a) for v, a in zip(raw, args))
    if kind is bool:
        if not isinstance(raw, bool):
            raise TypeError(f"expected true or false, got {raw!r}")
        return raw
    if kind is int:
        if isinstance(raw, bool) or not (isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer())):
            raise TypeError(f"expected a whole number, got {raw!r}")
        return int(raw)
    if kind is float:
        if isinstance(raw, bool) or raw is None:
            raise TypeError(f"expected a number, got {raw!r}")
        try:  # PyYAML reads 1e-6 as a string (YAML 1.1), and domains may say -pi
            value = targets.constant(raw)
        except targets.ExpressionError:
            raise TypeError(f"expected a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {raw!r}")
        return value
    if kind is str:
        if not isinstance(raw, str):
            raise TypeError(f"expected text, got {raw!r}")
        return raw
    raise TypeError(f"unsupported type {kind}")  # pragma: no cover - a bug in a field declaration


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def reference() -> list[tuple[str, object, str]]:
    """Every config key as ``(dotted key, default, description)``, for the README."""
    rows = []

    def walk(cls, prefix):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], f"{prefix}{f.name}.")
            else:
                default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
                rows.append((prefix + f.name, _plain(default), f.metadata.get("doc", "")))

    walk(Config, "")
    return rows
