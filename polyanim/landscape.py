"""The exact loss over two coefficients of a model linear in its parameters, the others held fixed. numpy only.

For ``polynomial``, ``legendre`` and ``chebyshev`` the prediction is ``A c``
(``A`` the basis at the training inputs), so the training loss over
``(c_i, c_j)`` through a point ``c`` is a quadratic. It is kept as the 3 by 3
triangular factor ``R`` of ``[a_i, a_j, r0]`` (the two basis columns and the
residual at ``c``): ``loss = s * |R [u, v, 1]|^2`` with ``u, v`` the offsets
from ``c`` and ``s`` the reduction (1 for ``mse_sum``, ``1 / n`` for
``mse_mean``). The factor gives the 2 by 2 Hessian block, the gradient and
the constant (:attr:`QuadraticSlice.hessian` and friends), and the loss as a
sum of three squares: never negative, with no cancellation between large
terms, even in the seed's long narrow valley (cubic coefficients ``c1``,
``c3``). A mesh costs a few array operations, no matrix product per point.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np

from .errors import InputError
from .optimum import design_matrix
from .registry.models import MODELS
from .surfaces import Surface


def linear_kinds() -> list[str]:
    """The registered model kinds that are linear in their parameters (their entry gives a numpy basis)."""
    return [kind for kind, spec in MODELS.items() if spec.linear]


@dataclass(frozen=True)
class QuadraticSlice:
    """The training loss over ``(c_i, c_j)`` through ``center``; see the module docstring for the form."""

    i: int
    j: int
    center: tuple[float, float]     # (c_i, c_j) of the point the slice passes through
    r: np.ndarray                   # [3, 3] upper triangular factor of [a_i, a_j, r0]
    scale: float                    # 1 (mse_sum) or 1 / n (mse_mean)

    def loss(self, ci, cj) -> np.ndarray:
        """The loss at coefficients ``c_i = ci``, ``c_j = cj`` (arrays broadcast; a mesh gives a mesh)."""
        u = np.asarray(ci, dtype=np.float64) - self.center[0]
        v = np.asarray(cj, dtype=np.float64) - self.center[1]
        (r00, r01, r02), (_, r11, r12), (_, _, r22) = self.r
        first, second = r00 * u + r01 * v + r02, r11 * v + r12
        return self.scale * (first * first + second * second + r22 * r22)

    def grid(self, ci_values, cj_values) -> np.ndarray:
        """The loss on the grid ``ci_values`` x ``cj_values``: shape ``[len(cj_values), len(ci_values)]`` (rows c_j)."""
        return self.loss(np.asarray(ci_values, dtype=np.float64)[None, :],
                         np.asarray(cj_values, dtype=np.float64)[:, None])

    def partials(self, ci, cj) -> tuple[np.ndarray, np.ndarray]:
        """The loss's derivatives in ``c_i`` and ``c_j`` at ``(ci, cj)`` (arrays broadcast)."""
        u = np.asarray(ci, dtype=np.float64) - self.center[0]
        v = np.asarray(cj, dtype=np.float64) - self.center[1]
        (r00, r01, r02), (_, r11, r12), _ = self.r
        first, second = r00 * u + r01 * v + r02, r11 * v + r12
        return 2 * self.scale * r00 * first, 2 * self.scale * (r01 * first + r11 * second)

    @property
    def hessian(self) -> np.ndarray:
        """The 2 by 2 Hessian of the loss in ``(c_i, c_j)`` (constant: the slice is a quadratic)."""
        block = self.r[:2, :2]
        return 2 * self.scale * block.T @ block

    @property
    def gradient(self) -> np.ndarray:
        """The gradient of the loss in ``(c_i, c_j)`` at ``center``."""
        return 2 * self.scale * self.r[:2, :2].T @ self.r[:2, 2]

    @property
    def constant(self) -> float:
        """The loss at ``center``."""
        return float(self.scale * self.r[:, 2] @ self.r[:, 2])

    def minimum(self) -> tuple[tuple[float, float], float] | None:
        """The lowest point of the slice ``((c_i, c_j), loss)``; None when the two columns are dependent."""
        block = self.r[:2, :2]
        if abs(block[0, 0] * block[1, 1]) <= 1e-14 * max(np.abs(block).max() ** 2, 1e-300):
            return None
        u, v = np.linalg.solve(block, -self.r[:2, 2])
        ci, cj = self.center[0] + u, self.center[1] + v
        return (float(ci), float(cj)), float(self.loss(ci, cj))


