"""The panel protocol, the view every panel is set up with, and what the panels over steps share.

A panel is a small class with two methods:

- ``setup(axes, runs, view) -> list of artists``: draw the static parts on
  ``axes`` (a list: one Axes, or one per run for the fit panel in
  ``layout: grid``), create the moving artists and return them;
- ``update(states) -> list of artists``: set the moving artists to the
  :class:`~polyanim.timeline.RunState` of every run and return those that
  changed, in drawing order.

Axis limits are fixed in ``setup`` from the whole History, so the scene can
blit. Optional hooks:

- ``player(ctx) -> dict`` (a classmethod, no matplotlib): the panel's share of
  the HTML player's payload in generic draw items (:mod:`polyanim.player_kit`);
- ``live_limits(history, steps) -> bool``: widen the panel's axes to a live
  window's partial History (``steps`` is ``train.steps``); whether any limit
  changed. Without it the limits stay as ``setup`` set them.
- ``pins`` (a list of ``#rrggbb`` set by ``setup``): colours a GIF's palette
  must hold exactly, beyond the theme's and the runs' (the field panels' class
  colours: a small palette's median cut would otherwise shift them).

A panel never draws into another panel's Axes: a line of text about the main
panel's curve goes through :meth:`View.caption`. Capabilities (one Axes per run,
the runs' legend, one run only, the main panel) are declared on the panel's
:class:`~polyanim.panels.registry.PanelSpec`. Register a new panel in
:mod:`polyanim.panels.registry`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from .. import player_kit, style
from ..timeline import Timeline
from .registry import PANELS, main_panel


class Panel(Protocol):
    def setup(self, axes: list, runs: list, view: "View") -> list: ...

    def update(self, states: list) -> list: ...


@dataclass
class View:
    """What a panel may know about the figure it draws into (filled by the scene)."""

    fig: object                 # the matplotlib Figure
    canvas: object              # its Agg canvas (legends measure themselves with its renderer)
    render: object              # the render config section
    timeline: Timeline
    size: tuple[int, int]
    axes: dict = field(default_factory=dict)  # panel name -> its (first) Axes, as the panels are set up
    captions: list = field(default_factory=list)  # (Axes of the panel asking, text of the states), in order
    caption_texts: list = field(default_factory=list)  # their texts, once placed

    @property
    def theme(self) -> dict:
        """The theme's colours with ``render.colors``' target and prediction put in."""
        return player_kit.ink(self.render.theme, self.tints)

    @property
    def tints(self) -> dict:
        return dataclasses.asdict(self.render.colors)

    @property
    def single(self) -> bool:
        return self.timeline.single

    @property
    def grid(self) -> bool:
        # several fields always get a cell each (overlaid decision regions would hide each other)
        return not self.single and (self.render.layout == "grid" or self.timeline.source.kind == "field")

    @property
    def wide(self) -> bool:
        return style.is_wide(self.size)

    @property
    def colors(self) -> list[str]:
        """One colour per run (:func:`~polyanim.player_kit.run_colors`), as the player picks them."""
        return player_kit.run_colors(self.render.theme, self.tints, len(self.timeline.runs), self.single)

    def label_box(self) -> dict | None:
        """The red label's background box (:func:`~polyanim.style.label_box`): gridlines stay behind it."""
        color = style.label_box(self.render.theme)
        return None if color is None else {"boxstyle": "square,pad=0.15", "facecolor": color, "edgecolor": "none"}

    @property
    def main(self) -> str | None:
        """The figure's main panel (:func:`~polyanim.panels.registry.main_panel`), or None."""
        return main_panel(self.render.panels)

    def runs_legend_here(self, name: str) -> bool:
        """Whether panel ``name`` names the runs' colours: of the panels whose entry says it can
        (``names_runs``), the first one does, for several runs, when no overlay main panel names
        them in its own legend."""
        if self.single or (self.main is not None and not self.grid):
            return False
        return name == next((p for p in self.render.panels if PANELS[p].names_runs), None)

    def caption(self, ax, text_of) -> None:
        """Ask for a line of text about the drawn curve (``text_of(states) -> str``): under the main
        panel's label when the figure has one, else at the top left of ``ax`` (the asking panel's own).
        The scene creates and updates it after every panel is set up (:meth:`place_captions`)."""
        self.captions.append((ax, text_of))

    def place_captions(self) -> list:
        """Create the captions' texts (see :meth:`caption`); returns them, the moving artists they are."""
        host = self.axes.get(self.main) if self.main is not None else None
        self.caption_texts = []
        for ax, _ in self.captions:
            at = host if host is not None else ax
            self.caption_texts.append(at.text(0.02, 0.97 - (0.08 if at is not ax else 0), "",
                                               transform=at.transAxes, va="top", ha="left", color=self.theme["fg"],
                                               fontsize="small", zorder=7))
        return list(self.caption_texts)

    def update_captions(self, states) -> list:
        """Set every caption to ``states``; returns the texts."""
        for text, (_, text_of) in zip(self.caption_texts, self.captions):
            text.set_text(text_of(states))
        return list(self.caption_texts)


