"""The loss panel: every run's training loss over the steps, on a log scale when every loss is positive."""

from __future__ import annotations

from .. import style
from .base import StepCurves, View


class LossPanel:
    """The loss panel; the scale follows the runs that did not stop early (:func:`~polyanim.style.loss_scale`)."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        ax = axes[0]
        self.curves = StepCurves(ax, runs, view, "loss")
        log, limits = style.loss_scale(runs)
        if log:
            ax.set_yscale("log")
        if limits is not None:
            ax.set_ylim(*limits)
        ax.set_ylabel("loss")
        if view.runs_legend_here("loss"):
            self.curves.legend(view)
        return self.curves.artists

    def update(self, states: list) -> list:
        return self.curves.update(states)
