"""YAML config → frozen dataclasses, with one validation path for files and ``--set``.

Precedence is defaults < file < command line. Every problem is reported as a
:class:`ConfigError` whose message is one line: where the value came from (a
file or ``--set``), the dotted key, and what is allowed.

A config may describe several runs drawn side by side (``runs`` or the
``sweep`` shorthand): each :class:`Run` holds its label and a whole
single-run :class:`Config`, the top level merged with the run's ``model`` and
``train`` keys and validated like any config (errors name the run:
``runs[1].train.lr: must be > 0``). ``data``, ``render`` and ``seed`` are
shared by all runs.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import typing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import datafile, targets
from .errors import InputError
from .panels.registry import PANELS as PANEL_TABLE


class ConfigError(InputError):
    """Bad config input; ``str(err)`` is the one line to show the user."""


def _spec(default, *, check=None, choices=None, doc="", unit=None, expect=None):
    """A dataclass field carrying its validation rule, its unit suffix and its README description.

    ``expect`` says what is allowed when a value has the wrong type altogether (e.g. ``auto or a whole
    number >= 1``); without it the type's own message is used.
    """
    meta = {"check": check, "choices": choices, "doc": doc, "unit": unit, "expect": expect}
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


def _mathtext(v):
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
MODEL_KINDS = ("polynomial", "legendre", "chebyshev", "mlp")
ACTIVATIONS = ("tanh", "relu", "gelu", "sin")
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "lbfgs")
SCHEDULES = ("none", "step", "cosine", "exponential")
RECORDINGS = ("every", "log", "adaptive")
SAMPLINGS = ("grid", "uniform")
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
    if not v:
        return f"needs at least one of {', '.join(PANELS)}"
    bad = [p for p in v if p not in PANELS]
    if bad or len(set(v)) != len(v):
        return f"each of {', '.join(PANELS)} at most once, got {list(v)}"
    return None


def _validate(obj) -> None:
    """Coerce and check every field of a config dataclass by its own declaration (type, choices, check).

    Called first by each section's ``__post_init__``, so a section built directly
    (``Render(fps=0)``, ``dataclasses.replace``) is checked exactly like one read
    from a file; the builder below adds only where the value came from. Raises
    :class:`ConfigError` as ``key: problem``.
    """
    hints = _hints(type(obj))
    for f in dataclasses.fields(obj):
        value, kind = getattr(obj, f.name), hints[f.name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, kind):
                raise ConfigError(f"{f.name}: expected a {kind.__name__} section, got {value!r}")
            continue
        if f.name == "runs":
            if not all(isinstance(r, Run) for r in value):
                raise ConfigError(f"runs: expected Run items, got {value!r}")
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


@dataclass(frozen=True)
class Data:
    target: str | None = _spec(None, check=_optional(_expression),
                               doc="target function of x: numbers, x, pi, e, + - * / **, sin cos exp log sqrt abs "
                                   "tanh … (null: sin(x); with data.file: no target curve, the points are the "
                                   "target)")
    domain: tuple[float, float] | None = _spec(None, check=_optional(_interval),
                                               doc="[low, high] of x; numbers or constant expressions like -pi "
                                                   "(null: [-pi, pi]; with data.file: the x range of its points)")
    points: int = _spec(2000, check=_between(2, 200_000),
                        doc="evenly spaced x values the curves are drawn on (and trained on unless data.samples, "
                            "data.sampling or data.train_domain say otherwise)")
    noise: float = _spec(0.0, check=_non_negative, doc="std of Gaussian noise added to the training targets (seeded)")
    samples: int | None = _spec(None, check=_optional(_at_least(2)),
                                doc="number of training samples, placed in the training range by data.sampling "
                                    "(null: data.points of them; with grid sampling, the drawing grid itself, "
                                    "like the post)")
    sampling: str = _spec("grid", choices=SAMPLINGS,
                          doc="where training samples lie: grid (evenly spaced) or uniform (random, seeded)")
    train_domain: tuple[float, float] | None = _spec(None, check=_optional(_interval),
                                                     doc="[low, high] inside data.domain: train only on samples "
                                                         "in it, draw on the whole domain (null: the whole domain)")
    file: str | None = _spec(None, check=_optional(_data_file),
                             doc="your own points to fit instead of a formula: a .csv of x,y rows (header x,y "
                                 "optional), a .npy of shape [N, 2] or an .npz with arrays x and y; relative to "
                                 "the config's folder (see docs/data-files.md)")

    def __post_init__(self):
        _validate(self)
        if self.file is None:  # not given: the post's problem
            if self.target is None:
                object.__setattr__(self, "target", DEFAULT_TARGET)
            if self.domain is None:
                object.__setattr__(self, "domain", DEFAULT_DOMAIN)
        else:
            # the resolved path is what the saved config keeps, so a re-run from anywhere finds the file
            object.__setattr__(self, "file", os.path.abspath(os.path.expanduser(self.file)))
            for key, given in (("samples", self.samples is not None), ("sampling", self.sampling != "grid"),
                               ("noise", self.noise != 0)):
                if given:
                    raise ConfigError(f"{key}: does not apply with data.file (the training samples are the "
                                      f"file's points); remove data.{key}")
        if self.train_domain is None or self.domain is None:
            return  # with data.file and no data.domain: checked against the file's range by check_file()
        self._check_train_domain(self.domain)

    def _check_train_domain(self, domain) -> None:
        (lo, hi), (a, b) = domain, self.train_domain
        if a < lo or b > hi:
            where = "data.domain" if self.domain is not None else "the x range of data.file"
            raise ConfigError(f"train_domain: must lie inside {where} [{lo:g}, {hi:g}], got [{a:g}, {b:g}]")
        if self.file is not None:
            x = self.points_xy()[0]
            inside = int(np.count_nonzero((x >= a) & (x <= b)))
            if inside < 2:
                raise ConfigError(f"train_domain: holds {inside} of the {len(x)} points of data.file, needs >= 2; "
                                  "widen it")
        elif self.samples is None and self.sampling == "grid":
            grid = self.grid()
            inside = int(np.count_nonzero((grid >= a) & (grid <= b)))
            if inside < 2:
                raise ConfigError(f"train_domain: holds {inside} of the {self.points} grid points, needs >= 2; "
                                  "widen it, raise data.points or set data.samples")

    def points_xy(self) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) points of ``data.file`` (float64, read-only); ConfigError naming the file if it is bad."""
        try:
            return datafile.read(self.file)
        except datafile.DataFileError as exc:
            raise ConfigError(f"file: {exc}") from None

    def check_file(self) -> None:
        """Read ``data.file`` and check what depends on its points (no-op without one).

        Called when a config is loaded and again before training; a replay never
        calls it, so a History replays without the file.
        """
        if self.file is None:
            return
        try:
            self.points_xy()
            if self.train_domain is not None:
                self._check_train_domain(self.span())
            if self.target is not None:
                _check_target(self.target, self.grid())
        except ConfigError as exc:
            raise ConfigError(f"data.{exc}") from None

    def span(self) -> tuple[float, float]:
        """``[low, high]`` of the drawing grid: ``data.domain``, or the x range of ``data.file``'s points."""
        if self.domain is not None:
            return self.domain
        x = self.points_xy()[0]
        return float(x.min()), float(x.max())

    def grid(self) -> np.ndarray:
        """The drawing grid, in float64."""
        return np.linspace(*self.span(), self.points)

    def train_range(self) -> tuple[float, float]:
        """Where training samples lie: ``train_domain``, or the whole ``domain``."""
        return self.train_domain if self.train_domain is not None else self.span()


