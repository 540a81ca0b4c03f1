"""The lr panel: the learning rate each snapshot recorded (``History.lr``), for schedules and lr sweeps.

Log scale when the rates span a decade or more, else linear from zero. A
History without learning rates (files from before they were recorded, or a
Recorder given none) gets a panel that says so.
"""

from __future__ import annotations

import numpy as np

from ..player_kit import step_curves
from .base import StepCurves, View, grow_over_steps, no_data

DECADE = 10.0  # rates spanning this factor or more are drawn on a log scale
EMPTY = "no learning rate recorded\n(History.lr is empty)"


def lr_scale(runs) -> tuple[bool, tuple[float, float] | None]:
    """(log scale?, y-limits or None) for the runs' recorded learning rates (runs without them ignored)."""
    rates = [run.lr[np.isfinite(run.lr)] for run in runs if run.lr is not None]
    values = np.concatenate(rates) if rates else np.empty(0)
    if not values.size:
        return False, None
    lo, hi = float(values.min()), float(values.max())
    if lo > 0 and hi / lo >= DECADE:
        return True, (lo / 10 ** 0.15, hi * 10 ** 0.15)  # a little headroom, as the loss panel
    if lo >= 0:
        return False, (0.0, 1.1 * hi if hi > 0 else 1.0)
    pad = max(0.05 * (hi - lo), 1e-12)
    return False, (lo - pad, hi + pad)


class LrPanel:
    """The lr panel (see the module); ``curves.lines``/``curves.dots`` per run that recorded rates."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        ax = self.ax = axes[0]
        log, limits = lr_scale(runs)
        if limits is None:
            self.curves = None
            no_data(ax, EMPTY, view.theme["faint"])
            return []
        self.curves = StepCurves(ax, runs, view, "lr")
        self.curves.scale(view, "lr", log, limits, "learning rate")
        return self.curves.artists

    def update(self, states: list) -> list:
        return [] if self.curves is None else self.curves.update(states)

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share (:func:`~polyanim.player_kit.step_curves`)."""
        log, limits = lr_scale(ctx.timeline.runs)
        return step_curves(ctx, "lr", log, limits, "learning rate", empty=EMPTY)

    def live_limits(self, history, steps: int) -> bool:
        return grow_over_steps(self.ax, history, steps)
