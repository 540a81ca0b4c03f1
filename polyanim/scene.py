"""The figure: panels laid out once, artists created once, ``update(i)`` per frame.

A :class:`Scene` follows ``FuncAnimation``'s contract (``init()`` and
``update(i)`` return the artists they change) so it can drive a live window or a
notebook, and adds :meth:`Scene.frame`, a blitting fast path for files: the
static parts (axes, ticks, target curve, legend) are drawn once into a cached
background, and each frame restores it and draws only the moving artists. That
is valid because every axis limit is fixed up front from the whole History.
No pyplot: a bare :class:`~matplotlib.figure.Figure` on the Agg canvas.
"""

from __future__ import annotations

from contextlib import contextmanager

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from .history import RunSet
from .style import (FADED_ALPHA, PARAM_COLORS, RUN_COLORS, THEMES, fade_positions, fit_limits, label_box, run_notes,
                    target_name)
from .targets import taylor

BASE_SIZE = (640, 480)  # the size at which render.dpi is taken literally
# FreeType's auto-hinter (matplotlib's default) costs half the time of every
# frame's label for no visible gain at these sizes (benchmarks/render_bench.py).
# Set and restored around each draw, not with rc_context, which copies every rcParam (0.2 ms a frame).
HINTING = "none"


def loss_label(step: int, loss: float) -> str:
    """The original post's red label, ``t=100, Loss=1234.5678``.

    Four decimals as in the post, except where they would say nothing: below
    0.001 (a converged run is not ``0.0000``) and from a million up.
    """
    if 1e-3 <= abs(loss) < 1e6 or loss == 0 or loss != loss:
        return f"t={step}, Loss={loss:.4f}"
    return f"t={step}, Loss={loss:.4g}"


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def equation(coefs) -> str:
    """``y = 0.019 + 0.806x - 0.003x² - 0.086x³`` for monomial coefficients, constant term first."""
    terms = [f"{coefs[0]:.3f}"]
    for k, c in enumerate(coefs[1:], start=1):
        power = "x" if k == 1 else "x" + str(k).translate(_SUPERSCRIPT)
        terms.append(f"{'-' if c < 0 else '+'} {abs(c):.3f}{power}")
    return "y = " + " ".join(terms)


def _pretty_name(name: str) -> str:
    """``c3`` → ``c₃`` for legends."""
    return name[0] + name[1:].translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")) if name[1:].isdigit() else name


def _layout(fig, panels: list[str], wide: bool) -> dict:
    """Subplot specs: the fit panel large, the other panels sharing the remaining row (or column)."""
    if "fit" not in panels or len(panels) == 1:
        grid = fig.add_gridspec(1, len(panels)) if wide else fig.add_gridspec(len(panels), 1)
        return {p: (grid[0, k] if wide else grid[k, 0]) for k, p in enumerate(panels)}
    others = [p for p in panels if p != "fit"]
    # One gridspec, the fit panel spanning the others' row (or column): the constrained layout then
    # gives the fit panel and the first other panel the same left edge (a nested gridspec did not).
    n = len(others)
    if wide:
        grid = fig.add_gridspec(n, 2, width_ratios=[3, 2])
        specs = {p: grid[k, 1] for k, p in enumerate(others)}
        specs["fit"] = grid[:, 0]
    else:
        grid = fig.add_gridspec(2, n, height_ratios=[2 if n == 1 else 1.6, 1])
        specs = {p: grid[1, k] for k, p in enumerate(others)}
        specs["fit"] = grid[0, :]
    return {p: specs[p] for p in panels}


def _blend(values: np.ndarray, i: int, f: float):
    """``values[i]`` moved the fraction ``f`` of the way to ``values[i + 1]``."""
    return (1 - f) * values[i] + f * values[i + 1]


def _blend_loss(a: float, b: float, f: float) -> float:
    """A loss between ``a`` and ``b``: geometric where both are positive (the panel is log scale)."""
    return a ** (1 - f) * b ** f if a > 0 and b > 0 else (1 - f) * a + f * b


