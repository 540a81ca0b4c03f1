"""A model added from outside the package at run time: one class, one numpy basis, one register() call.

The Fourier-series model below is what a new contributor writes (docs/extending.md, "A new model"): it
trains from a config, its flat end at the least-squares optimum is no "loss stalled" note (its registry
entry gives the basis for that optimum), its parameters are named and labelled "coefficient", and it
draws. A non-linear model registered the same way gets no judgement against a closed form it lacks.
"""

from __future__ import annotations

import dataclasses
import io
import math

import matplotlib.text
import numpy as np
import pytest
import torch

from polyanim import config, limits, optimum, style
from polyanim.panels.params import shows_equation
from polyanim.registry.models import MODELS, ModelSpec, register
from polyanim.renderer import render
from polyanim.scene import Scene
from polyanim.train import train

HERE = __name__  # this module, importable by the registry's "module:name" path


def _phase(x, domain):
    """x mapped from ``domain`` to [-pi, pi], in numpy or torch alike."""
    lo, hi = float(domain[0]), float(domain[1])
    return math.pi * (2 * x - (lo + hi)) / (hi - lo)


class Fourier(torch.nn.Module):
    """``y = a0 + sum_k a_k cos(k t) + b_k sin(k t)``, k = 1 … ``model.degree``, t = x mapped to [-pi, pi]."""

    def __init__(self, harmonics: int, domain):
        super().__init__()
        self.harmonics, self.domain = harmonics, tuple(domain)
        self.coef = torch.nn.Parameter(torch.randn(2 * harmonics + 1))

    @classmethod
    def from_config(cls, m, domain):
        return cls(m.degree, domain)

    def forward(self, x):
        t = _phase(x, self.domain)
        k = torch.arange(1, self.harmonics + 1, dtype=x.dtype)
        columns = [torch.ones_like(t)[:, None], torch.cos(t[:, None] * k), torch.sin(t[:, None] * k)]
        return torch.cat(columns, dim=1) @ self.coef

    def coefficients(self):
        return list(self.coef)


def fourier_basis(m, domain, x):
    """The numpy design matrix of :class:`Fourier`, in the order of its coefficients."""
    t = _phase(np.asarray(x, dtype=np.float64), domain)[:, None]
    k = np.arange(1, m.degree + 1)
    return np.hstack([np.ones_like(t), np.cos(t * k), np.sin(t * k)])


def fourier_names(m):
    return ["a0", *(f"a{k}" for k in range(1, m.degree + 1)), *(f"b{k}" for k in range(1, m.degree + 1))]


FOURIER = ModelSpec(f"{HERE}:Fourier", "a Fourier series of `model.degree` harmonics",
                    params=lambda m: 2 * m.degree + 1, activations=lambda m: 6 * (2 * m.degree + 1),
                    basis=fourier_basis, names=fourier_names, axis="coefficient")


@pytest.fixture
def registered():
    """Register models for one test, and leave the table as it was."""
    before = dict(MODELS)
    yield register
    MODELS.clear()
    MODELS.update(before)


def converging(kind):
    # x on [-pi, pi] is a sawtooth to a Fourier series: 3 harmonics leave a real residual, the optimum is
    # far above 0, and L-BFGS gets there in a few steps, then stays flat for the rest of the run
    return config.from_dict({"model": {"kind": kind, "degree": 3}, "data": {"points": 200, "target": "x"},
                             "train": {"optimizer": "lbfgs", "lr": 1.0, "steps": 40, "record_every": 1,
                                       "log_every": 0, "loss": "mse_mean"},
                             "render": {"size": [320, 240], "panels": ["fit", "loss", "params"]}})


def test_a_registered_linear_model_trains_and_draws_with_no_false_note(registered, tmp_path):
    registered("fourier", FOURIER)
    cfg = converging("fourier")
    assert limits.check_config(cfg) == []  # its size is read from its entry
    err = io.StringIO()
    h = train(cfg, quiet=True, err=err)
    best = optimum.least_squares_loss(cfg.model, cfg.data.span(), h.x, np.asarray(h.y, dtype=float), "mse_mean")
    assert best > 0.1 and abs(h.loss[-1] - best) < 1e-3 * best  # flat at the optimum (float32), which is not 0
    assert err.getvalue() == "" and h.meta["warnings"] == [] and style.run_notes(h.meta) == []
    assert h.meta["param_names"] == fourier_names(cfg.model) and h.params.shape[1] == 7
    scene = Scene(h, cfg.render)
    scene.frame(float(len(h) - 1))
    texts = [t.get_text() for t in scene.fig.findobj(matplotlib.text.Text)]
    assert scene.axes["params"].get_ylabel() == "coefficient"
    assert not any("flat" in t or "stalled" in t for t in texts), texts
    # Taylor coefficients and a polynomial equation would be false readings of a Fourier basis
    assert "Taylor" not in texts and not shows_equation(h)
    out = render(h, tmp_path / "fourier.gif", cfg.render, quiet=True)
    assert out.stat().st_size > 0


def test_without_its_basis_the_same_model_gets_no_judgement_against_a_closed_form(registered):
    registered("fourier", ModelSpec(f"{HERE}:Fourier", "not linear, as far as polyanim knows",
                                    params=FOURIER.params, names=fourier_names))
    cfg = converging("fourier")
    with pytest.raises(ValueError, match="no closed-form basis"):
        optimum.design_matrix(cfg.model, cfg.data.span(), np.zeros(3))
    bar, how = optimum.converged_below(cfg, np.zeros(200), np.linspace(-3, 3, 200))
    assert "least-squares" not in how and "rule of thumb" in how
    h = train(cfg, quiet=True, err=io.StringIO())
    assert not any("least-squares" in w["message"] for w in h.meta["warnings"])
    assert Scene(h, cfg.render).axes["params"].get_ylabel() == "parameter"


def test_the_params_panel_reads_the_monomial_fact_from_the_entry_not_the_name(registered):
    registered("cubic", dataclasses.replace(MODELS["polynomial"], doc="the polynomial under another name"))
    cfg = config.from_dict({"model": {"kind": "cubic", "degree": 3}, "train": {"steps": 20, "record_every": 10},
                            "render": {"size": [320, 240], "panels": ["fit", "params"]}})
    h = train(cfg, quiet=True, err=io.StringIO())
    scene = Scene(h, cfg.render)
    scene.frame(float(len(h) - 1))
    texts = [t.get_text() for t in scene.fig.findobj(matplotlib.text.Text)]
    assert shows_equation(h) and "Taylor" in texts


def test_register_wants_a_model_spec(registered):
    with pytest.raises(TypeError, match="expected a ModelSpec"):
        registered("fourier", f"{HERE}:Fourier")
