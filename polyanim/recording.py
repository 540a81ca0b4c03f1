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


def every_spacing(train) -> int:
    """``train.record_every``, or ``ceil(steps / frames)`` when a frame budget is set."""
    if train.frames is not None:
        return max(1, math.ceil(train.steps / train.frames))
    return train.record_every


def planned_steps(train) -> list[int] | None:
    """The steps the ``every`` and ``log`` schedules record, final step included; ``None`` for adaptive."""
    if train.record == "every":
        return list(range(0, train.steps, every_spacing(train))) + [train.steps]
    if train.record == "log":
        n = train.frames if train.frames is not None else len(range(0, train.steps, train.record_every)) + 1
        return log_steps(train.steps, n)
    return None


@dataclass
class Snapshot:
    step: int
    loss: float
    pred: np.ndarray          # float32 [P], on the drawing grid
    params: list | None
    lr: float


class Recorder:
    """Collects the snapshots of one run according to a ``train`` config section.

    The trainer asks :meth:`wants` at every step whether it needs the
    prediction on the grid, then :meth:`offer`s it with a function that builds
    the :class:`Snapshot`; the recorder decides whether to keep it. ``scale``
    is the target's spread on the grid (for the adaptive threshold).
    """

    def __init__(self, train, scale: float = 1.0):
        self.plan = planned_steps(train)
        self.planned = set(self.plan or ())
        self.adaptive = self.plan is None
        self.cap = train.frames if train.frames is not None else train.max_frames
        self.threshold = train.record_threshold
        self.scale = scale if scale > 0 and math.isfinite(scale) else 1.0
        self.items: list[Snapshot] = []

    def wants(self, step: int) -> bool:
        return self.adaptive or step in self.planned

    def change(self, pred: np.ndarray) -> float:
        """RMS difference between ``pred`` and the last snapshot's prediction, over the target's spread."""
        diff = np.asarray(pred, dtype=np.float64) - self.items[-1].pred
        return float(np.sqrt(np.mean(diff * diff))) / self.scale

    def offer(self, step: int, pred: np.ndarray, make) -> bool:
        """Keep ``make()`` as the snapshot of ``step`` if the schedule wants it; return whether it was kept."""
        if self.adaptive and self.items:
            moved = self.change(pred)
            if not moved > self.threshold:  # NaN never counts as movement
                return False
            if len(self.items) >= self.cap - 1:  # keep one place for the final snapshot
                if len(self.items) > 1:
                    self.items = self.items[::2]
                    self.threshold *= 2
                if len(self.items) >= self.cap - 1 or not self.change(pred) > self.threshold:
                    return False
        self.items.append(make())
        return True

    def final(self, snapshot: Snapshot) -> None:
        """The snapshot of the trained model after the last step: always kept."""
        self.items.append(snapshot)


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


# Below this many parameters x samples a training step is a few hundred microseconds of tiny tensor
# ops: one thread is as fast as several on an idle machine, and intra-op threads that wait for a busy
# core make it 10-20x slower on a loaded one (a 1153-parameter MLP on 2000 points: 2 s vs 35 s on two
# busy cores). Above it a run already uses every core, so runs side by side would only compete.
ONE_THREAD_WORK = 10_000_000


def work(config) -> int:
    """Parameters x max(samples, grid points) of one run, from its config alone (no torch needed).

    Training sizes its torch threads by it, and ``train.workers: auto`` decides from it whether runs
    may train side by side.
    """
    m, d = config.model, config.data
    if m.kind == "mlp":
        widths = [1, *m.hidden, 1]
        params = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    else:
        params = m.degree + 1
    samples = d.samples if d.samples is not None else d.points
    return params * max(samples, d.points)