@dataclass(frozen=True)
class Model:
    kind: str = _spec("polynomial", choices=MODEL_KINDS,
                      doc="model family: polynomial (monomial basis), legendre, chebyshev or mlp")
    degree: int = _spec(3, check=_at_least(0),
                        doc="degree of polynomial, legendre and chebyshev models (degree + 1 coefficients); "
                            "polynomial coefficients are drawn highest power first, like the post")
    hidden: tuple[int, ...] = _spec((32, 32), check=_hidden, doc="mlp only: width of each hidden layer")
    activation: str = _spec("tanh", choices=ACTIVATIONS, doc="mlp only: tanh, relu, gelu or sin")

    def __post_init__(self):
        _validate(self)


@dataclass(frozen=True)
class Train:
    steps: int = _spec(2000, check=_positive, doc="optimisation steps")
    optimizer: str = _spec("sgd", choices=OPTIMIZERS, doc="sgd, adam, adamw, rmsprop or lbfgs")
    lr: float = _spec(1e-6, check=_positive, doc="learning rate")
    momentum: float = _spec(0.0, check=_non_negative, doc="momentum of sgd and rmsprop (ignored by the others)")
    nesterov: bool = _spec(False, doc="sgd only: Nesterov momentum (needs train.momentum > 0)")
    weight_decay: float | None = _spec(None, check=_optional(_non_negative),
                                       doc="L2 weight decay of sgd, adam, rmsprop; decoupled for adamw "
                                           "(null: 0.01 for adamw, 0 otherwise; lbfgs has none)")
    schedule: str = _spec("none", choices=SCHEDULES, doc="learning-rate schedule: none, step, cosine or exponential")
    step_size: int = _spec(500, check=_positive, doc="step schedule: multiply the lr by train.gamma every N steps")
    gamma: float | None = _spec(None, check=_optional(_positive),
                                doc="lr factor of step (per train.step_size steps) and exponential (per step) "
                                    "schedules (null: 0.5 for step; for exponential the factor that makes the "
                                    "lr fall 100-fold over the run)")
    lr_min: float = _spec(0.0, check=_non_negative, doc="cosine schedule: the lr reached at the last step")
    loss: str = _spec("mse_sum", choices=("mse_sum", "mse_mean"),
                      doc="mse_sum (the post's MSELoss(reduction='sum')) or mse_mean")
    record: str = _spec("every", choices=RECORDINGS,
                        doc="when to take snapshots: every (every train.record_every steps), log (log-spaced, "
                            "dense early) or adaptive (when the prediction has moved by train.record_threshold)")
    record_every: int = _spec(100, check=_positive, doc="take a snapshot (one animation frame) every N steps")
    frames: int | None = _spec(None, check=_optional(_at_least(2)),
                               doc="frame budget that picks the spacing: every: record_every = ceil(steps/N); "
                                   "log: N snapshots; adaptive: at most N (replaces max_frames)")
    record_threshold: float = _spec(0.01, check=_positive,
                                    doc="adaptive: snapshot when the prediction's RMS change since the last "
                                        "snapshot exceeds this fraction of the target's std")
    max_frames: int = _spec(200, check=_at_least(2), doc="adaptive: at most this many snapshots")
    log_every: int = _spec(100, check=_at_least(0), doc="print `step loss` every N steps (0: never)")
    workers: int | str = _spec("auto", check=_workers, expect="auto or a whole number >= 1",
                               doc="runs/sweep: worker processes that train runs side by side: auto (one per "
                                   "idle core when that is faster) or N (1: one after another)")

    def __post_init__(self):
        _validate(self)
        if self.optimizer == "sgd" and self.nesterov and self.momentum <= 0:
            raise ConfigError(f"nesterov: needs train.momentum > 0, got momentum {self.momentum:g}")
        if self.optimizer == "lbfgs" and self.weight_decay:
            raise ConfigError(f"weight_decay: lbfgs has no weight decay; must be 0 or null, "
                              f"got {self.weight_decay:g}")
        if self.schedule == "cosine" and self.lr_min > self.lr:
            raise ConfigError(f"lr_min: must be <= train.lr ({self.lr:g}) for the cosine schedule, "
                              f"got {self.lr_min:g}")


