"""Colours and framing shared by every renderer (matplotlib frames and the HTML player).

Kept free of matplotlib so the HTML writer, which draws in the browser, uses
the very same rules without importing a plotting library.
"""

from __future__ import annotations

import numpy as np

from .history import RunSet

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
    return str(name) if name else None


def run_notes(meta: dict) -> list[str]:
    """What the last frame says about how a run went: where it stopped, stalls, rises."""
    stopped = meta.get("stopped")
    notes = [f"stopped at step {stopped['step']}: {stopped['reason']}"] if stopped else []
    # Histories written before notes existed keep plain warning strings: nothing short to show
    return notes + [w["note"] for w in meta.get("warnings") or () if isinstance(w, dict) and "note" in w]
