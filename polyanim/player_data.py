"""What the HTML player draws, decided in Python and handed to ``player.js`` as data.

The frames' rules, computed here once with the same functions the panels use
(:mod:`polyanim.style`, :class:`~polyanim.timeline.Timeline`, the lr and params
panels' scales): the panel cells (:func:`~polyanim.style.panel_cells`, and
:func:`~polyanim.style.grid_shape` for ``layout: grid``), every axis' limits,
log or linear choice and ticks, the colours, the fades, and every label string
of every timeline position. The script only maps values to pixels, measures
text to leave room for it, and draws. No matplotlib, no torch.
"""

from __future__ import annotations

import base64
import math

import numpy as np

from . import style
from .panels.lr import lr_scale
from .panels.params import ParamsPanel
from .registry.models import axis_label
from .timeline import Timeline

MAX_POINTS = 400  # per curve; a smooth curve gains nothing from more points than pixels
MISSING = 4095  # 12-bit code for "no value" (NaN): the curve gets a gap there
LEVELS = 4094  # codes 0..LEVELS span the quantisation range
FONT_PX = 10 / 72 * 100  # matplotlib's 10 pt at the frames' 100 dpi for 640x480 (render.dpi is taken as 100)


def payload(history, *, fps: float, size: tuple[int, int], theme: str, panels, layout: str) -> dict:
    """The player's data for ``history`` (a History or RunSet) drawn with ``panels`` in ``layout``."""
    timeline = Timeline(history)
    single = timeline.single
    # the frames' text size at this size (they scale dpi with the frame), so text takes the same room
    font = round(FONT_PX * min(size[0] / 640, size[1] / 480), 2)
    grid = not single and layout == "grid" and "fit" in panels
    cells = style.panel_cells(panels, style.is_wide(size))
    colors = [style.THEMES[theme]["pred"]] if single else [
        style.RUN_COLORS[theme][k % len(style.RUN_COLORS[theme])] for k in range(len(timeline.runs))]
    out = {"fps": fps, "size": list(size), "theme": theme, "colors": style.THEMES[theme], "font": font,
           "pt": round(100 / 72 * min(size[0] / 640, size[1] / 480), 3),
           "labelBox": style.label_box(theme), "faded": style.FADED_ALPHA, "single": single,
           "steps": [int(s) for s in timeline.steps], "aria": _aria(timeline), "panels": [],
           "runs": [_run(run, label, color, fade, timeline)
                    for run, label, color, fade in zip(timeline.runs, timeline.labels, colors, timeline.fades)]}
    legend_owner = _legend_owner(panels, single, grid)
    for name in panels:
        px = (cells[name][2] * size[0], cells[name][3] * size[1])
        panel = {"name": name, "cell": list(cells[name])}
        if name == "fit":
            panel.update(_fit(history, timeline, size, px, grid, theme, style.cell_aspect(panels, name, size), font))
        elif name == "params":
            panel.update(_params(history, timeline, px, "fit" in panels, font))
        else:
            log, limits = style.loss_scale(timeline.runs) if name == "loss" else lr_scale(timeline.runs)
            panel.update(_steps(timeline, name, log, limits, px, font))
            panel["legend"] = _corner(timeline, panel, px, font) if name == legend_owner else None
        out["panels"].append(panel)
    return out


def _legend_owner(panels, single: bool, grid: bool) -> str | None:
    """The panel over steps that names the runs (as :meth:`~polyanim.panels.base.View.runs_legend_here`)."""
    if single or ("fit" in panels and not grid):
        return None
    return next((p for p in panels if p in ("loss", "lr")), None)


def _corner(timeline: Timeline, panel: dict, px, font: float) -> str | None:
    """Where the runs' legend goes in a panel over steps: :func:`~polyanim.style.quiet_corner`, for a legend
    of the size the player draws (its x-small text estimated at 0.55 font sizes a character)."""
    if panel.get("empty"):
        return None
    curves = [(run.steps, getattr(run, panel["key"])) for run in timeline.runs
              if getattr(run, panel["key"]) is not None]
    small = font * 0.694  # matplotlib's x-small
    longest = max(len(style.plain_text(label)) for label in timeline.labels)
    box = ((3.2 + 0.55 * longest) * small / (0.8 * px[0]), (1.25 * len(curves) + 0.6) * small / (0.7 * px[1]))
    return style.quiet_corner((min(box[0], 1.0), min(box[1], 1.0)), panel["xlim"], panel["ylim"], panel["log"],
                              curves)