@dataclass(frozen=True)
class Render:
    size: tuple[int, int] = _spec((640, 480), check=_size, doc="[width, height] of the output in pixels")
    dpi: float = _spec(100.0, check=_positive, doc="text and line scale at 640x480; other sizes scale it, so the layout looks the same")
    fps: float = _spec(10.0, check=_between(0.1, 120),
                       doc="frames per second (GIF: rounded to a whole centisecond delay, at most 50)")
    hold: float = _spec(1.0, check=_non_negative, unit="s", doc="seconds to hold the last frame (e.g. 1.5 or 1.5s)")
    hold_start: float = _spec(0.0, check=_non_negative, unit="s", doc="seconds to hold the first frame")
    duration: float | None = _spec(None, check=_optional(_positive),
                                   unit="s", doc="total length, e.g. 8s: picks fps (and drops snapshots "
                                                 "above 50 fps) for you; overrides fps")
    loop: bool = _spec(True, doc="GIF: loop forever (true) or play once (false); HTML: start with loop on")
    interpolate: int = _spec(0, check=_between(0, 16),
                             doc="in-between frames drawn between snapshots by linear interpolation")
    poster: int = _spec(-1, doc="snapshot shown in a .png poster (negative counts from the end)")
    filmstrip: int = _spec(0, check=_between(0, 64),
                           doc=".png: 0 for one poster frame, or K for a grid of K frames spread over the run")
    title: str = _spec("", check=_mathtext, doc="figure title (empty: none); $…$ is mathtext, \\$ a literal dollar")
    panels: tuple[str, ...] = _spec(("fit", "loss"), check=_panels,
                                    doc=f"panels from {', '.join(PANELS)}; the fit panel large, the others beside it")
    theme: str = _spec("light", choices=("light", "dark", "transparent"),
                       doc="light, dark, or transparent (no background; .png, .webm, .gif, .webp, .apng and .html)")
    trail: int = _spec(0, check=_between(0, 20),
                       doc="faded copies of the last K predictions behind the current one")
    quality: str = _spec("medium", choices=("high", "medium", "small"),
                         doc="GIF palette preset: high (64 colours), medium (32) or small (16; .webp and .apng then "
                                 "use this palette instead of full colour)")
    layout: str = _spec("overlay", choices=LAYOUTS,
                        doc="runs/sweep: overlay (one fit panel, a prediction per run) or grid (a fit panel "
                            "per run, shared limits)")
    workers: int | str = _spec("auto", check=_workers, expect="auto or a whole number >= 1",
                               doc="processes drawing frames for one video: auto (more than one only when the "
                                   "measured per-frame costs say it is faster) or N (1: this process draws)")

    def __post_init__(self):
        _validate(self)
        if self.duration is not None and self.duration <= self.hold + self.hold_start:
            raise ConfigError(f"duration: {self.duration:g} s leaves no time for motion after render.hold "
                              f"({self.hold:g} s) and render.hold_start ({self.hold_start:g} s)")


