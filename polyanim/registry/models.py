"""The model kinds: ``model.kind`` -> the torch module that builds it, and the facts about it. No torch here.

Each class named here has ``from_config(model_section, domain)``. Everything
else the package needs to know about a model is a fact of its
:class:`ModelSpec`, read from the config alone: how many parameters it trains,
how much a training step holds per sample, whether it is linear in its
parameters (then its numpy ``basis`` gives the closed-form optimum a "loss
stalled" warning is measured against), and what its parameters are called.
Nothing outside this table keys on a model's name. Adding a model is one class
(in :mod:`polyanim.models` or anywhere importable) and one line here, or one
:func:`register` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import Entry, load

MAX_PARAMS = 64  # above this a History keeps no parameter trajectories: no readable params panel


@dataclass(frozen=True)
class ModelSpec(Entry):
    """A model kind and its facts; each callable takes the config's ``model`` section.

    - ``params(m)``: the number of trained parameters;
    - ``activations(m)``: floats one training step keeps per training sample
      for the backward pass (the basis columns, the MLP's layer outputs);
    - ``basis``: for a model linear in its parameters, ``basis(m, domain, x)``
      (a function or ``module:name``) returns the numpy design matrix
      ``[len(x), params(m)]`` of float64, the model being ``basis @ params``;
      None: not linear, no closed-form optimum;
    - ``names(m)``: the parameters' names as the History keeps them, in the
      order the model's ``coefficients()`` returns them; None: the History
      keeps no parameter trajectories;
    - ``axis``: the params panel's axis label, ``coefficient`` for a basis's
      coefficients, ``parameter`` otherwise;
    - ``monomial``: its parameters are the coefficients of 1, x, x^2, …: the params
      panel then writes the equation and draws the target's Taylor coefficients
      as their reference (of any other basis these would be false);
    - ``max_degree(m, domain)``: the largest ``model.degree`` whose basis is
      finite in float32 (as trained) on ``domain``; None: no such bound
      (Legendre and Chebyshev polynomials stay within [-1, 1] on [-1, 1]);
    - ``size_key``: the config key that sizes the model, named when it is too big;
    - ``inputs``: the numbers of inputs it takes: ``(1,)`` a curve's x, ``(2,)`` the points of a
      ``data.dataset`` (its class then has ``from_field(m, rect, outputs)``), ``(1, 2)`` both;
    - ``field_path``: ``module:Class`` of its two-input form when that is another class (None: ``path``).
    """

    params: Callable = lambda m: 0
    activations: Callable = lambda m: 0
    basis: str | Callable | None = None
    names: Callable | None = None
    axis: str = "parameter"
    monomial: bool = False
    max_degree: Callable = lambda m, domain: None
    size_key: str = "model.degree"
    inputs: tuple = (1,)
    field_path: str | None = None

    def field_class(self):
        """The class whose ``from_field`` builds the two-input model."""
        return load(self.field_path or self.path)

    @property
    def linear(self) -> bool:
        """The model is linear in its parameters: its best loss has a closed form."""
        return self.basis is not None

    def design_matrix(self, m, domain, x):
        """The numpy ``basis`` evaluated at ``x`` (only for a linear model)."""
        return (load(self.basis) if isinstance(self.basis, str) else self.basis)(m, domain, x)


FLOAT32_MAX = 3.4028234663852886e38


def _monomial_degree(m, domain) -> int | None:
    """x^degree must stay finite in float32 on the domain: degree <= log(max) / log(max |x|)."""
    import math

    reach = max(abs(float(domain[0])), abs(float(domain[1])))
    return None if reach <= 1 else int(math.log(FLOAT32_MAX) / math.log(reach))


def _degree(m) -> int:
    return m.degree + 1


def _features(m) -> int:
    """Monomials x1^a x2^b with 1 <= a + b <= degree (the constant is the linear layer's bias)."""
    return (m.degree + 1) * (m.degree + 2) // 2 - 1


def _mlp_params(m) -> int:
    widths = [1, *m.hidden, 1]  # one input and output; two inputs or classes add a few: an estimate
    return sum((a + 1) * b for a, b in zip(widths, widths[1:]))


# Floats per sample a step holds, measured as the peak RSS growth of 3 training steps on 200,000 points
# (float32): a polynomial 6.7 per coefficient (degree 80: 416 MiB; x^k, c_k x^k, the running sum and
# their gradients), an orthogonal basis 5.5 (degree 200: 884 MiB chebyshev, 865 MiB legendre), an MLP
# with Adam 1.8-2.1 per hidden unit (256x3: 1,070 MiB; 512x2: 1,661 MiB): rounded up below.
_BASIS = dict(params=_degree, names=lambda m: [f"c{k}" for k in range(m.degree + 1)], axis="coefficient")
MODELS: dict[str, ModelSpec] = {
    "polynomial": ModelSpec("polyanim.models:Polynomial",
                            "monomial basis, seed-compatible with the post (`model.degree`)",
                            activations=lambda m: 7 * (m.degree + 1), basis="polyanim.optimum:monomials",
                            max_degree=_monomial_degree, monomial=True, **_BASIS),
    "legendre": ModelSpec("polyanim.models:Legendre", "Legendre basis on x mapped to [-1, 1] (`model.degree`)",
                          activations=lambda m: 6 * (m.degree + 1), basis="polyanim.optimum:legendre",
                          **{**_BASIS, "names": lambda m: [f"P{k}" for k in range(m.degree + 1)]}),
    "chebyshev": ModelSpec("polyanim.models:Chebyshev", "Chebyshev basis on x mapped to [-1, 1] (`model.degree`)",
                           activations=lambda m: 6 * (m.degree + 1), basis="polyanim.optimum:chebyshev",
                           **{**_BASIS, "names": lambda m: [f"T{k}" for k in range(m.degree + 1)]}),
    "mlp": ModelSpec("polyanim.models:MLP", "a small multilayer perceptron (`model.hidden`, `model.activation`)",
                     params=_mlp_params, activations=lambda m: 2 * sum(m.hidden) + 4, size_key="model.hidden",
                     inputs=(1, 2), field_path="polyanim.models_field:FieldMLP"),
    "logistic": ModelSpec("polyanim.models_field:Logistic",
                          "two inputs: logistic (linear) regression, a straight boundary", params=lambda m: 3,
                          activations=lambda m: 8, size_key="model.kind", inputs=(2,)),
    "polyfeatures": ModelSpec("polyanim.models_field:PolyFeatures",
                              "two inputs: the monomials x1^a x2^b up to `model.degree`, then linear",
                              params=lambda m: _features(m) + 1, activations=lambda m: 3 * _features(m) + 4,
                              inputs=(2,)),
}


def register(kind: str, spec: ModelSpec) -> None:
    """Add (or replace) the model ``kind``: ``model.kind: <kind>`` then builds and trains it.

    For a plug-in outside the package (its own module calls this at import);
    the models shipped with polyanim are the lines of :data:`MODELS` above.
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"register({kind!r}, …): expected a ModelSpec, got {type(spec).__name__}")
    MODELS[kind] = spec


UNKNOWN = ModelSpec(None, "a model without an entry: no facts known")


def spec_of(kind: str | None) -> ModelSpec:
    """The entry of a History's ``model.kind``; an unknown kind or None (a Recorder's own model) gets the
    defaults, so a History of a model no longer registered is drawn without facts rather than refused."""
    spec = MODELS.get(kind) if isinstance(kind, str) else None
    return spec if spec is not None else UNKNOWN


def axis_label(kind: str | None) -> str:
    """The params panel's axis label for a History of ``model.kind`` (None: a Recorder's own model)."""
    return spec_of(kind).axis
