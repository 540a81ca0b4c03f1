"""What a panel's ``player`` hook builds the HTML player's payload with: the context, the generic draw
items ``player.js`` draws, and their numbers (ticks, 12-bit packing). No matplotlib, no torch.

A panel's hook returns a dict: ``axes`` (:func:`axes`: limits, log or linear,
ticks, labels), ``draw`` (a list of items, each with a ``type`` that the
script draws without knowing which panel asked), optionally ``legend``
(:func:`legend`), ``grid`` (``[rows, cols]`` small multiples: an item with
``cell: k`` is drawn in cell k only, the others in every cell; ``titles``
names the cells) or ``empty`` (a message instead of axes). Item types:

- ``lines``: a series ``x``, ``y`` of ``n`` points (:func:`series`, or
  ``"steps"``: the run's own steps), drawn ``whole``, ``sofar`` (up to the run's
  snapshot at the position, ``extend`` to the position's step), as ``row``
  (``y`` holds one row of ``n`` per snapshot: the run's current one) and with a
  ``dot`` at the current step (unclipped, skipped outside the y limits); each
  a :func:`stroke` (or ``{color, r}`` for the dot);
- ``points``: a scatter of ``x``, ``y`` (``color``, ``alpha``, ``r`` in points; or per point
  ``colors[c[k]]``, with ``marker`` ``"o"`` or ``"^"`` and an ``edge`` colour);
- ``spans``: vertical bands ``[[lo, hi], ...]`` (``color``, ``alpha``);
- ``hline``: a horizontal line at ``y`` (a :func:`stroke`);
- ``image``: an RGBA raster (:func:`image`: ``rgba``, base64 of ``width`` x ``height`` x 4
  bytes, top row first) over ``extent`` [x0, x1, y0, y1] in data units; or, per snapshot of run
  ``run``, ``codes`` (base64 of one byte per pixel per snapshot) looked up in ``lut`` (256 x RGBA);
- ``text``: one string per timeline position (``texts``) at ``at`` (fractions
  of the axes box from its top left), ``scale``, ``color``, ``box`` (the label's
  background); ``host``: the name of the panel whose box it is drawn in
  (a caption under the main panel's label), drawn after every panel.
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass, field

import numpy as np

from . import style

MAX_POINTS = 400  # per curve; a smooth curve gains nothing from more points than pixels
MISSING = 4095  # 12-bit code for "no value" (NaN): the curve gets a gap there
LEVELS = 4094  # codes 0..LEVELS span the quantisation range


@dataclass
class Context:
    """What a panel's ``player`` hook may know: the History, its Timeline, the page and the panel's cell.

    ``px`` is the cell's size in CSS pixels, ``font`` the text size in pixels,
    ``colors`` one colour per run, ``grid`` several runs in ``layout: grid``,
    ``main`` the figure's main panel (or None), ``names_runs`` whether this
    panel carries the runs' legend, ``aspect`` the cell's width / height as
    the frames place it (for :func:`~polyanim.style.grid_shape`).
    """

    history: object
    timeline: object
    size: tuple
    theme: str
    panels: list
    name: str
    px: tuple
    font: float
    colors: list
    grid: bool
    main: str | None
    names_runs: bool
    aspect: float
    labels: dict = field(default_factory=dict)  # render.labels: the texts that replace "x", "target", ...
    tints: dict = field(default_factory=dict)  # render.colors: target, prediction, runs (unset: the theme's)
    # the render settings, for a panel's own keys (the paths panel's path_params); None: the History's saved ones
    render: object = None

    @property
    def single(self) -> bool:
        return self.timeline.single

    @property
    def ink(self) -> dict:
        """The theme's colours (#rrggbb, or with alpha), with ``render.colors``' target and prediction."""
        return ink(self.theme, self.tints)

    def label(self, key: str) -> str:
        """``render.labels[key]`` as the player shows it (plain text), or the frames' default."""
        return style.plain_text(self.labels.get(key, DEFAULT_LABELS[key]))

    def bins(self, length_px: float, per_label: float) -> int:
        """How many intervals an axis of ``length_px`` gets: matplotlib's rule (room for a tick label every
        ``per_label`` font sizes, at most 9), on the panel's cell less the room its labels take."""
        # the axes take about 80% of a cell's width and 70% of its height (tick labels, axis labels, legend)
        return int(min(9, max(1, (0.8 if per_label == 3 else 0.7) * length_px / (self.font * per_label))))

    def axes(self, xlim, ylim, *, log: bool = False, xlabel: str = "", ylabel: str = "",
             integer_x: bool = False, cells=(1, 1)) -> dict:
        """The ``axes`` entry: limits, log or linear y, ticks for the cell (``cells``: rows, cols of small
        multiples sharing it), axis labels."""
        w, h = self.px[0] / cells[1], self.px[1] / cells[0]
        yb = self.bins(h, 2)
        return {"xlim": [float(v) for v in xlim], "ylim": [float(v) for v in ylim], "log": bool(log),
                "xticks": ticks(*xlim, self.bins(w, 3), integer=integer_x),
                "yticks": log_ticks(*ylim, yb) if log else ticks(*ylim, yb), "xlabel": xlabel, "ylabel": ylabel}