def _run(run, label: str, color: str, fade, timeline: Timeline) -> dict:
    """One run: its colour, fade, snapshot index at every position and the position where it has ended."""
    idx = np.maximum(np.searchsorted(run.steps, timeline.steps, side="right") - 1, 0)
    return {"label": style.plain_text(label), "color": color, "fade": fade,
            "steps": [int(s) for s in run.steps], "idx": [int(v) for v in idx],
            "end": int(np.searchsorted(timeline.steps, run.steps[-1], side="left")),
            "loss": [sig(v) for v in run.loss],
            "lr": None if run.lr is None else [sig(v) for v in run.lr]}


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


def _fit(history, timeline: Timeline, size, px, grid: bool, theme: str, aspect: float, font: float) -> dict:
    """The fit panel: the x grid, target, samples, held-out shading, every run's predictions, the labels."""
    x, y = history.x, history.y
    cols = np.flatnonzero(np.isfinite(x))
    cols = cols[np.argsort(x[cols], kind="stable")]
    points = min(MAX_POINTS, max(size[0], 2))
    if cols.size > points:
        cols = cols[np.unique(np.rint(np.linspace(0, cols.size - 1, points)).astype(np.int64))]
    if cols.size == 0:
        cols = np.arange(len(x))  # nothing finite to draw; keep the shapes consistent
    finite = x[np.isfinite(x)]
    xlim = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if xlim[1] <= xlim[0]:
        xlim = (xlim[0] - 0.5, xlim[1] + 0.5)
    ylim = style.fit_limits(history)
    # Quantise over a band a little wider than the view (2 spans: 2047 levels per view height, finer
    # than a pixel) so a curve leaving the plot is cut by the canvas edge; beyond it, a gap (see pack).
    span = ylim[1] - ylim[0]
    band = (ylim[0] - span / 2, ylim[1] + span / 2)
    has_target = bool(np.isfinite(y).any())
    rows, ncols = style.grid_shape(len(timeline.runs), aspect) if grid else (1, 1)
    out = {"xlabel": "x", "xlim": list(xlim), "ylim": list(ylim), "band": list(band), "n": int(cols.size),
           "x": pack(x[cols], *xlim), "y": pack(y[cols], *band) if has_target else None,
           "grid": [rows, ncols] if grid else None, "heldOut": _held_out(history),
           "preds": [pack(run.pred[:, cols], *band) for run in timeline.runs],
           "xticks": ticks(*xlim, _bins(px[0] / ncols, 3, font)), "yticks": ticks(*ylim, _bins(px[1] / rows, 2, font)),
           "legend": _fit_legend(history, timeline, has_target, grid, theme)}
    if history.data_x is not None:
        out["points"] = {"n": int(len(history.data_x)), "x": pack(history.data_x, *xlim),
                         "y": pack(history.data_y, *band), "color": "faint" if has_target else "target"}
    states = [timeline.states(i) for i in range(len(timeline))]
    if grid:
        out["labels"] = [[style.cell_label(s[r]) for s in states] for r in range(len(timeline.runs))]
    else:
        out["labels"] = [style.fit_label(s, timeline.labels, single=timeline.single) for s in states]
    return out


def _held_out(history) -> list:
    """The shaded spans outside ``data.train_domain`` (as the fit panel shades them)."""
    held = history.config.get("data", {}).get("train_domain")
    if not held:
        return []
    spans = ((float(history.x[0]), held[0]), (held[1], float(history.x[-1])))
    return [[float(lo), float(hi)] for lo, hi in spans if hi > lo]


