"""``render.labels`` and ``render.colors``: the words and colours a user may change, checked without matplotlib.

Colours are parsed here, not by matplotlib, so a replay to HTML (which never
imports it) refuses the same values the frames would; the allowed forms are the
ones matplotlib and a browser's canvas read alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .fields import MAX_RUNS, _optional, _spec, _validate, mathtext_problem

MAX_LABEL = 80  # characters: an axis label or legend entry longer than this does not fit a 640 px frame
# names whose colour is the same in matplotlib and in CSS (both use these X11/HTML values)
NAMED_COLORS = ("black", "white", "red", "green", "blue", "orange", "purple", "gray", "grey")
_HEX = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


def color_problem(v: str):
    """Why ``v`` is not an allowed colour (None: it is)."""
    if _HEX.fullmatch(v) or v.lower() in NAMED_COLORS:
        return None
    return f"must be '#rrggbb', '#rrggbbaa' or one of {', '.join(NAMED_COLORS)}, got {v!r}"


def _palette(v):
    if len(v) > MAX_RUNS:
        return f"at most {MAX_RUNS} colours (one per run), got {len(v)}"
    return next((color_problem(c) for c in v if color_problem(c)), None)


def label_problem(v: str):
    """Why ``v`` is not an allowed label (None: it is): at most :data:`MAX_LABEL` characters, mathtext as the title's."""
    if len(v) > MAX_LABEL:
        return f"at most {MAX_LABEL} characters, got {len(v)}"
    return mathtext_problem(v)


def _label(default: str, doc: str):
    return _spec(default, check=label_problem, doc=f"{doc} (≤ {MAX_LABEL} characters; `$…$` is mathtext)")


@dataclass(frozen=True)
class Labels:
    x: str = _label("x", "the fit panel's x axis label; with two inputs the plane's first axis (default there: x₁)")
    y: str = _label("", "the fit panel's y axis label (empty: none); with two inputs the plane's second axis "
                        "(default there: x₂)")
    target: str = _label("target", "the target's legend name (`target: sin(x)` when the target has an expression)")
    prediction: str = _label("prediction", "a lone run's prediction in the legend")
    loss: str = _label("loss", "the loss panel's y axis label")

    def __post_init__(self):
        _validate(self)


def _color(doc: str):
    return _spec(None, check=_optional(color_problem), doc=f"{doc}: `#rrggbb`, `#rrggbbaa` or a name "
                                                           f"({', '.join(NAMED_COLORS)}); null: the theme's")


@dataclass(frozen=True)
class Colors:
    target: str | None = _color("the target's line")
    prediction: str | None = _color("a lone run's prediction")
    runs: tuple[str, ...] = _spec((), check=_palette, doc=f"the runs' colours in order (up to {MAX_RUNS}; fewer "
                                                          "repeat; empty: the theme's palette)")

    def __post_init__(self):
        _validate(self)
