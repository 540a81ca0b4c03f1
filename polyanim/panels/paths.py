"""The paths panel: optimizers racing across a loss surface of two parameters (issue 18).

The surface is drawn once as filled contours (log-spaced levels when its
values span decades): static artists, so the scene's cached background holds
them. Its minima (stars) and saddles (crosses) are drawn with the moving
artists, over the paths that reach them. Each run's path so far is a line in its
run colour with a dot at its head; a run that leaves the domain is cut where
it crossed the edge and marked there with a cross, and so is a run that
diverged, at its last point. Every run's path is its History's ``path``
(every step's pair, a race's; :func:`full_path`), else its ``params``
(``[F, 2]``: chords between snapshots), and the surface the runs' config's
``problem`` section (:func:`polyanim.surfaces.surface`); for a model
linear in its parameters and ``render.path_params``, two of the coefficients
over their exact loss slice (:mod:`polyanim.landscape`); for a model of your
own, the two parameters you recorded over the loss your Recorder evaluated on
a grid (:mod:`polyanim.user_landscape`).

The geometry (:func:`contour_levels`, :func:`clip_path`) is numpy only, for
the HTML player to reuse.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .. import style, surfaces
from ..player_kit import image, legend, series, stroke
from ..errors import InputError
from ..landscape import history_slice, path_indices, slice_surface
from ..user_landscape import grid_surface, recorded
from .base import View, color_texts, no_data, quiet_corner

LEVELS = 14          # filled contour bands
DECADES = 2.0        # a surface whose positive values span this many decades gets log-spaced levels
MESH = 160           # mesh points per axis for the contours


def contour_levels(z: np.ndarray, n: int = LEVELS) -> tuple[np.ndarray, bool]:
    """The contour levels for surface values ``z`` and whether they are log-spaced.

    Log-spaced from a floor (the 0.5th percentile, at least a millionth of the
    top: a minimum of exactly 0 has no logarithm) when all values are
    non-negative and span :data:`DECADES` decades above it; else linear.
    """
    finite = z[np.isfinite(z)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if hi <= lo:
        return np.array([lo - 0.5, lo + 0.5]), False
    if lo >= 0 and hi > 0:
        floor = max(float(np.percentile(finite, 0.5)), hi * 1e-6)
        if np.log10(hi / floor) >= DECADES:
            return np.geomspace(floor, hi, n), True
    return np.linspace(lo, hi, n), False


def clip_path(points: np.ndarray, domain) -> tuple[np.ndarray, np.ndarray | None]:
    """The part of a path ``[k, 2]`` inside ``domain`` up to where it first leaves, and that exit point.

    The exit point (None when the path stays inside) is where the segment that
    leaves crosses the domain's edge; a non-finite point counts as outside.
    """
    outside = surfaces.outside(points, domain)
    if not outside.any():
        return points, None
    k = int(np.argmax(outside))
    if k == 0:
        return points[:0], None  # started outside: nothing to draw
    a, b = points[k - 1], points[k]
    if not np.isfinite(b).all():
        return points[:k], a.copy()
    d = b - a
    # the largest fraction of the step that stays in the box on both axes
    t = 1.0
    for axis, (lo, hi) in enumerate(domain):
        if d[axis] > 0:
            t = min(t, (hi - a[axis]) / d[axis])
        elif d[axis] < 0:
            t = min(t, (lo - a[axis]) / d[axis])
    return points[:k], a + max(t, 0.0) * d


def _problem(runs, view) -> dict | None:
    for source in [*runs, view.timeline.source]:
        problem = getattr(source, "config", {}).get("problem")
        if problem:
            return problem
    return None


def landscape(runs, view: View):
    """What the panel draws: ``(surface, columns, axis names)``, or the line saying what it lacks.

    A ``problem:`` section's test function with the runs' two parameters; a
    loss your Recorder evaluated on a grid (``Recorder(landscape=)``); or,
    with ``render.path_params`` naming two coefficients of a linear model,
    the exact loss slice over them through the final point of the run that
    ended lowest (the other runs' paths are drawn on it too).
    """
    problem = _problem(runs, view)
    with_params = [r for r in runs if r.params is not None]
    if problem is not None:
        if not any(r.params.shape[1] == 2 for r in with_params):
            return "paths need runs with two parameters"
        return surfaces.surface(**{k: v for k, v in problem.items() if k != "steps"}), (0, 1), ["x", "y"]
    given = recorded(runs)
    if given is not None:  # your own model's loss, evaluated by the Recorder on a grid
        try:
            surface, names = grid_surface(given)
        except InputError as exc:
            return _said(exc)
        return surface, (0, 1), names
    chosen = getattr(view.render, "path_params", None) if view.render is not None else None
    if not chosen:
        return "paths need a problem: section,\nrender.path_params (a linear model)\nor Recorder(landscape=)"
    try:
        if not with_params:
            history_slice(runs[0], 0, 1)  # raises why: a model not linear, or too large to keep its coefficients
        names = with_params[0].meta.get("param_names") or [f"c{k}" for k in range(with_params[0].params.shape[1])]
        i, j = path_indices(chosen, names)
        best = min(with_params, key=lambda r: r.loss[-1] if np.isfinite(r.loss[-1]) else np.inf)
        exact = history_slice(best, i, j)
    except InputError as exc:
        return _said(exc)
    return slice_surface(exact, [r.params[:, [i, j]] for r in with_params]), (i, j), [names[i], names[j]]


def _said(exc: InputError) -> str:
    """Why the panel is empty: the error without its key, in lines short enough for the panel."""
    return "\n".join(textwrap.wrap(str(exc).split(": ", 1)[-1], 36))


class PathsPanel:
    """The paths panel; ``lines``, ``dots`` and ``exits`` per run (None for a run without a 2-D path)."""

    names_runs = True

    def setup(self, axes: list, runs: list, view: View) -> list:
        ax, t = axes[0], view.theme
        self.ax, self.lines, self.dots, self.exits, self.paths, self.marks = ax, [], [], [], [], []
        self.path_steps = []  # the step of each point of each path
        found = landscape(runs, view)
        if isinstance(found, str):
            no_data(ax, found, t["faint"])
            return []
        self.surface, self.columns, names = found
        self.view, self.theme = view, t  # a live window slices a training model again (live_limits)
        self.log = self._contours(ax, t)
        self.marks = [ax.plot([], [], marker, color=t["label"], markersize=size, markeredgecolor=t["bg"],
                              markeredgewidth=0.8, linestyle="none", zorder=7)[0] for marker, size in (("*", 13), ("P", 9))]
        self._place_marks()
        for run, color in zip(runs, view.colors):
            if run.params is None or run.params.shape[1] <= max(self.columns):
                self.lines.append(None), self.dots.append(None), self.exits.append(None), self.paths.append(None)
                self.path_steps.append(None)
                continue
            path, steps = full_path(run, self.columns)
            ax.plot(*clip_path(path, self.surface.domain)[0].T, color=color, linewidth=1, alpha=0.25)
            (line,) = ax.plot(path[:1, 0], path[:1, 1], color=color, linewidth=1.8, zorder=6)
            # marks on the domain's edge are drawn whole, not cut by the axes
            (dot,) = ax.plot([], [], "o", color=color, markersize=5, zorder=8, markeredgecolor=t["bg"],
                             markeredgewidth=0.8, clip_on=False)
            (cross,) = ax.plot([], [], "X", color=color, markersize=9, zorder=8, markeredgecolor=t["bg"],
                               markeredgewidth=0.8, clip_on=False)
            self.lines.append(line), self.dots.append(dot), self.exits.append(cross), self.paths.append(path)
            self.path_steps.append(steps)
        (xl, xh), (yl, yh) = self.surface.domain
        ax.set_xlim(xl, xh)
        ax.set_ylim(yl, yh)
        ax.set_xlabel(style.pretty_name(names[0]))
        ax.set_ylabel(style.pretty_name(names[1]))
        self._legend(view)
        return self.artists

    @property
    def artists(self) -> list:
        """The moving artists in drawing order: lines, the minima and saddle marks (still, but drawn over the
        paths that reach them, which the cached background would put them under), head dots, exit crosses."""
        return [a for group in (self.lines, self.marks, self.dots, self.exits) for a in group if a is not None]

    def _contours(self, ax, t: dict) -> bool:
        """The surface as filled contours and thin level lines (kept in ``contours``); whether the levels
        are log-spaced."""
        from matplotlib.colors import LinearSegmentedColormap, LogNorm, to_rgb  # not at import: the player has none

        xs, ys, zs = self.surface.mesh(MESH)
        levels, log = contour_levels(zs)
        ink = to_rgb(t["fg"])
        # ink of growing opacity over the background: the same map reads on every theme
        cmap = LinearSegmentedColormap.from_list("surface", [(*ink, 0.03), (*ink, 0.42)])
        norm = LogNorm(levels[0], levels[-1]) if log else None
        self.contours = [ax.contourf(xs, ys, zs, levels=levels, cmap=cmap, norm=norm, extend="both", zorder=1),
                         ax.contour(xs, ys, zs, levels=levels, colors=[(*ink, 0.18)], linewidths=0.5, norm=norm,
                                    zorder=2)]
        return log

    def _place_marks(self) -> None:
        """The minima as stars and the saddles as crosses, where the surface has them."""
        for mark, points in zip(self.marks, (self.surface.minima, self.surface.saddles)):
            px, py = np.array(points, dtype=np.float64).reshape(-1, 2).T
            mark.set_data(px, py)

    def _legend(self, view: View) -> None:
        t = view.theme
        shown = [k for k, line in enumerate(self.lines) if line is not None]
        legend = self.ax.legend(handles=[self.lines[k] for k in shown],
                                labels=[view.timeline.labels[k] for k in shown], loc="upper right",
                                fontsize="x-small", handlelength=1.0, borderpad=0.3, labelspacing=0.25,
                                facecolor=t["bg"], edgecolor=t["grid"], framealpha=0.8)
        curves = [(path[:, 0], path[:, 1]) for path in self.paths if path is not None]
        legend.set_loc(quiet_corner(self.ax, legend, view.canvas, curves))
        color_texts(legend, t["fg"])

    def update(self, states: list) -> list:
        for line, dot, cross, path, steps, state in zip(self.lines, self.dots, self.exits, self.paths,
                                                         self.path_steps, states):
            if line is None:
                continue
            if state.ended:
                points = path
            else:  # every step up to the snapshot's, then the head (between two snapshots: interpolated)
                now = np.asarray(state.params, dtype=np.float64)[list(self.columns)]
                upto = int(np.searchsorted(steps, state.run.steps[state.index], side="right"))
                points = np.vstack([path[:upto], now[None]])
            inside, exit_point = clip_path(points, self.surface.domain)
            if exit_point is not None:
                line.set_data(np.append(inside[:, 0], exit_point[0]), np.append(inside[:, 1], exit_point[1]))
                dot.set_data([], [])
                cross.set_data([exit_point[0]], [exit_point[1]])
                continue
            line.set_data(inside[:, 0], inside[:, 1])
            head = inside[-1] if len(inside) else None
            stopped = state.stopped and head is not None  # diverged: marked at its last point
            dot.set_data([] if stopped or head is None else [head[0]], [] if stopped or head is None else [head[1]])
            cross.set_data([head[0]] if stopped else [], [head[1]] if stopped else [])
        return self.artists

    def live_limits(self, history, steps: int) -> bool:
        """The live window's rule: the paths grow with the snapshots (the panel was set up from the first
        ones). A race's surface is its function's, fixed; a training model's exact slice passes through its
        latest point, so it is sliced again there (the background redrawn) when a path has left the box
        drawn, and at the last step, to end on the files' picture."""
        if not hasattr(self, "surface"):
            return False
        runs = getattr(history, "histories", [history])
        drawn = [None if old is None else full_path(run, self.columns) for old, run in zip(self.paths, runs)]
        self.paths = [None if d is None else d[0] for d in drawn]
        self.path_steps = [None if d is None else d[1] for d in drawn]
        left = any(clip_path(path, self.surface.domain)[1] is not None for path in self.paths if path is not None)
        if self.surface.name != "slice" or not (left or history.steps[-1] >= steps):
            return False
        found = landscape(runs, self.view)
        if isinstance(found, str):
            return False
        self.surface = found[0]
        for artist in self.contours:
            artist.remove()
        self.log = self._contours(self.ax, self.theme)
        self._place_marks()
        (xl, xh), (yl, yh) = self.surface.domain
        self.ax.set_xlim(xl, xh)
        self.ax.set_ylim(yl, yh)
        return True

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share: the surface's bands as an ``image`` (numpy), each path so far with its head."""
        view = _PlayerView(ctx)
        found = landscape(ctx.timeline.runs, view)
        if isinstance(found, str):
            return {"empty": found}
        surface, columns, names = found
        (x0, x1), (y0, y1) = surface.domain
        draw = [image(bands(surface, ctx.ink), (x0, x1, y0, y1), smooth=True)]
        items = []
        for k, (run, color) in enumerate(zip(ctx.timeline.runs, ctx.colors)):
            if run.params is None or run.params.shape[1] <= max(columns):
                continue
            path, upto, exit_index = _clipped(*full_path(run, columns), run.steps, surface.domain)
            if exit_index is None and run.meta.get("stopped"):  # diverged: crossed at its last point, as the frames
                exit_index = len(run.steps) - 1
            draw.append({"type": "lines", "run": k, "n": len(path), "head": True, "upto": upto.tolist(),
                         "x": series(path[:, 0], x0, x1), "y": series(path[:, 1], y0, y1),
                         "whole": stroke(color, 1, 0.25), "sofar": stroke(color, 1.8), "dot": {"color": color, "r": 2.5},
                         **({} if exit_index is None else {"exit": exit_index})})
            items.append({"color": color, "text": style.plain_text(ctx.timeline.labels[k])})
        for points, marker, r in [(surface.minima, "*", 6.5), (surface.saddles, "+", 4.5)]:  # the frames' marks
            if points:
                px, py = np.array(points, dtype=np.float64).T
                draw.append({"type": "points", "x": px.tolist(), "y": py.tolist(), "color": ctx.ink["label"],
                             "alpha": 1.0, "r": r, "marker": marker, "edge": ctx.ink["bg"][:7]})
        return {"axes": ctx.axes((x0, x1), (y0, y1), xlabel=style.pretty_name(names[0]),
                                 ylabel=style.pretty_name(names[1])),
                "draw": draw, "legend": legend(items, "upper right", 1)}


