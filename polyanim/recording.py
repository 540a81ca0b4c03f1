"""When to take snapshots, and what the recorded losses say: no torch, so it is easy to test.

``train.record`` picks the schedule:

- ``every``: steps ``0, k, 2k, …`` with ``k = train.record_every`` (or
  ``ceil(steps / train.frames)`` when a frame budget is given);
- ``log``: log-spaced steps, dense early (``train.frames`` of them, or as many
  as ``every`` would take);
- ``adaptive``: a snapshot whenever the prediction curve has moved by more than
  ``train.record_threshold`` (RMS change since the last snapshot, relative to
  the target's standard deviation), at most ``train.max_frames`` (or
  ``train.frames``) snapshots. When the cap is reached, every other snapshot
  is dropped and the threshold doubled, so the whole run stays covered.

Every schedule ends with a snapshot of the trained model after the last step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .loss_notes import RISE_SNAPSHOTS, STALL_REL, STALL_SNAPSHOTS, loss_warnings  # noqa: F401  (public here)
from .recording_checks import RecorderError, _grid, _pair, _scalar, _step, _target, _vector, _whole
from .registry.models import MAX_PARAMS


def log_steps(total: int, n: int) -> list[int]:
    """``n`` log-spaced whole steps from 0 to ``total`` (both included): strictly increasing, dense early.

    Asks for more than ``total + 1`` steps give every step. Each next step is
    the geometric midpoint toward ``total`` for the points still to place, and
    at least one more than the previous one, so the spacing never shrinks.
    """
    n = max(2, min(int(n), total + 1))
    if total <= 0:
        return [0]
    out = [0]
    cur = 1
    for remaining in range(n - 1, 0, -1):  # points still to place, ``cur`` included
        if remaining == 1:
            out.append(total)
            break
        out.append(cur)
        ratio = (total / cur) ** (1 / (remaining - 1))
        cur = max(cur + 1, int(round(cur * ratio)))
    return out


@dataclass
class Snapshot:
    step: int
    loss: float
    pred: np.ndarray          # float32 [P], on the drawing grid
    params: list | None
    lr: float | None
    acc: float | None = None       # two inputs: train and test accuracy, when given
    test_acc: float | None = None


SCHEDULES = ("every", "log", "adaptive")
DEFAULT_CAP = 200  # adaptive: at most this many snapshots unless ``frames`` says otherwise


class Recorder:
    """Records any training loop into a :class:`~polyanim.history.History`, numpy or torch alike.

    ``x`` is the grid the prediction curve is drawn on, in any order: it is
    sorted once (stably; repeated values are kept), and ``target`` and every
    ``pred`` are put in the same order as they come, so curves are drawn over
    the sorted grid (:attr:`x`). Values all equal are refused. ``target`` is
    the curve to fit on that grid (an array in the order of ``x``, a function
    of ``x`` or an expression such as ``"sin(x)"``; ``None``: no target curve).
    Call :meth:`add` at every step of your loop; it keeps the steps the
    schedule picks and returns at once for the others, and :meth:`wants`
    tells the loop in advance so it can skip computing the prediction.
    ``schedule`` is ``"every"`` (every ``every`` steps, or
    ``ceil(steps / frames)`` with a frame budget), ``"log"`` (``frames``
    log-spaced steps up to ``steps``) or ``"adaptive"`` (whenever the
    prediction moved by ``threshold`` of the target's spread, at most
    ``frames`` snapshots). The animation ends on the last step offered to
    :meth:`add`, kept by the schedule or not (see :meth:`history`).
    ``samples=(xs, ys)`` are the training points, two 1-D arrays of the same
    length, drawn as dots (not the curve: any order, any x). ``label`` names
    the target in the legend; ``param_names`` names the values given as
    ``params``. Arrays may be numpy arrays, lists or torch tensors on any
    device, with or without grad: tensors are read with ``.detach().cpu()``,
    so torch is never imported here. :meth:`history` returns the result. Bad
    arguments (complex numbers included) raise :class:`~polyanim.InputError`.
    ``landscape``: your loss over two parameters recorded as ``params``, for
    the paths panel (:mod:`polyanim.user_landscape`).

    Two inputs: given points ``X`` of shape ``[N, 2]`` first and their labels
    (or values) second, it records a classifier's or a surface's "field"
    History. :attr:`mesh` (float32 ``[G2*G1, 2]``, ``resolution`` a side, over
    ``rect`` = ``(x1_lo, x1_hi, x2_lo, x2_hi)``, by default the points' box
    widened by 15%) is where ``pred`` is evaluated: each class's probability
    (``[G2*G1, C]``; two classes may give P(class 1) alone) or the value.
    ``task`` ("classify" or "regress") and ``classes`` default from the
    labels; ``test=(X_test, labels_test)`` are held-out points; ``add`` also
    takes ``acc`` and ``test_acc``.
    """

    def __init__(self, x, target=None, *, every: int = 10, schedule: str = "every", steps: int | None = None,
                 frames: int | None = None, threshold: float = 0.01, samples=None, label: str | None = None,
                 param_names=None, name: str = "run", task=None, classes=None, rect=None, resolution: int = 120,
                 test=None, class_names=None, landscape=None):
        from . import recording_field

        self.field = None
        if recording_field.is_points(x):
            if samples is not None or label is not None:
                raise RecorderError(f"{'samples' if samples is not None else 'label'}: for a 1-D grid x; two "
                                    "inputs take the points X and their labels as the first two arguments")
            self.field = recording_field.Field(x, target, task=task, classes=classes, rect=rect,
                                               resolution=resolution, test=test, class_names=class_names)
            self.x, self.order, self.y, self.scale = self.field.x, None, self.field.y, self.field.scale
            self.label, self.name, self.samples = None, str(name), None
        else:
            recording_field.curve_refuses(task=task, classes=classes, rect=rect, test=test, class_names=class_names)
            self._curve(x, target, samples, label, name)
        if landscape is not None and self.field is not None:
            raise RecorderError("landscape: for the paths of a 1-D grid x's model; two inputs draw their fields")
        self.landscape = landscape
        self.param_names = [str(n) for n in param_names] if param_names is not None else None
        self._plan(schedule, every, steps, frames, threshold)
        if self.field is not None:
            planned = self.plan()
            self.field.check_size(len(planned) if planned is not None else self.cap if self.adaptive else 1)
        self.snapshots: list[Snapshot] = []
        self.stopped: dict | None = None
        self.closed = False
        # the last step offered and not kept: (step, loss, pred, params, lr, read, acc, test_acc)
        self.latest: tuple | None = None

    mesh = property(lambda self: self._field().mesh, doc="Two inputs: the points to predict on, [G2*G1, 2].")
    mesh_shape = property(lambda self: self._field().mesh_shape, doc="Two inputs: the mesh's (G2, G1).")

    def _field(self):
        if self.field is None:
            raise RecorderError("mesh: only a Recorder of two inputs (points X of shape [N, 2]) has a mesh")
        return self.field

    def _curve(self, x, target, samples, label, name) -> None:
        self.x, self.order = _grid(x)  # order: None when x came sorted (the trainer's grid), the usual case
        self.y, label = _target(target, self.x, label, self.order)
        if label is not None:
            from .config import mathtext_problem  # the legend draws it: matplotlib's $…$ rule, checked now

            problem = mathtext_problem(str(label))
            if problem:
                raise RecorderError(f"label: {problem}")
        self.label, self.name = label, str(name)
        self.samples = None
        if samples is not None:
            xs, ys = (_vector(v, f"samples[{k}]", np.float64) for k, v in enumerate(_pair(samples)))
            if xs.shape != ys.shape or not xs.size:
                raise RecorderError(f"samples: expected (xs, ys) of the same non-zero length, got {xs.shape} "
                                    f"and {ys.shape}")
            self.samples = (xs, ys)
        # the adaptive threshold's scale: the target's spread, or the points' when they are the target
        shown = self.y if np.isfinite(self.y).all() or self.samples is None else self.samples[1]
        spread = float(np.std(shown)) if np.isfinite(shown).all() else 0.0
        self.scale = spread if spread > 0 else 1.0

    def _plan(self, schedule, every, steps, frames, threshold) -> None:
        if schedule not in SCHEDULES:
            raise RecorderError(f"schedule: must be one of {', '.join(SCHEDULES)}, got {schedule!r}")
        every = _whole(every, "every", 1)
        steps = None if steps is None else _whole(steps, "steps", 1)
        frames = None if frames is None else _whole(frames, "frames", 2)
        if not (isinstance(threshold, (int, float)) and threshold > 0):
            raise RecorderError(f"threshold: must be a number > 0, got {threshold!r}")
        if steps is None and (schedule == "log" or (schedule == "every" and frames is not None)):
            what = "the log schedule" if schedule == "log" else "a frame budget (frames=)"
            raise RecorderError(f"steps: {what} needs the number of steps, e.g. steps=2000")
        self.schedule, self.steps, self.threshold = schedule, steps, float(threshold)
        self.adaptive = schedule == "adaptive"
        self.cap = frames if frames is not None else DEFAULT_CAP
        self.every = max(1, math.ceil(steps / frames)) if frames is not None and schedule == "every" else every
        self.planned: set[int] | None = None  # log's steps; every's are arithmetic (0, every, 2 every, ...)
        if schedule == "log":
            n = frames if frames is not None else len(range(0, steps, every)) + 1
            self.planned = set(log_steps(steps, n))

    def wants(self, step: int) -> bool:
        """Whether :meth:`add` would keep ``step`` (adaptive: whether it needs the prediction to decide)."""
        return self._wants(_step(step))

    def _wants(self, step: int) -> bool:
        if self.closed:
            return False
        if self.adaptive:
            return True
        if self.planned is not None:
            return step in self.planned
        if self.steps is not None:  # every ``every``-th step before the last, and the last one
            return step == self.steps or (0 <= step < self.steps and step % self.every == 0)
        return step % self.every == 0

    def plan(self) -> list[int] | None:
        """The steps the schedule keeps, in order; ``None`` when that is not known in advance.

        :meth:`history` may end on one step more: the last one offered to :meth:`add`.
        """
        if self.planned is not None:
            return sorted(self.planned)
        if self.adaptive or self.steps is None:
            return None
        return [*range(0, self.steps, self.every), self.steps]

    def add(self, step: int, *, loss, pred, params=None, lr=None, acc=None, test_acc=None,
            final: bool = False) -> bool:
        """Offer the state at ``step``; return whether it was kept.

        ``step`` is a whole number >= 0 (``3.0`` is one, ``2.5`` is not), larger
        than every step kept before. ``loss`` is a real number (or 0-d tensor);
        ``pred`` the prediction on the grid ``x``, or a function returning it,
        called only when the step is kept (as is ``params`` when it is a
        function). ``params`` are a mapping of names to values, or a sequence
        named by ``param_names``; ``lr`` the learning rate. ``final=True`` keeps
        the step whatever the schedule and closes the recorder: use it for the
        trained model after the last update (later calls are ignored). A step
        the schedule does not keep is remembered, unread, as the run's latest
        state, which :meth:`history` draws last. A loss that is not finite
        marks the run as stopped there (see :meth:`stop`). Two inputs: ``pred``
        is on :attr:`mesh`; ``acc``/``test_acc`` are fractions (0 to 1).
        """
        if self.field is None and (acc is not None or test_acc is not None):
            raise RecorderError("acc, test_acc: only for two inputs (a classifier on points X of shape [N, 2])")
        step = _step(step)  # a bad step is refused even once closed: the loop has a bug either way
        if self.closed:
            return False
        if self.snapshots and step <= self.snapshots[-1].step:
            raise RecorderError(f"step: steps must increase, got {step} after {self.snapshots[-1].step}")
        if not (final or self._wants(step)):
            # references only: history() reads the last one
            self.latest = (step, loss, pred, params, lr, False, acc, test_acc)
            return False
        value = _scalar(loss, "loss")
        if not math.isfinite(value):
            self.stop(step, f"loss became {value}")
            return False
        grid = self._pred(pred)
        if self.adaptive and self.snapshots and not final and not self._moved_enough(grid):
            self.latest = (step, value, grid, params, lr, True, acc, test_acc)  # read: the adaptive rule needed it
            return False
        if self.field is not None:
            self.field.check_size(len(self.snapshots) + 1)
        self.snapshots.append(self._snapshot(step, value, grid, params, lr, acc, test_acc))
        self.latest = None
        self.closed = final
        return True

    def _pred(self, pred) -> np.ndarray:
        """``pred`` (or what it returns) as float32 on the grid, in the sorted grid's order (or on the mesh)."""
        if self.field is not None:
            return self.field.prediction(pred() if callable(pred) else pred)
        grid = _vector(pred() if callable(pred) else pred, "pred", np.float32, copy=self.order is None)
        if grid.shape != self.x.shape:
            raise RecorderError(f"pred: expected {self.x.size} values on the grid x, got shape {grid.shape}")
        return grid if self.order is None else grid[self.order]  # the indexing is the copy

    def _snapshot(self, step: int, value: float, grid: np.ndarray, params, lr, acc=None, test_acc=None) -> Snapshot:
        if self.field is not None:
            from .recording_field import accuracy

            acc, test_acc = accuracy(acc, "acc"), accuracy(test_acc, "test_acc")
        return Snapshot(step=step, loss=value, pred=grid, lr=None if lr is None else _scalar(lr, "lr"),
                        params=self._params(params() if callable(params) else params), acc=acc, test_acc=test_acc)

    def stop(self, step: int, reason: str) -> None:
        """Mark the run as stopped at ``step`` (diverged, cut short): later steps are ignored, the end fades."""
        step = _step(step)
        if self.snapshots and step < self.snapshots[-1].step:
            raise RecorderError(f"step: the run cannot stop at {step}, before its last kept step "
                                f"{self.snapshots[-1].step}")
        self.stopped = {"step": step, "reason": str(reason)}
        self.closed = True

    def _moved_enough(self, pred: np.ndarray) -> bool:
        """Adaptive: keep ``pred`` if it moved past the threshold; at the cap, thin the kept ones first."""
        if not self._change(pred) > self.threshold:  # NaN never counts as movement
            return False
        if len(self.snapshots) >= self.cap - 1:  # keep one place for the final snapshot
            if len(self.snapshots) > 1:
                self.snapshots = self.snapshots[::2]
                self.threshold *= 2
            if len(self.snapshots) >= self.cap - 1 or not self._change(pred) > self.threshold:
                return False
        return True

    def _change(self, pred: np.ndarray) -> float:
        """RMS difference between ``pred`` and the last snapshot's prediction, over the target's spread."""
        diff = pred.astype(np.float64) - self.snapshots[-1].pred
        return float(np.sqrt(np.mean(diff * diff))) / self.scale

    def _params(self, params) -> list | None:
        if params is None:
            return None
        if hasattr(params, "items"):
            names, values = [], []
            for name, value in params.items():
                flat = _vector(value, f"params[{name!r}]", np.float64).ravel()
                names += [str(name)] if flat.size == 1 else [f"{name}[{k}]" for k in range(flat.size)]
                values += flat.tolist()
        else:
            values = _vector(params, "params", np.float64).ravel().tolist()
            names = self.param_names or [f"c{k}" for k in range(len(values))]
        if len(values) > MAX_PARAMS or len(names) != len(values):
            raise RecorderError(f"params: expected at most {MAX_PARAMS} values, one per name in param_names, "
                                f"got {len(values)} values for {len(names)} names")
        if self.param_names is None:
            self.param_names = names
        elif names != self.param_names:
            raise RecorderError(f"params: names changed from {self.param_names} to {names}")
        return values

    def history(self, meta: dict | None = None):
        """The recorded :class:`~polyanim.history.History` (``meta`` entries replace the recorder's own).

        It ends on the last step offered to :meth:`add`: when the schedule did not
        keep that step, it is read now and drawn after the kept ones (unless the
        run was stopped before it, or closed by ``final=True``). Its ``pred`` and
        ``params``, when functions (or arrays you change in place), are read now,
        so they show your model as it is when you call ``history()``: after the
        loop, that is one update past the step's loss. Give ``final=True`` for
        the exact last state. The recorder is left as it was: a History taken
        mid-loop (a preview) changes nothing for the next one.
        """
        from .history import History
        from .version import __version__

        snaps, stopped = self._ended()
        if not snaps:
            raise RecorderError("nothing recorded yet: add() kept no step"
                                + (f" (the run stopped at step {stopped['step']}: {stopped['reason']})"
                                   if stopped else ""))
        with_params = [s.params is not None for s in snaps]
        if any(with_params) and not all(with_params):
            raise RecorderError("params: given at some recorded steps but not at others")
        base = {"config": {"name": self.name}, "stopped": stopped,
                # a loop of yours has no known best fit, so a flat end is no warning; a rising loss is
                "warnings": [] if stopped else loss_warnings([s.step for s in snaps], [s.loss for s in snaps],
                                                             converged_below=math.inf),
                "param_names": self.param_names if all(with_params) else [],
                "versions": {"polyanim": __version__, "numpy": np.__version__}}
        if self.label is not None:
            base["target_label"] = str(self.label)
        if self.landscape is not None:  # evaluated now: a function cannot be saved with the History
            from .user_landscape import evaluate

            path = np.array([s.params for s in snaps]) if all(with_params) else None
            base["landscape"] = evaluate(self.landscape, path, self.param_names)
        lrs = [s.lr for s in snaps]
        if self.field is not None:
            from .recording_field import field_history

            return field_history(self.field, History, snaps, dict(base, **self.field.meta(), **(meta or {})))
        return History(steps=[s.step for s in snaps], loss=[s.loss for s in snaps], x=self.x, y=self.y,
                       pred=np.stack([s.pred for s in snaps]),
                       params=np.array([s.params for s in snaps]) if all(with_params) else None,
                       lr=lrs if None not in lrs else None, meta=dict(base, **(meta or {})),
                       data_x=self.samples[0] if self.samples else None,
                       data_y=self.samples[1] if self.samples else None)

    def _ended(self) -> tuple[list[Snapshot], dict | None]:
        """The snapshots to draw, the latest offered step last, and where the run stopped (if it did)."""
        snaps, stopped = list(self.snapshots), self.stopped
        if self.latest is None or (stopped is not None and self.latest[0] >= stopped["step"]):
            return snaps, stopped
        step, loss, pred, params, lr, read, acc, test_acc = self.latest
        value = _scalar(loss, "loss")
        if not math.isfinite(value):  # what add() does at a kept step: the run stopped there
            return snaps, stopped or {"step": step, "reason": f"loss became {value}"}
        grid = pred if read else self._pred(pred)
        return snaps + [self._snapshot(step, value, grid, params, lr, acc, test_acc)], stopped

def planned_steps(train) -> list[int] | None:
    """The steps a ``train`` config section records, final step included; ``None`` for adaptive."""
    return for_train(train, np.linspace(0.0, 1.0, 2)).plan()


def for_train(train, x, target=None, **kwargs) -> Recorder:
    """The :class:`Recorder` a ``train`` config section describes (``train.record`` and its keys)."""
    frames = train.frames if train.frames is not None or train.record != "adaptive" else train.max_frames
    return Recorder(x, target, schedule=train.record, every=train.record_every, steps=train.steps,
                    frames=frames, threshold=train.record_threshold, **kwargs)
