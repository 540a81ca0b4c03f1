"""The fit panel: each run's prediction over the target, with held-out shading, samples and a trail.

One Axes shows every run (a lone History's prediction, or an overlay of runs
in their colours with a legend of labels); in ``layout: grid`` there is one
Axes per run, with shared limits, titled by label. The red label says
``t=…, Loss=…`` and, once a run has ended, how it went.
"""

from __future__ import annotations

import numpy as np

from .. import style
from ..player_kit import MAX_POINTS, legend, series, stroke
from .base import View, color_texts, set_limits


class FitPanel:
    """The fit panel (see the module); ``lines`` are the runs' predictions, ``labels`` the moving texts."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        self.view, self.axes = view, axes
        self.ylim = style.fit_limits(view.timeline.source)
        self.lines, self.trails, self.labels = [], [], []
        render = view.render
        alphas = [0.45 * (1 - k / (render.trail + 1)) for k in range(render.trail)]
        for k, (run, color) in enumerate(zip(runs, view.colors)):
            ax = axes[k if view.grid else 0]
            self.trails.append([ax.plot(run.x, run.pred[0], color=color, linewidth=1.5, zorder=5, alpha=a)[0]
                                for a in alphas])
            name = view.render.labels.prediction if view.grid or view.single else view.timeline.labels[k]
            self.lines.append(ax.plot(run.x, run.pred[0], color=color, linewidth=2, zorder=6, label=name)[0])
        (self._grid_cells if view.grid else self._overlay)(axes[0] if not view.grid else axes)
        return [a for trail in self.trails for a in trail] + self.lines + self.labels

    def _overlay(self, ax) -> None:
        view, t = self.view, self.view.theme
        target, *samples = self._base(ax)
        self._axis_labels(ax)
        self.labels.append(ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left", color=t["label"],
                                   zorder=7, bbox=view.label_box()))
        if view.single:
            handles = [*samples, *([target] if target is not None else [])]
            legend = ax.legend(handles=[*handles, *self.lines], loc="lower left", bbox_to_anchor=(0, 1.0),
                               ncols=1 + len(handles), frameon=False, borderaxespad=0.2, handlelength=1.5)
            color_texts(legend, t["fg"])
        else:
            handles = [a for a in (target, *samples) if a is not None]
            wide = view.wide and len(view.render.panels) > 1
            self._legend_above(ax, handles + self.lines, share=style.FIT_SHARE if wide else 1.0)

    def _grid_cells(self, axes) -> None:
        view, t = self.view, self.view.theme
        rows, cols = axes[0].get_subplotspec().get_gridspec().get_geometry()
        for k, (ax, label) in enumerate(zip(axes, view.timeline.labels)):
            handles = [a for a in self._base(ax) if a is not None]
            ax.set_title(label, color=t["fg"], fontsize="medium", pad=3)
            below = k + cols >= len(axes)  # nothing under it: it carries the x axis
            ax.tick_params(labelbottom=below, labelleft=k % cols == 0, labelsize="small")
            if below:
                ax.set_xlabel(view.render.labels.x)
            self.labels.append(ax.text(0.03, 0.95, "", transform=ax.transAxes, va="top", ha="left",
                                       color=t["label"], zorder=7, fontsize="small", bbox=view.label_box()))
        # One legend for the whole grid, over it. A suptitle and an "outside" figure legend overlap
        # in the constrained layout, so the title is the legend's title.
        legend = view.fig.legend(handles=handles, loc="outside upper center", ncols=len(handles),
                                 frameon=False, borderaxespad=0.2, handlelength=1.5,
                                 title=style.no_bidi(view.render.title) or None, title_fontsize="large")
        color_texts(legend, t["fg"])

    def _axis_labels(self, ax) -> None:
        labels = self.view.render.labels
        ax.set_xlabel(labels.x)
        if labels.y:
            ax.set_ylabel(labels.y)

    def _base(self, ax) -> list:
        """What every fit Axes shows: held-out shading, samples, the target.

        Returns the target line (None when the History has no target: the points of a data file are the
        target, drawn in its colour), then the samples (if drawn), for the legend.
        """
        h, t = self.view.timeline.source, self.view.theme
        has_target = bool(np.isfinite(h.y).any())
        config = h.config
        held_out = config.get("data", {}).get("train_domain")
        if held_out:
            for lo, hi in ((float(h.x[0]), held_out[0]), (held_out[1], float(h.x[-1]))):
                if hi > lo:
                    ax.axvspan(lo, hi, color=t["faint"], alpha=0.18, linewidth=0, zorder=0)
        handles = []
        if h.data_x is not None:
            from_file = config.get("data", {}).get("file")
            handles.append(ax.scatter(h.data_x, h.data_y, s=7, color=t["faint" if has_target else "target"],
                                      alpha=0.8, linewidths=0, zorder=1.5,
                                      label=f"data ({len(h.data_x)} points)" if from_file else "samples"))
        line = None
        if has_target:
            name = style.target_name(h)
            (line,) = ax.plot(h.x, h.y, color=t["target"], linewidth=2,
                              label=_target_text(self.view.render.labels.target, name))
        ax.set_xlim(float(h.x[0]), float(h.x[-1]))
        ax.set_ylim(*self.ylim)
        return [line, *handles]

    def _legend_above(self, ax, handles, share: float = 1.0) -> None:
        """A legend on top of ``ax`` in as many columns as fit the panel's width (``share`` of the figure)."""
        view = self.view
        renderer = view.canvas.get_renderer()
        room = share * view.fig.bbox.width * 0.86
        legend = None
        n = len(handles)
        for rows in range(1, n + 1):
            ncols = -(-n // rows)  # as few rows as fit, balanced: 5 entries in 3 + 2, not 4 + 1
            if legend is not None:
                legend.remove()
            # matplotlib fills the columns first; order the handles so that they read row by row
            tall = n % ncols or ncols  # columns with one more entry than the others
            order = [r * ncols + c for c in range(ncols) for r in range(-(-n // ncols) - (c >= tall))]
            legend = ax.legend(handles=[handles[k] for k in order], loc="lower left", bbox_to_anchor=(0, 1.0),
                               ncols=ncols, frameon=False, borderaxespad=0.2, handlelength=1.5,
                               columnspacing=1.2)
            if legend.get_window_extent(renderer).width <= room:
                break
        color_texts(legend, view.theme["fg"])

    def update(self, states: list) -> list:
        ylim = self.axes[0].get_ylim()  # the live view widens it as a run goes
        for line, trail, state in zip(self.lines, self.trails, states):
            line.set_ydata(style.in_view(state.pred, ylim))
            # a run that ended early stays, faded, on its last finite snapshot (a stall does not fade)
            line.set_alpha(state.alpha)
            for artist, pred in zip(trail, state.trail):
                artist.set_ydata(style.in_view(pred, ylim))
        if self.view.grid:
            for text, state in zip(self.labels, states):
                text.set_text(style.cell_label(state))
        else:
            self.labels[0].set_text(style.fit_label(states, self.view.timeline.labels, single=self.view.single))
        # in the order a full redraw draws them (by zorder): every trail under every prediction
        return [a for trail in self.trails for a in trail] + self.lines + self.labels

    def live_limits(self, history, steps: int) -> bool:
        """A live window's rule: the y axis widens to the latest prediction by the files' rule
        (:func:`~polyanim.style.y_limits` of the target, samples and prediction); x is the grid's from the start."""
        base = history.y if history.data_y is None else np.concatenate([history.y, np.asarray(history.data_y,
                                                                                           np.float64)])
        lo, hi = style.y_limits(base, history.pred[-1])
        changed = False
        for ax in self.axes:
            old = ax.get_ylim()
            changed |= set_limits(ax, None, (min(old[0], lo), max(old[1], hi)))
        return changed

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share: the x grid (thinned to :data:`~polyanim.player_kit.MAX_POINTS`), held-out
        shading, samples, target, every run's prediction by snapshot, the legend and the label per position."""
        h, timeline, ink = ctx.history, ctx.timeline, ctx.ink
        cols, xlim = _columns(h.x, ctx.size[0])
        ylim = style.fit_limits(h)
        # Quantise over a band a little wider than the view (2 spans: 2047 levels per view height, finer
        # than a pixel) so a curve leaving the plot is cut by the canvas edge; beyond it, a gap (see pack).
        span = ylim[1] - ylim[0]
        band = (ylim[0] - span / 2, ylim[1] + span / 2)
        has_target = bool(np.isfinite(h.y).any())
        shape = style.grid_shape(len(timeline.runs), ctx.aspect) if ctx.grid else (1, 1)
        n = int(cols.size)
        draw = [{"type": "spans", "spans": _held_out(h), "color": ink["faint"], "alpha": 0.18}]
        if h.data_x is not None:
            draw.append({"type": "points", "x": series(h.data_x, *xlim), "y": series(h.data_y, *band),
                         "color": ink["faint" if has_target else "target"], "alpha": 0.8, "r": 1.3})
        if has_target:
            draw.append({"type": "lines", "x": "x", "y": series(h.y[cols], *band), "n": n,
                         "whole": stroke(ink["target"], 2)})
        for k, (run, color) in enumerate(zip(timeline.runs, ctx.colors)):
            draw.append({"type": "lines", "run": k, "cell": k if ctx.grid else None, "x": "x", "n": n,
                         "y": series(run.pred[:, cols], *band), "row": stroke(color, 2, fade=True)})
        states = [timeline.states(i) for i in range(len(timeline))]
        if ctx.grid:
            draw += [{"type": "text", "cell": k, "texts": [style.cell_label(s[k]) for s in states], "at": [0.03, 0.05],
                      "scale": "small", "color": ink["label"], "box": True} for k in range(len(timeline.runs))]
        else:
            draw.append({"type": "text", "at": [0.02, 0.03], "color": ink["label"], "box": True,
                         "texts": [style.fit_label(s, timeline.labels, single=ctx.single) for s in states]})
        items = _legend_items(ctx, has_target)
        axes = ctx.axes(xlim, ylim, xlabel=ctx.label("x"), ylabel=ctx.label("y"), cells=shape)
        return {"axes": axes, "series": {"x": series(h.x[cols], *xlim)},
                "draw": draw, "grid": list(shape) if ctx.grid else None,
                "titles": [style.plain_text(label) for label in timeline.labels] if ctx.grid else None,
                "legend": legend(items, "figure") if ctx.grid else legend(items, "above", wrap=not ctx.single)}


def _columns(x: np.ndarray, width: int):
    """The grid's columns the player draws (finite, sorted, at most a point per pixel) and the x limits."""
    cols = np.flatnonzero(np.isfinite(x))
    cols = cols[np.argsort(x[cols], kind="stable")]
    points = min(MAX_POINTS, max(width, 2))
    if cols.size > points:
        cols = cols[np.unique(np.rint(np.linspace(0, cols.size - 1, points)).astype(np.int64))]
    if cols.size == 0:
        cols = np.arange(len(x))  # nothing finite to draw; keep the shapes consistent
    finite = x[np.isfinite(x)]
    xlim = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if xlim[1] <= xlim[0]:
        xlim = (xlim[0] - 0.5, xlim[1] + 0.5)
    return cols, xlim


def _held_out(history) -> list:
    """The shaded spans outside ``data.train_domain`` (as :meth:`FitPanel._base` shades them)."""
    held = history.config.get("data", {}).get("train_domain")
    if not held:
        return []
    spans = ((float(history.x[0]), held[0]), (held[1], float(history.x[-1])))
    return [[float(lo), float(hi)] for lo, hi in spans if hi > lo]


def _legend_items(ctx, has_target: bool) -> list:
    """The legend's entries (samples, target, then the runs unless each grid cell is titled), as the frames'."""
    h, ink, items = ctx.history, ctx.ink, []
    if h.data_x is not None:
        from_file = h.config.get("data", {}).get("file")
        items.append({"color": ink["faint" if has_target else "target"], "dot": True,
                      "text": f"data ({len(h.data_x)} points)" if from_file else "samples"})
    if has_target:
        name = style.target_name(h)
        text = _target_text(ctx.labels.get("target", "target"), name)
        items.append({"color": ink["target"], "text": style.plain_text(text)})
    if ctx.single:
        # the frames' single-run legend: the samples, the target, the prediction
        return items + [{"color": ink["pred"], "text": ctx.label("prediction")}]
    if ctx.grid:
        return items
    return items + [{"color": c, "text": style.plain_text(label)} for c, label in zip(ctx.colors, ctx.timeline.labels)]


def _target_text(label: str, name: str | None) -> str:
    """The target's legend entry: ``target: sin(x)`` (``label: name``), or the label alone when unnamed."""
    return f"{label}: {name}" if name else label
