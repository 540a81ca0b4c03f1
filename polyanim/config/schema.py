"""The config's sections as frozen dataclasses, each checked on construction.

``Render(fps=-1)`` raises :class:`ConfigError` like a file saying so: every
``__post_init__`` runs :func:`polyanim.config.fields._validate` on its own
fields first, then the checks that span fields. The key helpers that messages
about keys use (``type_at``, ``known_keys``, ``unknown_key``) are in
:mod:`polyanim.config.keys`.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

import numpy as np

from .. import datafile
from ..panels.registry import CURVE_PANELS
from ..registry import listing
from ..registry.formats import transparent_formats
from .docs import _decay_defaults, _names, _panels_doc
from .look import Colors, Labels
from .fields import (ACTIVATIONS, DATASETS, DEFAULT_DOMAIN, DEFAULT_SURFACE, DEFAULT_TARGET, LAYOUTS, MODEL_TABLE,
                     OPTIMIZER_TABLE, RECORDINGS, RUN_SECTIONS, SAMPLINGS, SCHEDULE_TABLE, ConfigError,
                     _at_least, _between, _check_inputs, _check_model_inputs, _check_target, _data_file, _expression,
                     _hidden, _interval, mathtext_problem, _non_negative, _field_panels, _optional, _panels, _plain,
                     _positive, _size, _spec, _validate, _workers, plain_name)
from . import filefield
from .problem import Problem, check_path_params


@dataclass(frozen=True)
class Data:
    target: str | None = _spec(None, check=_optional(_expression), shown=f'`"{DEFAULT_TARGET}"`',
                               doc="target function of x; with `data.file`: null (no target curve) unless given")
    domain: tuple[float, float] | None = _spec(None, check=_optional(_interval), shown="`[-pi, pi]`",
                                               doc="[low, high] of x; numbers or constant expressions like "
                                                   "`-pi`, `2*pi`; with `data.file`: the x range of its points "
                                                   "unless given")
    points: int = _spec(2000, check=_between(2, 200_000),
                        doc="evenly spaced x values the curves are drawn on, and trained on unless "
                            "`data.samples`, `data.sampling` or `data.train_domain` say otherwise (2 to 200,000)")
    noise: float = _spec(0.0, check=_non_negative, doc="std of Gaussian noise added to the training targets "
                                                       "(seeded)")
    samples: int | None = _spec(None, check=_optional(_at_least(2)),
                                doc="number of training samples, placed in the training range by `data.sampling` "
                                    "(≥ 2); null: `data.points` of them (with `grid` sampling: the drawing grid "
                                    "itself, like the post)")
    sampling: str = _spec("grid", choices=SAMPLINGS,
                          doc="where the training samples lie: `grid` (evenly spaced) or `uniform` (random, "
                              "seeded)")
    train_domain: tuple[float, float] | None = _spec(None, check=_optional(_interval),
                                                     doc="[low, high] inside `data.domain`: train only on "
                                                         "samples in it, draw on the whole domain (the held-out "
                                                         "part is shaded: extrapolation); null: the whole domain")
    file: str | None = _spec(None, check=_optional(_data_file),
                             doc="your own points: `.csv` (`x,y` rows), `.npy` (`[N, 2]`) or `.npz` (`x`, `y`); "
                                 "relative to the config's folder; replaces `data.samples`, `data.sampling` and "
                                 "`data.noise` (see above)")
    dataset: str | None = _spec(None, check=_optional(lambda v: None if v in DATASETS else
                                                       f"must be one of {', '.join(DATASETS)}, got {v!r}"),
                                doc=f"two inputs: {_names(DATASETS)}; `surface` fits `data.target` in `x1`, `x2` "
                                    "over `data.domain` squared (default "
                                    f"`{DEFAULT_SURFACE}`); null: one input (the keys above)")
    classes: int | None = _spec(None, check=_optional(_between(2, 10)),
                                doc="spirals: arms, blobs: blobs (2 to 10; null: 2 arms, 3 blobs)")
    test: float | None = _spec(None, check=_optional(_between(0, 0.9)),
                               doc="two inputs: the fraction of points held out as test points (0 to 0.9; "
                                   "null: 0.2)")
    mesh: int = _spec(120, check=_between(2, 400),
                      doc="two inputs: mesh points a side the predictions are recorded on (2 to 400)")
    columns: tuple[int | str, ...] | None = _spec(None, check=_optional(filefield.columns_problem),
                                                  doc="two inputs from `data.file`: its x1, x2 and label-or-value "
                                                      "columns, by header name or 0-based index, e.g. `[x1, x2, "
                                                      "label]`; null: one input (x, y)")
    task: str | None = _spec(None, check=_optional(filefield.task_problem),
                             doc="with `data.columns`: `classify` or `regress`; null: whole-number labels (at most "
                                 "10 distinct) classify, other values are a surface, as the Recorder decides")

    def __post_init__(self):
        _validate(self)
        filefield.check_keys(self)  # first: with data.columns, data.target is refused rather than parsed
        _check_inputs(self)  # one input or two: which keys and target variables apply
        if self.file is not None:  # the resolved path is what the saved config keeps: a re-run finds it anywhere
            object.__setattr__(self, "file", os.path.abspath(os.path.expanduser(self.file)))
        if self.field:
            return
        if self.file is None:  # not given: the post's problem
            if self.target is None:
                object.__setattr__(self, "target", DEFAULT_TARGET)
            if self.domain is None:
                object.__setattr__(self, "domain", DEFAULT_DOMAIN)
        else:
            filefield.check_unsampled(self)
        if self.train_domain is None or self.domain is None:
            return  # with data.file and no data.domain: checked against the file's range by check_file()
        self._check_train_domain(self.domain)

    @property
    def field(self) -> bool:
        """Two inputs (``data.dataset`` or ``data.columns``): the History is a field, the models take two inputs."""
        return self.dataset is not None or self.columns is not None

    def field_points(self):
        """``data.file``'s points, labels or values, task and classes with ``data.columns`` (see filefield)."""
        return filefield.points(self)

    def field_task(self) -> str:
        """``classify`` or ``regress``: a data set's own, ``data.task``, or the file's labels' (read once)."""
        if self.columns is None:
            return "regress" if self.dataset == "surface" else "classify"
        return self.task or self.field_points().task

    def classes_of_file(self) -> int | None:
        """The class count of a classifier's data file (its labels decide it); None otherwise."""
        return self.field_points().classes if self.columns is not None else None

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
        if self.columns is not None:
            return filefield.check(self)
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
        if self.domain is not None or self.field:  # a data set's own rectangle: no domain, the default here
            return self.domain or DEFAULT_DOMAIN
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
    kind: str = _spec("polynomial", choices=MODEL_TABLE, doc=f"{_names(MODEL_TABLE)} (see Models below)")
    degree: int = _spec(3, check=_at_least(0),
                        doc="polynomial, legendre, chebyshev: the degree (degree + 1 coefficients); polynomial "
                            "coefficients are drawn highest power first, like the post")
    hidden: tuple[int, ...] = _spec((32, 32), check=_hidden, doc="mlp: width of each hidden layer (1–4096)")
    activation: str = _spec("tanh", choices=ACTIVATIONS, doc=f"mlp: {_names(ACTIVATIONS)}")

    def __post_init__(self):
        _validate(self)


