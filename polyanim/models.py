"""Models trained by polyanim (torch)."""

from __future__ import annotations

import torch


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


def build(model_config) -> torch.nn.Module:
    """The model a :class:`polyanim.config.Model` section describes."""
    if model_config.kind == "polynomial":
        return Polynomial(model_config.degree)
    raise ValueError(f"unknown model kind {model_config.kind!r}")  # config validation prevents this
