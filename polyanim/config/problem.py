"""The ``problem:`` section (a test function of two parameters for optimizers to race on) and the
check of ``render.path_params`` against the model.

No ``problem`` section (``function: null``) is the curve problem of the post, unchanged. With one,
each run of ``runs:`` is an optimizer (its ``train.optimizer``, ``train.lr`` and hyperparameters)
started at ``problem.start`` on the surface :func:`polyanim.surfaces.surface` describes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import surfaces
from ..errors import InputError
from ..panels.registry import CURVE_PANELS, default_panels, kind_problem, pair_given
from ..registry.models import MODELS
from .fields import ConfigError, _optional, _positive, _spec, _validate

FUNCTION_NAMES = (*surfaces.FUNCTIONS, surfaces.EXPRESSION)


@dataclass(frozen=True)
class Problem:
    function: str | None = _spec(None, doc="a test function of x and y for optimizers to race on: "
                                           + ", ".join(f"`{n}`" for n in FUNCTION_NAMES)
                                           + "; null: the curve-fitting problem (`data`, `model`)")
    expression: str | None = _spec(None, doc="with `function: expression`: the function of `x` and `y` "
                                             "(the safe parser, e.g. `x**2 + 3*y**2`)")
    domain: tuple[tuple[float, float], tuple[float, float]] | None = _spec(
        None, doc="`[[x_lo, x_hi], [y_lo, y_hi]]` drawn (null: the function's usual one)")
    start: tuple[float, float] | None = _spec(None, doc="`[x, y]` every run starts from, inside the domain "
                                                        "(null: the function's usual one)")
    minima: tuple[tuple[float, float], ...] | None = _spec(None, doc="`[[x, y], ...]` marked as minima "
                                                                     "(null: the known ones)")
    steps: int | None = _spec(None, check=_optional(_positive),
                              doc="optimizer steps per run (null: `train.steps`); every step is computed, "
                                  "`train.frames` or `train.record_every` pick the frames, spaced by "
                                  "`train.record` (`log`: dense early)")

    def __post_init__(self):
        _validate(self)
        if self.function is None:
            if any(v is not None for v in (self.expression, self.domain, self.start, self.minima, self.steps)):
                raise ConfigError(f"function: needed with the other problem keys; one of "
                                  f"{', '.join(FUNCTION_NAMES)}")
            return
        self.surface()

    def surface(self) -> surfaces.Surface:
        """The :class:`~polyanim.surfaces.Surface` this section describes (ConfigError naming its key)."""
        try:
            return surfaces.surface(self.function, expression=self.expression, domain=self.domain,
                                    start=self.start, minima=self.minima)
        except InputError as exc:  # "problem.start: ..." -> "start: ..." (the builder adds the section)
            raise ConfigError(str(exc).removeprefix("problem.")) from None

    @property
    def given(self) -> bool:
        """Whether the config races optimizers on a test function (else: the curve problem)."""
        return self.function is not None


def check_path_params(config) -> None:
    """Refuse panels that cannot draw this config's runs, and ``render.path_params`` that the model
    cannot draw: not linear, or names it does not have."""
    chosen = config.render.path_params
    kind = "paths" if config.problem.given else "field" if config.data.field else "curve"
    if kind == "paths" and tuple(config.render.panels) == CURVE_PANELS:  # the default: the race and its loss
        object.__setattr__(config.render, "panels", default_panels(kind))
    problem = kind_problem(config.render.panels, kind, pair_given(kind, config.render))
    if problem:
        raise ConfigError(f"render.panels: {problem}")
    if chosen is None:
        return
    if config.problem.given:
        raise ConfigError("render.path_params: only for a curve model (a problem: section draws its own "
                          "two parameters); remove one of them")
    from ..landscape import path_indices  # numpy only
    for run in config.runs or [None]:
        m = run.config.model if run is not None else config.model
        spec = MODELS.get(m.kind)
        if spec is None or not spec.linear or spec.names is None:
            linear = ", ".join(k for k, s in MODELS.items() if s.linear)
            raise ConfigError(f"render.path_params: an exact loss slice needs a model linear in its "
                              f"parameters ({linear}), not model.kind {m.kind!r}")
        try:
            path_indices(list(chosen), spec.names(m))
        except InputError as exc:
            raise ConfigError(str(exc)) from None
