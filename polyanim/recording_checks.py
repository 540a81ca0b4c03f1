"""How :class:`~polyanim.recording.Recorder` reads what a loop hands it: steps, numbers, arrays, the target.

Each reader turns a value (a number, a list, a numpy array, a torch tensor on
any device) into what the Recorder stores, or raises :class:`RecorderError`
with one line naming the argument. Torch is never imported: tensors are read
through their own ``.detach().cpu()``.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .errors import InputError

MAX_STEP = int(np.iinfo(np.int64).max)  # a History stores steps as int64


class RecorderError(InputError):
    """A bad argument to :class:`Recorder` or :meth:`Recorder.add`; the message names it."""

    def __init__(self, message: str):
        super().__init__(f"polyanim.Recorder: {message}")


def _step(value) -> int:
    """``value`` as a step: a whole number from 0 to 2**63 - 1 (an integral float such as ``3.0`` is one)."""
    if type(value) is int and 0 <= value <= MAX_STEP:  # the loop's own counter: the fast path
        return value
    whole = None
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        whole = int(value)
    elif isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value) \
            and float(value).is_integer():
        whole = int(value)
    if whole is None or not 0 <= whole <= MAX_STEP:
        raise RecorderError(f"step: must be a whole number from 0 to 2**63 - 1, got {_shown(value)}")
    return whole


def _shown(value) -> str:
    """A short one-line ``repr`` of a bad value, for a message."""
    text = repr(value)
    return text if len(text) <= 40 and "\n" not in text else f"a {type(value).__name__}"


def _whole(value, name: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise RecorderError(f"{name}: must be a whole number >= {least}, got {_shown(value)}")
    return int(value)


def _pair(samples):
    try:
        xs, ys = samples
    except (TypeError, ValueError):
        raise RecorderError(f"samples: expected a pair (xs, ys), got {type(samples).__name__}") from None
    return xs, ys


def _vector(value, name: str, dtype, copy: bool = False) -> np.ndarray:
    """``value`` (array, list, tensor on any device, with or without grad) as a 1-D numpy array of reals."""
    value = _untensor(value)
    try:
        array = np.asarray(value)
        if array.dtype.kind == "c":  # numpy would drop the imaginary part with a warning
            raise RecorderError(f"{name}: expected real numbers, got complex values")
        array = np.array(array, dtype=dtype, copy=True) if copy else array.astype(dtype, copy=False)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, RecorderError):
            raise
        raise RecorderError(f"{name}: expected numbers, got {type(value).__name__} ({_first_line(exc)})") from None
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        array = array.reshape(-1) if array.size == max(array.shape) else array
    if array.ndim != 1:
        raise RecorderError(f"{name}: expected a 1-D array, got shape {array.shape}")
    return array


def _untensor(value):
    """A torch tensor (any device, with or without grad) as a numpy array, read without importing torch."""
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            value = value.float()
        value = value.numpy()
    return value


def _scalar(value, name: str) -> float:
    try:
        number = value.item() if hasattr(value, "item") else value
        if isinstance(number, complex):
            raise RecorderError(f"{name}: expected a real number, got a complex one ({number!r})")
        return float(number)
    except (TypeError, ValueError, RuntimeError) as exc:
        if isinstance(exc, RecorderError):
            raise
        raise RecorderError(f"{name}: expected a number, got {type(value).__name__} ({_first_line(exc)})") from None


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else type(exc).__name__


def _grid(x) -> tuple[np.ndarray, np.ndarray | None]:
    """The drawing grid sorted (stably), and the order that sorts it (None when ``x`` is already sorted).

    Duplicated values are kept: the curves are drawn over the sorted grid, so a
    repeated x is a vertical step between its predictions, as a plot would draw it.
    """
    x = _vector(x, "x", np.float64)
    if x.size < 2 or not np.isfinite(x).all():
        raise RecorderError(f"x: expected at least 2 finite values, got {x.size}")
    if x.min() == x.max():
        raise RecorderError(f"x: expected values spanning an interval, got {x.size} values all equal to {x[0]:g}")
    if (x[1:] >= x[:-1]).all():
        return x, None
    order = np.argsort(x, kind="stable")
    return x[order], order


def _target(target, x: np.ndarray, label, order: np.ndarray | None):
    """The target on the (sorted) grid and its legend label: from an array, a function of x, or an expression.

    An array is given in the order of the caller's ``x``, so it is put in the
    grid's order with ``order``; a function or expression is evaluated on the
    sorted grid directly.
    """
    if target is None:
        return np.full(x.shape, np.nan), label
    if isinstance(target, str):
        from . import targets

        return targets.parse(target)(x).astype(np.float64), label if label is not None else target
    y = _vector(target(x) if callable(target) else target, "target", np.float64)
    if y.shape != x.shape:
        raise RecorderError(f"target: expected {x.size} values, one per x, got shape {y.shape}")
    return (y[order] if order is not None and not callable(target) else y), label
