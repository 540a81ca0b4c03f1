"""Training for a ``problem:`` config: each run an optimizer racing on a test function. numpy only.

Every step's parameter pair and loss come from :func:`polyanim.npoptim.run`
(no torch: the race of six optimizers over 5,000 steps takes a fraction of a
second); the frame budget (``train.frames``, else ``train.record_every``)
picks the snapshots the History keeps. A History of this kind has
``meta["kind"] == "paths"``, ``params`` ``[F, 2]`` (the path) and ``loss``;
its ``x``, ``y`` and ``pred`` are two-point placeholders, so the file format
and its readers are unchanged. Its ``path`` keeps every step's pair (``path_steps``), so the panel draws
the path the optimizer took, not chords between snapshots; a race longer than
:data:`~polyanim.history_io.MAX_PATH` steps keeps that many, every snapshot's step among them.
"""

from __future__ import annotations

import platform
import time

import numpy as np

from . import __version__, npoptim, surfaces
from .history import History, RunSet
from .history_io import MAX_PATH
from .recording import Recorder
from .registry.optimizers import LBFGS_MAX_ITER

KIND = "paths"
PLACEHOLDER = np.array([0.0, 1.0])  # the grid a paths History does not have: two points keep the format


def optimizer_of(train) -> tuple[str, dict]:
    """The :mod:`polyanim.npoptim` name and options of a ``train`` section: the update the curve trainer's
    ``torch.optim`` optimizer of that name makes (SGD with momentum is ``momentum`` or ``nesterov``; L-BFGS
    takes :data:`~polyanim.registry.optimizers.LBFGS_MAX_ITER` iterations and a strong Wolfe search per step)."""
    name, hyper = train.optimizer, {}
    if name == "sgd" and train.momentum > 0:
        name = "nesterov" if train.nesterov else "momentum"
        hyper["momentum"] = train.momentum
    elif name == "rmsprop" and train.momentum > 0:
        hyper["momentum"] = train.momentum
    if name == "lbfgs":
        hyper.update(max_iter=LBFGS_MAX_ITER, line_search_fn="strong_wolfe")
    elif train.weight_decay is not None:  # null: npoptim's default, torch's (AdamW's 0.01, the others' 0)
        hyper["weight_decay"] = train.weight_decay
    return name, hyper


def kept(steps: int, train) -> np.ndarray:
    """The steps (0 to ``steps``, the last always) the frame budget keeps, spaced by ``train.record`` as the
    Recorder spaces them (``log``: dense early, where L-BFGS and a steep first drop move most; ``adaptive``
    follows a prediction curve, which a race has not: it is spaced as ``every``)."""
    if steps < 1:
        return np.array([0])
    schedule = "log" if train.record == "log" else "every"
    plan = Recorder(PLACEHOLDER, schedule=schedule, every=train.record_every, steps=steps, frames=train.frames).plan()
    return np.array(plan, dtype=np.int64)


def train_one(config) -> History:
    """One run of a ``problem:`` config: its optimizer from the problem's start, the kept snapshots as a History."""
    started = time.perf_counter()
    f = config.problem.surface()
    steps = config.problem.steps or config.train.steps
    name, hyper = optimizer_of(config.train)
    params, loss = npoptim.run(f, name, config.train.lr, None, steps, **hyper)
    diverged = len(loss) - 1 < steps
    outside = surfaces.outside(params, f.domain)
    left = bool(outside.any())
    if left:  # beyond the edge the race is over: the panel marks where it left, the loss stays readable
        params, loss = params[: int(np.argmax(outside)) + 1], loss[: int(np.argmax(outside)) + 1]
    reached = len(loss) - 1
    keep = kept(reached, config.train)
    resolved = config.to_dict()
    resolved["train"]["steps"] = steps  # the panels over steps span the planned race
    meta = {"config": resolved, "seed": config.seed, "kind": KIND, "param_names": ["x", "y"],
            "warnings": [], "train_seconds": round(time.perf_counter() - started, 4),
            "versions": {"polyanim": __version__, "numpy": np.__version__, "python": platform.python_version()}}
    if left or diverged:
        meta["stopped"] = {"step": int(reached), "reason": "left the domain" if left else
                           "diverged (the parameters or the loss left the finite range)"}
    n, drawn = len(keep), path_steps(reached, keep)
    return History(steps=keep, loss=loss[keep], x=PLACEHOLDER, y=np.zeros(2), pred=np.zeros((n, 2), np.float32),
                   params=params[keep], meta=meta, lr=np.full(n, config.train.lr),
                   path=None if drawn is None else params[drawn], path_steps=drawn)


def path_steps(reached: int, keep: np.ndarray) -> np.ndarray | None:
    """The steps whose parameter pair the History keeps as its ``path``: all of them up to
    :data:`MAX_PATH`, else that many evenly spaced plus every kept snapshot's (the panel finds each
    snapshot on the path); None when the snapshots alone are that dense (the path would add nothing)."""
    if len(keep) >= MAX_PATH - 1:
        return None
    if reached < MAX_PATH:
        return np.arange(reached + 1)
    even = np.round(np.linspace(0, reached, MAX_PATH - len(keep))).astype(np.int64)
    return np.union1d(even, keep)


def train(config, *, quiet: bool = True, out=None):
    """Race every run of a ``problem:`` config: a History for one run, a RunSet for ``runs:``."""
    if not config.runs:
        history = train_one(config)
        _report([("run", history)], quiet, out)
        return history
    started = time.perf_counter()
    runs = [(run.label, train_one(run.config)) for run in config.runs]
    _report(runs, quiet, out)
    meta = {"config": config.to_dict(), "seed": config.seed, "kind": KIND, "workers": 1,
            "train_seconds": round(time.perf_counter() - started, 4), "versions": runs[0][1].meta["versions"]}
    return RunSet(runs, meta=meta)


def _report(runs, quiet: bool, out) -> None:
    if quiet:
        return
    import sys
    out = out or sys.stdout
    for label, h in runs:
        x, y = h.params[-1]
        stop = h.meta.get("stopped")
        where = f"{stop['reason']} at step {stop['step']}" if stop else f"step {h.steps[-1]}"
        print(f"[{label}] {where}: loss {h.loss[-1]:.4g} at ({x:.4g}, {y:.4g})", file=out)
