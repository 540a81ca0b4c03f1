"""The surface panel: a fitted surface over the plane as a colour map, the target's contours, the points.

One image per frame through the colour map's table (:func:`~polyanim.panels.field.value_lut`), over the
value range of the target (or of the predictions when there is none); the target's contour lines are
computed once (marching squares) and the training points coloured by their value on the same map.
Several runs get one cell each, as for the boundary panel.
"""

from __future__ import annotations

import numpy as np

from .. import style
from ..player_kit import series
from . import field
from .base import View
from .boundary import field_image, field_label, field_payload, frame_axes

CONTOURS = 8  # target contour levels


def value_range(history) -> tuple[float, float]:
    """The colour map's range: the target's, else the 1st to 99th percentile of every run's predictions."""
    runs = getattr(history, "histories", None) or [history]
    y = history.y[np.isfinite(history.y)]
    values = y if y.size else np.concatenate([r.pred[:: max(1, len(r.pred) // 16)].ravel() for r in runs])
    values = values[np.isfinite(values)]
    if not values.size:
        return 0.0, 1.0
    lo, hi = (float(values.min()), float(values.max())) if y.size else tuple(np.percentile(values, [1, 99]))
    return (lo, hi) if hi > lo else (lo - 0.5, lo + 0.5)


def target_lines(history) -> np.ndarray:
    """The target's contour lines as one NaN-broken polyline (empty without a target)."""
    if not np.isfinite(history.y).all():
        return np.empty((0, 2))
    lo, hi = value_range(history)
    levels = np.linspace(lo, hi, CONTOURS + 2)[1:-1]
    return np.concatenate([field.contour(history.y, history.x, history.x2, v) for v in levels] + [np.empty((0, 2))])


class SurfacePanel:
    """The surface panel (see the module): per cell an ``image``, the target's ``lines``, the points, a label."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        self.view, h, t = view, view.timeline.source, view.theme
        self.lut, self.range = field.value_lut(view.render.theme), value_range(h)
        lines = target_lines(h)
        point_rgba = self.lut[field.value_codes(h.data_y, *self.range)] / 255.0
        self.pins = field.palette_pins(view.render.theme)
        self.cells = []
        for k, run in enumerate(runs):
            ax = axes[min(k, len(axes) - 1)]
            ax.grid(False)
            for spine in ax.spines.values():  # under the moving image, as in the cached background
                spine.set_zorder(0.5)
            cell = {"image": field.nearest_image(ax, self._rgba(run.pred[0]), field.extent(h), zorder=1)}
            cell["lines"] = ax.plot(lines[:, 0], lines[:, 1], color=t["fg"], linewidth=0.8, alpha=0.55, zorder=2)[0]
            cell["points"] = ax.scatter(h.data_x[:, 0], h.data_x[:, 1], s=14, c=point_rgba, edgecolors=t["fg"],
                                        linewidths=0.5, zorder=4)
            cell["text"] = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left", color=t["label"],
                                   zorder=7, fontsize="small" if len(axes) > 1 else None, bbox=view.label_box())
            self.cells.append(cell)
        frame_axes(axes, h, view)
        return [cell[key] for cell in self.cells for key in ("image", "lines", "points", "text")]

    def _rgba(self, pred) -> np.ndarray:
        return self.lut[field.value_codes(pred, *self.range)]

    def update(self, states: list) -> list:
        for cell, state in zip(self.cells, states):
            cell["image"].set_data(self._rgba(state.pred))
            cell["image"].set_alpha(state.alpha)
            cell["text"].set_text(field_label(state))
        return [cell[key] for cell in self.cells for key in ("image", "lines", "points", "text")]

    def live_limits(self, history, steps: int) -> bool:
        """The rectangle and the colour range are fixed from the first snapshot."""
        return False

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share: per run the snapshots' byte codes and the colour map's table once, the
        target's contour lines, the points in their values' colours, the label."""
        h, timeline, ink = ctx.history, ctx.timeline, ctx.ink
        lut, lo_hi = field.value_lut(ctx.theme), value_range(h)
        rect = (float(h.x[0]), float(h.x[-1])), (float(h.x2[0]), float(h.x2[-1]))
        grid = len(timeline.runs) > 1
        draw = [field_image(run.pred, field.value_codes, lut, h, len(timeline.runs), k, grid, *lo_hi)
                for k, run in enumerate(timeline.runs)]
        lines = target_lines(h)
        if len(lines):
            draw.append({"type": "lines", "x": series(lines[:, 0], *rect[0]), "y": series(lines[:, 1], *rect[1]),
                         "n": len(lines), "whole": {"color": ink["fg"], "width": 0.8, "alpha": 0.55, "dash": False,
                                                    "fade": False}})
        codes = field.value_codes(h.data_y, *lo_hi)
        draw.append({"type": "points", "x": series(h.data_x[:, 0], *rect[0]), "y": series(h.data_x[:, 1], *rect[1]),
                     "colors": ["#%02x%02x%02x" % tuple(int(v) for v in lut[c, :3]) for c in range(256)],
                     "c": [int(c) for c in codes], "marker": "o", "alpha": 1.0, "r": 2.2, "edge": ink["fg"]})
        return field_payload(ctx, rect, draw)