@dataclass(frozen=True)
class Train:
    steps: int = _spec(2000, check=_positive, doc="optimisation steps (> 0)")
    optimizer: str = _spec("sgd", choices=OPTIMIZER_TABLE, doc=f"{_names(OPTIMIZER_TABLE)} (see Optimizers below)")
    lr: float = _spec(1e-6, check=_positive, doc="learning rate (> 0)")
    momentum: float = _spec(0.0, check=_non_negative, doc="sgd and rmsprop momentum (ignored by the others)")
    nesterov: bool = _spec(False, doc="sgd: Nesterov momentum (needs `train.momentum` > 0; ignored by the others)")
    weight_decay: float | None = _spec(None, check=_optional(_non_negative),
                                       doc=f"L2 penalty (decoupled where the optimizer says so); {_decay_defaults()}")
    schedule: str = _spec("none", choices=SCHEDULE_TABLE,
                          doc=f"learning-rate schedule: {_names(SCHEDULE_TABLE)} (see Schedules below)")
    step_size: int = _spec(500, check=_positive, doc="step schedule: multiply the lr by `train.gamma` every N "
                                                     "steps")
    gamma: float | None = _spec(None, check=_optional(_positive),
                                doc="step schedule: factor per `train.step_size` steps (null: 0.5); exponential: "
                                    "factor per step (null: the lr falls 100-fold over the run)")
    lr_min: float = _spec(0.0, check=_non_negative, doc="cosine schedule: the lr at the last step (≤ `train.lr`)")
    loss: str = _spec("mse_sum", choices=("mse_sum", "mse_mean"),
                      doc="`mse_sum` (the post's `MSELoss(reduction='sum')`) or `mse_mean`")
    record: str = _spec("every", choices=RECORDINGS,
                        doc="when to take snapshots: `every`, `log` or `adaptive` (see below)")
    record_every: int = _spec(100, check=_positive, doc="every: a snapshot (one animation frame) every N steps "
                                                        "(≤ steps); log: the snapshot count is the one `every` "
                                                        "would take, unless `train.frames` is set")
    frames: int | None = _spec(None, check=_optional(_at_least(2)),
                               doc="frame budget that picks the spacing (≥ 2): every: `record_every = ceil(steps "
                                   "/ N)` (about N + 1 frames); log: N snapshots; adaptive: at most N (replaces "
                                   "`train.max_frames`)")
    record_threshold: float = _spec(0.01, check=_positive,
                                    doc="adaptive: a snapshot when the prediction's RMS change since the last "
                                        "snapshot exceeds this fraction of the target's std")
    max_frames: int = _spec(200, check=_at_least(2), doc="adaptive: at most this many snapshots (≥ 2)")
    log_every: int = _spec(100, check=_at_least(0), doc="print `step loss` every N steps (0: never)")
    workers: int | str = _spec("auto", check=_workers, expect="auto or a whole number >= 1",
                               doc="with `runs`/`sweep`: processes that train the runs, `auto` or N (1: one "
                                   "after another in this process); `auto` uses one per core when the runs are "
                                   "long enough for that to pay (see Side-by-side runs); the Histories are the "
                                   "same either way")

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


