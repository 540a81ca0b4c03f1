"""How good a run's final loss could have been: the bar a "loss stalled" warning is measured against.

A flat loss at the end of a run means one of two things: the run reached the
best fit its model allows (converged: nothing is wrong), or it got stuck above
it (stalled: more steps or another learning rate would help). Only the second
deserves a warning. numpy only, so it is cheap and easy to test.

- a model linear in its parameters (``polynomial``, ``legendre``,
  ``chebyshev``, any whose registry entry gives a numpy ``basis``): the best loss is the least-squares solution, in closed
  form, in the same basis, on the same training samples and with the same loss
  reduction as training. A run is converged when its loss is within
  :data:`REL_TOL` of that optimum, or within :data:`ABS_TOL` of the loss of a
  constant prediction (for targets a polynomial fits exactly, whose optimum is
  about 0): 10% more loss than the optimum is a fit about 5% off in RMS, which
  no one can tell from the best one in a frame, while the stalls worth telling
  (the post's SGD at a tiny learning rate) sit orders of magnitude above it.
- any other model (``mlp``): the best loss is unknown, and no bar is made up
  from a basis it does not have. The honest bar is what the data allow:
  the noise (``data.noise`` squared per sample, which no model can remove)
  plus :data:`MLP_TOL` of the loss of a constant prediction. A flat loss below
  it explains 99% of the signal's variance and is called converged; above it,
  the warning says "stalled" and that the bar is a rule of thumb.
"""

from __future__ import annotations

import numpy as np

from .registry.models import MODELS

REL_TOL = 0.10    # converged: within 10% of the least-squares loss …
ABS_TOL = 1e-3    # … or within 0.1% of a constant prediction's loss (exact fits have an optimum near 0)
MLP_TOL = 0.01    # an MLP: converged below the noise plus 1% of a constant prediction's loss


def monomials(m, domain, x: np.ndarray) -> np.ndarray:
    """``polynomial``'s basis at ``x``: ``x^k`` for k = 0 … degree (the domain plays no part, like the post)."""
    return np.vander(np.asarray(x, dtype=np.float64), m.degree + 1, increasing=True)


def _unit(domain, x) -> np.ndarray:
    lo, hi = float(domain[0]), float(domain[1])
    return (2 * np.asarray(x, dtype=np.float64) - (lo + hi)) / (hi - lo)


def legendre(m, domain, x: np.ndarray) -> np.ndarray:
    """``legendre``'s basis at ``x``: ``P_k(t)``, ``x`` mapped from ``domain`` to [-1, 1] as the model maps it."""
    return np.polynomial.legendre.legvander(_unit(domain, x), m.degree)


def chebyshev(m, domain, x: np.ndarray) -> np.ndarray:
    """``chebyshev``'s basis at ``x``: ``T_k(t)``, ``x`` mapped from ``domain`` to [-1, 1] as the model maps it."""
    return np.polynomial.chebyshev.chebvander(_unit(domain, x), m.degree)


def design_matrix(m, domain, x: np.ndarray) -> np.ndarray:
    """The basis the model of section ``m`` uses, evaluated at ``x``: shape ``[len(x), parameters]``.

    Read from the model's registry entry (:class:`~polyanim.registry.models.ModelSpec` ``basis``);
    a :class:`ValueError` for a model that is not linear in its parameters.
    """
    spec = MODELS[m.kind]
    if not spec.linear:
        raise ValueError(f"no closed-form basis for model kind {m.kind!r}")
    return np.asarray(spec.design_matrix(m, domain, x), dtype=np.float64)


def reduce(residual: np.ndarray, loss: str) -> float:
    """The training loss of ``residual`` (prediction minus target): ``mse_sum`` or ``mse_mean``."""
    squared = float(np.sum(residual * residual))
    return squared if loss == "mse_sum" else squared / max(residual.size, 1)


def least_squares_loss(m, domain, x, y, loss: str) -> float:
    """The smallest training loss any coefficients of this basis reach on samples ``(x, y)`` (float64).

    NaN when the basis overflows float64 at these samples.
    """
    a = design_matrix(m, domain, x)
    y = np.asarray(y, dtype=np.float64)
    if not (np.isfinite(a).all() and np.isfinite(y).all()):
        return float("nan")  # LAPACK would complain on the console
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    return reduce(a @ coef - y, loss)


def converged_below(config, x, y) -> tuple[float | None, str]:
    """The loss under which a flat run counts as converged, and how that bar was found (for the warning).

    None when the optimum cannot be computed (it overflows): every flat end is then reported.

    ``config`` is the run's resolved :class:`~polyanim.config.Config`; ``x``
    and ``y`` are the training samples and their (noisy) targets, exactly as
    trained on. See the module's docstring for the rule and its tolerances.
    """
    y = np.asarray(y, dtype=np.float64)
    loss, m = config.train.loss, config.model
    constant = reduce(y - y.mean(), loss)
    if not MODELS[m.kind].linear:
        noise = reduce(np.full(y.size, config.data.noise), loss)
        return noise + MLP_TOL * constant, ("a non-linear model's rule of thumb: the noise plus 1% of the "
                                            "target's variance")
    try:  # a huge degree on a wide domain can overflow: then there is no bar, as before this module
        with np.errstate(all="ignore"):
            best = least_squares_loss(m, config.data.span(), x, y, loss)
    except (np.linalg.LinAlgError, ValueError):
        best = float("nan")
    if not np.isfinite(best):
        return None, ""
    return best + max(REL_TOL * best, ABS_TOL * constant), f"the least-squares optimum {best:.4g}"