def loss_slice(a: np.ndarray, y: np.ndarray, base, i: int, j: int, loss: str = "mse_sum") -> QuadraticSlice:
    """The exact loss slice over coefficients ``i`` and ``j`` through ``base`` for the design matrix ``a``.

    ``a`` is ``[n, p]`` (the basis at the training inputs), ``y`` the ``n``
    training targets, ``base`` the ``p`` coefficients the slice passes through
    (the final point, say) and ``loss`` the trainer's reduction, ``mse_sum``
    (the post's) or ``mse_mean``. Everything is float64.
    """
    a, y = np.asarray(a, dtype=np.float64), np.asarray(y, dtype=np.float64)
    base = np.asarray(base, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != y.size or a.shape[1] != base.size:
        raise ValueError(f"shapes do not fit: design {a.shape}, targets {y.shape}, coefficients {base.shape}")
    if i == j or not (0 <= i < base.size and 0 <= j < base.size):
        raise ValueError(f"need two different coefficient indices below {base.size}, got {i} and {j}")
    residual = a @ base - y
    r = np.linalg.qr(np.column_stack([a[:, i], a[:, j], residual]), mode="r")
    full = np.zeros((3, 3))
    full[: r.shape[0]] = r  # fewer than 3 samples give a shorter factor: the missing rows are zero
    scale = 1.0 if loss == "mse_sum" else 1.0 / max(y.size, 1)
    return QuadraticSlice(i, j, (float(base[i]), float(base[j])), full, scale)


def model_slice(kind: str, degree: int, domain, x, y, base, i: int, j: int, loss: str = "mse_sum") -> QuadraticSlice:
    """:func:`loss_slice` for a model of ``kind`` (a linear one) on training samples ``(x, y)``.

    ``x`` and ``y`` are the samples exactly as trained on (the trainer's
    float32 values, widened), ``domain`` is ``data.span()`` (the Legendre and
    Chebyshev models map it to [-1, 1]). Raises :class:`InputError` naming
    ``render.path_params`` for a model that is not linear in its parameters.
    """
    _check_linear(kind)
    return loss_slice(design_matrix(SimpleNamespace(kind=kind, degree=degree), domain, x), y, base, i, j, loss)


def _check_linear(kind: str) -> None:
    spec = MODELS.get(kind)
    if spec is None or not spec.linear:
        raise InputError(f"render.path_params: an exact loss slice needs a model linear in its parameters "
                         f"({', '.join(linear_kinds())}), not model.kind {kind!r}")


def path_indices(path_params, names) -> tuple[int, int]:
    """The indices of the two coefficients ``render.path_params`` names (``[c1, c3]``, or indices) in ``names``.

    Raises :class:`InputError` naming ``render.path_params`` and the allowed names.
    """
    key = "render.path_params"
    names = list(names)
    if isinstance(path_params, (str, bytes)) or not hasattr(path_params, "__len__") or len(path_params) != 2:
        raise InputError(f"{key}: expected two coefficient names such as [{', '.join(names[:2])}], "
                         f"got {path_params!r}")
    found = []
    for item in path_params:
        if isinstance(item, (int, np.integer)) and not isinstance(item, bool) and 0 <= item < len(names):
            found.append(int(item))
        elif isinstance(item, str) and item in names:
            found.append(names.index(item))
        else:
            raise InputError(f"{key}: the model has no coefficient {item!r}; allowed: {', '.join(names)}")
    if found[0] == found[1]:
        raise InputError(f"{key}: needs two different coefficients, got {list(path_params)!r}")
    return found[0], found[1]


def history_slice(history, i: int, j: int, base=None) -> QuadraticSlice:
    """The exact slice over coefficients ``i``, ``j`` of a trained History's model, through ``base``.

    ``base`` defaults to the run's final coefficients. The model, domain and
    loss come from ``history.config``; the training samples are the stored
    ``data_x``/``data_y``, or else the grid with the float32 target the
    trainer used there. Raises :class:`InputError` (``render.path_params``) for
    a model that is not linear in its parameters or a run without coefficients.
    """
    cfg = history.config
    model, data = cfg.get("model"), cfg.get("data", {})
    if not isinstance(model, dict):  # a Recorder's: your own model, which polyanim cannot slice
        raise InputError("render.path_params: a History of your own loop has no model to slice: record the two "
                         "parameters as params= and give Recorder(..., landscape=your_loss_on_a_grid)")
    _check_linear(model.get("kind", "polynomial"))
    if history.params is None:
        raise InputError("render.path_params: this run kept no coefficients (its model is too large)")
    if history.data_x is not None:
        x, y = history.data_x, history.data_y
    else:  # trained on the grid itself: the targets are the clean ones rounded to float32, like the trainer's
        x, y = history.x, history.y.astype(np.float32).astype(np.float64)
    domain = data.get("domain") or (float(history.x[0]), float(history.x[-1]))
    base = history.params[-1] if base is None else base
    return model_slice(model.get("kind", "polynomial"), int(model.get("degree", history.params.shape[1] - 1)),
                       domain, x, y, base, i, j, cfg.get("train", {}).get("loss", "mse_sum"))


def slice_surface(s: QuadraticSlice, paths, margin: float = 0.15) -> Surface:
    """A :class:`~polyanim.surfaces.Surface` of the slice, on a box around ``paths`` and the slice's minimum.

    ``paths`` is a list of ``[k, 2]`` arrays of ``(c_i, c_j)``; the box holds
    their finite points and the minimum, widened by ``margin`` of its size on
    each side, so the panel that draws the paths draws all of them.
    """
    lowest = s.minimum()
    points = [np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in paths]
    if lowest is not None:
        points.append(np.array([lowest[0]]))
    domain = box(np.concatenate(points + [np.array([s.center])]), margin)
    return Surface("slice", s.loss, s.partials, domain, s.center, (lowest[0],) if lowest else (),
                   lowest[1] if lowest else None, doc="the exact loss slice")


def box(points: np.ndarray, margin: float = 0.15):
    """``((x_lo, x_hi), (y_lo, y_hi))`` around the finite rows of ``points`` ``[k, 2]``, widened by ``margin``
    of its size on each side (a path along one axis still gets a box of some height)."""
    points = points[np.isfinite(points).all(axis=1)]
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = np.maximum((hi - lo) * margin, 1e-3 * np.maximum(np.abs(hi), 1.0))
    return (float(lo[0] - pad[0]), float(hi[0] + pad[0])), (float(lo[1] - pad[1]), float(hi[1] + pad[1]))
