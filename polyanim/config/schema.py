"""The config's sections as frozen dataclasses, each checked on construction.

``Render(fps=-1)`` raises :class:`ConfigError` like a file saying so: every
``__post_init__`` runs :func:`polyanim.config.fields._validate` on its own
fields first, then the checks that span fields. Also the key helpers
(``_type_at``, ``_known_keys``, ``_unknown``) that messages about keys use.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from dataclasses import dataclass, field

import numpy as np

from .. import datafile
from ..registry import listing
from ..registry.formats import transparent_formats
from .fields import (ACTIVATIONS, DEFAULT_DOMAIN, DEFAULT_TARGET, LAYOUTS, MODEL_TABLE, OPTIMIZER_TABLE, PANELS,
                     RECORDINGS, RUN_SECTIONS, SAMPLINGS, SCHEDULE_TABLE, ConfigError, _at_least, _between,
                     _check_target, _data_file, _expression, _hidden, _interval, _mathtext, _non_negative,
                     _optional, _panels, _plain, _positive, _size, _spec, _validate, _workers)


def _decay_defaults() -> str:
    """``null: 0.01 for adamw, 0 otherwise; lbfgs has none``, from the optimizers' table."""
    own = [f"{spec.decay:g} for {name}" for name, spec in OPTIMIZER_TABLE.items() if spec.decay]
    none = [name for name, spec in OPTIMIZER_TABLE.items() if spec.decay is None]
    return "null: " + ", ".join(own + ["0 otherwise"]) + (f"; {listing(none, 'and')} {'has' if len(none) == 1 else 'have'} none" if none else "")


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
    kind: str = _spec("polynomial", choices=MODEL_TABLE, doc=f"model family: {listing(MODEL_TABLE)} (see Models below)")
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
    optimizer: str = _spec("sgd", choices=OPTIMIZER_TABLE, doc=f"{listing(OPTIMIZER_TABLE)} (see Optimizers below)")
    lr: float = _spec(1e-6, check=_positive, doc="learning rate")
    momentum: float = _spec(0.0, check=_non_negative, doc="momentum of sgd and rmsprop (ignored by the others)")
    nesterov: bool = _spec(False, doc="sgd only: Nesterov momentum (needs train.momentum > 0)")
    weight_decay: float | None = _spec(None, check=_optional(_non_negative),
                                       doc=f"weight decay ({_decay_defaults()})")
    schedule: str = _spec("none", choices=SCHEDULE_TABLE,
                          doc=f"learning-rate schedule: {listing(SCHEDULE_TABLE)} (see Schedules below)")
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
        if OPTIMIZER_TABLE[self.optimizer].decay is None and self.weight_decay:
            raise ConfigError(f"weight_decay: {self.optimizer} has no weight decay; must be 0 or null, "
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
                       doc=f"light, dark, or transparent (no background; {listing(transparent_formats(), 'and')})")
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


def _known_keys(prefix: list[str]) -> list[str]:
    return _fields_of(_type_at(prefix))


def _fields_of(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)] + (["sweep"] if cls is Config else [])


def _unknown(source: str, key: str, allowed: list[str]) -> str:
    head, _, leaf = key.rpartition(".")
    close = difflib.get_close_matches(leaf, allowed, n=1)
    hint = f"; did you mean '{(head + '.' if head else '') + close[0]}'?" if close else ""
    return f"{source}: {key}: unknown key{hint} (allowed: {', '.join(allowed)})"
