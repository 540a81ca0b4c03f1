"""Training a model of two inputs from a config (``data.dataset``): a classifier or a surface, into a field History.

The data are made in numpy from the seed (:mod:`polyanim.datasets`, or
points uniform on ``data.domain`` squared for a ``surface``), split into
training and test points (``data.test``, 0.2 by default), and recorded on a
``data.mesh`` x ``data.mesh`` mesh over the points' rectangle by the same
:class:`~polyanim.recording.Recorder` a user's own loop uses. Classifiers learn
with binary (two classes: one logit) or multi-class cross-entropy and record
the training and test accuracy; surfaces learn with ``train.loss`` (MSE).
"""

from __future__ import annotations

import math
import platform
import time
from contextlib import contextmanager

import numpy as np
import torch

from . import datasets, targets
from .version import __version__
from .optimizers import make_optimizer, make_scheduler
from .recording import for_train, loss_warnings
from .registry.models import MODELS
from .registry.optimizers import OPTIMIZERS

class TrainingError(RuntimeError):
    """Training produced nothing to draw (e.g. the very first loss is not finite). Both trainers raise it."""


@contextmanager
def torch_threads(n: int | None):
    """Run with at most ``n`` intra-op threads (``None``: leave torch's setting), restoring it afterwards."""
    old = torch.get_num_threads()
    if n is not None and n < old:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != old:
            torch.set_num_threads(old)


