"""The accuracy panel: every run's train accuracy (solid) and test accuracy (dashed) over the steps, 0 to 1."""

from __future__ import annotations

from ..player_kit import step_curves
from .base import StepCurves, View, no_data

EMPTY = "no accuracy recorded\n(History.acc is empty)"
LIMITS = (0.0, 1.02)


class _At:
    """A run's state with its recorded accuracies at its snapshot (the value StepCurves extends to the step)."""

    def __init__(self, state):
        self._state = state
        self.acc = None if state.run.acc is None else float(state.run.acc[state.index])
        self.test_acc = None if state.run.test_acc is None else float(state.run.test_acc[state.index])

    def __getattr__(self, name):
        return getattr(self._state, name)


class AccuracyPanel:
    """The accuracy panel; ``train`` and ``test`` are :class:`~polyanim.panels.base.StepCurves`."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        ax = self.ax = axes[0]
        if all(run.acc is None for run in runs):
            self.train = self.test = None
            no_data(ax, EMPTY, view.theme["faint"])
            return []
        self.test = StepCurves(ax, runs, view, "test_acc")
        for line in self.test.lines:
            if line is not None:
                line.set_linestyle((0, (3, 2)))
        self.train = StepCurves(ax, runs, view, "acc")
        self.train.scale(view, "accuracy", False, LIMITS, "accuracy")
        return self.artists

    @property
    def artists(self) -> list:
        return self.test.artists + self.train.artists

    def update(self, states: list) -> list:
        if self.train is None:
            return []
        at = [_At(s) for s in states]
        self.test.update(at)
        self.train.update(at)
        return self.artists

    def live_limits(self, history, steps: int) -> bool:
        return False if self.train is None else self.train.live_limits(history, steps)

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share: the two curves per run (:func:`~polyanim.player_kit.step_curves`)."""
        if all(run.acc is None for run in ctx.timeline.runs):
            return {"empty": EMPTY}
        out = step_curves(ctx, "acc", False, LIMITS, "accuracy")
        test = step_curves(ctx, "test_acc", False, LIMITS, "accuracy")
        for item in test["draw"]:
            item["sofar"]["dash"] = True
        out["draw"] = test["draw"] + out["draw"]
        return out
