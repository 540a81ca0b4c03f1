"""Models trained by polyanim (torch).

``polynomial`` (monomial basis, seed-compatible with the post), ``legendre`` and
``chebyshev`` (the same number of coefficients in an orthogonal basis, evaluated
on x mapped from ``data.domain`` to [-1, 1]) and ``mlp`` (a small multilayer
perceptron, also fed the mapped x). The three basis models expose
``coefficients()`` (constant term first), in the order of the names their
registry entries give, so the History can keep their trajectories.
"""

from __future__ import annotations

import torch

from .registry import load
from .registry.models import MODELS


class Polynomial(torch.nn.Module):
    """``y = c0 + c1 x + … + cn x^n`` with one scalar parameter per coefficient.

    Coefficients are drawn with ``torch.randn(())`` from the highest power
    down, and the forward pass adds the terms from the lowest power up: for
    degree 3 that is exactly the original post's ``Polynomial3`` (draws a, b, c,
    d; returns ``d + c*x + b*x**2 + a*x**3``), so a seeded run reproduces the
    post's numbers.
    """

    def __init__(self, degree: int = 3):
        super().__init__()
        drawn = [torch.nn.Parameter(torch.randn(())) for _ in range(degree + 1)]
        # registered in draw order (highest power first), as the post's a, b, c, d
        self.coefs = torch.nn.ParameterList(drawn)
        self.degree = degree

    @classmethod
    def from_config(cls, m, domain):
        """Built from a ``model`` section (the monomials ignore the domain, like the post)."""
        return cls(m.degree)

    def coefficients(self) -> list[torch.Tensor]:
        """Coefficients from the constant term up: ``[c0, c1, …, cn]``."""
        return list(self.coefs)[::-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.coefficients()
        y = c[0]
        for k in range(1, self.degree + 1):
            y = y + (c[k] * x if k == 1 else c[k] * x ** k)
        return y * torch.ones_like(x) if self.degree == 0 else y

    def string(self) -> str:
        """The fitted polynomial as text, in the post's format."""
        terms = []
        for k, c in enumerate(self.coefficients()):
            terms.append(f"{c.item()}" + ("" if k == 0 else " x" if k == 1 else f" x^{k}"))
        return "y = " + " + ".join(terms)


def unit_interval(x: torch.Tensor, domain: tuple[float, float]) -> torch.Tensor:
    """``x`` mapped linearly from ``domain`` to [-1, 1]."""
    lo, hi = domain
    return (2 * x - (lo + hi)) / (hi - lo)


class OrthogonalBasis(torch.nn.Module):
    """``y = sum_k c_k B_k(t)`` with ``t`` the input mapped from ``domain`` to [-1, 1].

    ``B_k`` is the Legendre polynomial ``P_k`` or the Chebyshev polynomial of the
    first kind ``T_k``, built by their three-term recurrences. The coefficients
    are one parameter vector ``[c0 … cn]`` drawn from a standard normal.
    Orthogonal bases are well conditioned on [-1, 1], so gradient descent makes
    even progress on every coefficient, unlike the monomials ``x^k``.
    """

    symbol = "B"

    def __init__(self, degree: int, domain: tuple[float, float]):
        super().__init__()
        self.degree = degree
        self.domain = (float(domain[0]), float(domain[1]))
        self.coef = torch.nn.Parameter(torch.randn(degree + 1))

    @classmethod
    def from_config(cls, m, domain):
        """Built from a ``model`` section and ``data.domain``."""
        return cls(m.degree, domain)

    def _next(self, k: int, t: torch.Tensor, b_k: torch.Tensor, b_prev: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def basis(self, x: torch.Tensor) -> torch.Tensor:
        """The design matrix ``[B_0(t), …, B_n(t)]``, shape ``[len(x), degree + 1]``."""
        t = unit_interval(x, self.domain)
        columns = [torch.ones_like(t), t][: self.degree + 1]
        for k in range(1, self.degree):
            columns.append(self._next(k, t, columns[k], columns[k - 1]))
        return torch.stack(columns, dim=-1)

    def coefficients(self) -> list[torch.Tensor]:
        return list(self.coef)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.basis(x) @ self.coef

    def string(self) -> str:
        terms = " + ".join(f"{c} {self.symbol}{k}(t)" for k, c in enumerate(self.coef.tolist()))
        return f"y = {terms}, t = {unit_interval_string(self.domain)}"


def unit_interval_string(domain: tuple[float, float]) -> str:
    """:func:`unit_interval` as a formula in x: ``x / 3.14159`` on [-pi, pi], ``(x - 1) / 2`` on [-1, 3], ``x - 1`` on [0, 2]."""
    lo, hi = domain
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    shifted = "x" if mid == 0 else f"x - {mid:g}" if mid > 0 else f"x + {-mid:g}"
    if half == 1:
        return shifted
    return f"{shifted if mid == 0 else f'({shifted})'} / {half:g}"


class Legendre(OrthogonalBasis):
    symbol = "P"

    def _next(self, k, t, b_k, b_prev):
        return ((2 * k + 1) * t * b_k - k * b_prev) / (k + 1)


class Chebyshev(OrthogonalBasis):
    symbol = "T"

    def _next(self, k, t, b_k, b_prev):
        return 2 * t * b_k - b_prev


class Sin(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(x)


ACTIVATIONS = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "gelu": torch.nn.GELU, "sin": Sin}


class MLP(torch.nn.Module):
    """A scalar-to-scalar multilayer perceptron on x mapped from ``domain`` to [-1, 1].

    ``Linear(1, h1) → act → … → Linear(hk, 1)`` with PyTorch's default
    initialisation; the input is mapped to [-1, 1] so the same widths work on
    any domain.
    """

    def __init__(self, hidden: tuple[int, ...], activation: str, domain: tuple[float, float]):
        super().__init__()
        self.domain = (float(domain[0]), float(domain[1]))
        self.hidden = tuple(hidden)
        self.activation = activation
        layers, width = [], 1
        for h in hidden:
            layers += [torch.nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        layers.append(torch.nn.Linear(width, 1))
        self.net = torch.nn.Sequential(*layers)

    @classmethod
    def from_config(cls, m, domain):
        """Built from a ``model`` section and ``data.domain``."""
        return cls(m.hidden, m.activation, domain)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(unit_interval(x, self.domain).unsqueeze(-1)).squeeze(-1)

    def string(self) -> str:
        widths = "-".join(str(w) for w in (1, *self.hidden, 1))
        n = sum(p.numel() for p in self.parameters())
        return f"mlp {widths} ({self.activation}), {n} parameters"


def build(model_config, domain: tuple[float, float] = (-1.0, 1.0)) -> torch.nn.Module:
    """The model a :class:`polyanim.config.Model` section describes; ``domain`` is ``data.domain``.

    ``model.kind`` names a class in :data:`polyanim.registry.models.MODELS`, built by its ``from_config``.
    """
    return load(MODELS[model_config.kind].path).from_config(model_config, domain)
