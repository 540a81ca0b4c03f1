"""A loss surface the user gives for a model of their own: ``Recorder(..., landscape=)``. numpy only.

The exact slice of :mod:`polyanim.landscape` needs a model linear in its
parameters and the samples it was trained on; a model of your own is neither
known nor linear, so its surface comes from you: record the two parameters
whose path you want as ``params`` (two values at every ``add``) and pass the
loss over them as ``landscape``, either a function ``loss(a, b)`` of two
arrays of the same shape (a grid; the others held where you choose) that the
Recorder evaluates on a :data:`MESH` by :data:`MESH` grid over a box around
the recorded path, or the grid itself as ``(a_values, b_values, losses)``
with ``losses[j, k]`` the loss at ``(a_values[k], b_values[j])``. The grid
is kept in the History's ``meta["landscape"]`` (so a saved History replays
it) and the paths panel draws it, its lowest grid point marked as the minimum.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError
from .landscape import box
from .recording_checks import RecorderError
from .surfaces import Surface

MESH = 100         # grid points a side where a landscape function is evaluated
MAX_SIDE = 400     # grid points a side a given or stored landscape may have (a History's meta is JSON)
KEY = "landscape"  # the Recorder's keyword, the meta entry and the word in messages


def evaluate(landscape, path: np.ndarray, names) -> dict:
    """The ``meta["landscape"]`` entry for a Recorder's ``landscape`` and its recorded ``path`` ``[F, 2]``.

    Raises :class:`~polyanim.recording_checks.RecorderError` naming ``landscape`` when it is neither a
    function nor a grid, the function fails or returns another shape, or the
    path is not two values a snapshot.
    """
    if path is None or path.ndim != 2 or path.shape[1] != 2:
        got = "none" if path is None else f"{path.shape[1]} values"
        raise RecorderError(f"{KEY}: draws the path of two parameters: pass exactly those two as params= at every "
                         f"add(), got {got}")
    if callable(landscape):
        (x0, x1), (y0, y1) = box(path)
        xs, ys = np.linspace(x0, x1, MESH), np.linspace(y0, y1, MESH)
        a, b = np.meshgrid(xs, ys)
        try:
            losses = np.asarray(landscape(a, b), dtype=np.float64)
        except Exception as exc:  # the user's code: its failure is reported in one line, with its own words
            raise RecorderError(f"{KEY}: your loss function failed on a {MESH}x{MESH} grid of "
                             f"{names[0]}, {names[1]}: {type(exc).__name__}: {exc}".splitlines()[0]) from None
    elif isinstance(landscape, (tuple, list)) and len(landscape) == 3:
        xs, ys, losses = (np.asarray(v, dtype=np.float64) for v in landscape)
    else:
        raise RecorderError(f"{KEY}: expected a function loss(a, b) of two grid arrays, or (a_values, b_values, "
                         f"losses), got {type(landscape).__name__}")
    return {"params": [str(n) for n in names], **_checked(xs, ys, losses, RecorderError)}


def _checked(xs: np.ndarray, ys: np.ndarray, losses: np.ndarray, error=InputError) -> dict:
    """The grid as JSON lists (non-finite losses as null), or ``error`` saying what is wrong with it."""
    _check(xs, ys, losses, error)
    rows = [[float(f"{v:.7g}") if np.isfinite(v) else None for v in row] for row in losses]  # float32-ish: half the JSON
    return {"x": xs.tolist(), "y": ys.tolist(), "loss": rows}


def _check(xs: np.ndarray, ys: np.ndarray, losses: np.ndarray, error=InputError) -> None:
    """Raise ``error`` saying what is wrong with the grid, if anything."""
    for axis, values in (("a_values", xs), ("b_values", ys)):
        if values.ndim != 1 or not 2 <= values.size <= MAX_SIDE or not np.isfinite(values).all() \
                or not (np.diff(values) > 0).all():
            raise error(f"{KEY}: {axis}: expected 2 to {MAX_SIDE} finite increasing values")
    if losses.shape != (ys.size, xs.size):
        raise error(f"{KEY}: losses: expected shape ({ys.size}, {xs.size}) (rows are b), got {losses.shape}")
    if not np.isfinite(losses).any():
        raise error(f"{KEY}: losses: no finite value")


def recorded(runs) -> dict | None:
    """The first ``meta["landscape"]`` among ``runs`` (Histories), or None."""
    return next((r.meta[KEY] for r in runs if isinstance(getattr(r, "meta", None), dict) and KEY in r.meta), None)


def grid_surface(entry) -> tuple[Surface, list[str]]:
    """A :class:`~polyanim.surfaces.Surface` interpolating a ``meta["landscape"]`` entry bilinearly, and its two
    parameter names. Raises :class:`InputError` for an entry that is not one (a file edited by hand)."""
    try:
        names = [str(n) for n in entry["params"]][:2]
        xs, ys = np.asarray(entry["x"], dtype=np.float64), np.asarray(entry["y"], dtype=np.float64)
        losses = np.array(entry["loss"], dtype=np.float64)  # null -> NaN
    except (KeyError, TypeError, ValueError):
        raise InputError(f"meta.{KEY}: expected {{params, x, y, loss}} as Recorder(landscape=) writes it") from None
    _check(xs, ys, losses)  # not _checked: the JSON rows it builds are not needed here
    if len(names) != 2:
        raise InputError(f"meta.{KEY}.params: expected two names")
    j, k = np.unravel_index(np.nanargmin(losses), losses.shape)
    lowest = (float(xs[k]), float(ys[j]))
    return Surface(KEY, _bilinear(xs, ys, losses), _no_gradient, ((xs[0], xs[-1]), (ys[0], ys[-1])), lowest,
                   (lowest,), float(losses[j, k]), doc="your loss on a grid"), names


def _bilinear(xs: np.ndarray, ys: np.ndarray, z: np.ndarray):
    """``value(x, y)``: ``z`` on the grid ``xs`` by ``ys`` interpolated bilinearly (NaN cells stay NaN)."""

    def value(x, y):
        x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
        fx, fy = np.interp(x, xs, np.arange(xs.size)), np.interp(y, ys, np.arange(ys.size))
        i, j = np.clip(fx.astype(int), 0, xs.size - 2), np.clip(fy.astype(int), 0, ys.size - 2)
        tx, ty = fx - i, fy - j
        return ((z[j, i] * (1 - tx) + z[j, i + 1] * tx) * (1 - ty)
                + (z[j + 1, i] * (1 - tx) + z[j + 1, i + 1] * tx) * ty)

    return value


def _no_gradient(x, y):
    raise InputError(f"{KEY}: a loss given on a grid has no gradient to optimize on; it is for drawing")