DEFAULT_LABELS = {"x": "x", "y": "", "target": "target", "prediction": "prediction", "loss": "loss"}


def ink(theme: str, tints: dict | None) -> dict:
    """The theme's colours with the target and prediction of ``tints`` (``render.colors`` as a dict) put in."""
    out = dict(style.THEMES[theme])
    for key, name in (("target", "target"), ("pred", "prediction")):
        if (tints or {}).get(name):
            out[key] = tints[name]
    return out


def run_colors(theme: str, tints: dict | None, runs: int, single: bool) -> list[str]:
    """One colour per run: a lone run's prediction colour, else ``render.colors.runs`` (repeated) or the
    theme's palette."""
    if single:
        return [ink(theme, tints)["pred"]]
    palette = tuple((tints or {}).get("runs") or ()) or style.RUN_COLORS[theme]
    return [palette[k % len(palette)] for k in range(runs)]


def stroke(color: str, width: float = 1.0, alpha: float = 1.0, dash: bool = False, fade: bool = False) -> dict:
    """A line's look: colour, width in points, alpha, dashed, and whether the run's fade applies."""
    return {"color": color, "width": width, "alpha": alpha, "dash": dash, "fade": fade}


def series(values, lo: float | None = None, hi: float | None = None):
    """A series for an item: packed on [lo, hi] (:func:`pack`) when given, else exact numbers (:func:`sig`)."""
    if lo is None:
        return [sig(v) for v in np.asarray(values, dtype=np.float64).ravel()]
    return {"b64": pack(values, lo, hi), "lo": float(lo), "hi": float(hi)}


def image(rgba: np.ndarray, extent, smooth: bool = False) -> dict:
    """An ``image`` item: ``rgba`` (height, width, 4) uint8, top row first, over ``extent`` [x0, x1, y0, y1]
    in data units (a decision boundary's colours over the plane, say); pixels drawn as squares unless
    ``smooth``."""
    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise ValueError(f"image: expected an (height, width, 4) array, got shape {rgba.shape}")
    return {"type": "image", "width": int(rgba.shape[1]), "height": int(rgba.shape[0]),
            "rgba": base64.b64encode(rgba.tobytes()).decode("ascii"), "extent": [float(v) for v in extent], "smooth": bool(smooth)}


def legend(items: list, place: str, cols: int = 1, wrap: bool = True) -> dict:
    """A legend: ``items`` ({color, text, dot?, dash?}); ``place`` ``above`` the axes (in rows as wide as
    the axes when ``wrap``), ``figure`` (one row over the whole figure) or a corner (``upper right``...)
    on a box, in ``cols`` columns."""
    return {"items": items, "place": place, "cols": cols, "wrap": wrap}


def step_curves(ctx: Context, key: str, log: bool, limits, ylabel: str, empty: str | None = None) -> dict:
    """A panel over the steps (as :class:`~polyanim.panels.base.StepCurves` draws it): per run that recorded
    ``key``, its whole curve faint, the part so far bold with a dot; the runs' legend when it carries it."""
    runs = ctx.timeline.runs
    if limits is None and empty is not None:
        return {"empty": empty}
    limits = limits or (0.0, 1.0)  # no finite value at all: an empty linear panel
    xmax = style.step_limit(runs, single=ctx.single)
    out = {"axes": ctx.axes((0, xmax), limits, log=log, xlabel="step", ylabel=ylabel, integer_x=True), "draw": []}
    one, faint = ctx.single, ctx.ink["faint"]
    for k, (run, color) in enumerate(zip(runs, ctx.colors)):
        values = getattr(run, key)
        if values is None:
            continue
        out["draw"].append({"type": "lines", "run": k, "x": "steps", "y": series(values), "n": len(run.steps),
                            "whole": stroke(faint if one else color, 1, 1 if one else 0.3),
                            "sofar": stroke(color, 2 if one else 1.8), "extend": True,
                            "dot": {"color": ctx.ink["label"] if one else color, "r": 2.5 if one else 2.25}})
    if ctx.names_runs:
        shown = [k for k, run in enumerate(runs) if getattr(run, key) is not None]
        items = [{"color": ctx.colors[k], "text": style.plain_text(ctx.timeline.labels[k])} for k in shown]
        out["legend"] = legend(items, _corner(ctx, key, out["axes"]), 1)
    return out


def _corner(ctx: Context, key: str, axes: dict) -> str:
    """Where the runs' legend goes (:func:`quiet_corner`)."""
    curves = [(run.steps, getattr(run, key)) for run in ctx.timeline.runs if getattr(run, key) is not None]
    return quiet_corner(ctx, axes, curves, [style.plain_text(label) for label in ctx.timeline.labels][:len(curves)])