class _PlayerView:
    """What :func:`landscape` reads of a View, from the player's context (no figure)."""

    def __init__(self, ctx):
        self.timeline = ctx.timeline
        saved = ctx.history.config.get("render", {}) if hasattr(ctx.history, "config") else {}
        # the settings the page is rendered with, as the frames read them; a bare html_page call: the saved ones
        self.render = ctx.render if ctx.render is not None else \
            type("Render", (), {"path_params": saved.get("path_params")})()


def full_path(run, columns) -> tuple[np.ndarray, np.ndarray]:
    """A run's path over ``columns`` and each point's step: a race's every-step ``path`` when its History has
    one, else its snapshots' parameters (an older file, a model's coefficients: chords between snapshots)."""
    if getattr(run, "path", None) is not None and tuple(columns) == (0, 1):
        return run.path, run.path_steps
    return run.params[:, list(columns)], run.steps


def _clipped(path: np.ndarray, path_steps: np.ndarray, steps: np.ndarray, domain):
    """The path cut where it left the domain, ending on the edge; how many of its points each snapshot
    (at ``steps``) draws (the player indexes it by snapshot); and the snapshot from which its head is that
    exit point (None: it stays in)."""
    inside, exit_point = clip_path(path, domain)
    reached = np.searchsorted(path_steps, steps, side="right")
    upto, exit_index = np.minimum(reached, len(inside)), None
    if exit_point is not None:
        past = reached > len(inside)  # at or after the step that left: the head is on the edge
        inside, exit_index = np.vstack([inside, exit_point[None]]), int(np.argmax(past))
        upto[past] = len(inside)
    if not len(inside):  # started outside: the start alone
        inside, upto = path[:1], np.ones_like(upto)
    return inside, upto, exit_index


def bands(surface, ink: dict, n: int = MESH) -> np.ndarray:
    """The filled contours as an RGBA raster (top row first): the theme's ink, more opaque band by band,
    as the frames' colour map (numpy only)."""
    _, _, zs = surface.mesh(n)
    levels, log = contour_levels(zs)
    with np.errstate(all="ignore"):
        t = np.log(zs / levels[0]) / np.log(levels[-1] / levels[0]) if log else \
            (zs - levels[0]) / (levels[-1] - levels[0])
    band = np.floor(np.clip(np.nan_to_num(t, nan=1.0), 0, 1) * (len(levels) - 1)) / max(len(levels) - 2, 1)
    color = ink["fg"].lstrip("#")
    rgba = np.empty(zs.shape + (4,), dtype=np.uint8)
    rgba[..., :3] = [int(color[k:k + 2], 16) for k in (0, 2, 4)]
    rgba[..., 3] = np.round(255 * (0.03 + 0.39 * np.clip(band, 0, 1)))
    return rgba[::-1]
