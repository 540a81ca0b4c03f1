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

from .recording_checks import RecorderError, _grid, _pair, _scalar, _step, _target, _vector, _whole
from .registry.models import MAX_PARAMS

STALL_REL = 1e-4        # an "improvement" lowers the best loss by more than this fraction
STALL_SNAPSHOTS = 10    # … and none for this many snapshots (up to the end) is a stall
RISE_SNAPSHOTS = 10     # the loss rising at this many consecutive snapshots is reported


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
    """

    def __init__(self, x, target=None, *, every: int = 10, schedule: str = "every", steps: int | None = None,
                 frames: int | None = None, threshold: float = 0.01, samples=None, label: str | None = None,
                 param_names=None, name: str = "run"):
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
        self.param_names = [str(n) for n in param_names] if param_names is not None else None
        self._plan(schedule, every, steps, frames, threshold)
        # the adaptive threshold's scale: the target's spread, or the points' when they are the target
        shown = self.y if np.isfinite(self.y).all() or self.samples is None else self.samples[1]
        spread = float(np.std(shown)) if np.isfinite(shown).all() else 0.0
        self.scale = spread if spread > 0 else 1.0
        self.snapshots: list[Snapshot] = []
        self.stopped: dict | None = None
        self.closed = False
        self.latest: tuple | None = None  # the last step offered and not kept: (step, loss, pred, params, lr, read)

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

    def add(self, step: int, *, loss, pred, params=None, lr=None, final: bool = False) -> bool:
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
        marks the run as stopped there (see :meth:`stop`).
        """
        step = _step(step)  # a bad step is refused even once closed: the loop has a bug either way
        if self.closed:
            return False
        if self.snapshots and step <= self.snapshots[-1].step:
            raise RecorderError(f"step: steps must increase, got {step} after {self.snapshots[-1].step}")
        if not (final or self._wants(step)):
            self.latest = (step, loss, pred, params, lr, False)  # references only: history() reads the last one
            return False
        value = _scalar(loss, "loss")
        if not math.isfinite(value):
            self.stop(step, f"loss became {value}")
            return False
        grid = self._pred(pred)
        if self.adaptive and self.snapshots and not final and not self._moved_enough(grid):
            self.latest = (step, value, grid, params, lr, True)  # read already: the adaptive rule needed it
            return False
        self.snapshots.append(self._snapshot(step, value, grid, params, lr))
        self.latest = None
        self.closed = final
        return True

    def _pred(self, pred) -> np.ndarray:
        """``pred`` (or what it returns) as float32 on the grid, in the sorted grid's order."""
        grid = _vector(pred() if callable(pred) else pred, "pred", np.float32, copy=self.order is None)
        if grid.shape != self.x.shape:
            raise RecorderError(f"pred: expected {self.x.size} values on the grid x, got shape {grid.shape}")
        return grid if self.order is None else grid[self.order]  # the indexing is the copy

    def _snapshot(self, step: int, value: float, grid: np.ndarray, params, lr) -> Snapshot:
        return Snapshot(step=step, loss=value, pred=grid, lr=None if lr is None else _scalar(lr, "lr"),
                        params=self._params(params() if callable(params) else params))

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
        lrs = [s.lr for s in snaps]
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
        step, loss, pred, params, lr, read = self.latest
        value = _scalar(loss, "loss")
        if not math.isfinite(value):  # what add() does at a kept step: the run stopped there
            return snaps, stopped or {"step": step, "reason": f"loss became {value}"}
        grid = pred if read else self._pred(pred)
        return snaps + [self._snapshot(step, value, grid, params, lr)], stopped

def planned_steps(train) -> list[int] | None:
    """The steps a ``train`` config section records, final step included; ``None`` for adaptive."""
    return for_train(train, np.linspace(0.0, 1.0, 2)).plan()


def for_train(train, x, target=None, **kwargs) -> Recorder:
    """The :class:`Recorder` a ``train`` config section describes (``train.record`` and its keys)."""
    frames = train.frames if train.frames is not None or train.record != "adaptive" else train.max_frames
    return Recorder(x, target, schedule=train.record, every=train.record_every, steps=train.steps,
                    frames=frames, threshold=train.record_threshold, **kwargs)


def loss_warnings(steps, losses, converged_below: float | None = None, bar: str = "") -> list[dict]:
    """Stalls and rises in the recorded losses (empty when all is well).

    Each is ``{"message": one line for the console, "note": a few words for the
    last frame}``:

    - the loss rose at ``RISE_SNAPSHOTS`` or more consecutive snapshots
      (reported once, for the first such run): the learning rate is often too
      large;
    - the best loss improved by less than ``STALL_REL`` (relative) over the
      last ``STALL_SNAPSHOTS`` or more snapshots, and the final loss is above
      ``converged_below`` (the loss of a converged run, :func:`polyanim.optimum.converged_below`,
      described by ``bar``): the run has stalled short of the best fit. A flat
      loss at or below it is a run that converged, which is no warning. With
      ``converged_below`` None every flat end is reported.
    """
    steps = [int(s) for s in steps]
    losses = [float(v) for v in losses]
    out = []
    run = 0
    for i in range(1, len(losses)):
        run = run + 1 if losses[i] > losses[i - 1] else 0
        if run == RISE_SNAPSHOTS:
            j = i
            while j + 1 < len(losses) and losses[j + 1] > losses[j]:
                j += 1
            out.append({"message": f"loss rose at {j - i + RISE_SNAPSHOTS} consecutive snapshots "
                                   f"(steps {steps[i - RISE_SNAPSHOTS]}-{steps[j]}); train.lr may be too large",
                        "note": f"loss rose over steps {steps[i - RISE_SNAPSHOTS]}-{steps[j]}"})
            break
    if len(losses) > STALL_SNAPSHOTS:
        best, last = losses[0], 0
        for i, value in enumerate(losses):
            if value < best - STALL_REL * abs(best):
                best, last = value, i
        idle = len(losses) - 1 - last
        converged = converged_below is not None and losses[-1] <= converged_below
        if idle >= STALL_SNAPSHOTS and not converged:
            above = f" at {losses[-1]:.4g}, above {bar}," if bar else ":"
            out.append({"message": f"loss stalled{above} no improvement beyond {STALL_REL:g} (relative) after step "
                                   f"{steps[last]} ({idle} snapshots, to step {steps[-1]}); later frames change "
                                   "little (fewer train.steps, or a larger train.lr)",
                        "note": f"loss flat after step {steps[last]}"})
    return out
