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

from .style import PARAM_COLORS, THEMES, y_limits
from .targets import taylor

BASE_SIZE = (640, 480)  # the size at which render.dpi is taken literally
# FreeType's auto-hinter (matplotlib's default) costs half the time of every
# frame's label for no visible gain at these sizes (benchmarks/render_bench.py).
# Set and restored around each draw, not with rc_context, which copies every rcParam (0.2 ms a frame).
HINTING = "none"


def loss_label(step: int, loss: float) -> str:
    """The original post's red label, ``t=100, Loss=1234.5678``."""
    return f"t={step}, Loss={loss:.4f}" if abs(loss) < 1e6 else f"t={step}, Loss={loss:.4g}"


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
    if wide:
        grid = fig.add_gridspec(1, 2, width_ratios=[3, 2])
        sub = grid[0, 1].subgridspec(len(others), 1)
        specs = {p: sub[k, 0] for k, p in enumerate(others)}
        specs["fit"] = grid[0, 0]
    else:
        grid = fig.add_gridspec(2, 1, height_ratios=[2 if len(others) == 1 else 1.6, 1])
        sub = grid[1, 0].subgridspec(1, len(others))
        specs = {p: sub[0, k] for k, p in enumerate(others)}
        specs["fit"] = grid[0, 0]
    return {p: specs[p] for p in panels}


@contextmanager
def _no_hinting():
    params = matplotlib.rcParams
    old = params["text.hinting"]
    params["text.hinting"] = HINTING
    try:
        yield
    finally:
        params["text.hinting"] = old


class Scene:
    """Draws snapshot ``i`` of a History with the options of a ``render`` config section.

    ``size`` overrides ``render.size`` (writers that need even dimensions pass
    them). Create once, then call :meth:`frame` for each frame index.
    """

    def __init__(self, history, render, size: tuple[int, int] | None = None):
        self.history = history
        self.render = render
        self.size = tuple(size or render.size)
        w, h = self.size
        theme = THEMES[render.theme]
        self.theme = theme
        # Scale dpi with the output so a 320x240 and a 1920x1080 frame show the same layout.
        dpi = render.dpi * min(w / BASE_SIZE[0], h / BASE_SIZE[1])
        self.fig = Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor=theme["bg"], layout="constrained")
        self.fig.get_layout_engine().set(w_pad=4 / 72, h_pad=4 / 72)
        self.canvas = FigureCanvasAgg(self.fig)
        self._animated = []
        self.trail_step = 1.0 / (render.interpolate + 1) if render.interpolate else 1.0
        self._background = None
        self._last = None
        self.axes = {}
        specs = _layout(self.fig, list(render.panels), wide=w / h >= 1.6)
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
        data = h.config.get("data", {})
        target = data.get("target", "target")
        held_out = data.get("train_domain")
        if held_out:  # shade where the model was not trained: the prediction there is extrapolation
            for lo, hi in ((float(h.x[0]), held_out[0]), (held_out[1], float(h.x[-1]))):
                if hi > lo:
                    ax.axvspan(lo, hi, color=t["faint"], alpha=0.18, linewidth=0, zorder=0)
        data_x, data_y = getattr(h, "data_x", None), getattr(h, "data_y", None)
        if data_x is not None:  # the training samples, drawn once into the static background
            ax.scatter(data_x, data_y, s=7, color=t["faint"], alpha=0.8, linewidths=0, zorder=1.5,
                       label="samples")
        ax.plot(h.x, h.y, color=t["target"], linewidth=2, label=f"target: {target}")
        # the trail: the last few predictions, fading, under the current one
        self.trail = [ax.plot(h.x, h.pred[0], color=t["pred"], linewidth=1.5, zorder=5,
                              alpha=0.45 * (1 - k / (self.render.trail + 1)))[0] for k in range(self.render.trail)]
        (self.pred_line,) = ax.plot(h.x, h.pred[0], color=t["pred"], linewidth=2, label="prediction",
                                    zorder=6)
        self.label = ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", ha="left",
                             color=t["label"], zorder=7)
        ax.set_xlim(float(h.x[0]), float(h.x[-1]))
        ax.set_ylim(*y_limits(h.y if data_x is None else np.concatenate([h.y, data_y]), h.pred))
        ax.set_xlabel("x")
        legend = ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=2 if data_x is None else 3,
                           frameon=False, borderaxespad=0.2, handlelength=1.5)
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
        if log:
            ax.set_yscale("log")
            lo, hi = np.log10(h.loss[positive].min()), np.log10(h.loss[positive].max())
            pad = max(0.05 * (hi - lo), 0.05)
            ax.set_ylim(10 ** (lo - pad), 10 ** (hi + pad))
        elif finite.any():
            lo, hi = h.loss[finite].min(), h.loss[finite].max()
            pad = max(0.05 * (hi - lo), 1e-12)
            ax.set_ylim(lo - pad, hi + pad)
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
        kind = config.get("model", {}).get("kind", "polynomial")
        reference = None
        domain = config.get("data", {}).get("domain", [float(h.x[0]), float(h.x[-1])])
        if kind == "polynomial" and domain[0] <= 0 <= domain[1] and "target" in config.get("data", {}):
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
        ax.set_ylabel("coefficient")
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

    def init(self) -> list:
        """FuncAnimation's ``init_func``: show snapshot 0."""
        return self.update(0)

    def state(self, position: float) -> tuple[np.ndarray, int, float]:
        """Prediction, step and loss at a snapshot position; between two snapshots, interpolated.

        Predictions and steps are interpolated linearly, the loss geometrically
        when both ends are positive (it is drawn on a log scale).
        """
        h = self.history
        i = int(np.floor(position))
        f = position - i
        if f <= 0 or i >= len(h) - 1:
            i = min(i, len(h) - 1)
            return h.pred[i], int(h.steps[i]), float(h.loss[i])
        a, b = float(h.loss[i]), float(h.loss[i + 1])
        loss = a ** (1 - f) * b ** f if a > 0 and b > 0 else (1 - f) * a + f * b
        return ((1 - f) * h.pred[i] + f * h.pred[i + 1], int(round((1 - f) * h.steps[i] + f * h.steps[i + 1])), loss)

    def update(self, position: float) -> list:
        """Set every moving artist to snapshot ``position`` (an index, or between two); return them."""
        h = self.history
        pred, step, loss = self.state(position)
        i = int(np.floor(position))
        changed = []
        if "fit" in self.axes:
            self.pred_line.set_ydata(pred)
            text = loss_label(step, loss)
            stopped = h.meta.get("stopped")
            if stopped and position >= len(h) - 1:
                text += f"\nstopped at step {stopped['step']}: {stopped['reason']}"
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
        return p[i] if f <= 0 or i >= len(p) - 1 else (1 - f) * p[i] + f * p[i + 1]

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
                    self.canvas.draw()
                    self._background = self.canvas.copy_from_bbox(self.fig.bbox)
                self.canvas.restore_region(self._background)
                for artist in self.update(i):
                    self.fig.draw_artist(artist)
            self._last = i
        return self.canvas.buffer_rgba()

    def full_frame(self, i: float) -> np.ndarray:
        """Snapshot ``i`` by a full redraw of the figure (the reference the blitted path must match)."""
        for artist in self._animated:
            artist.set_animated(False)
        self.update(i)
        with _no_hinting():
            self.canvas.draw()
        image = np.array(self.canvas.buffer_rgba())
        for artist in self._animated:
            artist.set_animated(True)
        self._background = None
        self._last = None
        return image
