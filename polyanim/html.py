"""The ``.html`` output: one self-contained page that replays a History in the browser.

Instead of embedding a picture per frame (what matplotlib's ``to_jshtml``
does), the page carries the History's numbers and a small script
(``polyanim/player.js``, a package data file) draws them on a ``<canvas>``
with play/pause, a step slider, a speed menu and keyboard control. What it
draws is decided in Python, by the rules the frames use
(:mod:`polyanim.player_data`): the panels of ``render.panels`` in their
cells, the grid of ``layout: grid``, limits, ticks, colours, fades and every
label string; the script only draws. Curves are thinned to at most
:data:`~polyanim.player_data.MAX_POINTS` points and stored as 12-bit codes in
base64, so a page is about 20 kB plus about 1 kB per snapshot. No network, no
matplotlib, no torch: numpy and the standard library only.
"""

from __future__ import annotations

import html as _html
import json
import math
import os
import re
from functools import lru_cache
from importlib import resources

from .fileio import atomic_path
from .history import RunSet
from .user_landscape import recorded
from .panels.registry import CURVE_PANELS, PANELS, kind_problem, pair_given, several_runs_problem
from .player_data import payload
from .style import THEMES, plain_text

LAYOUTS = ("overlay", "grid")


@lru_cache(maxsize=1)
def player_script() -> str:
    """The player's JavaScript (``polyanim/player.js``), read once from the package."""
    return resources.files("polyanim").joinpath("player.js").read_text(encoding="utf-8")


def write_html(history, path: str | os.PathLike, *, title: str, fps: float, size: tuple[int, int],
               theme: str = "light", loop: bool = False, panels=CURVE_PANELS, layout: str = "overlay",
               labels: dict | None = None, colors: dict | None = None, render=None) -> None:
    """Write ``history`` as a self-contained interactive HTML player to ``path``, atomically.

    The page is :func:`html_page`'s; see there for what it shows and the arguments.
    """
    page = html_page(history, title=title, fps=fps, size=size, theme=theme, loop=loop, panels=panels, layout=layout,
                     labels=labels, colors=colors, render=render)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")


def page_for(history, render) -> str:
    """:func:`html_page` of ``history`` with every setting read from ``render`` (the resolved render
    settings, as :func:`polyanim.render` and :func:`polyanim.show` have them)."""
    from dataclasses import asdict

    return html_page(history, title=render.title, fps=render.fps, size=tuple(render.size), theme=render.theme,
                     loop=render.loop, panels=render.panels, layout=render.layout, labels=asdict(render.labels),
                     colors=asdict(render.colors), render=render)


def html_page(history, *, title: str = "", fps: float = 10.0, size: tuple[int, int] = (640, 480),
              theme: str = "light", loop: bool = False, panels=CURVE_PANELS, layout: str = "overlay",
              labels: dict | None = None, colors: dict | None = None, render=None) -> str:
    """``history`` as a self-contained interactive HTML player page, as a string.

    The page draws ``panels`` (names of :data:`polyanim.panels.PANELS`, in
    that order, laid out as the frames lay them out; ``layout`` ``"grid"``
    gives several runs one fit panel each) on a canvas of ``size`` = (width,
    height) CSS pixels, and plays the snapshots at ``fps`` (the speed menu
    scales it from 0.25x to 4x). Controls have stable ids (``#play``,
    ``#slider``, ``#speed``, ``#loop``, canvas ``#plot``); space toggles
    playback, left/right arrows step one snapshot. ``title`` is shown above
    the player and HTML-escaped; ``theme`` is one of :data:`polyanim.style.THEMES`;
    ``loop`` starts the player with looping on. A panel that shows one run
    only (``one_run`` in its registry entry) is refused for several runs, as by the frames. It loads nothing from the
    network (a Content-Security-Policy forbids it), so it works offline and
    can be attached or iframed as is. ``render`` (the render settings, as
    :func:`polyanim.render` resolves them) lets a panel read its own keys, as
    the frames do (``path_params``); without it a panel reads the History's saved ones.
    Raises :class:`ValueError` for a bad ``fps``, ``size``, ``theme``, ``panels`` or ``layout``.
    """
    if theme not in THEMES:
        raise ValueError(f"theme: expected one of {', '.join(THEMES)}, got {theme!r}")
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps: expected a positive number, got {fps!r}")
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ValueError(f"size: expected (width, height), got {size!r}") from None
    if width < 64 or height < 64:
        raise ValueError(f"size: expected width and height >= 64 pixels, got {size!r}")
    panels = list(panels)
    if not panels or any(p not in PANELS for p in panels) or len(set(panels)) != len(panels):
        raise ValueError(f"panels: expected distinct names from {', '.join(PANELS)}, got {panels!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {', '.join(LAYOUTS)}, got {layout!r}")
    problem = several_runs_problem(panels) if isinstance(history, RunSet) else None
    # without the settings a pair panel is not refused: it reads the History's own and says in its cell what it lacks
    landscape = recorded(history.histories if isinstance(history, RunSet) else [history]) is not None
    problem = problem or kind_problem(panels, history.kind,
                                      render is None or pair_given(history.kind, render, landscape))
    if problem:  # as the frames (polyanim.scene.Scene) refuse it
        raise ValueError(f"panels: {problem}")
    data = payload(history, fps=float(fps), size=(width, height), theme=theme, panels=panels, layout=layout,
                   labels=labels, colors=colors, render=render)
    # the frames draw $…$ as mathtext; the page shows the same text in plain characters
    return _page(data, title=plain_text(str(title)), theme=theme, loop=loop)


