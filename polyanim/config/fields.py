"""Config fields: the ``_spec`` declaration, the value checks, type coercion and ``_validate``.

Every rule about a single value lives here and is applied by :func:`_validate`
from the dataclasses' ``__post_init__`` (:mod:`polyanim.config.schema`). The
allowed model, optimizer, schedule and panel names come from the registries
(:mod:`polyanim.registry`, :mod:`polyanim.panels.registry`), read without
importing torch or matplotlib.
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import field

import numpy as np

from .. import datafile, targets
from ..errors import InputError
from ..panels.registry import CURVE_PANELS, default_panels, kind_problem
from ..panels.registry import PANELS as PANEL_TABLE
from ..registry.models import MODELS as MODEL_TABLE
from ..registry.optimizers import OPTIMIZERS as OPTIMIZER_TABLE, SCHEDULES as SCHEDULE_TABLE


class ConfigError(InputError):
    """Bad config input; ``str(err)`` is the one line to show the user."""


def _spec(default, *, check=None, choices=None, doc="", unit=None, expect=None, shown=None):
    """A dataclass field carrying its validation rule, its unit suffix and its description for docs/config.md.

    ``expect`` says what is allowed when a value has the wrong type altogether (e.g. ``auto or a whole
    number >= 1``); without it the type's own message is used. ``shown`` is the default as the docs
    should say it when the value itself would mislead (null meaning "the config file's name").
    """
    meta = {"check": check, "choices": choices, "doc": doc, "unit": unit, "expect": expect, "shown": shown}
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
        try:  # two inputs (data.dataset: surface): which variables apply is checked with data.dataset
            targets.parse(v, ("x1", "x2"))
        except targets.ExpressionError:
            return str(exc)
    return None


def _data_file(v):
    if not v.strip() or not v.lower().endswith(datafile.SUFFIXES):
        return f"must name a {', '.join(datafile.SUFFIXES[:-1])} or {datafile.SUFFIXES[-1]} file, got {v!r}"
    return None


def _check_target(target: str, grid: np.ndarray) -> None:
    y = targets.parse(target)(grid)
    bad = ~np.isfinite(y)
    if bad.any():
        raise ConfigError(f"target: {target!r} is not finite on the domain "
                          f"(e.g. at x={grid[bad][0]:g}); narrow data.domain or change the target")


def _check_inputs(data) -> None:
    """One input or two (``data.dataset``): the keys that apply, and the variables of ``data.target``."""
    if data.dataset is None:
        if data.target is not None:
            try:
                targets.parse(data.target)
            except targets.ExpressionError as exc:
                raise ConfigError(f"target: {exc} (x1 and x2 are for data.dataset: surface)") from None
        return
    if data.file is not None or data.train_domain is not None or data.sampling != "grid":
        key = "file" if data.file is not None else "train_domain" if data.train_domain is not None else "sampling"
        raise ConfigError(f"{key}: does not apply with data.dataset (two inputs); remove data.{key}")
    if data.dataset != "surface":
        if data.target is not None:
            raise ConfigError(f"target: a {data.dataset} data set has labels, not a target; data.target is for "
                              "data.dataset: surface")
        return
    object.__setattr__(data, "target", data.target if data.target is not None else DEFAULT_SURFACE)
    object.__setattr__(data, "domain", data.domain if data.domain is not None else DEFAULT_DOMAIN)
    try:
        f = targets.parse(data.target, ("x1", "x2"))
    except targets.ExpressionError as exc:
        raise ConfigError(f"target: {exc} (a surface is an expression in x1 and x2)") from None
    grid = np.linspace(*data.domain, 101)
    if not np.isfinite(f(*np.meshgrid(grid, grid))).all():
        raise ConfigError(f"target: {data.target!r} is not finite on data.domain squared; narrow data.domain")


def _check_model_inputs(model, field: bool) -> None:
    """A model of two inputs for ``data.dataset``, of one otherwise (its registry entry's ``inputs``)."""
    n = 2 if field else 1
    if n not in MODEL_TABLE[model.kind].inputs:
        fits = [k for k, spec in MODEL_TABLE.items() if n in spec.inputs]
        raise ConfigError(f"model.kind: {model.kind} takes {'one input' if field else 'two inputs'}; "
                          + (f"with two inputs (data.dataset, data.columns) use {', '.join(fits)}" if field
                             else f"set data.dataset, or for one input use {', '.join(fits)}"))


def mathtext_problem(v):
    r"""Refuse text that matplotlib cannot draw: the rule is matplotlib's, checked here, before any training.

    In each line, an even number of unescaped ``$`` makes the ``$…$`` parts
    mathtext (parsed now with matplotlib's parser, imported only when a ``$``
    is present so replaying to HTML stays light); an odd number is refused,
    since it is a literal dollar that should be written ``\$``.
    """
    if "$" not in v:
        return None
    for line in v.split("\n"):
        dollars = line.count("$") - line.count("\\$")
        if dollars % 2:
            return (f"{v!r} has an odd number of $; write \\$ for a literal dollar sign "
                    "(pairs of $ enclose matplotlib mathtext, e.g. $\\alpha$)")
        if dollars:
            from matplotlib.font_manager import FontProperties
            from matplotlib.mathtext import MathTextParser

            try:
                MathTextParser("path").parse(line, 72, FontProperties())
            except ValueError as exc:
                why = str(exc).strip().splitlines()[-1].split("Exception: ", 1)[-1].split("  (at char")[0]
                return f"{v!r} is not valid mathtext between $…$ ({why}); write \\$ for a literal dollar sign"
    return None


def _optional(check):
    return lambda v: None if v is None else check(v)


def _hidden(v):
    if not v or not all(1 <= n <= 4096 for n in v):
        return f"needs one or more layer widths between 1 and 4096, got {list(v)}"
    return None


def _interval(v):
    return None if v[0] < v[1] else f"low must be < high, got [{v[0]:g}, {v[1]:g}]"


def _size(v):
    return None if min(v) >= 64 and max(v) <= 7680 else "width and height must be between 64 and 7680 pixels"


def _between(lo, hi):
    return lambda v: None if v is None or lo <= v <= hi else f"must be between {lo:g} and {hi:g}"


PANELS = tuple(PANEL_TABLE)  # polyanim.panels.registry: one line per panel
MODEL_KINDS = tuple(MODEL_TABLE)  # polyanim.registry: one line per model, optimizer, schedule
ACTIVATIONS = ("tanh", "relu", "gelu", "sin")
OPTIMIZERS = tuple(OPTIMIZER_TABLE)
SCHEDULES = tuple(SCHEDULE_TABLE)
RECORDINGS = ("every", "log", "adaptive")
SAMPLINGS = ("grid", "uniform")
DATASETS = ("moons", "circles", "spirals", "xor", "blobs", "surface")  # polyanim.datasets, and a fitted surface
DEFAULT_SURFACE = "sin(x1) * cos(x2)"
LAYOUTS = ("overlay", "grid")
MAX_RUNS = 8  # distinct run colours (polyanim.style.RUN_COLORS) and a readable grid of small multiples
RUN_SECTIONS = ("model", "train")  # what may differ between runs; data and render are shared
DEFAULT_TARGET = "sin(x)"  # data.target and data.domain when neither they nor data.file are given: the post
DEFAULT_DOMAIN = (-math.pi, math.pi)
UNRESOLVED = ("target", "domain")  # data keys whose null means "depends on data.file"


def _workers(v):
    if v == "auto" or (isinstance(v, int) and v >= 1):
        return None
    return f"must be auto or a whole number >= 1, got {v!r}"


def _panels(v):
    if not v:  # the table itself, not PANELS: a panel registered at run time is accepted too
        return f"needs at least one of {', '.join(PANEL_TABLE)}"
    bad = [p for p in v if p not in PANEL_TABLE]
    if bad or len(set(v)) != len(v):
        return f"each of {', '.join(PANEL_TABLE)} at most once, got {list(v)}"
    return None


def _field_panels(render, data) -> None:
    """A field's default panels in place of the curve default, and panels that draw the data's kind."""
    kind = "field" if data.field else "curve"
    if kind == "field" and tuple(render.panels) == CURVE_PANELS:
        task = data.field_task()
        object.__setattr__(render, "panels", default_panels(kind, task, accuracy=task == "classify"))
    problem = kind_problem(render.panels, kind)
    if problem:
        raise ConfigError(f"render.panels: {problem}")


def _validate(obj) -> None:
    """Coerce and check every field of a config dataclass by its own declaration (type, choices, check).

    Called first by each section's ``__post_init__``, so a section built directly
    (``Render(fps=0)``, ``dataclasses.replace``) is checked exactly like one read
    from a file; the builder (:mod:`polyanim.config.io`) adds only where the value came from. Raises
    :class:`ConfigError` as ``key: problem``.
    """
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value, kind = getattr(obj, f.name), hints[f.name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, kind):
                raise ConfigError(f"{f.name}: expected a {kind.__name__} section, got {value!r}")
            continue
        item = typing.get_args(kind)[0] if typing.get_origin(kind) is tuple else None
        if dataclasses.is_dataclass(item):  # runs: a tuple of Run, each validated when it was built
            if not all(isinstance(r, item) for r in value):
                raise ConfigError(f"{f.name}: expected {item.__name__} items, got {value!r}")
            object.__setattr__(obj, f.name, tuple(value))
            continue
        meta = f.metadata
        try:
            coerced = _coerce(value, kind)
        except (TypeError, ValueError, targets.ExpressionError) as exc:
            raise ConfigError(f"{f.name}: must be {meta['expect']}, got {value!r}" if meta.get("expect")
                              else f"{f.name}: {exc}") from None
        problem = None
        if meta.get("choices") and coerced not in meta["choices"]:
            problem = f"must be one of {', '.join(meta['choices'])}, got {coerced!r}"
        elif meta.get("check"):
            problem = meta["check"](coerced)
        if problem:
            raise ConfigError(f"{f.name}: {problem}")
        if coerced is not value:
            object.__setattr__(obj, f.name, coerced)  # frozen: e.g. [640, 480] -> (640, 480), 10 -> 10.0


_HINTS: dict = {}


def _hints(cls) -> dict:
    if cls not in _HINTS:  # get_type_hints evaluates the annotations: once per class
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _coerce(raw, kind):
    """Convert a YAML value to the annotated type, or raise with what was expected."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        if raw is None and type(None) in args:
            return None
        kinds = [a for a in args if a is not type(None)]
        if len(kinds) == 1:
            return _coerce(raw, kinds[0])
        for k in kinds:  # e.g. train.workers: int | str, a number or "auto"
            try:
                return _coerce(raw, k)
            except (TypeError, ValueError):
                continue
        raise TypeError(f"expected {' or '.join(_KIND_NAMES.get(k, str(k)) for k in kinds)}, got {raw!r}")
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


_KIND_NAMES = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def plain_name(name) -> bool:
    """Whether ``name`` can be an output file's stem: text with no slash, NUL or leading dot (no ``..``)."""
    return isinstance(name, str) and bool(name) and not any(c in name for c in "/\\\0") and not name.startswith(".")