@dataclass(frozen=True)
class Run:
    """One run of a multi-run config: its legend label and its fully resolved single-run :class:`Config`."""

    label: str
    config: "Config"
    keys: tuple[str, ...] = ()  # the dotted keys the run sets itself: they stay its own under --set


@dataclass(frozen=True)
class Config:
    name: str = _spec("run", doc="base name of the output files")
    seed: int | None = _spec(0, check=_between(0, 2**63 - 1), doc="random seed (null: not seeded)")
    data: Data = field(default_factory=Data)
    model: Model = field(default_factory=Model)
    train: Train = field(default_factory=Train)
    render: Render = field(default_factory=Render)
    runs: tuple[Run, ...] = _spec((), doc="several runs drawn side by side: a list of {label, model: {…}, "
                                          "train: {…}}, each overriding the top-level model and train keys")

    def __post_init__(self):
        _validate(self)
        if self.train.record == "every" and self.train.frames is None and self.train.record_every > self.train.steps:
            raise ConfigError(f"train.record_every: must be <= train.steps ({self.train.steps}), "
                              f"got {self.train.record_every}")
        if self.data.file is None:  # with a file the grid needs its points: Data.check_file() checks the target
            grid = self.data.grid()
            if self.data.samples is not None and self.data.sampling == "grid":  # the training x are known too
                grid = np.concatenate([grid, np.linspace(*self.data.train_range(), self.data.samples)])
            try:
                _check_target(self.data.target, grid)
            except ConfigError as exc:
                raise ConfigError(f"data.{exc}") from None
        if not self.name or any(c in self.name for c in "/\\\0") or self.name.startswith("."):
            raise ConfigError(f"name: must be a plain file name (no slashes), got {self.name!r}")

    def to_dict(self) -> dict:
        """The fully resolved config as plain YAML/JSON-friendly values.

        A multi-run config has a ``runs`` list: each run's label and the
        ``model``/``train`` keys where it differs from the top level (nothing
        for a single-run config, whose dict has no ``runs`` key).
        """
        out = {f.name: _plain(dataclasses.asdict(getattr(self, f.name)))
               if dataclasses.is_dataclass(getattr(self, f.name)) else _plain(getattr(self, f.name))
               for f in dataclasses.fields(self) if f.name != "runs"}
        if self.runs:
            out["runs"] = [_run_dict(run, out) for run in self.runs]
        return out

    @property
    def multi(self) -> bool:
        """Whether this config describes several runs (``runs`` or ``sweep``)."""
        return bool(self.runs)