def run_meta(config, warnings: list, param_names: list, started: float) -> dict:
    """A trained History's ``meta`` beyond the recorder's own: config, seed, warnings, names, time, versions."""
    return {
        "config": config.to_dict(),
        "seed": config.seed,
        "warnings": warnings,
        "param_names": param_names,
        "train_seconds": round(time.perf_counter() - started, 3),
        "versions": {"polyanim": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }


DEFAULT_SAMPLES = 400  # data.samples null: points of a data set, before the test split


def field_data(d, seed: int):
    """``(X_train, y_train, X_test, y_test, rect)`` of a two-input ``data`` section (a data set or file), seeded."""
    n = d.samples if d.samples is not None else DEFAULT_SAMPLES
    if d.columns is not None:  # the user's own points: the rectangle around them, as for a data set
        points = d.field_points()
        X, y, rect = points.X, points.values, datasets.rectangle(points.X)
    elif d.dataset == "surface":
        rng = np.random.default_rng(seed)
        X = rng.uniform(d.domain[0], d.domain[1], size=(n, 2))
        y = targets.parse(d.target, ("x1", "x2"))(X[:, 0], X[:, 1]) + d.noise * rng.standard_normal(n)
        rect = (*d.domain, *d.domain)
    else:
        X, y = datasets.make(d.dataset, n, d.noise, seed, d.classes)
        rect = datasets.rectangle(X)
    return (*datasets.split(X, y.astype(np.float64), d.test, seed), rect)


def recorder(config):
    """The Recorder of ``config``'s field run: its points, mesh and schedule (the surface's target on the mesh)."""
    d = config.data
    X, y, X_test, y_test, rect = field_data(d, config.seed if config.seed is not None else 0)
    rec = for_train(config.train, X, y, task=d.field_task(), classes=d.classes_of_file(), rect=rect,
                    resolution=d.mesh, test=(X_test, y_test) if len(X_test) else None)
    if d.dataset == "surface":
        rec.field.y = targets.parse(d.target, ("x1", "x2"))(*np.meshgrid(rec.field.x, rec.field.x2)).astype(float)
    return rec


def field_drawing_inputs(config) -> dict:
    """:func:`polyanim.train.drawing_inputs` of a field config: what its History will share, from the same
    seeded recorder :func:`train_field` builds (so the live window draws the points the model learns)."""
    field = recorder(config).field
    a = field.arrays()
    return {"x": a["x"], "y": a["y"], "data_x": a["data_x"], "data_y": a["data_y"], "param_names": [],
            "field": {"x2": a["x2"], "test_x": a.get("test_x"), "test_y": a.get("test_y"), "meta": field.meta()}}


class _Task:
    """The model's outputs as a loss, probabilities on the mesh and an accuracy, for the field's task."""

    def __init__(self, field, train_loss: str):
        self.classes = field.classes
        self.outputs = 1 if self.classes in (None, 2) else self.classes
        if self.classes is None:
            self.loss = torch.nn.MSELoss(reduction="sum" if train_loss == "mse_sum" else "mean")
        else:
            self.loss = torch.nn.BCEWithLogitsLoss() if self.classes == 2 else torch.nn.CrossEntropyLoss()

    def target(self, labels: np.ndarray) -> torch.Tensor:
        if self.classes is None or self.classes == 2:
            return torch.tensor(labels, dtype=torch.float32)
        return torch.tensor(labels, dtype=torch.int64)

    def shown(self, out: torch.Tensor) -> torch.Tensor:
        """What the History keeps: P(class 1), each class's probability, or the value."""
        if self.classes is None:
            return out
        return torch.sigmoid(out) if self.classes == 2 else torch.softmax(out, dim=1)

    def accuracy(self, out: torch.Tensor, y: torch.Tensor) -> float | None:
        if self.classes is None:
            return None
        guess = (out > 0).float() if self.classes == 2 else out.argmax(dim=1)
        return (guess == y).float().mean().item()


def train_field(config, *, quiet: bool, out, err, on_snapshot=None):
    """Train ``config``'s two-input model (``data.dataset``) and return its field History (see module doc)."""
    started = time.perf_counter()
    run = _FieldRun(config, on_snapshot)
    with torch_threads(1):  # a few thousand parameters on a few hundred points: one thread is fastest
        run.loop(quiet, out)
    rec = run.rec
    if not rec.snapshots:
        raise TrainingError(f"training produced no finite snapshot ({rec.stopped['reason']} at step "
                            f"{rec.stopped['step']}); try a smaller train.lr")
    return _finish(config, rec, run.model, started, quiet, out, err)


class _FieldRun:
    """One field run's pieces: recorder, task, model, optimizer and tensors; :meth:`loop` trains it."""

    def __init__(self, config, on_snapshot):
        self.config, self.on_snapshot = config, on_snapshot
        self.rec = rec = recorder(config)
        field = rec.field
        self.task = _Task(field, config.train.loss)
        rect = (*field.x[[0, -1]], *field.x2[[0, -1]])
        self.model = MODELS[config.model.kind].field_class().from_field(config.model, rect, self.task.outputs)
        self.optimizer = make_optimizer(config.train, self.model.parameters())
        self.scheduler = make_scheduler(config.train, self.optimizer)
        self.X, self.y = torch.tensor(field.data_x, dtype=torch.float32), self.task.target(field.data_y)
        self.test = None if field.test is None else (torch.tensor(field.test[0], dtype=torch.float32),
                                                     self.task.target(field.test[1]))
        self.mesh = torch.from_numpy(field.mesh)

    def record(self, step, value, outputs, final=False) -> None:
        model, task = self.model, self.task
        with torch.no_grad():
            test_acc = None if self.test is None else task.accuracy(model(self.test[0]), self.test[1])
            kept = self.rec.add(step, loss=value, pred=lambda: task.shown(model(self.mesh)), final=final,
                                lr=float(self.optimizer.param_groups[0]["lr"]), acc=task.accuracy(outputs, self.y),
                                test_acc=test_acc)
        if kept and self.on_snapshot is not None:
            self.on_snapshot(self.rec.snapshots[-1])

    def closure(self):
        self.optimizer.zero_grad()
        value = self.task.loss(self.model(self.X), self.y)
        value.backward()
        return value

    def loop(self, quiet: bool, out) -> None:
        """The 1-D trainer's loop (forward, loss, record, log, step, schedule), then the final snapshot."""
        t_cfg, rec, optimizer = self.config.train, self.rec, self.optimizer
        for t in range(t_cfg.steps):
            outputs = self.model(self.X)
            loss = self.task.loss(outputs, self.y)
            value = loss.item()
            if not math.isfinite(value):
                rec.stop(t, f"loss became {value}")
                return
            if rec.wants(t):
                self.record(t, value, outputs)
            if t_cfg.log_every and t % t_cfg.log_every == 0 and not quiet:
                print(f"{t} {value}", file=out)
            if OPTIMIZERS[t_cfg.optimizer].closure:
                optimizer.step(self.closure)
            else:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            if self.scheduler is not None:
                self.scheduler.step()
        with torch.no_grad():
            outputs = self.model(self.X)
            value = self.task.loss(outputs, self.y).item()
        if math.isfinite(value):
            self.record(t_cfg.steps, value, outputs, final=True)
        else:
            rec.stop(t_cfg.steps, f"loss became {value}")


def _finish(config, rec, model, started, quiet, out, err):
    snaps = rec.snapshots
    if rec.stopped:
        print(f"warning: {rec.stopped['reason']} at step {rec.stopped['step']}; training stopped there, keeping "
              f"{len(snaps)} snapshot(s) (try a smaller train.lr)", file=err)
    # no closed-form best loss here, so a flat end is no warning (as for a Recorder); a rising loss is
    warnings = [] if rec.stopped else loss_warnings([s.step for s in snaps], [s.loss for s in snaps], math.inf)
    for warning in warnings:
        print(f"warning: {warning['message']}", file=err)
    if not quiet and not rec.stopped:
        accuracy = f", train accuracy {snaps[-1].acc:.1%}" if snaps[-1].acc is not None else ""
        print(f"Result: {model.string()}, loss {snaps[-1].loss:.4g}{accuracy}", file=out)

    return rec.history(run_meta(config, warnings, [], started))
