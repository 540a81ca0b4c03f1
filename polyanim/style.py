"""Colours and framing shared by every renderer (matplotlib frames and the HTML player).

Kept free of matplotlib so the HTML writer, which draws in the browser, uses
the very same rules without importing a plotting library.
"""

from __future__ import annotations

import re

import numpy as np

from .history import RunSet
from .text import no_bidi, plain_text  # noqa: F401  (the label rules, named here for the renderers)
from .panels.registry import main_panel

THEMES = {
    "light": {"bg": "#ffffff", "fg": "#222222", "grid": "#e6e6e6", "frame": "#bbbbbb", "faint": "#bbbbbb",
              "target": "#1f77b4", "pred": "#ff7f0e", "label": "#e0201b"},
    "dark": {"bg": "#16181d", "fg": "#e8e8e8", "grid": "#30343c", "frame": "#555a66", "faint": "#6b7180",
             "target": "#5aa9ff", "pred": "#ffa94d", "label": "#ff6b6b"},
    # no background, mid-luminance ink: legible on a white page and on a dark one
    "transparent": {"bg": "#ffffff00", "fg": "#7f7f7f", "grid": "#7f7f7f40", "frame": "#7f7f7f", "faint": "#9a9a9a",
                    "target": "#3b82f6", "pred": "#f97316", "label": "#ef4444"},
}
# coefficient colours in the params panel (matplotlib's tab10 without the fit's blue and orange)
PARAM_COLORS = ("#2ca02c", "#9467bd", "#d62728", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
# one colour per run when several runs are drawn together (config.MAX_RUNS of them): the theme's
# prediction colour first, then tab10-like hues that stay clear of the target's blue and the label's red
# (the same hues in every theme: orange, green, purple, pink, cyan, olive, brown, grey)
RUN_COLORS = {
    "light": ("#ff7f0e", "#2ca02c", "#9467bd", "#e377c2", "#17becf", "#bcbd22", "#8c564b", "#555555"),
    "dark": ("#ffa94d", "#69db7c", "#b197fc", "#f783ac", "#3bc9db", "#ffe066", "#a9805b", "#c0c4cc"),
    "transparent": ("#f97316", "#22c55e", "#a855f7", "#ec4899", "#06b6d4", "#84cc16", "#a16207", "#8b8b8b"),
}

# class colours of the field panels: Okabe-Ito, colour-blind safe (blue and orange first: two classes differ most);
# the dark theme swaps black for light grey, the transparent one for mid grey
_OKABE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
CLASS_COLORS = {"light": _OKABE + ("#000000", "#999999", "#8c564b"), "dark": _OKABE + ("#dddddd", "#888888", "#a9805b"),
                "transparent": _OKABE + ("#7f7f7f", "#b0b0b0", "#a16207")}


def y_limits(y: np.ndarray, pred) -> tuple[float, float]:
    """Fixed y-limits for the fit panel: the target's range, widened for the predictions.

    ``pred`` is one array of predictions, or a list of them (one per run).
    Predictions widen the range up to 2.5 target spans around the target, so a
    wild first guess (a random cubic reaches ±30 on [-π, π]) or a diverging run
    does not shrink the fit everyone came to see into a flat line. NaNs and
    infinities are ignored.
    """
    y = y[np.isfinite(y)]
    lo, hi = (float(y.min()), float(y.max())) if y.size else (-1.0, 1.0)
    span = max(hi - lo, 1e-9 + abs(hi) * 1e-3)
    pred = _thinned(pred if isinstance(pred, (list, tuple)) else [pred])
    pred = pred[np.isfinite(pred)]
    if pred.size:
        p_lo, p_hi = np.percentile(pred, [1, 99])
        mid = (lo + hi) / 2
        lo = max(min(lo, float(p_lo)), mid - 1.25 * span)
        hi = min(max(hi, float(p_hi)), mid + 1.25 * span)
    pad = 0.08 * (hi - lo)
    return lo - pad, hi + pad


def fit_limits(history) -> tuple[float, float]:
    """The fit panel's y-limits for a History or a RunSet: target and samples, widened by every prediction."""
    runs = history.histories if isinstance(history, RunSet) else [history]
    base = history.y if history.data_y is None else np.concatenate([history.y, history.data_y])
    return y_limits(base, [h.pred for h in runs])


def _thinned(preds: list) -> np.ndarray:
    """Every 1/256 of the snapshot rows (counted across all runs) and at most ~512 points of each.

    A thinned view is plenty for percentiles and keeps a 2,000-frame History
    from allocating (and sorting) a full copy of its predictions here.
    """
    if len(preds) == 1 and preds[0].ndim != 2:
        return np.ravel(preds[0])
    step = max(1, sum(len(p) for p in preds) // 256)
    picked, offset = [], 0
    for p in preds:
        picked.append(p[(-offset) % step :: step, :: max(1, p.shape[-1] // 512)].ravel())
        offset += len(p)
    return np.concatenate(picked)


def target_name(history) -> str | None:
    """What the legend calls the target: a Recorder's label, else the config's expression (None: unnamed)."""
    meta = history.meta if isinstance(history.meta, dict) else {}
    config = meta.get("config") if isinstance(meta.get("config"), dict) else {}
    data = config.get("data") if isinstance(config.get("data"), dict) else {}
    name = meta.get("target_label") or data.get("target")
    return no_bidi(str(name)) if name else None


def run_notes(meta: dict) -> list[str]:
    """What the last frame says about how a run went: where it stopped, stalls, rises."""
    stopped = meta.get("stopped")
    notes = [f"stopped at step {stopped['step']}: {stopped['reason']}"] if stopped else []
    # Histories written before notes existed keep plain warning strings: nothing short to show
    return notes + [w["note"] for w in meta.get("warnings") or () if isinstance(w, dict) and "note" in w]


FADED_ALPHA = 0.45  # a run that ended early, once the timeline has passed its last snapshot


def run_fades(meta: dict) -> bool:
    """Whether a run is drawn faded after its last snapshot: only when it ended early.

    ``meta["stopped"]`` records every early end (a loss that diverged to
    inf/nan, a run cut short); a stall, a rising loss or any other note leaves
    the curve as it is, since such a run finished and its last curve is its result.
    """
    return bool(isinstance(meta, dict) and meta.get("stopped"))


def fade_positions(history) -> list[int | None]:
    """Per run, the timeline position (an index into ``history.steps``) from which it is faded, or None.

    ``history`` is a History (one run) or a RunSet. A fading run fades at its
    last snapshot's step on the timeline; positions between two snapshots
    (interpolated frames) fade once they are at or past that index. The GIF,
    PNG and HTML frames all take the decision from here.
    """
    runs = history.histories if isinstance(history, RunSet) else [history]
    steps = np.asarray(history.steps)
    return [int(np.searchsorted(steps, run.steps[-1], side="left")) if run_fades(run.meta) else None
            for run in runs]


def label_box(theme: str) -> str | None:
    """The colour behind the red ``t=…, Loss=…`` label, so gridlines do not run through it (None: no box).

    The theme's background at 75% opacity; none for the transparent theme,
    whose page colour is unknown (a box of any colour would show on one page or the other).
    """
    bg = THEMES[theme]["bg"]
    return None if len(bg) > 7 else bg + "bf"


WIDE = 1.6  # a frame at least this much wider than tall puts the other panels beside the fit panel
FIT_SHARE = 0.6  # the main (fit) panel's share of a wide frame's width when other panels sit beside it


def is_wide(size) -> bool:
    """Whether a frame of ``size`` (width, height) puts the panels side by side rather than stacked."""
    return size[0] / size[1] >= WIDE


def panel_grid(panels, wide: bool) -> tuple:
    """The figure's grid of panels: (rows, cols, width_ratios, height_ratios, {name: (row0, row1, col0, col1)}).

    The main panel (:func:`polyanim.panels.registry.main_panel`: the fit
    panel) large and the others sharing the remaining column (wide) or row
    (stacked); without a main panel, or with one panel, equal cells side by
    side (wide) or one above the other. The scene builds its gridspec from it
    and the HTML player its panel cells (:func:`panel_cells`).
    """
    panels = list(panels)
    main = main_panel(panels)
    if main is None or len(panels) == 1:
        n = len(panels)
        cells = {p: ((0, 1, k, k + 1) if wide else (k, k + 1, 0, 1)) for k, p in enumerate(panels)}
        return (1, n, None, None, cells) if wide else (n, 1, None, None, cells)
    others = [p for p in panels if p != main]
    n = len(others)
    if wide:
        cells = {main: (0, n, 0, 1), **{p: (k, k + 1, 1, 2) for k, p in enumerate(others)}}
        return n, 2, [FIT_SHARE, 1 - FIT_SHARE], None, {p: cells[p] for p in panels}
    cells = {main: (0, 1, 0, n), **{p: (1, 2, k, k + 1) for k, p in enumerate(others)}}
    return 2, n, None, [2 if n == 1 else 1.6, 1], {p: cells[p] for p in panels}


def panel_cells(panels, wide: bool) -> dict:
    """Each panel's cell of :func:`panel_grid` as (left, top, width, height) fractions of the figure."""
    rows, cols, widths, heights, cells = panel_grid(panels, wide)
    xs = np.concatenate([[0], np.cumsum(widths or [1] * cols)]) / sum(widths or [1] * cols)
    ys = np.concatenate([[0], np.cumsum(heights or [1] * rows)]) / sum(heights or [1] * rows)
    return {p: (float(xs[c0]), float(ys[r0]), float(xs[c1] - xs[c0]), float(ys[r1] - ys[r0]))
            for p, (r0, r1, c0, c1) in cells.items()}


SUBPLOT_BOX = (0.125, 0.9, 0.11, 0.88, 0.2)  # matplotlib's figure.subplot left, right, bottom, top, w/hspace


def cell_aspect(panels, name: str, size) -> float:
    """Width / height of panel ``name``'s cell of :func:`panel_grid` in a frame of ``size``, placed as
    matplotlib places a gridspec before the constrained layout runs (its default subplot box and spacing).

    The grid of small multiples is chosen for this aspect (:func:`grid_shape`), by the scene and the player.
    """
    rows, cols, widths, heights, cells = panel_grid(panels, is_wide(size))
    left, right, bottom, top, space = SUBPLOT_BOX

    def spans(n, ratios, extent):  # each cell's start and length, as matplotlib's GridSpec computes them
        cell = extent / (n + space * (n - 1))
        ratios = ratios or [1] * n
        lengths = [r * cell * n / sum(ratios) for r in ratios]
        return np.concatenate([[0], np.cumsum([v + space * cell for v in lengths])]), lengths

    xs, ws = spans(cols, widths, right - left)
    ys, hs = spans(rows, heights, top - bottom)
    r0, r1, c0, c1 = cells[name]
    return (xs[c1 - 1] + ws[c1 - 1] - xs[c0]) * size[0] / ((ys[r1 - 1] + hs[r1 - 1] - ys[r0]) * size[1])


def grid_shape(n: int, aspect: float) -> tuple[int, int]:
    """(rows, cols) of ``n`` small multiples in an area ``aspect`` = width / height: cells near 4:3, few empty."""
    best = None
    for cols in range(1, n + 1):
        rows = -(-n // cols)
        cell = aspect * rows / cols
        score = abs(np.log(cell / 1.35)) + 0.25 * (rows * cols - n)
        if best is None or score < best[0]:
            best = (score, rows, cols)
    return best[1], best[2]


def quiet_corner(box, xlim, ylim, log: bool, curves) -> str:
    """The corner of a panel where a legend of ``box`` = (width, height), as fractions of the panel, covers
    the least of ``curves`` (pairs of steps, values) drawn on ``xlim`` and ``ylim`` (``log``: a log y axis).

    One of ``upper right`` (ties), ``lower left``, ``upper left``, ``lower right``, ``center right``.
    """
    w, h = box
    (x0, x1), (y0, y1) = xlim, ylim
    lo, hi = (np.log10(y0), np.log10(y1)) if log else (y0, y1)
    points = []
    for steps, values in curves:
        ok = np.isfinite(values) & ((values > 0) if log else True)
        if ok.sum() < 1:
            continue
        xs = np.linspace(steps[ok][0], steps[ok][-1], 200)
        ys = np.interp(xs, steps[ok], np.log10(values[ok]) if log else values[ok])
        points.append(np.stack([(xs - x0) / (x1 - x0), (ys - lo) / (hi - lo)], axis=1))
    points = np.concatenate(points) if points else np.empty((0, 2))
    corners = {"upper right": (1 - w, 1 - h), "lower left": (0, 0), "upper left": (0, 1 - h),
               "lower right": (1 - w, 0), "center right": (1 - w, 0.5 - h / 2)}
    covered = {loc: int(np.count_nonzero((points[:, 0] >= a) & (points[:, 0] <= a + w) &
                                         (points[:, 1] >= b) & (points[:, 1] <= b + h)))
               for loc, (a, b) in corners.items()}
    return min(corners, key=lambda loc: covered[loc])  # ties: the first, upper right


def loss_label(step: int, loss: float) -> str:
    """The original post's red label, ``t=100, Loss=1234.5678``.

    Four decimals as in the post, except where they would say nothing: below
    0.001 (a converged run is not ``0.0000``) and from a million up.
    """
    if 1e-3 <= abs(loss) < 1e6 or loss == 0 or loss != loss:
        return f"t={step}, Loss={loss:.4f}"
    return f"t={step}, Loss={loss:.4g}"


def fit_label(states, labels, *, single: bool) -> str:
    """The fit panel's label over every run (overlay): one run's ``t=…, Loss=…`` and its notes, one per line;
    for several runs ``t=…`` and a line ``label: notes`` per run whose notes are due."""
    if single:
        return loss_label(states[0].step, states[0].loss) + "".join(f"\n{note}" for note in states[0].notes)
    return "\n".join([f"t={states[0].step}"] + [f"{label}: {s.note}" for s, label in zip(states, labels) if s.note])


def cell_label(state) -> str:
    """A grid cell's label: ``t=…, Loss=…`` and the run's notes, the reason on a line of its own (cells are narrow)."""
    note = state.note.replace(": ", "\n", 1) if state.note else None
    return loss_label(state.step, state.loss) + (f"\n{note}" if note else "")


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def equation(coefs) -> str:
    """``y = 0.019 + 0.806x - 0.003x² - 0.086x³`` for monomial coefficients, constant term first."""
    terms = [f"{coefs[0]:.3f}"]
    for k, c in enumerate(coefs[1:], start=1):
        power = "x" if k == 1 else "x" + str(k).translate(_SUPERSCRIPT)
        terms.append(f"{'-' if c < 0 else '+'} {abs(c):.3f}{power}")
    return "y = " + " ".join(terms)


def pretty_name(name: str) -> str:
    """``c3`` → ``c₃`` for legends."""
    return name[0] + name[1:].translate(str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")) if name[1:].isdigit() else name


def in_view(pred: np.ndarray, ylim) -> np.ndarray:
    """``pred`` with values far outside the fit panel's ``ylim`` (a diverging run's 1e17) left out.

    Drawn as they are, two neighbouring points at -1e17 and +1e17 make a
    vertical line across the panel; beyond four panel heights a point is
    dropped (NaN), so the curve leaves the panel and does not come back.
    """
    lo, hi = ylim
    span = hi - lo
    far = (pred < lo - 4 * span) | (pred > hi + 4 * span)
    return np.where(far, np.nan, pred) if far.any() else pred


def loss_scale(runs) -> tuple[bool, tuple[float, float] | None]:
    """(log scale?, y-limits or None) of the loss panel for a list of Histories.

    Log when every finite loss is positive. The scale follows the runs that
    did not stop early (and every run's first loss): a diverging run leaves
    through the top of the panel instead of squashing the others into a line.
    When every run stopped early, all of their losses set it.
    """
    finite = [run.loss[np.isfinite(run.loss)] for run in runs]
    values = np.concatenate(finite)
    log = bool(values.size) and bool((values > 0).all())
    calm = [f for f, run in zip(finite, runs) if not run.meta.get("stopped")]
    calm = np.concatenate(calm + [f[:1] for f in finite]) if calm else values
    return log, value_limits(calm, log)


VALUE_LIMIT = 100  # panels span at most 1e-100..1e100 (log) or -1e100..1e100 (linear): see value_limits


def value_limits(values: np.ndarray, log: bool) -> tuple[float, float] | None:
    """Fixed y-limits holding ``values`` (finite; positive when ``log``) with a little headroom; None if empty.

    The headroom is worked out in log space on a log axis. The limits stay
    within 1e-100..1e100 (log) or +-1e100 (linear): matplotlib's locators
    place ticks up to a view's span beyond it, which overflows float64 for a
    view reaching 1e200 or so, so a loss beyond (a run blowing up to 1.7e296)
    leaves through the edge of the panel, as a diverging run does.
    """
    if not values.size:
        return None
    if log:  # headroom in log space, around the part of the values that can be shown
        lo, hi = _within(float(np.log10(values.min())), float(np.log10(values.max())), VALUE_LIMIT, 1.0)
        pad = max(0.05 * (hi - lo), 0.05)
        lo, hi = _within(lo - pad, hi + pad, VALUE_LIMIT, 1.0)
        return 10.0 ** lo, 10.0 ** hi
    bound = 10.0 ** VALUE_LIMIT
    lo, hi = _within(float(values.min()), float(values.max()), bound, bound / 10)
    pad = max(0.05 * (hi - lo), 1e-12)
    return _within(lo - pad, hi + pad, bound, bound / 10)


def _within(lo: float, hi: float, bound: float, least: float) -> tuple[float, float]:
    """``(lo, hi)`` clipped to ``[-bound, bound]``; when all of it is beyond one end, the band ``least`` inside it."""
    if lo >= bound:
        return bound - least, bound
    if hi <= -bound:
        return -bound, least - bound
    return max(lo, -bound), min(hi, bound)


def step_limit(runs, *, single: bool) -> int:
    """The right end of the panels over steps: a lone History's last step; for several runs also every
    run's planned ``train.steps``, so a run that stopped early shows how far it got."""
    if single:
        return max(int(runs[0].steps[-1]), 1)
    return max(max(max(int(run.steps[-1]), int(run.config.get("train", {}).get("steps", 0))) for run in runs), 1)
