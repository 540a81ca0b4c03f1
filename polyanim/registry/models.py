"""The model kinds: ``model.kind`` -> the torch module that builds it. No torch here.

Each class named here has ``from_config(model_section, domain)``. Adding a
model is one class (in :mod:`polyanim.models` or anywhere importable) and one
line here.
"""

from __future__ import annotations

from . import Entry

MODELS: dict[str, Entry] = {
    "polynomial": Entry("polyanim.models:Polynomial",
                        "monomial basis, seed-compatible with the post (`model.degree`)"),
    "legendre": Entry("polyanim.models:Legendre", "Legendre basis on x mapped to [-1, 1] (`model.degree`)"),
    "chebyshev": Entry("polyanim.models:Chebyshev", "Chebyshev basis on x mapped to [-1, 1] (`model.degree`)"),
    "mlp": Entry("polyanim.models:MLP", "a small multilayer perceptron (`model.hidden`, `model.activation`)"),
}
