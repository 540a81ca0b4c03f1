"""The boundary panel: a classifier's winning class over the plane, pale where it is unsure.

One image per frame, its RGBA looked up in numpy from a table per theme and
class count (:mod:`polyanim.panels.field`); the 0.5 line of two classes by
marching squares; the training points in their class colours (dots), the test
points as triangles, and the points the current snapshot gets wrong ringed.
Several runs get one cell each, always: overlaid decision regions would hide
each other, so a field RunSet is drawn as a grid whatever ``render.layout`` says.
"""

from __future__ import annotations

import base64

import numpy as np

from .. import style
from ..player_kit import series
from . import field
from .base import View

RING = "#d62728"  # misclassified points: a red ring reads on every class colour


def _points(history):
    """Training and test points with labels as whole classes ([N, 2], [N] each; test may be empty)."""
    train = (history.data_x, history.data_y.astype(np.int64))
    if history.test_x is None:
        return train, (np.empty((0, 2)), np.empty(0, dtype=np.int64))
    return train, (history.test_x, history.test_y.astype(np.int64))


def classes_of(history) -> int:
    return int(history.meta.get("classes") or 2)


def field_label(state) -> str:
    """``t=…, Loss=…`` with the train accuracy when recorded."""
    text = style.loss_label(state.step, state.loss)
    acc = state.run.acc
    return text + ("" if acc is None else f", acc={acc[state.index]:.0%}")