def _page(data: dict, *, title: str, theme: str, loop: bool) -> str:
    # The data sits in a <script> element: escaping <, > and & keeps user text
    # such as "</script>" in the target name from ending it early.
    blob = (json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    heading = f"<h1>{_html.escape(title)}</h1>\n" if title.strip() else ""
    frames = len(data["steps"])
    values = {"TITLE": _html.escape(title.strip() or "polyanim"), "HEADING": heading, "THEME": theme,
              "WIDTH": str(data["size"][0]), "LAST": str(frames - 1), "DATA": blob, "SCRIPT": player_script(),
              "LOOP": " checked" if loop else "", "POLICY": POLICY,
              # room for the widest "201 / 201" up front, so the slider does not shrink while playing
              "READOUT": str(2 * len(str(frames)) + 3)}
    # one pass, so a title that happens to contain "@DATA@" is never expanded again
    return re.sub(r"@([A-Z]+)@", lambda m: values[m.group(1)], _TEMPLATE)


# Nothing from the network, nothing but the page's own inline script and style: a label can never load
# or run anything. The batch gallery uses the same policy, plus its own images and videos beside it.
POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="@POLICY@">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="polyanim">
<title>@TITLE@</title>
<style>
body{margin:0;padding:16px;background:#fff;color:#222;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
body.dark{background:#16181d;color:#e8e8e8}
.player{width:@WIDTH@px;max-width:100%}
h1{font-size:18px;font-weight:600;margin:0 0 6px;overflow-wrap:anywhere}
#plot{display:block;width:100%;height:auto}
.controls{display:flex;flex-wrap:wrap;align-items:center;gap:6px 10px;margin-top:6px;font-size:13px}
#slider{flex:1 1 120px;min-width:0;margin:0;accent-color:#ff7f0e}
button,select{font:inherit;color:inherit;background:transparent;border:1px solid #bbb;border-radius:4px;padding:2px 8px;cursor:pointer}
button#play{min-width:5.2em}
.dark button,.dark select{border-color:#555a66}
.dark select option{background:#16181d}
label{white-space:nowrap}
#readout{font-variant-numeric:tabular-nums;opacity:.75;white-space:nowrap;text-align:right;min-width:@READOUT@ch}
</style>
</head>
<body class="@THEME@">
<div class="player">
@HEADING@<canvas id="plot" role="img" aria-label="training animation"></canvas>
<div class="controls">
<button id="play" type="button" aria-pressed="false" title="play/pause (space)">Play</button>
<input id="slider" type="range" min="0" max="@LAST@" step="1" value="0" aria-label="snapshot" title="snapshot (left/right arrows)">
<span id="readout"></span>
<label>speed <select id="speed"><option value="0.25">0.25x</option><option value="0.5">0.5x</option>
<option value="1" selected>1x</option><option value="2">2x</option><option value="4">4x</option></select></label>
<label><input id="loop" type="checkbox"@LOOP@> loop</label>
</div>
</div>
<script type="application/json" id="polyanim-data">@DATA@</script>
<script>@SCRIPT@</script>
</body>
</html>
"""