def color_texts(legend, color: str) -> None:
    """Write a legend's texts (and title) in the theme's ink."""
    for text in [*legend.get_texts(), legend.get_title()]:
        text.set_color(color)


def quiet_corner(ax, legend, canvas, curves) -> str:
    """The corner of ``ax`` where ``legend`` covers the least of ``curves`` (pairs of steps, values).

    Chosen once, from the complete curves, and fixed: matplotlib's ``best``
    would be chosen again at every full redraw from the curves drawn so far,
    and the cached background would then disagree with a full redraw. The
    rule is :func:`polyanim.style.quiet_corner` (the HTML player's too).
    """
    box = legend.get_window_extent(canvas.get_renderer())
    panel = ax.get_window_extent()
    w, h = min(box.width / panel.width, 1.0), min(box.height / panel.height, 1.0)
    return style.quiet_corner((w, h), ax.get_xlim(), ax.get_ylim(), ax.get_yscale() == "log", curves)


def short_log_axis(ax, lo: float, hi: float) -> bool:
    """A log y axis of less than about a decade: labels at 1, 2, 5 x 10^k only, or a few plain ticks
    (:func:`~polyanim.player_kit.short_log_ticks`, the player's rule too); a wider one keeps matplotlib's.
    Whether it was wide (two decade ticks or more)."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullFormatter, ScalarFormatter

    a, b = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    if b - a + 1 >= 2:  # two decade ticks or more: matplotlib labels only those
        return True
    few = player_kit.short_log_ticks(lo, hi)
    if few:
        texts = {m * 10.0 ** e: (f"{m}" + r"\times" if m > 1 else "") + f"10^{{{e}}}" for m, e in few}
        ax.yaxis.set_major_locator(FixedLocator(list(texts)))
        ax.yaxis.set_major_formatter(FuncFormatter(
            lambda v, _: next((f"${t}$" for at, t in texts.items() if math.isclose(v, at)), "")))
    else:
        ax.yaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())
    return False


def no_data(ax, text: str, color: str) -> None:
    """An empty panel that says why it is empty."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color=color)
    ax.set_xticks([])
    ax.set_yticks([])


def grow(lim: tuple[float, float], values: np.ndarray, log: bool) -> tuple[float, float]:
    """``lim`` widened to hold ``values``, with room to spare (a decade on log axes, half a span on linear),
    so a live window redraws its background rarely."""
    lo, hi = lim
    values = values[np.isfinite(values)]
    if log:
        values = values[values > 0]
    if not values.size:
        return lo, hi
    v_lo, v_hi = float(values.min()), float(values.max())
    if log:
        if v_lo < lo:
            lo = 10.0 ** (math.floor(math.log10(v_lo)) - 1)
        if v_hi > hi:
            hi = 10.0 ** (math.log10(v_hi) + 0.5)
    else:
        span = max(hi - lo, abs(hi) * 0.1, 1e-12)
        if v_lo < lo:
            lo = v_lo - span / 2
        if v_hi > hi:
            hi = v_hi + span / 2
    return lo, hi


def set_limits(ax, xlim, ylim) -> bool:
    """Set ``ax``'s limits to ``xlim`` and ``ylim`` (None: keep); whether either changed."""
    changed = False
    for new, get, put in ((xlim, ax.get_xlim, ax.set_xlim), (ylim, ax.get_ylim, ax.set_ylim)):
        if new is not None and tuple(new) != tuple(get()):
            put(*new)
            changed = True
    return changed


def grow_over_steps(ax, history, steps: int) -> bool:
    """The live rule of a panel over the steps: the x axis spans the whole run (``steps``, or further if
    the run went on) from the start, the y axis widens to hold every line drawn so far."""
    lines = [np.asarray(line.get_ydata(), dtype=np.float64).ravel() for line in ax.get_lines()]
    values = np.concatenate(lines) if lines else np.empty(0)
    log = ax.get_yscale() == "log"
    new_y = grow(ax.get_ylim(), values, log)
    changed = set_limits(ax, (0.0, float(max(steps, int(history.steps[-1]), 1))), new_y)
    if changed and log:  # ticks fixed for the first snapshots' span (short_log_axis) would stay on a wider one
        ax.set_yscale("log")  # matplotlib's own log ticks again, then the short rule if still under a decade
        ax.set_ylim(*new_y)
        if short_log_axis(ax, *new_y):
            # grow() puts the low end exactly on a decade, which matplotlib counts one decade short
            # (log(0.01, 10) is a hair above -2): it then labelled every minor tick of a loss falling
            # 1-2 decades, crowding the axis and pushing its label out of the window
            from matplotlib.ticker import NullFormatter

            ax.yaxis.set_minor_formatter(NullFormatter())
    return changed