def _loss_scale(ax, values: np.ndarray, log: bool) -> None:
    """Fix a loss panel's y-scale to ``values`` (finite losses): log with a little headroom, or linear."""
    if log:
        ax.set_yscale("log")
        lo, hi = np.log10(values.min()), np.log10(values.max())
        pad = max(0.05 * (hi - lo), 0.05)
        ax.set_ylim(10 ** (lo - pad), 10 ** (hi + pad))
    elif values.size:
        lo, hi = values.min(), values.max()
        pad = max(0.05 * (hi - lo), 1e-12)
        ax.set_ylim(lo - pad, hi + pad)


@contextmanager
def _no_hinting():
    params = matplotlib.rcParams
    old = params["text.hinting"]
    params["text.hinting"] = HINTING
    try:
        yield
    finally:
        params["text.hinting"] = old


class _Figure(Figure):
    """A Figure that always draws with the frames' hinting, so a FuncAnimation's ``savefig`` matches them."""

    def draw(self, renderer):
        with _no_hinting():
            super().draw(renderer)


def grid_shape(n: int, aspect: float) -> tuple[int, int]:
    """(rows, cols) of ``n`` small multiples in an area ``aspect`` = width / height: cells near 4:3, few empty."""
    best = None
    for cols in range(1, n + 1):
        rows = -(-n // cols)
        cell = aspect * rows / cols
        score = abs(np.log(cell / 1.35)) + 0.25 * (rows * cols - n)
        if best is None or score < best[0]:
            best = (score, rows, cols)
    return best[1], best[2]


class Scene:
    """Draws snapshot ``i`` of a History with the options of a ``render`` config section.

    ``size`` overrides ``render.size`` (writers that need even dimensions pass
    them). Create once, then call :meth:`frame` for each frame index.

    ``history`` may also be a :class:`~polyanim.history.RunSet`: then position
    ``i`` is the ``i``-th step of the union of the runs' recorded steps, and
    each run shows its latest snapshot at or before that step (interpolated by
    step between its own snapshots with ``render.interpolate``); a run that
    has stopped keeps its last snapshot and, if it diverged, says so.
    ``render.layout`` picks ``overlay`` (one fit panel, one prediction per run
    in the run's colour, a legend of run labels) or ``grid`` (one fit panel per
    run with shared limits, titled by label); the loss panel shows every run.
    The params panel shows a single run's coefficients and is refused for a
    RunSet.
    """

    def __init__(self, history, render, size: tuple[int, int] | None = None):
        self.multi = isinstance(history, RunSet)
        if self.multi and "params" in render.panels:
            raise ValueError("render.panels: the params panel shows one run's coefficients and is not "
                             "available for several runs; use fit and loss")
        self.history = history
        self.render = render
        self.size = tuple(size or render.size)
        w, h = self.size
        theme = THEMES[render.theme]
        self.theme = theme
        # Scale dpi with the output so a 320x240 and a 1920x1080 frame show the same layout.
        dpi = render.dpi * min(w / BASE_SIZE[0], h / BASE_SIZE[1])
        self.fig = _Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor=theme["bg"], layout="constrained")
        self.fig.get_layout_engine().set(w_pad=4 / 72, h_pad=4 / 72)
        self.canvas = FigureCanvasAgg(self.fig)
        self._animated = []
        self.trail_step = 1.0 / (render.interpolate + 1) if render.interpolate else 1.0
        self._background = None
        self._last = None
        self.axes = {}
        self.wide = w / h >= 1.6
        specs = _layout(self.fig, list(render.panels), wide=self.wide)
        if self.multi:
            self.run_colors = [RUN_COLORS[render.theme][k % len(RUN_COLORS[render.theme])]
                               for k in range(len(self.runs))]
            self.grid = render.layout == "grid"
            if render.title and not self.grid:  # the grid's figure legend carries the title (see _init_fit_runs)
                self.fig.suptitle(render.title, color=theme["fg"])
            for panel in sorted(specs, key=lambda p: p != "fit"):
                getattr(self, f"_init_{panel}_runs")(specs[panel])
        else:
            self.run_colors = []  # the theme's colours only
            for panel in sorted(specs, key=lambda p: p != "fit"):  # fit first: others may write into it
                ax = self.fig.add_subplot(specs[panel])
                self._style(ax)
                self.axes[panel] = ax
                getattr(self, f"_init_{panel}")(ax)
            if render.title:
                self.fig.suptitle(render.title, color=theme["fg"])
        for artist in self._animated:
            # the layout is computed once, from the static parts: moving artists must not
            # move the axes (a marker at the edge would otherwise shift a whole panel)
            artist.set_in_layout(False)

    @property
    def history(self):
        """The History (or RunSet) drawn; assigning a longer one of the same run (a live view) is allowed."""
        return self._history

    @history.setter
    def history(self, history):
        self._history = history
        self.runs = history.histories if isinstance(history, RunSet) else [history]
        self.steps = history.steps
        self.fades = fade_positions(history)  # per run: the position from which it is drawn faded

    def _style(self, ax):
        t = self.theme
        ax.set_facecolor(t["bg"])
        ax.grid(True, color=t["grid"], linewidth=0.8)
        ax.set_axisbelow(True)
        ax.tick_params(colors=t["fg"], which="both")
        for spine in ax.spines.values():
            spine.set_color(t["frame"])
        ax.xaxis.label.set_color(t["fg"])
        ax.yaxis.label.set_color(t["fg"])

    def _init_fit(self, ax):
        h, t = self.history, self.theme
        self._fit_ylim = fit_limits(h)
        target, *samples = self._fit_base(ax, target_name(h))
        handles = [*samples, *([target] if target is not None else [])]
        # the trail: the last few predictions, fading, under the current one
        self.trail = [ax.plot(h.x, h.pred[0], color=t["pred"], linewidth=1.5, zorder=5,
                              alpha=0.45 * (1 - k / (self.render.trail + 1)))[0] for k in range(self.render.trail)]
        (self.pred_line,) = ax.plot(h.x, h.pred[0], color=t["pred"], linewidth=2, label="prediction",
                                    zorder=6)
        self.label = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left",
                             color=t["label"], zorder=7, bbox=self._label_box())
        ax.set_xlabel("x")
        legend = ax.legend(handles=[*handles, self.pred_line], loc="lower left", bbox_to_anchor=(0, 1.0),
                           ncols=1 + len(handles), frameon=False, borderaxespad=0.2, handlelength=1.5)
        for text in legend.get_texts():
            text.set_color(t["fg"])
        self._animated += [*self.trail, self.pred_line, self.label]

    def _init_loss(self, ax):
        h, t = self.history, self.theme
        finite = np.isfinite(h.loss)
        positive = finite & (h.loss > 0)
        log = positive.sum() == finite.sum() and positive.any()
        ax.plot(h.steps[finite], h.loss[finite], color=t["faint"], linewidth=1)
        (self.loss_line,) = ax.plot(h.steps[:1], h.loss[:1], color=t["pred"], linewidth=2, zorder=6)
        (self.loss_dot,) = ax.plot(h.steps[:1], h.loss[:1], "o", color=t["label"], markersize=5, zorder=7,
                                  clip_on=False)
        _loss_scale(ax, h.loss[finite], log)
        ax.set_xlim(0, max(int(h.steps[-1]), 1))
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        self._animated += [self.loss_line, self.loss_dot]

    def _init_params(self, ax):
        h, t = self.history, self.theme
        self.param_lines, self.param_dots, self.equation = [], [], None
        if h.params is None:
            ax.text(0.5, 0.5, "no parameters to show\n(model too large)", transform=ax.transAxes,
                    ha="center", va="center", color=t["faint"])
            ax.set_xticks([])
            ax.set_yticks([])
            return
        names = h.meta.get("param_names") or [f"c{k}" for k in range(h.params.shape[1])]
        shown = min(h.params.shape[1], len(PARAM_COLORS))
        finite = h.params[:, :shown][np.isfinite(h.params[:, :shown])]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
        config = h.config
        kind = config.get("model", {}).get("kind")  # None: a Recorder's own model, no basis to name
        reference = None
        domain = config.get("data", {}).get("domain") or [float(h.x[0]), float(h.x[-1])]  # null: data.file's
        if kind == "polynomial" and domain[0] <= 0 <= domain[1] and config.get("data", {}).get("target"):
            reference = taylor(config["data"]["target"], shown - 1)
        for k in range(shown):
            color = PARAM_COLORS[k]
            ax.plot(h.steps, h.params[:, k], color=color, linewidth=1, alpha=0.25)
            if reference is not None:
                ax.axhline(reference[k], color=color, linewidth=1, linestyle=(0, (3, 3)), alpha=0.8)
            (line,) = ax.plot(h.steps[:1], h.params[:1, k], color=color, linewidth=2, zorder=6,
                              label=_pretty_name(names[k]))
            (dot,) = ax.plot(h.steps[:1], h.params[:1, k], "o", color=color, markersize=4, zorder=7, clip_on=False)
            self.param_lines.append(line)
            self.param_dots.append(dot)
        if reference is not None:
            lo, hi = min(lo, min(reference[:shown])), max(hi, max(reference[:shown]))
        pad = max(0.08 * (hi - lo), 1e-3)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(0, max(int(h.steps[-1]), 1))
        ax.set_xlabel("step")
        ax.set_ylabel("coefficient" if kind in ("polynomial", "legendre", "chebyshev") else "parameter")
        handles = list(self.param_lines)
        if reference is not None:
            handles += ax.plot([], [], color=t["faint"], linewidth=1, linestyle=(0, (3, 3)), label="Taylor")
        legend = ax.legend(handles=handles, loc="upper right", ncols=len(handles) if len(handles) <= 5 else 3,
                           fontsize="x-small", handlelength=1.0, columnspacing=0.8, borderpad=0.3,
                           facecolor=t["bg"], edgecolor=t["grid"], framealpha=0.8)
        for text in legend.get_texts():
            text.set_color(t["fg"])
        self._animated += self.param_lines + self.param_dots
        if kind == "polynomial" and h.params.shape[1] <= 6:
            # the live equation sits under the fit's label: it is about the curve being drawn
            host = self.axes.get("fit", ax)
            self.equation = host.text(0.02, 0.97 - (0.08 if host is not ax else 0), "", transform=host.transAxes,
                                      va="top", ha="left", color=t["fg"], fontsize="small", zorder=7)
            self._animated.append(self.equation)

    # ---- several runs (a RunSet) -------------------------------------------------------------------

    def _fit_base(self, ax, target: str):
        """What every fit panel shows, for one run or several: held-out shading, samples, the target.

        Returns the target line (None when the History has no target: the points of a data file are the
        target, drawn in its colour), then the samples (if drawn), for the legend.
        """
        h, t = self.history, self.theme
        has_target = bool(np.isfinite(h.y).any())
        held_out = h.config.get("data", {}).get("train_domain")
        if held_out:
            for lo, hi in ((float(h.x[0]), held_out[0]), (held_out[1], float(h.x[-1]))):
                if hi > lo:
                    ax.axvspan(lo, hi, color=t["faint"], alpha=0.18, linewidth=0, zorder=0)
        handles = []
        if h.data_x is not None:
            from_file = h.config.get("data", {}).get("file")
            handles.append(ax.scatter(h.data_x, h.data_y, s=7, color=t["faint" if has_target else "target"],
                                      alpha=0.8, linewidths=0, zorder=1.5,
                                      label=f"data ({len(h.data_x)} points)" if from_file else "samples"))
        line = None
        if has_target:
            (line,) = ax.plot(h.x, h.y, color=t["target"], linewidth=2,
                              label=f"target: {target}" if target else "target")
        ax.set_xlim(float(h.x[0]), float(h.x[-1]))
        ax.set_ylim(*self._fit_ylim)
        return [line, *handles]

    def _init_fit_runs(self, spec):
        h, t, render = self.history, self.theme, self.render
        target = target_name(h)
        self._fit_ylim = fit_limits(h)
        self.pred_lines, self.trails, self.run_labels = [], [], []
        fade = [0.45 * (1 - k / (render.trail + 1)) for k in range(render.trail)]
        if not self.grid:
            ax = self.fig.add_subplot(spec)
            self._style(ax)
            self.axes["fit"] = ax
            self.fit_axes = [ax]
            handles = [a for a in self._fit_base(ax, target) if a is not None]
            for run, color, label in zip(self.runs, self.run_colors, self.history.labels):
                self.trails.append([ax.plot(h.x, run.pred[0], color=color, linewidth=1.5, zorder=5,
                                            alpha=a)[0] for a in fade])
                self.pred_lines.append(ax.plot(h.x, run.pred[0], color=color, linewidth=2, zorder=6,
                                               label=label)[0])
            ax.set_xlabel("x")
            self.label = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left", color=t["label"],
                                 zorder=7, bbox=self._label_box())
            self.run_labels = [self.label]
            # the fit panel's share of the width: 3/5 beside the other panels in a wide frame
            self._legend_above(ax, handles + self.pred_lines,
                               share=0.6 if self.wide and len(self.render.panels) > 1 else 1.0)
        else:
            bbox = spec.get_position(self.fig)
            rows, cols = grid_shape(len(self.runs), bbox.width * self.size[0] / (bbox.height * self.size[1]))
            sub = spec.subgridspec(rows, cols)
            self.fit_axes = []
            for k, (label, color) in enumerate(zip(self.history.labels, self.run_colors)):
                r, c = divmod(k, cols)
                ax = self.fig.add_subplot(sub[r, c])
                self._style(ax)
                handles = [a for a in self._fit_base(ax, target) if a is not None]
                self.trails.append([ax.plot(h.x, self.runs[k].pred[0], color=color, linewidth=1.5, zorder=5,
                                            alpha=a)[0] for a in fade])
                self.pred_lines.append(ax.plot(h.x, self.runs[k].pred[0], color=color, linewidth=2, zorder=6,
                                               label="prediction")[0])
                ax.set_title(label, color=t["fg"], fontsize="medium", pad=3)
                below = k + cols >= len(self.runs)  # nothing under it: it carries the x axis
                ax.tick_params(labelbottom=below, labelleft=c == 0, labelsize="small")
                if below:
                    ax.set_xlabel("x")
                self.run_labels.append(ax.text(0.03, 0.95, "", transform=ax.transAxes, va="top", ha="left",
                                               color=t["label"], zorder=7, fontsize="small",
                                               bbox=self._label_box()))
                self.fit_axes.append(ax)
            self.axes["fit"] = self.fit_axes[0]
            self.label = self.run_labels[0]
            # One legend for the whole grid, over it. A suptitle and an "outside" figure legend overlap
            # in the constrained layout, so the title is the legend's title.
            legend = self.fig.legend(handles=handles, loc="outside upper center", ncols=len(handles),
                                     frameon=False, borderaxespad=0.2, handlelength=1.5,
                                     title=render.title or None, title_fontsize="large")
            for text in [*legend.get_texts(), legend.get_title()]:
                text.set_color(t["fg"])
        self.pred_line = self.pred_lines[0]
        self.trail = self.trails[0]
        self._animated += [a for trail in self.trails for a in trail] + self.pred_lines + self.run_labels

    def _legend_above(self, ax, handles, share: float = 1.0):
        """A legend on top of ``ax`` in as many columns as fit the panel's width (``share`` of the figure)."""
        t = self.theme
        renderer = self.canvas.get_renderer()
        room = share * self.fig.bbox.width * 0.86
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
        for text in legend.get_texts():
            text.set_color(t["fg"])
        return legend

    def _init_loss_runs(self, spec):
        t = self.theme
        ax = self.fig.add_subplot(spec)
        self._style(ax)
        self.axes["loss"] = ax
        self.loss_lines, self.loss_dots = [], []
        finite = [run.loss[np.isfinite(run.loss)] for run in self.runs]
        values = np.concatenate(finite)
        self.loss_log = bool(values.size) and bool((values > 0).all())
        # The scale follows the runs that did not blow up (and every run's first loss): a diverging
        # run leaves through the top of the panel instead of squashing the others into a line.
        calm = [f for f, run in zip(finite, self.runs) if not run.meta.get("stopped")]
        calm += [f[:1] for f in finite]
        calm = np.concatenate(calm) if calm else values
        for run, color in zip(self.runs, self.run_colors):
            ok = np.isfinite(run.loss)
            ax.plot(run.steps[ok], run.loss[ok], color=color, linewidth=1, alpha=0.3)
            (line,) = ax.plot(run.steps[:1], run.loss[:1], color=color, linewidth=1.8, zorder=6)
            (dot,) = ax.plot(run.steps[:1], run.loss[:1], "o", color=color, markersize=4.5, zorder=7,
                             clip_on=False)
            self.loss_lines.append(line)
            self.loss_dots.append(dot)
        _loss_scale(ax, calm, self.loss_log)
        last = max(max(int(run.steps[-1]), int(run.config.get("train", {}).get("steps", 0))) for run in self.runs)
        ax.set_xlim(0, max(last, 1))
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        if self.grid or "fit" not in self.axes:  # the fit panel's legend does not name the colours
            legend = ax.legend(handles=self.loss_lines, labels=self.history.labels, loc="upper right",
                               fontsize="x-small", handlelength=1.0, borderpad=0.3, labelspacing=0.25,
                               facecolor=t["bg"], edgecolor=t["grid"], framealpha=0.8)
            legend.set_loc(self._quiet_corner(ax, legend))
            for text in legend.get_texts():
                text.set_color(t["fg"])
        self.loss_line, self.loss_dot = self.loss_lines[0], self.loss_dots[0]
        self._animated += self.loss_lines + self.loss_dots

    def _quiet_corner(self, ax, legend) -> str:
        """The corner of the loss panel where the legend covers the least of the runs' whole curves.

        Chosen once, from the complete curves, and fixed: matplotlib's ``best``
        would be chosen again at every full redraw from the curves drawn so far,
        and the cached background would then disagree with a full redraw.
        """
        box = legend.get_window_extent(self.canvas.get_renderer())
        panel = ax.get_window_extent()
        w, h = min(box.width / panel.width, 1.0), min(box.height / panel.height, 1.0)
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        log = ax.get_yscale() == "log"
        points = []
        for run in self.runs:
            ok = np.isfinite(run.loss) & ((run.loss > 0) if log else True)
            if ok.sum() < 1:
                continue
            xs = np.linspace(run.steps[ok][0], run.steps[ok][-1], 200)
            ys = np.interp(xs, run.steps[ok], np.log10(run.loss[ok]) if log else run.loss[ok])
            lo, hi = (np.log10(y0), np.log10(y1)) if log else (y0, y1)
            points.append(np.stack([(xs - x0) / (x1 - x0), (ys - lo) / (hi - lo)], axis=1))
        points = np.concatenate(points) if points else np.empty((0, 2))
        corners = {"upper right": (1 - w, 1 - h), "lower left": (0, 0), "upper left": (0, 1 - h),
                   "lower right": (1 - w, 0), "center right": (1 - w, 0.5 - h / 2)}
        covered = {loc: int(np.count_nonzero((points[:, 0] >= a) & (points[:, 0] <= a + w) &
                                             (points[:, 1] >= b) & (points[:, 1] <= b + h)))
                   for loc, (a, b) in corners.items()}
        return min(corners, key=lambda loc: covered[loc])  # ties: the first, upper right

    def run_state(self, r: int, position: float) -> tuple[np.ndarray, float, float, int]:
        """Run ``r`` at timeline ``position``: prediction, loss, its snapshot index and the timeline step.

        The run's latest snapshot at or before the step; with
        ``render.interpolate`` (smooth motion) interpolated by step between the
        run's own snapshots instead, the loss geometrically.
        """
        run, steps = self.runs[r], self.steps
        i = min(int(np.floor(position)), len(steps) - 1)
        f = position - i
        s = float(steps[i]) if f <= 0 or i >= len(steps) - 1 else (1 - f) * steps[i] + f * steps[i + 1]
        j = max(int(np.searchsorted(run.steps, s, side="right")) - 1, 0)
        if self.render.interpolate and j < len(run) - 1 and run.steps[j] < s:
            g = (s - run.steps[j]) / (run.steps[j + 1] - run.steps[j])
            return _blend(run.pred, j, g), _blend_loss(float(run.loss[j]), float(run.loss[j + 1]), g), j, s
        return run.pred[j], float(run.loss[j]), j, s

    def _in_view(self, pred: np.ndarray) -> np.ndarray:
        """``pred`` with values far outside the fit panel (a diverging run's 1e17) left out.

        Drawn as they are, two neighbouring points at -1e17 and +1e17 make a
        vertical line across the panel; beyond four panel heights a point is
        dropped (NaN), so the curve leaves the panel and does not come back.
        """
        lo, hi = self._fit_ylim
        span = hi - lo
        far = (pred < lo - 4 * span) | (pred > hi + 4 * span)
        return np.where(far, np.nan, pred) if far.any() else pred

    def _alpha(self, r: int, position: float) -> float | None:
        """Run ``r``'s prediction opacity at ``position``: faded from where :func:`~polyanim.style.fade_positions`
        says (the HTML player uses the same positions), else opaque (None)."""
        start = self.fades[r]
        return FADED_ALPHA if start is not None and position >= start else None

    def _label_box(self) -> dict | None:
        """The red label's background box (:func:`~polyanim.style.label_box`): gridlines stay behind it."""
        color = label_box(self.render.theme)
        return None if color is None else {"boxstyle": "square,pad=0.15", "facecolor": color, "edgecolor": "none"}

    def _note(self, r: int, s: float) -> str | None:
        """``stopped at step N: reason`` once the timeline has reached the last snapshot of a stopped run."""
        run = self.runs[r]
        notes = run_notes(run.meta) if s >= run.steps[-1] else []
        return "; ".join(notes) or None

    def _update_runs(self, position: float) -> list:
        changed = []
        states = [self.run_state(r, position) for r in range(len(self.runs))]
        s = states[0][3]
        step = int(round(s))
        if "fit" in self.axes:
            for r, (pred, loss, j, _) in enumerate(states):
                self.pred_lines[r].set_ydata(self._in_view(pred))
                # a run that ended early stays, faded, on its last finite snapshot (a stall does not fade)
                self.pred_lines[r].set_alpha(self._alpha(r, position))
                for k, line in enumerate(self.trails[r], start=1):
                    line.set_ydata(self._in_view(self.run_state(r, max(position - k * self.trail_step, 0.0))[0]))
            # in the order a full redraw draws them (by zorder): every trail under every prediction
            changed += [line for trail in self.trails for line in trail] + self.pred_lines
            if self.grid:
                for r, (pred, loss, j, _) in enumerate(states):
                    note = self._note(r, s)
                    if note:  # two lines: a small panel is narrow
                        note = note.replace(": ", "\n", 1)
                    self.run_labels[r].set_text(loss_label(step, loss) + (f"\n{note}" if note else ""))
            else:
                lines = [f"t={step}"]
                for r, label in enumerate(self.history.labels):
                    note = self._note(r, s)
                    if note:
                        lines.append(f"{label}: {note}")
                self.label.set_text("\n".join(lines))
            changed += self.run_labels
        if "loss" in self.axes:
            lo, hi = self.axes["loss"].get_ylim()
            for r, (pred, loss, j, _) in enumerate(states):
                run = self.runs[r]
                if s >= run.steps[-1]:  # finished or stopped: its whole curve, the dot on its last snapshot
                    xs, ys, dot = run.steps, run.loss, (float(run.steps[-1]), float(run.loss[-1]))
                else:
                    xs, ys = np.append(run.steps[: j + 1], step), np.append(run.loss[: j + 1], loss)
                    dot = (step, loss)
                self.loss_lines[r].set_data(xs, ys)
                inside = np.isfinite(dot[1]) and lo <= dot[1] <= hi  # a diverged run leaves the panel
                self.loss_dots[r].set_data([dot[0]] if inside else [], [dot[1]] if inside else [])
            changed += self.loss_lines + self.loss_dots
        return changed

    def init(self) -> list:
        """FuncAnimation's ``init_func``: show snapshot 0."""
        return self.update(0)

    def state(self, position: float) -> tuple[np.ndarray, int, float]:
        """Prediction, step and loss at a snapshot position; between two snapshots, interpolated.

        Predictions and steps are interpolated linearly, the loss geometrically
        when both ends are positive (it is drawn on a log scale).
        """
        if self.multi:  # the first run's
            pred, loss, _, s = self.run_state(0, position)
            return pred, int(round(s)), loss
        h = self.history
        i = min(int(np.floor(position)), len(h) - 1)
        f = position - i
        if f <= 0 or i == len(h) - 1:
            return h.pred[i], int(h.steps[i]), float(h.loss[i])
        return (_blend(h.pred, i, f), int(round(_blend(h.steps, i, f))),
                _blend_loss(float(h.loss[i]), float(h.loss[i + 1]), f))

    def update(self, position: float) -> list:
        """Set every moving artist to snapshot ``position`` (an index, or between two); return them."""
        if self.multi:
            return self._update_runs(position)
        h = self.history
        pred, step, loss = self.state(position)
        i = int(np.floor(position))
        changed = []
        if "fit" in self.axes:
            self.pred_line.set_ydata(pred)
            self.pred_line.set_alpha(self._alpha(0, position))
            text = loss_label(step, loss)
            if position >= len(h) - 1:
                text += "".join(f"\n{note}" for note in run_notes(h.meta))
            self.label.set_text(text)
            changed += [self.pred_line, self.label]
            for k, line in enumerate(self.trail, start=1):
                line.set_ydata(self.state(max(position - k * self.trail_step, 0.0))[0])
            changed = self.trail + changed
        if "loss" in self.axes:
            self.loss_line.set_data(np.append(h.steps[: i + 1], step), np.append(h.loss[: i + 1], loss))
            self.loss_dot.set_data([step], [loss])
            changed += [self.loss_line, self.loss_dot]
        if "params" in self.axes and self.param_lines:
            coefs = self.params_at(position)
            for k, (line, dot) in enumerate(zip(self.param_lines, self.param_dots)):
                line.set_data(np.append(h.steps[: i + 1], step), np.append(h.params[: i + 1, k], coefs[k]))
                dot.set_data([step], [coefs[k]])
            changed += self.param_lines + self.param_dots
            if self.equation is not None:
                self.equation.set_text(equation(coefs))
                changed.append(self.equation)
        return changed

    def params_at(self, position: float) -> np.ndarray:
        """Parameters at a snapshot position, linearly interpolated between snapshots."""
        p = self.history.params
        i = min(int(np.floor(position)), len(p) - 1)
        f = position - i
        return p[i] if f <= 0 or i == len(p) - 1 else _blend(p, i, f)

    def frame(self, i: float) -> memoryview:
        """Snapshot position ``i`` as an RGBA buffer of shape (height, width, 4), by blitting.

        The buffer is the canvas' own memory: it is valid until the next call,
        so consumers copy or write it out before asking for another frame.
        """
        if i != self._last:
            with _no_hinting():
                if self._background is None:
                    for artist in self._animated:
                        artist.set_animated(True)
                    self._draw()
                    self._background = self.canvas.copy_from_bbox(self.fig.bbox)
                self.canvas.restore_region(self._background)
                for artist in self.update(i):
                    self.fig.draw_artist(artist)
            self._last = i
        return self.canvas.buffer_rgba()

    def freeze_layout(self) -> None:
        """Draw once, which fixes the layout: later full draws (a FuncAnimation's) match the frames."""
        if self.fig.get_layout_engine() is not None and not isinstance(self.fig.get_layout_engine(),
                                                                       PlaceHolderLayoutEngine):
            self._draw()

    def _draw(self) -> None:
        """A full draw of the figure; the first one fixes the layout for good.

        The constrained layout is solved iteratively: solved again, it can move
        a panel by a fraction of a pixel, and the cached background would then
        not match a later full redraw. Every draw after the first keeps the
        first one's layout.
        """
        self.canvas.draw()
        self.fig.set_layout_engine("none")  # from here on the layout stays as this draw left it

    def full_frame(self, i: float) -> np.ndarray:
        """Snapshot ``i`` by a full redraw of the figure (the reference the blitted path must match)."""
        for artist in self._animated:
            artist.set_animated(False)
        self.update(i)
        with _no_hinting():
            self._draw()
        image = np.array(self.canvas.buffer_rgba())
        for artist in self._animated:
            artist.set_animated(True)
        self._background = None
        self._last = None
        return image
