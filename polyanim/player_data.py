"""What the HTML player draws, decided in Python and handed to ``player.js`` as data.

The frames' rules, computed here once with the same functions the panels use
(:mod:`polyanim.style`, :class:`~polyanim.timeline.Timeline`): the panel cells
(:func:`~polyanim.style.panel_cells`), the colours, the fades, and the label at
every timeline position. Each panel's share comes from its own ``player``
hook (:mod:`polyanim.panels.base`), in the generic draw items of
:mod:`polyanim.player_kit`; the script draws them by type and never by panel,
so a new panel needs nothing here. No matplotlib, no torch.
"""

from __future__ import annotations

import numpy as np

from . import style
from .panels.registry import PANELS, main_panel, panel_class
from .player_kit import MAX_POINTS, MISSING, Context, ink, log_ticks, number, pack, run_colors, sig, ticks
from .timeline import Timeline

__all__ = ["FONT_PX", "MAX_POINTS", "MISSING", "payload", "log_ticks", "number", "pack", "sig", "ticks"]

FONT_PX = 10 / 72 * 100  # matplotlib's 10 pt at the frames' 100 dpi for 640x480 (render.dpi is taken as 100)
NO_PLAYER = "this panel is not drawn\nin the HTML player"


def payload(history, *, fps: float, size: tuple[int, int], theme: str, panels, layout: str,
            labels: dict | None = None, colors: dict | None = None, render=None) -> dict:
    """The player's data for ``history`` (a History or RunSet) drawn with ``panels`` in ``layout``;
    ``labels`` and ``colors`` are ``render.labels`` and ``render.colors`` as dicts (None: the defaults);
    ``render`` the whole settings, handed to the panels' hooks for their own keys."""
    timeline = Timeline(history)
    single = timeline.single
    # the frames' text size at this size (they scale dpi with the frame), so text takes the same room
    font = round(FONT_PX * min(size[0] / 640, size[1] / 480), 2)
    grid = not single and (layout == "grid" or history.kind == "field")  # as View.grid
    cells = style.panel_cells(panels, style.is_wide(size))
    labels, tints = dict(labels or {}), dict(colors or {})
    colors = run_colors(theme, tints, len(timeline.runs), single)
    out = {"fps": fps, "size": list(size), "theme": theme, "colors": ink(theme, tints), "font": font,
           "pt": round(100 / 72 * min(size[0] / 640, size[1] / 480), 3),
           "labelBox": style.label_box(theme), "faded": style.FADED_ALPHA, "single": single,
           "steps": [int(s) for s in timeline.steps], "aria": _aria(timeline), "panels": [],
           "runs": [_run(run, label, color, fade, timeline)
                    for run, label, color, fade in zip(timeline.runs, timeline.labels, colors, timeline.fades)]}
    main = main_panel(panels)
    legend_owner = None if single or (main is not None and not grid) else next(
        (p for p in panels if PANELS[p].names_runs), None)  # as View.runs_legend_here
    for name in panels:
        ctx = Context(history=history, timeline=timeline, size=size, theme=theme, panels=list(panels), name=name,
                      px=(cells[name][2] * size[0], cells[name][3] * size[1]), font=font, colors=colors,
                      grid=grid, main=main, names_runs=name == legend_owner,
                      aspect=style.cell_aspect(panels, name, size), labels=labels, tints=tints, render=render)
        hook = getattr(panel_class(name), "player", None)
        panel = {"name": name, "cell": list(cells[name])}
        panel.update(hook(ctx) if hook is not None else {"empty": NO_PLAYER})
        out["panels"].append(panel)
    return out


def _run(run, label: str, color: str, fade, timeline: Timeline) -> dict:
    """One run: its colour, fade, snapshot index at every position and the position where it has ended."""
    idx = np.maximum(np.searchsorted(run.steps, timeline.steps, side="right") - 1, 0)
    return {"label": style.plain_text(label), "color": color, "fade": fade,
            "steps": [int(s) for s in run.steps], "idx": [int(v) for v in idx],
            "end": int(np.searchsorted(timeline.steps, run.steps[-1], side="left"))}


def _aria(timeline: Timeline) -> list[str]:
    """The label as text at every position, for screen readers (and tests) that cannot read the canvas."""
    out = []
    for i in range(len(timeline)):
        states = timeline.states(i)
        if timeline.single:
            out.append(style.loss_label(states[0].step, states[0].loss))
        else:
            out.append(f"t={states[0].step}" + "".join(
                f", {style.plain_text(label)} Loss={style.loss_label(s.step, s.loss).partition('Loss=')[2]}"
                for s, label in zip(states, timeline.labels)))
    return out