class BoundaryPanel:
    """The boundary panel (see the module): per cell an ``image``, a ``line`` (0.5 contour), the points,
    the ``rings`` of misclassified points and a label."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        self.view, h, t = view, view.timeline.source, view.theme
        self.classes = classes_of(h)
        self.lut = field.over_background(field.class_lut(view.render.theme, self.classes), view.render.theme)
        (train, test) = _points(h)
        self.all_points = np.concatenate([train[0], test[0]])
        self.all_labels = np.concatenate([train[1], test[1]])
        self.cells_of = field.nearest_cells(h, self.all_points)
        palette = style.CLASS_COLORS[view.render.theme]
        colors = [palette[k % len(palette)] for k in range(self.classes)]
        self.pins = field.palette_pins(view.render.theme, colors)
        self.cells = []
        grid = len(axes) > 1 or not view.single
        m = 0.75 if grid else 1.0  # rings in a grid's small cells: full-size ones hid the points and the regions
        for k, run in enumerate(runs):
            ax = axes[min(k, len(axes) - 1)]
            ax.grid(False)
            for spine in ax.spines.values():  # under the moving image, as in the cached background
                spine.set_zorder(0.5)
            cell = {"image": field.nearest_image(ax, self._rgba(run.pred[0]), field.extent(h), zorder=1)}
            cell["line"] = ax.plot([], [], color=t["fg"], linewidth=1.4, zorder=3, solid_capstyle="round")[0]
            # one marker line per class: Agg stamps a line's markers far faster than a collection's paths
            cell["train"] = [ax.plot(*train[0][train[1] == c].T, "o", color=colors[c], markersize=3.8,
                                     markeredgecolor=t["bg"][:7], markeredgewidth=0.5, zorder=4)[0]
                             for c in range(self.classes)]
            cell["test"] = [ax.plot(*test[0][test[1] == c].T, "^", color=colors[c], markersize=4.7,
                                    markeredgecolor=t["fg"], markeredgewidth=0.6, zorder=4.1)[0]
                            for c in range(self.classes) if (test[1] == c).any()]
            cell["rings"] = ax.plot([], [], "o", markersize=7.7 * m, markerfacecolor="none", markeredgecolor=RING,
                                    markeredgewidth=1.1, zorder=5)[0]
            cell["text"] = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left", color=t["label"],
                                   zorder=7, fontsize="small" if grid else None, bbox=view.label_box())
            self.cells.append(cell)
        frame_axes(axes, h, view)
        return self.artists

    @property
    def artists(self) -> list:
        """Every cell's moving artists, in the order a full redraw draws them (by zorder)."""
        return [a for cell in self.cells for a in (cell["image"], cell["line"], *cell["train"], *cell["test"],
                                                     cell["rings"], cell["text"])]

    def _rgba(self, pred) -> np.ndarray:
        return self.lut[field.class_codes(pred, self.classes)]

    def update(self, states: list) -> list:
        h = self.view.timeline.source
        for cell, state in zip(self.cells, states):
            cell["image"].set_data(self._rgba(state.pred))
            if self.classes == 2:
                line = field.contour(state.pred, h.x, h.x2, 0.5)
                cell["line"].set_data(line[:, 0], line[:, 1])
            wrong = field.predicted_class(state.pred, self.cells_of, self.classes) != self.all_labels
            cell["rings"].set_data(self.all_points[wrong, 0], self.all_points[wrong, 1])
            cell["text"].set_text(field_label(state))
            for artist in (cell["image"], cell["line"]):
                artist.set_alpha(state.alpha)
        return self.artists

    def live_limits(self, history, steps: int) -> bool:
        """The rectangle is fixed by the mesh from the first snapshot: nothing to widen."""
        return False

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share: per run the snapshots' byte codes (one per mesh cell, thinned to stay
        under :data:`IMAGE_BUDGET`) and the table once; the points; the label."""
        h, timeline, ink = ctx.history, ctx.timeline, ctx.ink
        classes = classes_of(h)
        lut = field.class_lut(ctx.theme, classes)
        palette = style.CLASS_COLORS[ctx.theme]
        rect = (float(h.x[0]), float(h.x[-1])), (float(h.x2[0]), float(h.x2[-1]))
        grid = len(timeline.runs) > 1
        draw = []
        for k, run in enumerate(timeline.runs):
            draw.append(field_image(run.pred, field.class_codes, lut, h, len(timeline.runs), k, grid, classes))
        (train, test) = _points(h)
        for (xy, labels), marker in ((train, "o"), (test, "^")):
            if len(xy):
                draw.append({"type": "points", "x": series(xy[:, 0], *rect[0]), "y": series(xy[:, 1], *rect[1]),
                             "colors": [palette[c % len(palette)] for c in range(classes)],
                             "c": [int(c) for c in labels], "marker": marker, "alpha": 1.0,
                             "r": 2.2 if marker == "o" else 2.8, "edge": ink["bg"][:7] if marker == "o" else ink["fg"]})
        return field_payload(ctx, rect, draw)


def axis_names(labels) -> tuple[str, str]:
    """The plane's axis names: ``render.labels.x`` and ``.y`` where set (e.g. a data file's columns), else
    x₁ and x₂ (the curve's defaults, ``x`` and none, do not name two inputs). ``labels``: the settings or a dict."""
    get = labels.get if isinstance(labels, dict) else lambda key, default=None: getattr(labels, key, default)
    x, y = get("x") or "x", get("y") or ""
    return (x if x != "x" else "x₁"), (y or "x₂")


def frame_axes(axes, h, view) -> None:
    """A field panel's Axes: the mesh's rectangle, its axis names, each run's label over its cell."""
    xname, yname = axis_names(view.render.labels)
    cols = axes[0].get_subplotspec().get_geometry()[1] if len(axes) > 1 else 1
    for k, ax in enumerate(axes):
        ax.set_xlim(float(h.x[0]), float(h.x[-1]))
        ax.set_ylim(float(h.x2[0]), float(h.x2[-1]))
        if len(axes) > 1:
            ax.set_title(view.timeline.labels[k], color=view.theme["fg"], fontsize="medium", pad=3)
            ax.tick_params(labelsize="small")
        # the cells share one rectangle: only the outer ones label it, which leaves the pictures room
        if k + cols < len(axes):
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel(xname)
        if k % cols:
            ax.tick_params(labelleft=False)
        else:
            ax.set_ylabel(yname)


def field_payload(ctx, rect, draw: list) -> dict:
    """A field panel's player share around its ``draw`` items: each run's label, its cell, the axes."""
    timeline, ink = ctx.timeline, ctx.ink
    grid = len(timeline.runs) > 1
    for k in range(len(timeline.runs)):
        draw.append({"type": "text", "cell": k if grid else None, "at": [0.02, 0.03], "color": ink["label"],
                     "box": True, "scale": "small" if grid else None,
                     "texts": [field_label(timeline.states(i)[k]) for i in range(len(timeline))]})
    shape = style.grid_shape(len(timeline.runs), ctx.aspect) if grid else (1, 1)
    xname, yname = axis_names(ctx.labels)
    return {"axes": ctx.axes(*rect, xlabel=style.plain_text(xname), ylabel=style.plain_text(yname), cells=shape),
            "draw": draw,
            "grid": list(shape) if grid else None,
            "titles": [style.plain_text(label) for label in timeline.labels] if grid else None}


IMAGE_BUDGET = 3_000_000  # bytes of codes in a page for all runs' snapshots (base64 adds a third)


def field_image(pred, codes_of, lut, h, runs: int, k: int, grid: bool, *args) -> dict:
    """An ``image`` item of run ``k``'s snapshots as byte codes (``codes_of(pred, *args)``) and ``lut``,
    the mesh thinned by a whole stride when all runs' snapshots would pass :data:`IMAGE_BUDGET`."""
    cells = pred.shape[1] * pred.shape[2]
    stride = 1
    while runs * len(pred) * cells / stride ** 2 > IMAGE_BUDGET:
        stride += 1
    codes = codes_of(pred[:, ::stride, ::stride], *args)[:, ::-1]  # top row first, as an image
    return {"type": "image", "width": int(codes.shape[2]), "height": int(codes.shape[1]), "extent": field.extent(h),
            "smooth": False, "run": k, "cell": k if grid else None, "fade": True,
            "codes": base64.b64encode(codes.tobytes()).decode("ascii"),
            "lut": base64.b64encode(np.ascontiguousarray(lut).tobytes()).decode("ascii")}
