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

from .history import RunSet, kind_of
from .panels.registry import PANELS, kind_problem, pair_given, panel_class, several_runs_problem
from .panels.base import View
from .style import THEMES, cell_aspect, grid_shape, no_bidi, panel_grid
from .timeline import Timeline
from .user_landscape import recorded

BASE_SIZE = (640, 480)  # the size at which render.dpi is taken literally
# FreeType's auto-hinter (matplotlib's default) costs half the time of every
# frame's label for no visible gain at these sizes (benchmarks/render_bench.py).
# Set and restored around each draw, not with rc_context, which copies every rcParam (0.2 ms a frame).
HINTING = "none"


def _layout(fig, panels: list[str], wide: bool) -> dict:
    """Subplot specs from :func:`polyanim.style.panel_grid` (the HTML player lays its panels out by the same rule).

    One gridspec, the fit panel spanning the others' row (or column): the constrained layout then
    gives the fit panel and the first other panel the same left edge (a nested gridspec did not).
    """
    rows, cols, widths, heights, cells = panel_grid(panels, wide)
    grid = fig.add_gridspec(rows, cols, width_ratios=widths, height_ratios=heights)
    return {p: grid[r0:r1, c0:c1] for p, (r0, r1, c0, c1) in cells.items()}


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


class Scene:
    """Draws frame position ``i`` of a History or RunSet with the options of a ``render`` config section.

    ``size`` overrides ``render.size`` (writers that need even dimensions pass
    them). Create once, then call :meth:`frame` for each frame position.

    What each run shows at a position comes from a :class:`~polyanim.timeline.Timeline`
    (a lone History is a set of one run); each panel of ``render.panels``
    (:mod:`polyanim.panels`) draws it and says what changed. ``render.layout``
    ``grid`` gives several runs one fit panel each, with shared limits. A
    panel that shows one run only (``one_run`` in its registry entry) is refused for a RunSet.
    ``panels`` maps each panel's name to its object, ``axes`` to its (first) Axes;
    ``captions`` are the caption texts (:meth:`~polyanim.panels.base.View.caption`).
    """

    def __init__(self, history, render, size: tuple[int, int] | None = None):
        problem = several_runs_problem(render.panels) if isinstance(history, RunSet) else None
        runs = history.histories if isinstance(history, RunSet) else [history]
        kind = kind_of(history)
        problem = problem or kind_problem(render.panels, kind, pair_given(kind, render, recorded(runs) is not None))
        if problem:
            raise ValueError(f"render.panels: {problem}")
        self.render = render
        self.size = tuple(size or render.size)
        w, h = self.size
        self.theme = THEMES[render.theme]
        # Scale dpi with the output so a 320x240 and a 1920x1080 frame show the same layout.
        dpi = render.dpi * min(w / BASE_SIZE[0], h / BASE_SIZE[1])
        self.fig = _Figure(figsize=(w / dpi, h / dpi), dpi=dpi, facecolor=self.theme["bg"], layout="constrained")
        self.fig.get_layout_engine().set(w_pad=4 / 72, h_pad=4 / 72)
        self.canvas = FigureCanvasAgg(self.fig)
        self._background = None
        self._last = None
        self._view = None
        self.history = history
        view = self._view = View(fig=self.fig, canvas=self.canvas, render=render, timeline=self.timeline,
                                 size=self.size)
        self.run_colors = [] if view.single else view.colors  # [] : the theme's colours only
        self.axes = view.axes
        self.panels = {}
        self._animated = []
        specs = _layout(self.fig, list(render.panels), wide=view.wide)
        # the main panel's Axes first, as they always were: the constrained layout depends on the order
        for name in sorted(specs, key=lambda p: not PANELS[p].main):
            axes = self._axes(specs[name], view, per_run=view.grid and PANELS[name].cell_per_run, name=name)
            view.axes[name] = axes[0]
            self.panels[name] = panel_class(name)()
            self._animated += self.panels[name].setup(axes, self.timeline.runs, view)
        self._animated += view.place_captions()
        # colours a GIF palette must hold exactly: the runs' and those panels ask for (field panels)
        self.pins = list(dict.fromkeys(self.run_colors + [c for p in self.panels.values()
                                                           for c in getattr(p, "pins", ())]))
        self.captions = view.caption_texts  # the texts panels asked for (View.caption), in order
        if render.title and not view.grid:  # the grid's figure legend carries the title (panels.fit)
            self.fig.suptitle(no_bidi(render.title), color=self.theme["fg"])
        for artist in self._animated:
            # the layout is computed once, from the static parts: moving artists must not
            # move the axes (a marker at the edge would otherwise shift a whole panel)
            artist.set_in_layout(False)

    def _axes(self, spec, view: View, per_run: bool, name: str) -> list:
        """The styled Axes of one panel: one, or a grid of one per run (small multiples, cells near 4:3)."""
        if per_run:
            n = len(self.timeline.runs)
            # the cell's aspect as matplotlib places it before the layout; the HTML player uses the same rule
            rows, cols = grid_shape(n, cell_aspect(self.render.panels, name, self.size))
            sub = spec.subgridspec(rows, cols)
            specs = [sub[divmod(k, cols)] for k in range(n)]
        else:
            specs = [spec]
        axes = [self.fig.add_subplot(s) for s in specs]
        for ax in axes:
            self._style(ax)
        return axes

    @property
    def history(self):
        """The History (or RunSet) drawn; assigning a longer one of the same run (a live view) is allowed."""
        return self._history

    @history.setter
    def history(self, history):
        self._history = history
        self.timeline = Timeline.for_render(history, self.render)
        if self._view is not None:  # the panels read the runs' labels and count from it
            self._view.timeline = self.timeline

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

    def init(self) -> list:
        """FuncAnimation's ``init_func``: show snapshot 0."""
        return self.update(0)

    def update(self, position: float) -> list:
        """Set every moving artist to frame ``position`` (an index, or between two); return those that changed."""
        states = self.timeline.states(position)
        changed = []
        for panel in self.panels.values():
            changed += panel.update(states)
        return changed + self._view.update_captions(states)

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

