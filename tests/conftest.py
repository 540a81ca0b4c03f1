import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]

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


def make_runset(labels=("SGD", "Adam", "lr=0.1"), frames=(6, 11, 3), stopped_last=True, points=200):
    """A RunSet of small runs on the same data: different recording schedules, the last one diverged."""
    from polyanim.history import RunSet

    runs = []
    for k, (label, n) in enumerate(zip(labels, frames)):
        h = make_history(frames=n, points=points, params=False)
        h.steps = (np.arange(n) * (50 // max(n - 1, 1))).astype(np.int64)  # all end near step 50
        h.pred = (h.pred * (1 + 0.15 * k)).astype(np.float32)
        h.loss = h.loss * (1 + k)
        if stopped_last and k == len(labels) - 1:
            h.meta["stopped"] = {"step": int(h.steps[-1]) + 3, "reason": "loss became inf"}
        runs.append((label, h))
    cfg = config.from_dict({"data": {"points": points}, "train": {"steps": 50, "record_every": 10},
                            "runs": [{"label": label} for label in labels]}).to_dict()
    return RunSet(runs, meta={"config": cfg})


def run_python(code: str, cwd) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter that imports this checkout's polyanim."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


SHIPPED = ("sin", "seed", "sgd_vs_adam", "degree_sweep", "mlp_sin", "lr_sweep", "measurements", "rosenbrock",
           "beale", "saddle", "sin_valley", "moons", "spirals", "xor_linear_vs_mlp", "widths", "surface", "petals")


class _Shipped(dict):
    """name -> (history, stderr), each config trained on first use and kept for the session.

    Lazy because the two-input configs cost seconds each (torch, a mesh per snapshot): a run of a
    few pictures (``-k moons``) trains only theirs; the whole suite still trains each config once.
    """

    def __missing__(self, name):
        import io

        from polyanim.multirun import train_runs
        from polyanim.train import train

        cfg = config.load(ROOT / "configs" / f"{name}.yaml")
        err = io.StringIO()
        if cfg.problem.given:  # optimizers on a test function: numpy, a fraction of a second
            from polyanim.train_paths import train as race
            h = race(cfg, quiet=True)
        elif cfg.multi:
            h = train_runs(cfg, quiet=True, out=io.StringIO(), err=err, workers=1)
        else:
            h = train(cfg, quiet=True, out=io.StringIO(), err=err)
        self[name] = (h, err.getvalue())
        return self[name]


@pytest.fixture(scope="session")
def shipped():
    """Every shipped config trained at full size, as the README's pictures are: name -> (history, stderr),
    on first use (:class:`_Shipped`); shared by the warning test and the README picture test."""
    return _Shipped()
