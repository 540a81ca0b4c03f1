"""Two-input classification data sets made in numpy from a seed: nothing is downloaded.

Each maker takes the number of points, the noise and a numpy ``Generator``
and returns ``(X, labels)``: ``X`` of shape ``[n, 2]`` (float64) and the class
of each point (int64, ``0 .. k-1``). The shapes follow the ones people know
from scikit-learn and TensorFlow Playground, so a post's picture looks like
what its readers have seen, but they are written here from their geometry
(scikit-learn is not a dependency). Classes are as balanced as ``n`` allows.
"""

from __future__ import annotations

import numpy as np

from .errors import InputError

MAX_CLASSES = 10  # a colour per class that stays distinguishable (style.CLASS_COLORS)
DEFAULT_TEST = 0.2  # data.test null: the fraction of points held out


def _counts(n: int, k: int) -> list[int]:
    """``n`` points split into ``k`` classes as evenly as possible (the first classes get the remainder)."""
    return [n // k + (c < n % k) for c in range(k)]


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved half circles (scikit-learn's ``make_moons`` geometry)."""
    a, b = _counts(n, 2)
    t0, t1 = np.linspace(0, np.pi, a), np.linspace(0, np.pi, b)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1), np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)], 1)])
    return _finish(X, [a, b], noise, rng)


def circles(n: int, noise: float, rng: np.random.Generator, factor: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """A ring around a smaller ring (``factor``: the inner radius over the outer one)."""
    a, b = _counts(n, 2)
    t0 = np.linspace(0, 2 * np.pi, a, endpoint=False)
    t1 = np.linspace(0, 2 * np.pi, b, endpoint=False)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)], 1), factor * np.stack([np.cos(t1), np.sin(t1)], 1)])
    return _finish(X, [a, b], noise, rng)


def spirals(n: int, noise: float, rng: np.random.Generator, arms: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``arms`` spirals wound around the origin, one class each: a hard problem that needs depth.

    The arms lie about 1 / (1.75 * arms) apart, so the noise is scaled by a quarter: ``noise: 0.1``
    blurs an arm as it blurs a moon, instead of erasing the gaps between arms.
    """
    parts = []
    for c, m in enumerate(_counts(n, arms)):
        r = np.linspace(0.08, 1.0, m)
        t = 1.75 * 2 * np.pi * r + 2 * np.pi * c / arms  # 1.75 turns
        parts.append(np.stack([r * np.cos(t), r * np.sin(t)], 1))
    return _finish(np.concatenate(parts), _counts(n, arms), noise / 4, rng)


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points in the four quadrants, class 1 where the signs differ: no straight line separates them."""
    X = rng.uniform(-1, 1, size=(n, 2))
    X += np.sign(X) * 0.1  # a margin around the axes, so the classes are separable without noise
    labels = (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(np.int64)
    return X + noise * rng.standard_normal(X.shape), labels


def blobs(n: int, noise: float, rng: np.random.Generator, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``classes`` Gaussian blobs on a circle; ``noise`` is their standard deviation (at least 0.05)."""
    centers = [(np.cos(2 * np.pi * c / classes), np.sin(2 * np.pi * c / classes)) for c in range(classes)]
    counts = _counts(n, classes)
    X = np.concatenate([np.repeat([center], m, axis=0) for center, m in zip(centers, counts)])
    return _finish(X, counts, max(noise, 0.05), rng)


def _finish(X: np.ndarray, counts: list[int], noise: float, rng: np.random.Generator):
    labels = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return X + noise * rng.standard_normal(X.shape), labels


MAKERS = {"moons": moons, "circles": circles, "spirals": spirals, "xor": xor, "blobs": blobs}


def make(name: str, n: int, noise: float, seed: int, classes: int | None = None):
    """``(X, labels)`` of data set ``name`` with ``n`` points, seeded; ``classes`` sets the arms of
    ``spirals`` and the blobs of ``blobs`` (2 to :data:`MAX_CLASSES`; the others have two classes)."""
    if name not in MAKERS:
        raise InputError(f"data.dataset: unknown data set {name!r}; allowed: {', '.join(MAKERS)}")
    rng = np.random.default_rng(seed)
    if classes is not None and name in ("spirals", "blobs"):
        if not 2 <= classes <= MAX_CLASSES:
            raise InputError(f"data.classes: {classes} classes; allowed: 2 to {MAX_CLASSES}")
        key = "arms" if name == "spirals" else "classes"
        return MAKERS[name](n, noise, rng, **{key: classes})
    return MAKERS[name](n, noise, rng)


def held_out(test: float | None, n: int) -> int:
    """How many of ``n`` points ``data.test`` holds out (None: :data:`DEFAULT_TEST`)."""
    return int(round((DEFAULT_TEST if test is None else test) * n))


def split(X: np.ndarray, labels: np.ndarray, test: float | None, seed: int):
    """``(X_train, y_train, X_test, y_test)``: a seeded shuffle, ``test`` of the points held out (0 to < 1; None:
    :data:`DEFAULT_TEST`)."""
    order = np.random.default_rng(seed + 1).permutation(len(X))
    held = held_out(test, len(X))
    test_idx, train_idx = np.sort(order[:held]), np.sort(order[held:])
    return X[train_idx], labels[train_idx], X[test_idx], labels[test_idx]


def rectangle(X: np.ndarray, margin: float = 0.15) -> tuple[float, float, float, float]:
    """``(x1_lo, x1_hi, x2_lo, x2_hi)``: the points' bounding box widened by ``margin`` of its larger side."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = margin * float(max(hi - lo))
    return float(lo[0] - pad), float(hi[0] + pad), float(lo[1] - pad), float(hi[1] + pad)
