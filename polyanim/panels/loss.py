"""The loss panel: every run's training loss over the steps, on a log scale when every loss is positive."""

from __future__ import annotations

from .. import style
from ..player_kit import step_curves
from .base import StepCurves, View


class LossPanel:
    """The loss panel; the scale follows the runs that did not stop early (:func:`~polyanim.style.loss_scale`)."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        self.curves = StepCurves(axes[0], runs, view, "loss")
        self.curves.scale(view, "loss", *style.loss_scale(runs), view.render.labels.loss)
        return self.curves.artists

    def update(self, states: list) -> list:
        return self.curves.update(states)

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share (:func:`~polyanim.player_kit.step_curves`)."""
        return step_curves(ctx, "loss", *style.loss_scale(ctx.timeline.runs), ctx.label("loss"))

    def live_limits(self, history, steps: int) -> bool:
        return self.curves.live_limits(history, steps)
