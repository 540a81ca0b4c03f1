"""The params panel: one run's coefficients over the steps, the Taylor reference, and the live equation.

Only for one run (its registry entry says so and the config refuses it with runs).
For a polynomial of degree 5 or less the current equation is a caption
(:meth:`~polyanim.panels.base.View.caption`): under the main panel's label,
since it is about the curve being drawn, or in this panel when drawn alone.
"""

from __future__ import annotations

import numpy as np

from .. import player_kit, style
from ..player_kit import legend, series, stroke
from ..registry.models import axis_label, spec_of
from ..targets import taylor
from .base import View, color_texts, grow_over_steps, no_data, quiet_corner

EMPTY = "no parameters to show\n(model too large)"


def monomial(h) -> bool:
    """Whether ``h``'s parameters are the coefficients of 1, x, x^2, … (its model entry's ``monomial``)."""
    return spec_of(h.config.get("model", {}).get("kind")).monomial


def shows_equation(h) -> bool:
    """Whether the live equation is written: a monomial basis of degree 5 or less (longer ones do not fit)."""
    return h.params is not None and monomial(h) and h.params.shape[1] <= 6


class ParamsPanel:
    """The params panel; ``lines`` and ``dots`` per coefficient (the equation is a caption, see the module)."""

    def setup(self, axes: list, runs: list, view: View) -> list:
        ax, h, t = axes[0], runs[0], view.theme
        self.ax, self.lines, self.dots = ax, [], []
        if h.params is None:
            no_data(ax, EMPTY, t["faint"])
            return []
        names = h.meta.get("param_names") or [f"c{k}" for k in range(h.params.shape[1])]
        shown = min(h.params.shape[1], len(style.PARAM_COLORS))
        kind = h.config.get("model", {}).get("kind")  # None: a Recorder's own model, no basis to name
        reference = self._reference(h, shown) if monomial(h) else None
        for k in range(shown):
            color = style.PARAM_COLORS[k]
            ax.plot(h.steps, h.params[:, k], color=color, linewidth=1, alpha=0.25)
            if reference is not None:
                ax.axhline(reference[k], color=color, linewidth=1, linestyle=(0, (3, 3)), alpha=0.8)
            (line,) = ax.plot(h.steps[:1], h.params[:1, k], color=color, linewidth=2, zorder=6,
                              label=style.pretty_name(names[k]))
            (dot,) = ax.plot(h.steps[:1], h.params[:1, k], "o", color=color, markersize=4, zorder=7, clip_on=False)
            self.lines.append(line)
            self.dots.append(dot)
        ax.set_ylim(*self._limits(h.params[:, :shown], reference))
        ax.set_xlim(0, style.step_limit(runs, single=True))
        ax.set_xlabel("step")
        ax.set_ylabel(axis_label(kind))
        curves = [(h.steps, h.params[:, k]) for k in range(shown)] + _flat(h.steps, reference, shown)
        self._legend(ax, t, reference is not None, view.canvas, curves)
        if shows_equation(h):
            view.caption(ax, self.equation)
        return self.lines + self.dots

    @staticmethod
    def equation(states) -> str:
        """The caption: the current polynomial (a live view's partial History may lack parameters for now)."""
        return "" if states[0].params is None else style.equation(states[0].params)

    @staticmethod
    def _reference(h, shown: int):
        """The target's Taylor coefficients at 0, when 0 is in the domain and the target is an expression."""
        data = h.config.get("data", {})
        domain = data.get("domain") or [float(h.x[0]), float(h.x[-1])]  # null: data.file's
        if domain[0] <= 0 <= domain[1] and data.get("target"):
            return taylor(data["target"], shown - 1)
        return None

    @staticmethod
    def _limits(params: np.ndarray, reference) -> tuple[float, float]:
        finite = params[np.isfinite(params)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
        if reference is not None:
            shown = params.shape[1]
            lo, hi = min(lo, min(reference[:shown])), max(hi, max(reference[:shown]))
        pad = max(0.08 * (hi - lo), 1e-3)
        return lo - pad, hi + pad

    @classmethod
    def player(cls, ctx) -> dict:
        """The HTML player's share: each coefficient's path (whole faint, so far bold, a dot), the Taylor
        reference dashed, the legend, and the equation as a caption under the main panel's label."""
        h, ink = ctx.timeline.runs[0], ctx.ink
        if h.params is None:
            return {"empty": EMPTY}
        names = h.meta.get("param_names") or [f"c{k}" for k in range(h.params.shape[1])]
        shown = min(h.params.shape[1], len(style.PARAM_COLORS))
        kind = h.config.get("model", {}).get("kind")
        reference = cls._reference(h, shown) if monomial(h) else None
        values = h.params[:, :shown]
        lo, hi = cls._limits(values, reference)
        out = {"axes": ctx.axes((0, style.step_limit(ctx.timeline.runs, single=True)), (lo, hi), xlabel="step",
                                ylabel=axis_label(kind), integer_x=True), "draw": []}
        for k, color in enumerate(style.PARAM_COLORS[:shown]):
            if reference is not None:
                out["draw"].append({"type": "hline", "y": float(reference[k]), **stroke(color, 1, 0.8, dash=True)})
            out["draw"].append({"type": "lines", "run": 0, "x": "steps", "y": series(values[:, k], lo, hi),
                                "n": len(h), "whole": stroke(color, 1, 0.25), "sofar": stroke(color, 2),
                                "dot": {"color": color, "r": 2}})
        items = [{"color": c, "text": style.pretty_name(n)} for c, n in zip(style.PARAM_COLORS, names[:shown])]
        if reference is not None:
            items.append({"color": ink["faint"], "text": "Taylor", "dash": True})
        cols = len(items) if len(items) <= 5 else 3
        curves = [(h.steps, values[:, k]) for k in range(shown)] + _flat(h.steps, reference, shown)
        corner = player_kit.quiet_corner(ctx, out["axes"], curves, [it["text"] for it in items], cols)
        out["legend"] = legend(items, corner, cols)
        if shows_equation(h):
            out["draw"].append({"type": "text", "host": ctx.main, "at": [0.02, 0.11 if ctx.main else 0.03],
                                "scale": "small", "color": ink["fg"], "box": False,
                                "texts": [cls.equation(ctx.timeline.states(i)) for i in range(len(ctx.timeline))]})
        return out

    def _legend(self, ax, t: dict, taylor_shown: bool, canvas, curves: list) -> None:
        """The coefficients' legend, in the corner where it hides the least of their paths (and references)."""
        handles = list(self.lines)
        if taylor_shown:
            handles += ax.plot([], [], color=t["faint"], linewidth=1, linestyle=(0, (3, 3)), label="Taylor")
        legend = ax.legend(handles=handles, loc="upper right", ncols=len(handles) if len(handles) <= 5 else 3,
                           fontsize="x-small", handlelength=1.0, columnspacing=0.8, borderpad=0.3,
                           facecolor=t["bg"], edgecolor=t["grid"], framealpha=0.8)
        legend.set_loc(quiet_corner(ax, legend, canvas, curves))
        color_texts(legend, t["fg"])

    def update(self, states: list) -> list:
        state = states[0]
        if not self.lines or state.params is None:  # a live view's partial History may lack them for now
            return []
        h, i, step, coefs = state.run, state.index, state.step, state.params
        for k, (line, dot) in enumerate(zip(self.lines, self.dots)):
            line.set_data(np.append(h.steps[: i + 1], step), np.append(h.params[: i + 1, k], coefs[k]))
            dot.set_data([step], [coefs[k]])
        return self.lines + self.dots

    def live_limits(self, history, steps: int) -> bool:
        return grow_over_steps(self.ax, history, steps)


def _flat(steps, reference, shown: int) -> list:
    """The Taylor references as curves over the steps (what the legend should not hide either)."""
    if reference is None:
        return []
    ends = np.array([steps[0], steps[-1]], dtype=np.float64)
    return [(ends, np.array([reference[k]] * 2, dtype=np.float64)) for k in range(shown)]