class StepCurves:
    """Per run, a recorded series (``key``: ``loss`` or ``lr``) over the steps.

    The whole curve faint, the part so far bold with a dot on the current
    step; a run that has ended shows its whole curve and the dot on its last
    snapshot, and a dot outside the panel (a diverged run) is not drawn.
    Runs without the series (None) draw nothing.
    """

    def __init__(self, ax, runs, view: View, key: str):
        self.ax, self.key = ax, key
        self.lines, self.dots = [], []
        t, single = view.theme, view.single
        for run, color in zip(runs, view.colors):
            values = getattr(run, key)
            if values is None:
                self.lines.append(None)
                self.dots.append(None)
                continue
            ok = np.isfinite(values)
            # far beyond any panel's limits (style.value_limits); nearer float64's end autoscaling overflows
            shown = np.clip(values[ok], -1e300, 1e300)
            if single:
                ax.plot(run.steps[ok], shown, color=t["faint"], linewidth=1)
            else:
                ax.plot(run.steps[ok], shown, color=color, linewidth=1, alpha=0.3)
            (line,) = ax.plot(run.steps[:1], values[:1], color=color, linewidth=2 if single else 1.8, zorder=6)
            (dot,) = ax.plot(run.steps[:1], values[:1], "o", color=t["label"] if single else color,
                             markersize=5 if single else 4.5, zorder=7, clip_on=False)
            self.lines.append(line)
            self.dots.append(dot)
        ax.set_xlim(0, style.step_limit(runs, single=single))
        ax.set_xlabel("step")

    @property
    def artists(self) -> list:
        """The moving artists in drawing order: every line, then every dot."""
        return [a for a in self.lines if a is not None] + [a for a in self.dots if a is not None]

    def scale(self, view: View, name: str, log: bool, limits, label: str) -> None:
        """Fix the y axis (log or linear, ``limits`` unless None), name it, and add the runs' legend
        when this panel (``name``) carries it (:meth:`View.runs_legend_here`)."""
        if limits is not None:  # first too: autoscaling a loss near 1e308 for the new scale would overflow
            self.ax.set_ylim(*limits)
        if log:
            self.ax.set_yscale("log")
        if limits is not None:
            self.ax.set_ylim(*limits)
            if log:
                short_log_axis(self.ax, *limits)
        self.ax.set_ylabel(label)
        if view.runs_legend_here(name):
            self.legend(view)

    def legend(self, view: View) -> None:
        """The runs' labels in their colours, in the corner where they hide the least of the curves."""
        t = view.theme
        shown = [k for k, line in enumerate(self.lines) if line is not None]
        legend = self.ax.legend(handles=[self.lines[k] for k in shown],
                                labels=[view.timeline.labels[k] for k in shown], loc="upper right",
                                fontsize="x-small", handlelength=1.0, borderpad=0.3, labelspacing=0.25,
                                facecolor=t["bg"], edgecolor=t["grid"], framealpha=0.8)
        curves = [(run.steps, getattr(run, self.key)) for run in view.timeline.runs
                  if getattr(run, self.key) is not None]
        legend.set_loc(quiet_corner(self.ax, legend, view.canvas, curves))
        color_texts(legend, t["fg"])

    def live_limits(self, history, steps: int) -> bool:
        """:func:`grow_over_steps` on this panel's Axes."""
        return grow_over_steps(self.ax, history, steps)

    def update(self, states) -> list:
        lo, hi = self.ax.get_ylim()
        for line, dot, state in zip(self.lines, self.dots, states):
            if line is None:
                continue
            run, values, now = state.run, getattr(state.run, self.key), getattr(state, self.key)
            if state.ended:  # finished or stopped: its whole curve, the dot on its last snapshot
                xs, ys, at = run.steps, values, (float(run.steps[-1]), float(values[-1]))
            else:
                j = state.index
                xs, ys = np.append(run.steps[: j + 1], state.step), np.append(values[: j + 1], now)
                at = (state.step, now)
            line.set_data(xs, ys)
            inside = np.isfinite(at[1]) and lo <= at[1] <= hi  # a diverged run leaves the panel
            dot.set_data([at[0]] if inside else [], [at[1]] if inside else [])
        return self.artists