def quiet_corner(ctx: Context, axes: dict, curves: list, texts: list[str], cols: int = 1) -> str:
    """:func:`~polyanim.style.quiet_corner` for a legend of ``texts`` in ``cols`` columns of the size the
    player draws (its x-small text estimated at 0.55 font sizes a character), over ``curves`` on ``axes``."""
    small = ctx.font * 0.694  # matplotlib's x-small
    longest = max([len(text) for text in texts] + [1])
    rows = -(-len(texts) // cols)
    px = ctx.px
    box = (cols * (3.2 + 0.55 * longest) * small / (0.8 * px[0]), (1.25 * rows + 0.6) * small / (0.7 * px[1]))
    return style.quiet_corner((min(box[0], 1.0), min(box[1], 1.0)), axes["xlim"], axes["ylim"], axes["log"], curves)


def ticks(lo: float, hi: float, bins: int, integer: bool = False) -> list:
    """Tick positions inside [lo, hi] at a 1-2-2.5-5 step for about ``bins`` intervals, with their labels."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return []
    raw = (hi - lo) / bins
    scale = 10 ** math.floor(math.log10(raw))
    step = next(m * scale for m in (1, 2, 2.5, 5, 10) if m * scale >= raw * (1 - 1e-9))
    if integer:
        step = max(1.0, round(step))
    values = [k * step for k in range(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1)]
    digits = next(d for d in range(8) if all(abs(round(v, d) - v) <= step * 1e-6 for v in values))
    return [{"v": v, "s": number(v, digits)} for v in values]


def log_ticks(lo: float, hi: float, bins: int) -> list:
    """Decade ticks (``10`` with a raised exponent) inside [lo, hi], every k-th decade when there are many;
    within about a decade, plain :func:`ticks` (as matplotlib then labels its minor ticks)."""
    a, b = math.ceil(math.log10(lo) - 1e-9), math.floor(math.log10(hi) + 1e-9)
    every = max(1, math.ceil((b - a + 1) / max(2, bins)))
    out = [{"v": 10.0 ** e, "s": "10", "e": number(e, 0)} for e in range(a, b + 1) if (e - a) % every == 0]
    if len(out) >= 2:
        return out
    few = short_log_ticks(lo, hi)  # within about a decade: 1, 2, 5 x 10^k, as the frames label it
    if few:
        return [{"v": m * 10.0 ** e, "s": "10" if m == 1 else f"{m}×10", "e": number(e, 0)} for m, e in few]
    return [t for t in ticks(lo, hi, 3) if t["v"] > 0]


def short_log_ticks(lo: float, hi: float) -> list[tuple[int, int]] | None:
    """For a log axis spanning less than two decade ticks: the (mantissa, exponent) of the 1, 2, 5 x 10^k inside
    [lo, hi] when there are at least two, else None (a narrower axis gets a few plain ticks). Labelling every
    minor tick (matplotlib's default there: 1.2, 1.3, ... x 10^-1) crowds the axis."""
    if not (lo > 0 and hi > lo and math.isfinite(hi)):
        return None
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    if b - a > 3:
        return None
    out = [(m, e) for e in range(a, b + 1) for m in (1, 2, 5) if lo * (1 - 1e-9) <= m * 10.0 ** e <= hi * (1 + 1e-9)]
    return out if len(out) >= 2 else None


def number(v: float, digits: int) -> str:
    """A tick label: fixed decimals, scientific beyond 1e6 or under 1e-4, a real minus sign."""
    s = f"{v:.1e}" if abs(v) >= 1e6 or (v != 0 and abs(v) < 1e-4) else f"{v:.{digits}f}"
    if s.lstrip("-").strip("0.") == "":
        s = s.lstrip("-")  # no "-0.0"
    return s.replace("-", "\u2212")


def pack(values: np.ndarray, lo: float, hi: float) -> str:
    """Base64 of 12-bit codes for ``values`` on [lo, hi], two codes in three bytes; NaN -> MISSING."""
    values = np.asarray(values, dtype=np.float64).ravel()
    codes = np.full(values.size + values.size % 2, MISSING, dtype=np.uint16)
    # beyond the band (which lies outside the view) is a gap, not the band's edge: a run
    # that blew up to 1e17 must not become a vertical line through the plot
    known = np.flatnonzero((values >= lo) & (values <= hi))
    codes[known] = np.rint((values[known] - lo) / (hi - lo) * LEVELS)
    a, b = codes[0::2], codes[1::2]
    packed = np.stack([a & 0xFF, (a >> 8) | ((b & 0xF) << 4), b >> 4], axis=1).astype(np.uint8)
    return base64.b64encode(packed.tobytes()).decode("ascii")


def sig(v: float) -> float | str:
    """A value to 10 significant digits (labels come from Python); "inf", "-inf", "nan" as strings."""
    v = float(v)
    return float(f"{v:.10g}") if math.isfinite(v) else str(v)
