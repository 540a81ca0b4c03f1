"""Frame position -> what each run shows there, in plain numpy (no matplotlib, no torch).

A frame position indexes the timeline's steps: a History's own snapshot steps,
or for a :class:`~polyanim.history.RunSet` the union of its runs' steps. A
position between two indices is an in-between frame (``render.interpolate``).
Each run shows its latest snapshot at or before the timeline's step; between
two of its own snapshots, when interpolating, the prediction, step, parameters
are blended linearly and the loss and learning rate geometrically where both
ends are positive (they are drawn on log scales).

Everything that draws asks a :class:`Timeline` (the matplotlib panels, and the
HTML player's payload), so one rule decides what a frame shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import style
from .history import History, RunSet


def runs_of(history) -> list[History]:
    """The runs of a History (a set of one) or of a RunSet, as a list of Histories."""
    return history.histories if isinstance(history, RunSet) else [history]


def labels_of(history) -> list[str]:
    """The runs' labels; a lone History's one run is the ``prediction``."""
    return [style.no_bidi(label) for label in history.labels] if isinstance(history, RunSet) else ["prediction"]


def blend(values: np.ndarray, i: int, f: float):
    """``values[i]`` moved the fraction ``f`` of the way to ``values[i + 1]``."""
    return (1 - f) * values[i] + f * values[i + 1]


def blend_log(a: float, b: float, f: float) -> float:
    """A value between ``a`` and ``b``: geometric where both are positive (drawn on a log scale), else linear."""
    return a ** (1 - f) * b ** f if a > 0 and b > 0 else (1 - f) * a + f * b


@dataclass(frozen=True)
class RunState:
    """What one run shows at one frame position.

    ``step`` is the timeline's step rounded (the label's ``t=``), ``at`` the
    unrounded one; ``index`` the run's latest snapshot at or before it. ``ended``:
    the timeline has reached the run's last snapshot; ``stopped``: that, and
    the run ended early. ``notes`` (where it stopped, stalls) are given once
    it has ended. ``alpha`` is the prediction's opacity (None: opaque), and
    ``trail`` the predictions at the earlier positions of the fit panel's trail.
    """

    run: History
    pred: np.ndarray
    loss: float
    step: int
    at: float
    index: int
    params: np.ndarray | None
    lr: float | None
    ended: bool
    stopped: bool
    notes: tuple[str, ...]
    alpha: float | None
    trail: tuple = ()

    @property
    def note(self) -> str | None:
        """The notes on one line (``; `` between them), or None."""
        return "; ".join(self.notes) or None


class Timeline:
    """Answers, for a frame position, every run's :class:`RunState`; built once from a History or RunSet.

    ``interpolate`` (``render.interpolate`` > 0) also blends a run between its
    own snapshots when the timeline's step falls between them (runs recorded
    on different schedules); a fractional position always does. ``trail``
    earlier predictions are given per state, ``trail_step`` positions apart.
    """

    def __init__(self, history, *, interpolate: bool = False, trail: int = 0, trail_step: float = 1.0):
        self.source = history
        self.runs = runs_of(history)
        self.labels = labels_of(history)
        self.single = not isinstance(history, RunSet)  # a lone History (drawn as "the prediction")
        self.steps = np.asarray(history.steps)
        self.interpolate = bool(interpolate)
        self.trail, self.trail_step = int(trail), float(trail_step)
        self.fades = style.fade_positions(history)  # per run: the position from which it is drawn faded
        self.notes = [tuple(style.run_notes(run.meta if isinstance(run.meta, dict) else {})) for run in self.runs]

    @classmethod
    def for_render(cls, history, render) -> "Timeline":
        """The timeline of ``history`` with a ``render`` config section's interpolation and trail."""
        n = render.interpolate
        return cls(history, interpolate=n > 0, trail=render.trail, trail_step=1.0 / (n + 1) if n else 1.0)

    def __len__(self) -> int:
        return len(self.steps)

    def step_at(self, position: float) -> float:
        """The timeline's step at ``position``, linear between two indices."""
        steps = self.steps
        i = min(int(np.floor(position)), len(steps) - 1)
        f = position - i
        return float(steps[i]) if f <= 0 or i >= len(steps) - 1 else (1 - f) * steps[i] + f * steps[i + 1]

    def states(self, position: float) -> list[RunState]:
        """Every run's state at ``position`` (an index into :attr:`steps`, or between two)."""
        s = self.step_at(position)
        step = int(round(s))
        out = []
        for r, run in enumerate(self.runs):
            pred, loss, j, params, lr = self._at(r, position, s)
            ended = s >= run.steps[-1]
            start = self.fades[r]
            trail = tuple(self._at(r, p, self.step_at(p))[0] for p in self._trail_positions(position))
            out.append(RunState(run=run, pred=pred, loss=loss, step=step, at=s, index=j, params=params, lr=lr,
                                ended=bool(ended), stopped=bool(ended and run.meta.get("stopped")),
                                notes=self.notes[r] if ended else (),
                                alpha=style.FADED_ALPHA if start is not None and position >= start else None,
                                trail=trail))
        return out

    def _trail_positions(self, position: float) -> list[float]:
        return [max(position - k * self.trail_step, 0.0) for k in range(1, self.trail + 1)]

    def _at(self, r: int, position: float, s: float):
        """Run ``r`` at timeline step ``s``: (pred, loss, snapshot index, params, lr)."""
        run = self.runs[r]
        j = max(int(np.searchsorted(run.steps, s, side="right")) - 1, 0)
        fractional = position != np.floor(position) and position < len(self.steps) - 1
        lr = None if run.lr is None else float(run.lr[j])
        params = None if run.params is None else run.params[j]
        if (self.interpolate or fractional) and j < len(run) - 1 and run.steps[j] < s:
            # a lone History's snapshots are the timeline's: the fraction is the position's own (exact)
            g = position - np.floor(position) if self.single else (s - run.steps[j]) / (run.steps[j + 1] - run.steps[j])
            if params is not None:
                params = blend(run.params, j, g)
            if lr is not None:
                lr = blend_log(lr, float(run.lr[j + 1]), g)
            return blend(run.pred, j, g), blend_log(float(run.loss[j]), float(run.loss[j + 1]), g), j, params, lr
        return run.pred[j], float(run.loss[j]), j, params, lr