def _fit_legend(history, timeline: Timeline, has_target: bool, grid: bool, theme: str) -> list:
    """The fit panel's legend entries (samples, target, then the runs unless each grid cell is titled)."""
    items = []
    if history.data_x is not None:
        from_file = history.config.get("data", {}).get("file")
        items.append({"color": style.THEMES[theme]["faint" if has_target else "target"], "dot": True,
                      "text": f"data ({len(history.data_x)} points)" if from_file else "samples"})
    if has_target:
        name = style.target_name(history)
        items.append({"color": style.THEMES[theme]["target"],
                      "text": style.plain_text(f"target: {name}" if name else "target")})
    if timeline.single:
        # the frames' single-run legend: the samples, the target, the prediction
        return items + [{"color": style.THEMES[theme]["pred"], "text": "prediction"}]
    return items if grid else items + [{"run": k} for k in range(len(timeline.runs))]


def _steps(timeline: Timeline, key: str, log: bool, limits, px, font: float) -> dict:
    """A panel over steps (loss, lr): its scale, limits, ticks and y label."""
    xmax = style.step_limit(timeline.runs, single=timeline.single)
    out = {"key": key, "log": log, "ylim": None if limits is None else [float(v) for v in limits],
           "xlim": [0, xmax], "xticks": ticks(0, xmax, _bins(px[0], 3, font), integer=True),
           "ylabel": "loss" if key == "loss" else "learning rate", "xlabel": "step"}
    if limits is None and key == "lr":
        out["empty"] = "no learning rate recorded\n(History.lr is empty)"
        return out
    limits = limits or (0.0, 1.0)  # no finite loss at all: an empty linear panel
    out["ylim"] = [float(v) for v in limits]
    bins = _bins(px[1], 2, font)
    out["yticks"] = log_ticks(*limits, bins) if log else ticks(*limits, bins)
    return out


def _params(history, timeline: Timeline, px, with_fit: bool, font: float) -> dict:
    """The params panel: coefficients' trajectories, the Taylor reference, the legend, the equation per position."""
    h = timeline.runs[0]
    if h.params is None:
        return {"empty": "no parameters to show\n(model too large)"}
    names = h.meta.get("param_names") or [f"c{k}" for k in range(h.params.shape[1])]
    shown = min(h.params.shape[1], len(style.PARAM_COLORS))
    kind = h.config.get("model", {}).get("kind")
    reference = ParamsPanel._reference(h, shown) if kind == "polynomial" else None
    values = h.params[:, :shown]
    lo, hi = ParamsPanel._limits(values, reference)
    xmax = style.step_limit(timeline.runs, single=True)
    out = {"xlim": [0, xmax], "ylim": [lo, hi], "xticks": ticks(0, xmax, _bins(px[0], 3, font), integer=True),
           "yticks": ticks(lo, hi, _bins(px[1], 2, font)), "xlabel": "step",
           "ylabel": axis_label(kind),
           "names": [style.pretty_name(n) for n in names[:shown]], "colors": list(style.PARAM_COLORS[:shown]),
           "values": pack(values.T, lo, hi),  # coefficient-major: one row of len(h) per coefficient
           "reference": None if reference is None else [float(v) for v in reference[:shown]],
           "legendCols": shown + (reference is not None) if shown + (reference is not None) <= 5 else 3}
    if kind == "polynomial" and h.params.shape[1] <= 6:
        out["equation"] = [style.equation(timeline.states(i)[0].params) for i in range(len(timeline))]
        out["equationIn"] = "fit" if with_fit else "params"
    return out


def _bins(length_px: float, per_label: float, font: float) -> int:
    """How many intervals an axis of ``length_px`` gets: matplotlib's rule (room for a tick label every
    ``per_label`` font sizes of ``font`` px, at most 9), on the panel's cell less the room its labels take."""
    # the axes take about 80% of a cell's width and 70% of its height (tick labels, axis labels, legend)
    return int(min(9, max(1, (0.8 if per_label == 3 else 0.7) * length_px / (font * per_label))))


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
    return out if len(out) >= 2 else [t for t in ticks(lo, hi, 3) if t["v"] > 0]


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
