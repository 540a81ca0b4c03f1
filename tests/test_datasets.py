"""The two-input data sets: their geometry, balance, seeding and refusals."""

import numpy as np
import pytest

from polyanim import datasets
from polyanim.errors import InputError


@pytest.mark.parametrize("name", sorted(datasets.MAKERS))
def test_shapes_balance_and_seed(name):
    X, labels = datasets.make(name, 101, 0.1, seed=3)
    assert X.shape == (101, 2) and X.dtype == np.float64 and labels.dtype == np.int64
    counts = np.bincount(labels)
    assert counts.max() - counts.min() <= 1 or name == "xor"  # xor's classes follow the random quadrants
    again, same = datasets.make(name, 101, 0.1, seed=3)
    assert np.array_equal(X, again) and np.array_equal(labels, same)
    assert not np.array_equal(X, datasets.make(name, 101, 0.1, seed=4)[0])


def test_geometry_without_noise():
    X, labels = datasets.make("circles", 200, 0.0, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(r[labels == 0], 1.0) and np.allclose(r[labels == 1], 0.5)
    X, labels = datasets.make("xor", 400, 0.0, seed=0)
    assert ((np.sign(X[:, 0]) != np.sign(X[:, 1])) == (labels == 1)).all()
    X, labels = datasets.make("spirals", 300, 0.0, seed=0, classes=3)
    assert set(labels.tolist()) == {0, 1, 2}
    X, labels = datasets.make("moons", 100, 0.0, seed=0)
    assert np.allclose(np.hypot(X[labels == 0, 0], X[labels == 0, 1]), 1.0)


def test_split_holds_out_the_asked_share_without_overlap():
    X, labels = datasets.make("moons", 200, 0.1, seed=0)
    a, la, b, lb = datasets.split(X, labels, 0.2, seed=0)
    assert len(b) == 40 and len(a) == 160
    rows = {tuple(r) for r in a}
    assert not any(tuple(r) in rows for r in b)


def test_refusals_name_the_key():
    with pytest.raises(InputError, match="data.dataset.*moons"):
        datasets.make("swirl", 10, 0.1, seed=0)
    with pytest.raises(InputError, match="data.classes.*2 to 10"):
        datasets.make("blobs", 10, 0.1, seed=0, classes=11)
