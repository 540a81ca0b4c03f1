"""``polyanim.show``: the HTML player inline in a Jupyter notebook.

The player page (:func:`polyanim.html.html_page`, the same page a ``.html``
output holds) goes into an ``<iframe srcdoc="…">``, so its element ids,
styles, keyboard handler and Content-Security-Policy stay inside the frame
and never clash with the notebook page. No torch, no matplotlib.
"""

from __future__ import annotations


import html as _html
import math
import os

from .api import resolve
from .history import History
from .html import page_for

BODY_PADDING = 16  # the page's body padding (px), on every side
SLACK = 16         # spare height (px) for fonts wider or taller than the ones it was measured with


def _controls_height(width: int) -> int:
    """Height (px) of the player's control row(s), which wrap on narrow players (measured in Chromium)."""
    if width >= 460:
        return 30
    if width >= 240:
        return 58
    if width >= 190:
        return 86
    return 132


def _title_height(title: str, width: int) -> int:
    if not title.strip():
        return 0
    per_line = max(1, width // 11)  # 18 px semi-bold: about 11 px a character, generously
    return 6 + 25 * math.ceil(len(title.strip()) / per_line)


class Player:
    """An HTML player for a notebook cell: displays itself through ``_repr_html_``.

    ``page`` is the complete player page (what a ``.html`` output contains);
    ``width`` and ``height`` the frame's size in CSS pixels.
    """

    def __init__(self, page: str, width: int, height: int):
        self.page = page
        self.width = int(width)
        self.height = int(height)

    def _repr_html_(self) -> str:
        # srcdoc is an attribute: escape &, <, >, " and ' so the page survives it byte for byte.
        # sandbox: scripts run, but in an opaque origin, away from the notebook's cookies and DOM.
        return (f'<iframe srcdoc="{_html.escape(self.page, quote=True)}" width="{self.width}" '
                f'height="{self.height}" style="border:0;max-width:100%" sandbox="allow-scripts" '
                f'title="polyanim player"></iframe>')

    def __repr__(self) -> str:
        return f"<polyanim Player {self.width}x{self.height}, {len(self.page)} characters>"


def show(history_or_path: History | str | os.PathLike, **render_overrides) -> Player:
    """The interactive player of a History, for display in Jupyter.

    ``history_or_path`` is a :class:`~polyanim.history.History` or the path of a
    saved ``.history.npz``. Keyword arguments override ``render.*`` settings of
    the run's config (``fps=20``, ``size=(800, 600)``, ``theme="dark"``,
    ``title="…"``, ``loop=False``), validated like ``--set render.KEY=VALUE``;
    a bad key or value raises :class:`~polyanim.InputError`.

    >>> import polyanim
    >>> polyanim.show("outputs/sin.history.npz", fps=20)   # the last line of a cell  # doctest: +SKIP
    """
    history, render = resolve(history_or_path, render_overrides, caller="polyanim.show")
    width, height = (int(v) for v in render.size)
    page = page_for(history, render)
    frame_w = width + 2 * BODY_PADDING
    frame_h = (height + 2 * BODY_PADDING + 6 + _controls_height(width) + _title_height(render.title, width)
               + SLACK)
    return Player(page, frame_w, frame_h)

