"""The Recorder's two-input side: the mesh, the labelled points and the checks on each mesh prediction.

:class:`polyanim.Recorder` given points ``X`` of shape ``[N, 2]`` records a
"field" History (docs/history-format.md, version 3) through a :class:`Field`:
it owns the mesh the user's model is evaluated on, the training (and test)
points with their labels or values, and turns each offered prediction into the
array the History stores, refusing in one line what would draw nonsense.
Like the rest of the Recorder it never imports torch.
"""

from __future__ import annotations

import numpy as np

from .datasets import MAX_CLASSES, rectangle
from .history_io import MAX_MESH, TASKS, field_problem
from .recording_checks import RecorderError, _scalar, _untensor

SUM_TOLERANCE = 1e-3  # float32 softmax outputs sum to 1 within about 1e-6; a user's rounding within this
FIELD_ARGS = ("task", "classes", "rect", "test", "class_names")  # meaningful only with two inputs


def _real(value, name: str, dtype=np.float64) -> np.ndarray:
    """A torch tensor (any device, with or without grad) or array-like as a new numpy array of reals."""
    value = _untensor(value)
    try:
        array = np.asarray(value)
        if array.dtype.kind == "c":  # numpy would drop the imaginary part with a warning
            raise TypeError("complex values")
        return np.array(array, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise RecorderError(f"{name}: expected real numbers, got {type(value).__name__} "
                            f"({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})") from None


def is_points(value) -> bool:
    """Whether the Recorder's first argument is training points ``[N, 2]`` (N >= 2) rather than a 1-D grid."""
    shape = getattr(value, "shape", None)
    if shape is None:
        try:
            shape = np.shape(value)
        except (TypeError, ValueError):
            return False
    return len(shape) == 2 and shape[1] == 2 and shape[0] >= 2


def curve_refuses(**given) -> None:
    """Refuse the two-input arguments given to a Recorder of one input (they would be silently ignored)."""
    for name in FIELD_ARGS:
        if given.get(name) is not None:
            raise RecorderError(f"{name}: only for two inputs (points X of shape [N, 2]); x here is a 1-D grid")


class Field:
    """The mesh and points of a Recorder of two inputs (see :class:`polyanim.Recorder` for the arguments)."""

    def __init__(self, X, labels, *, task=None, classes=None, rect=None, resolution=120, test=None,
                 class_names=None):
        self.data_x = _points(X, "X")
        if labels is None:
            raise RecorderError("labels: the training points' labels or values are needed (the second argument)")
        self.data_y = _labels(labels, "labels", len(self.data_x))
        self.task = decide_task(task, self.data_y)
        self.classes = _classes(classes, self.data_y) if self.task == "classify" else None
        self.test = None
        if test is not None:
            try:
                tx, ty = test
            except (TypeError, ValueError):
                raise RecorderError(f"test: expected a pair (X_test, labels_test), got {type(test).__name__}") from None
            tx = _points(tx, "test[0]")
            self.test = (tx, _labels(ty, "test[1]", len(tx)))
        for key, values in (("labels", self.data_y), ("test[1]", None if self.test is None else self.test[1])):
            if values is not None and self.classes is not None:
                _class_labels(values, self.classes, key)
        self.class_names = _names(class_names, self.classes)
        if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
                or not 2 <= resolution <= MAX_MESH:
            raise RecorderError(f"resolution: mesh points a side, a whole number from 2 to {MAX_MESH}, "
                                f"got {resolution!r}")
        lo1, hi1, lo2, hi2 = _rect(rect, self.data_x)
        self.x = np.linspace(lo1, hi1, int(resolution))
        self.x2 = np.linspace(lo2, hi2, int(resolution))
        self.mesh_shape = (len(self.x2), len(self.x))
        grid1, grid2 = np.meshgrid(self.x, self.x2)  # row-major like pred: row j is x2[j]
        self.mesh = np.stack([grid1.ravel(), grid2.ravel()], axis=1).astype(np.float32)
        self.y = np.full(self.mesh_shape, np.nan)
        spread = float(np.std(self.data_y))
        # the adaptive threshold's scale: probabilities move on [0, 1]; values by the labels' spread
        self.scale = 1.0 if self.task == "classify" else (spread if spread > 0 else 1.0)

    def check_size(self, n_snapshots: int) -> None:
        """Refuse a schedule whose History would exceed the limit (docs/limits.md), before training."""
        problem = field_problem(len(self.x), len(self.x2), self.classes, n_snapshots)
        if problem:
            raise RecorderError(f"resolution, every, frames: {problem}")

    def prediction(self, value) -> np.ndarray:
        """``value`` on the mesh as the History stores it: [G2, G1], or [G2, G1, C] for C >= 3 classes."""
        array = _real(value, "pred", np.float32)
        g2, g1 = self.mesh_shape
        channels = self.classes if self.task == "classify" else 1
        if array.ndim in (1, 2) and array.shape[0] == g2 * g1:
            array = array.reshape((g2, g1) + array.shape[1:])
        widths = {1, 2} if channels == 2 else {channels}
        if array.shape[:2] != (g2, g1) or array.ndim > 3 or (array.ndim == 3 and array.shape[2] not in widths):
            raise RecorderError(f"pred: expected the prediction on rec.mesh, shape [{g2 * g1}] or [{g2}, {g1}]"
                                + (f" (or with a last axis of {channels} classes)" if channels > 1 else "")
                                + f", got shape {tuple(array.shape)}")
        if self.task == "regress":
            return array.reshape(g2, g1)
        if not ((array >= 0) & (array <= 1)).all():  # NaN fails too
            low, high = np.fmin.reduce(array, axis=None), np.fmax.reduce(array, axis=None)  # NaN-blind
            nan = ", and NaN" if np.isnan(array).any() else ""
            raise RecorderError(f"pred: probabilities must lie in [0, 1], got values from {low:.4g} to {high:.4g}"
                                f"{nan}; apply {'sigmoid' if channels == 2 else 'softmax'} to the model's outputs")
        if array.ndim == 3 and array.shape[2] > 1:
            sums = array.sum(axis=2, dtype=np.float64)
            if not (np.abs(sums - 1) <= SUM_TOLERANCE).all():
                raise RecorderError(f"pred: class probabilities must sum to 1 over the last axis, got sums from "
                                    f"{sums.min():.4g} to {sums.max():.4g}; apply softmax to the model's outputs")
            if channels == 2:
                array = array[:, :, 1]  # two classes: P(class 1) is all the History keeps
        return np.ascontiguousarray(array.reshape((g2, g1) + ((channels,) if channels > 2 else ())))

    def meta(self) -> dict:
        """The History meta entries of this field: kind, task, classes and class names."""
        out = {"kind": "field", "task": self.task}
        if self.classes is not None:
            out["classes"] = self.classes
        if self.class_names is not None:
            out["class_names"] = self.class_names
        return out

    def arrays(self) -> dict:
        """The History arrays every snapshot shares: mesh, target and points."""
        out = dict(x=self.x, x2=self.x2, y=self.y, data_x=self.data_x, data_y=self.data_y)
        if self.test is not None:
            out.update(test_x=self.test[0], test_y=self.test[1])
        return out


def accuracy(value, name: str) -> float | None:
    """An accuracy given to ``add`` (a number or 0-d tensor) as a float in [0, 1], or None."""
    if value is None:
        return None
    out = _scalar(value, name)
    if not 0 <= out <= 1:
        raise RecorderError(f"{name}: expected a fraction from 0 to 1, got {out:g}"
                            + (" (a percentage? divide by 100)" if 1 < out <= 100 else ""))
    return out


def field_history(field: Field, History, snaps, meta: dict):
    """The History of a field Recorder's snapshots (``History``: the class, imported by the caller)."""
    per = {}
    for key in ("lr", "acc", "test_acc"):
        values = [getattr(s, key) for s in snaps]
        if any(v is not None for v in values) and None in values and key != "lr":
            raise RecorderError(f"{key}: given at some recorded steps but not at others")
        per[key] = values if None not in values else None
    return History(steps=[s.step for s in snaps], loss=[s.loss for s in snaps], pred=np.stack([s.pred for s in snaps]),
                   params=np.array([s.params for s in snaps]) if meta["param_names"] else None,
                   meta=meta, **per, **field.arrays())


def _points(value, name: str) -> np.ndarray:
    array = _real(value, name)
    if array.ndim != 2 or array.shape[1] != 2 or not len(array):
        raise RecorderError(f"{name}: expected points of shape [N, 2], got shape {array.shape}")
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise RecorderError(f"{name}: NaN or infinity in row {int(np.argmax(bad))} ({bad.sum()} rows in all)")
    return array


def _labels(value, name: str, n: int) -> np.ndarray:
    array = _real(value, name)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.shape != (n,):
        raise RecorderError(f"{name}: expected one label or value per point ({n}), got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        raise RecorderError(f"{name}: NaN or infinity at index {int(np.argmax(bad))} ({bad.sum()} in all)")
    return array


def decide_task(task, labels: np.ndarray) -> str:
    """``task`` if given, else the rule the Recorder and ``data.file`` share: whole numbers of at most
    MAX_CLASSES distinct values classify, anything else is a surface."""
    if task is not None:
        if task not in TASKS:
            raise RecorderError(f"task: expected one of {', '.join(TASKS)}, got {task!r}")
        return task
    whole = (labels == np.round(labels)).all()
    return "classify" if whole and len(np.unique(labels)) <= MAX_CLASSES else "regress"


def _classes(classes, labels: np.ndarray) -> int:
    whole = (labels == np.round(labels)).all()
    if not whole:
        raise RecorderError("labels: a classifier's labels must be whole numbers 0, 1, ... (task='regress' "
                            "fits values)")
    if classes is None:
        classes = int(labels.max()) + 1
        if classes > MAX_CLASSES:
            raise RecorderError(f"labels: {classes} classes (labels up to {classes - 1}); at most {MAX_CLASSES}")
    elif isinstance(classes, bool) or not isinstance(classes, (int, np.integer)):
        raise RecorderError(f"classes: expected a whole number from 2 to {MAX_CLASSES}, got {classes!r}")
    if not 2 <= classes <= MAX_CLASSES:
        raise RecorderError(f"classes: a classifier needs 2 to {MAX_CLASSES} classes, got {classes}")
    return int(classes)


def _class_labels(labels: np.ndarray, classes: int, name: str) -> None:
    if not (labels == np.round(labels)).all() or labels.min() < 0 or labels.max() >= classes:
        raise RecorderError(f"{name}: expected whole numbers from 0 to {classes - 1} ({classes} classes), got "
                            f"values from {labels.min():g} to {labels.max():g}")


def _names(names, classes: int | None):
    if names is None:
        return None
    names = [str(n) for n in names]
    if classes is None or len(names) != classes:
        raise RecorderError(f"class_names: expected one name per class ({classes}), got {len(names)}")
    return names


def _rect(rect, X: np.ndarray) -> tuple[float, ...]:
    if rect is None:
        rect = rectangle(X)
        if not (rect[0] < rect[1] and rect[2] < rect[3]):
            raise RecorderError(f"X: all points are at {tuple(X[0])}: they span no rectangle; give rect=")
        return rect
    try:
        values = tuple(float(_scalar(v, "rect")) for v in rect)
    except TypeError:
        raise RecorderError(f"rect: expected (x1_lo, x1_hi, x2_lo, x2_hi), got {rect!r}") from None
    if len(values) != 4 or not np.isfinite(values).all() or not (values[0] < values[1] and values[2] < values[3]):
        raise RecorderError(f"rect: expected finite (x1_lo, x1_hi, x2_lo, x2_hi) with lo < hi, got {rect!r}")
    return values
