"""Models of two inputs, for ``data.dataset`` (torch): ``logistic``, ``polyfeatures`` and the MLP's 2-D use.

Each takes points ``[N, 2]``, maps each input from the mesh's rectangle to
[-1, 1] (so the same learning rate works on any rectangle, as the 1-D models
map ``data.domain``) and returns ``[N]`` (one logit for two classes, or the
value of a surface) or ``[N, C]`` logits for C >= 3 classes. Training
(:mod:`polyanim.train_field`) turns logits into probabilities.
"""

from __future__ import annotations

import torch

from .models import ACTIVATIONS


def unit_square(X: torch.Tensor, rect) -> torch.Tensor:
    """Points ``[N, 2]`` mapped from ``rect`` = (x1_lo, x1_hi, x2_lo, x2_hi) to [-1, 1] squared."""
    lo = torch.tensor([rect[0], rect[2]], dtype=X.dtype)
    hi = torch.tensor([rect[1], rect[3]], dtype=X.dtype)
    return (2 * X - (lo + hi)) / (hi - lo)


class _Field(torch.nn.Module):
    """What the two-input models share: the rectangle, the output width and the squeeze of one output."""

    def __init__(self, rect, outputs: int):
        super().__init__()
        self.rect = tuple(float(v) for v in rect)
        self.outputs = int(outputs)

    def features(self, t: torch.Tensor) -> torch.Tensor:
        return t

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        out = self.net(self.features(unit_square(X, self.rect)))
        return out.squeeze(-1) if self.outputs == 1 else out


class Logistic(_Field):
    """One linear layer on the two inputs: a straight decision boundary (softmax regression for C classes)."""

    def __init__(self, rect, outputs: int):
        super().__init__(rect, outputs)
        self.net = torch.nn.Linear(2, outputs)

    @classmethod
    def from_field(cls, m, rect, outputs):
        """Built from a ``model`` section, the mesh's rectangle and the number of outputs."""
        return cls(rect, outputs)

    def string(self) -> str:
        return f"logistic regression, {sum(p.numel() for p in self.parameters())} parameters"


class PolyFeatures(_Field):
    """The monomials ``t1^a t2^b`` (1 <= a + b <= degree) of the mapped inputs, then one linear layer."""

    def __init__(self, degree: int, rect, outputs: int):
        super().__init__(rect, outputs)
        self.degree = degree
        self.powers = [(a, d - a) for d in range(1, degree + 1) for a in range(d, -1, -1)]
        self.net = torch.nn.Linear(len(self.powers), outputs)

    @classmethod
    def from_field(cls, m, rect, outputs):
        """Built from a ``model`` section (``model.degree``), the rectangle and the number of outputs."""
        return cls(m.degree, rect, outputs)

    def features(self, t):
        return torch.stack([t[:, 0] ** a * t[:, 1] ** b for a, b in self.powers], dim=1)

    def string(self) -> str:
        return f"polynomial features of degree {self.degree} ({len(self.powers)}), then linear"


class FieldMLP(_Field):
    """``Linear(2, h1) -> act -> ... -> Linear(hk, outputs)``: the ``mlp`` entry with two inputs."""

    def __init__(self, hidden, activation: str, rect, outputs: int):
        super().__init__(rect, outputs)
        self.hidden, self.activation = tuple(hidden), activation
        layers, width = [], 2
        for h in hidden:
            layers += [torch.nn.Linear(width, h), ACTIVATIONS[activation]()]
            width = h
        layers.append(torch.nn.Linear(width, outputs))
        self.net = torch.nn.Sequential(*layers)

    @classmethod
    def from_field(cls, m, rect, outputs):
        """The ``mlp`` entry's widths and activation on two inputs."""
        return cls(m.hidden, m.activation, rect, outputs)

    def string(self) -> str:
        widths = "-".join(str(w) for w in (2, *self.hidden, self.outputs))
        return f"mlp {widths} ({self.activation}), {sum(p.numel() for p in self.parameters())} parameters"