MAX_HOLD = 600  # s: ten minutes of one still picture; bounds the frames a hold adds before any is counted
MAX_DURATION = 3600  # s: an hour; far beyond it the fps is so low that the encoders fail (1e12 s: ffmpeg did)


def _duration(v):
    return None if 0 < v <= MAX_DURATION else f"must be > 0 and at most {MAX_DURATION} (seconds)"


@dataclass(frozen=True)
class Render:
    size: tuple[int, int] = _spec((640, 480), check=_size, doc="[width, height] of the output in pixels (64 to "
                                                               "7680 each)")
    dpi: float = _spec(100.0, check=_between(10, 1000), doc="text and line scale at 640x480 (10 to 1000); other "
                                                            "sizes scale it, so the layout looks the same")
    fps: float = _spec(10.0, check=_between(0.1, 120),
                       doc="frames per second, 0.1 to 120 (GIF: rounded to a whole centisecond delay, at most "
                           "50, with a warning)")
    hold: float = _spec(1.0, check=_between(0, MAX_HOLD), unit="s",
                        doc=f"seconds to hold the last frame (`1.5` or `\"1.5s\"`; 0 to {MAX_HOLD})")
    hold_start: float = _spec(0.0, check=_between(0, MAX_HOLD), unit="s",
                              doc=f"seconds to hold the first frame (0 to {MAX_HOLD})")
    duration: float | None = _spec(None, check=_optional(_duration), unit="s",
                                   doc=f"total length, e.g. `8s` (at most {MAX_DURATION} s): picks the fps for you "
                                       "(overrides `fps`); above 50 fps snapshots are dropped evenly instead")
    loop: bool = _spec(True, doc="GIF: loop forever, or play once (`false`); HTML: the player starts with loop on")
    interpolate: int = _spec(0, check=_between(0, 16),
                             doc="in-between frames drawn between two snapshots (predictions linear, loss "
                                 "geometric; 0–16)")
    poster: int = _spec(-1, doc="snapshot shown by a `.png` poster (negative counts from the end)")
    filmstrip: int = _spec(0, check=_between(0, 64),
                           doc="`.png`: `0` for one poster frame, or K for a grid of K frames spread over the "
                               "run (≤ 64)")
    title: str = _spec("", check=mathtext_problem, doc="figure title (empty: none); `$…$` is mathtext, `\\$` a literal "
                                                "dollar")
    labels: Labels = field(default_factory=Labels)
    colors: Colors = field(default_factory=Colors)
    panels: tuple[str, ...] = _spec(CURVE_PANELS, check=_panels, doc=_panels_doc())
    theme: str = _spec("light", choices=("light", "dark", "transparent"),
                       doc="`light`, `dark`, or `transparent` (no background, mid-grey ink legible on light "
                           f"and dark pages; {_names(transparent_formats(), 'and')})")
    trail: int = _spec(0, check=_between(0, 20),
                       doc="faded copies of the last K predictions behind the current one (0–20)")
    quality: str = _spec("medium", choices=("high", "medium", "small"),
                         doc="GIF palette preset: `high` (64 colours), `medium` (32), `small` (16; `.webp` and "
                             "`.apng` then use this palette instead of lossless full colour); see Performance")
    layout: str = _spec("overlay", choices=LAYOUTS,
                        doc="with `runs`/`sweep`: `overlay` (one fit panel, a prediction per run in its own "
                            "colour, a legend of run labels) or `grid` (a small fit panel per run, titled by its "
                            "label, shared limits)")
    path_params: tuple[str, ...] | None = _spec(None, doc="the paths panel for a linear model (polynomial, "
                                                          "legendre, chebyshev): two coefficients, e.g. `[c1, c3]`, "
                                                          "raced over the exact loss slice through the final point")
    workers: int | str = _spec("auto", check=_workers, expect="auto or a whole number >= 1",
                               doc="processes drawing one video's frames: `auto` or N (1: this process); `auto` "
                                   "forks extra drawers only when the measured per-frame costs predict a gain "
                                   "(large MP4s on 4+ cores; never on 2 cores or for GIF, whose encoder is the "
                                   "bottleneck); the file is the same either way")

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
    name: str = _spec("run", shown="the file name (`run` from a dict)", doc="base name of the output files")
    seed: int | None = _spec(0, check=_between(0, 2**63 - 1), doc="random seed, 0 to 2⁶³−1 (null: not seeded)")
    data: Data = field(default_factory=Data)
    model: Model = field(default_factory=Model)
    train: Train = field(default_factory=Train)
    render: Render = field(default_factory=Render)
    problem: Problem = field(default_factory=Problem)
    runs: tuple[Run, ...] = _spec((), doc="several runs drawn side by side: a list of `{label, model: {…}, "
                                          "train: {…}}` (1–8); each run is the top-level config with its own "
                                          "`model.*`/`train.*` keys; `data.*`, `render.*` and `seed` are shared "
                                          "(a run setting them is an error); label default: the keys it sets, "
                                          "e.g. `lr=0.01`")

    def __post_init__(self):
        _validate(self)
        if self.train.record == "every" and self.train.frames is None and self.train.record_every > self.train.steps:
            raise ConfigError(f"train.record_every: must be <= train.steps ({self.train.steps}), "
                              f"got {self.train.record_every}")
        _check_model_inputs(self.model, self.data.field)
        _field_panels(self.render, self.data)
        if self.data.file is None and not self.data.field:  # with a file: Data.check_file() checks the target
            grid = self.data.grid()
            if self.data.samples is not None and self.data.sampling == "grid":  # the training x are known too
                grid = np.concatenate([grid, np.linspace(*self.data.train_range(), self.data.samples)])
            try:
                _check_target(self.data.target, grid)
            except ConfigError as exc:
                raise ConfigError(f"data.{exc}") from None
        if not plain_name(self.name):
            raise ConfigError(f"name: must be a plain file name (no slashes), got {self.name!r}")
        check_path_params(self)

    def to_dict(self) -> dict:
        """The fully resolved config as plain YAML/JSON-friendly values.

        A multi-run config has a ``runs`` list: each run's label and the
        ``model``/``train`` keys where it differs from the top level (nothing
        for a single-run config, whose dict has no ``runs`` key).
        """
        out = {f.name: _plain(dataclasses.asdict(getattr(self, f.name)))
               if dataclasses.is_dataclass(getattr(self, f.name)) else _plain(getattr(self, f.name))
               for f in dataclasses.fields(self) if f.name != "runs"}
        if not self.problem.given:  # the curve problem's dict stays as it always was
            del out["problem"]
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
