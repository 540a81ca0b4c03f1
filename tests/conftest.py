import os

os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pytest

from polyanim import config
from polyanim.history import History


def make_history(frames=6, points=200, params=True, stopped=None, name="t"):
    """A small History of a cubic creeping toward sin(x), without torch."""
    x = np.linspace(-np.pi, np.pi, points)
    y = np.sin(x)
    w = np.linspace(0, 1, frames)[:, None]
    start = 0.3 - 0.5 * x + 0.2 * x**2 + 0.1 * x**3
    fit = x - x**3 / 6 * 0.6
    pred = (1 - w) * start + w * fit
    loss = ((pred - y) ** 2).sum(axis=1)
    cfg = config.from_dict({"name": name, "data": {"points": points},
                            "train": {"steps": 10 * max(frames - 1, 1), "record_every": 10}}).to_dict()
    coefs = np.stack([(1 - w[:, 0]) * c0 + w[:, 0] * c1 for c0, c1 in
                      zip([0.3, -0.5, 0.2, 0.1], [0.0, 1.0, 0.0, -0.1])], axis=1)
    return History(steps=np.arange(frames) * 10, loss=loss, x=x, y=y, pred=pred,
                   params=coefs if params else None, meta={"config": cfg, "seed": 0, "stopped": stopped})


@pytest.fixture
def history():
    return make_history()


@pytest.fixture
def small_render():
    """Render options for fast tests: a small frame, a short hold."""
    return config.from_dict({"render": {"size": [160, 120], "fps": 10, "hold": 0.2}}).render