def _run_dict(run: Run, base: dict) -> dict:
    """``{"label": …, "model": {…}, "train": {…}}`` with only the keys where ``run`` differs from ``base``."""
    out = {"label": run.label}
    mine = run.config.to_dict()
    for section in RUN_SECTIONS:
        diff = {k: v for k, v in mine[section].items() if base[section].get(k) != v or f"{section}.{k}" in run.keys}
        if diff:
            out[section] = diff
    return out


def load(path: str | Path, overrides: typing.Sequence[str] = ()) -> Config:
    """Read a YAML config file and apply ``KEY=VALUE`` overrides; validate everything."""
    import yaml  # not needed to replay a history, so not imported at start-up

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.__class__.__name__}: {exc})") from None
    try:
        data = yaml.load(text, Loader=_strict_loader())
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
    section = data.get("data")
    if isinstance(section, dict) and isinstance(section.get("file"), str) and section["file"].strip():
        # a data file sits next to its config: relative to the config's folder, not to where polyanim runs
        section["file"] = os.path.join(path.parent, os.path.expanduser(section["file"]))
    config = from_dict(data, source=str(path), overrides=overrides)
    try:  # a bad data file is a bad config: found now, before any training
        config.data.check_file()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config


def _strict_loader():
    """PyYAML's safe loader, except that a key given twice in one mapping is an error, not last-wins."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} appears twice in this mapping", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def from_dict(data: dict, source: str = "config", overrides: typing.Sequence[str] = ()) -> Config:
    """Build a validated :class:`Config` from nested dicts, then apply ``KEY=VALUE`` overrides."""
    config = _build(data, source)
    if overrides:
        merged = config.to_dict()
        given = data.get("data") if isinstance(data.get("data"), dict) else {}
        for key in UNRESOLVED:  # still "not given", so that --set data.file=… decides them
            if key not in given:
                merged["data"][key] = None
        for item in overrides:
            key, value = parse_override(item)
            # "Fit: sin(x)" is a title, not a mapping; but null unsets an optional text (data.file, data.target)
            if (_is_text(key) and not isinstance(value, str)
                    and not (value is None and _type_at(key.split(".")) is not str)):
                value = item.partition("=")[2]
            _set_dotted(merged, key, value, "--set")
        config = _build(merged, "--set")
    return config


def parse_override(item: str) -> tuple[str, object]:
    """Split ``"train.lr=1e-5"`` into the key and a YAML-typed value."""
    import yaml

    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item}: expected KEY=VALUE, e.g. --set train.lr=1e-5")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def _type_at(parts: list[str]):
    """The annotated type at a dotted path (``["render", "title"]`` → ``str``); KeyError if none."""
    cls = Config
    for part in parts:
        cls = typing.get_type_hints(cls)[part]
    return cls


def _is_text(key: str) -> bool:
    """Whether a dotted key names a text setting (``name``, ``render.title``, ``data.target``, …)."""
    try:
        kind = _type_at(key.split("."))
        return kind is str or set(typing.get_args(kind)) == {str, type(None)}
    except (KeyError, TypeError):
        return False


def _set_dotted(tree: dict, key: str, value, source: str) -> None:
    if key in ("runs", "sweep"):  # replaces the whole list of runs (--set 'sweep={key: train.lr, values: [..]}')
        tree.pop("runs", None)
        tree.pop("sweep", None)
        tree[key] = value
        return
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
    return _fields_of(_type_at(prefix))


def _fields_of(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)] + (["sweep"] if cls is Config else [])


def render_settings(options: dict, *, saved: dict | None = None, source: str = "polyanim.render",
                    saved_source: str = "history", prefix: str = "") -> "Render":
    """A validated :class:`Render`: built-in defaults < ``saved`` (a History's render section) < ``options``.

    ``options`` are ``render.*`` keys without the prefix (``fps=20``,
    ``size=(1280, 720)``), checked by the same rules and one-line messages as
    ``--set``; a problem in them names ``source``, one in ``saved`` names
    ``saved_source``. Raises :class:`ConfigError`.
    """
    base = {}
    if saved:
        if not isinstance(saved, dict):
            raise ConfigError(f"{saved_source}: render: expected a section of keys, got {saved!r}")
        base = _plain(dataclasses.asdict(_build(saved, saved_source, Render, "render.")))
    merged = dict(base, **{k: _plain(v) for k, v in options.items()})
    return _build(merged, source, Render, prefix)


def _unknown(source: str, key: str, allowed: list[str]) -> str:
    head, _, leaf = key.rpartition(".")
    close = difflib.get_close_matches(leaf, allowed, n=1)
    hint = f"; did you mean '{(head + '.' if head else '') + close[0]}'?" if close else ""
    return f"{source}: {key}: unknown key{hint} (allowed: {', '.join(allowed)})"


def _build(data: dict, source: str, cls=Config, prefix: str = ""):
    if cls is Config and ("runs" in data or "sweep" in data):
        data = dict(data)
        runs_raw, sweep_raw = data.pop("runs", None), data.pop("sweep", None)
        base = _build(data, source, cls, prefix)
        if runs_raw is None and sweep_raw is None:
            return base
        return _with_runs(base, runs_raw, sweep_raw, source)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, raw in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(_unknown(source, dotted, _fields_of(cls)))
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
        if meta.get("unit") and isinstance(raw, str) and raw.strip().endswith(meta["unit"]):
            raw = raw.strip()[: -len(meta["unit"])]  # "8s" is 8 seconds
        try:
            value = _coerce(raw, kind)
        except (TypeError, ValueError, targets.ExpressionError) as exc:
            if meta.get("expect"):
                raise ConfigError(f"{source}: {dotted}: must be {meta['expect']}, got {raw!r}") from None
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


def _with_runs(base: Config, runs_raw, sweep_raw, source: str) -> Config:
    """``base`` with the runs that ``runs`` or ``sweep`` describe, each validated as a whole config."""
    if runs_raw is not None and sweep_raw is not None:
        raise ConfigError(f"{source}: runs, sweep: give one or the other, not both")
    specs = _sweep_specs(sweep_raw, source) if sweep_raw is not None else _run_specs(runs_raw, source)
    if not 1 <= len(specs) <= MAX_RUNS:
        what = "sweep.values" if sweep_raw is not None else "runs"
        raise ConfigError(f"{source}: {what}: needs 1 to {MAX_RUNS} runs, got {len(specs)}")
    for name in base.render.panels:
        if PANEL_TABLE[name].one_run:
            others = " or ".join(p for p in PANELS if not PANEL_TABLE[p].one_run)
            raise ConfigError(f"{source}: render.panels: the {name} panel {PANEL_TABLE[name].one_run} and is not "
                              f"available with runs or sweep; use {others}")
    base_dict = base.to_dict()
    runs, seen = [], {}
    for where, label, overrides, run_source, prefix in specs:
        merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base_dict.items()}
        for section, values in overrides.items():
            merged[section].update(values)
        run_config = _build(merged, run_source, Config, prefix)
        if label is None:
            label = _auto_label(overrides) or f"run {len(runs) + 1}"
        if label in seen:
            raise ConfigError(f"{source}: {where}: label {label!r} is also the label of {seen[label]}; "
                              "labels must differ")
        seen[label] = where
        runs.append(Run(label=label, config=run_config,
                        keys=tuple(f"{section}.{k}" for section, values in overrides.items() for k in values)))
    return dataclasses.replace(base, runs=tuple(runs))


def _run_specs(raw, source: str) -> list:
    """``runs: [{label, model: {…}, train: {…}}, …]`` → (where, label, overrides, source, prefix) per run."""
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(f"{source}: runs: expected a list of runs, each {{label: …, model: {{…}}, "
                          f"train: {{…}}}}, got {raw!r}")
    specs = []
    for k, item in enumerate(raw):
        where = f"runs[{k}]"
        if item is None:
            item = {}
        if not isinstance(item, dict):
            raise ConfigError(f"{source}: {where}: expected a mapping of label, model and train, got {item!r}")
        overrides = {}
        for key, value in item.items():
            if key == "label":
                continue
            if key in ("data", "render", "name", "seed"):
                raise ConfigError(f"{source}: {where}.{key}: cannot differ between runs (they share the "
                                  f"data, the seed and one figure); set it at the top level. A run may set "
                                  f"label, {', '.join(RUN_SECTIONS)}")
            if key not in RUN_SECTIONS:
                raise ConfigError(_unknown(source, f"{where}.{key}", ["label", *RUN_SECTIONS]))
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {where}.{key}: expected a section of keys "
                                  f"({', '.join(_known_keys([key]))}), got {value!r}")
            if key == "train" and "workers" in value:
                raise ConfigError(f"{source}: {where}.train.workers: applies to all the runs; set it at the "
                                  "top level (train.workers)")
            unknown = [name for name in value if name not in _known_keys([key])]
            if unknown:
                raise ConfigError(_unknown(source, f"{where}.{key}.{unknown[0]}", _known_keys([key])))
            overrides[key] = dict(value)
        specs.append((where, _label(item.get("label"), source, where), overrides, source, f"{where}."))
    return specs


def _sweep_specs(raw, source: str) -> list:
    """``sweep: {key: train.lr, values: [...], labels: [...]}`` → one spec per value, like ``runs``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: sweep: expected {{key: train.lr, values: [...]}}, got {raw!r}")
    for name in raw:
        if name not in ("key", "values", "labels"):
            raise ConfigError(_unknown(source, f"sweep.{name}", ["key", "values", "labels"]))
    key = raw.get("key")
    if not isinstance(key, str) or key.count(".") != 1 or key.split(".")[0] not in RUN_SECTIONS:
        raise ConfigError(f"{source}: sweep.key: expected a model.* or train.* key such as train.lr "
                          f"(data.* and render.* are shared by all runs), got {key!r}")
    section, leaf = key.split(".")
    if leaf not in _known_keys([section]):
        raise ConfigError(_unknown(f"{source}: sweep.key", key, _known_keys([section])))
    if key == "train.workers":
        raise ConfigError(f"{source}: sweep.key: train.workers applies to all the runs; sweep another key")
    values = raw.get("values")
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{source}: sweep.values: expected a non-empty list of values for {key}, got {values!r}")
    labels = raw.get("labels")
    if labels is not None and (not isinstance(labels, (list, tuple)) or len(labels) != len(values)):
        raise ConfigError(f"{source}: sweep.labels: expected one label per value ({len(values)}), got {labels!r}")
    specs = []
    for k, value in enumerate(values):
        where = f"sweep.values[{k}]"
        label = _label(labels[k], source, f"sweep.labels[{k}]") if labels is not None else None
        overrides = {section: {leaf: value}}
        specs.append((where, label, overrides, f"{source}: {where}", ""))
    return specs


def _label(raw, source: str, where: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)) or not str(raw).strip():
        raise ConfigError(f"{source}: {where}{'.label' if where.startswith('runs') else ''}: "
                          f"expected a non-empty text label, got {raw!r}")
    problem = _mathtext(str(raw).strip())
    if problem:
        raise ConfigError(f"{source}: {where}{'.label' if where.startswith('runs') else ''}: {problem}")
    return str(raw).strip()


def _auto_label(overrides: dict) -> str:
    """``lr=0.01, optimizer=adam`` from a run's overrides (the sweep's labels, too)."""
    return ", ".join(f"{leaf}={_short_value(v)}" for section in RUN_SECTIONS
                     for leaf, v in overrides.get(section, {}).items())


def _short_value(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, str):
        try:  # PyYAML reads 1e-6 as text
            return f"{float(v):g}"
        except ValueError:
            return v
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_short_value(x) for x in v) + "]"
    return str(v)


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
    rows.append(("sweep", None, "shorthand for runs that differ in one model or train key: {key: train.lr, "
                                "values: [...], labels: [...] (optional; default: lr=VALUE)}"))
    return rows
