"""The ``.html`` output: one self-contained page that replays a History in the browser.

Instead of embedding a picture per frame (what matplotlib's ``to_jshtml``
does), the page carries the History's numbers and a small script draws them
on a ``<canvas>``: the target, the prediction of the current snapshot, the
post's red ``t=…, Loss=…`` label and a loss panel, with play/pause, a step
slider, a speed menu and keyboard control. Curves are thinned to at most
:data:`MAX_POINTS` points (and no more than the canvas is wide) and stored as
12-bit codes in base64, so a page is about 16 kB plus 0.8 kB per snapshot
(200 snapshots at 640x480: 0.18 MB, against 7.2 MB from ``to_jshtml``). No
network, no matplotlib, no torch: numpy and the standard library only.
"""

from __future__ import annotations

import base64
import html as _html
import json
import math
import os
import re

import numpy as np

from .fileio import atomic_path
from .history import RunSet
from .style import (FADED_ALPHA, RUN_COLORS, THEMES, fade_positions, fit_limits, label_box, plain_text, run_notes,
                    target_name)

MAX_POINTS = 400  # per curve; a smooth curve gains nothing from more points than pixels
_MISSING = 4095  # 12-bit code for "no value" (NaN): the curve gets a gap there
_LEVELS = 4094  # codes 0.._LEVELS span the quantisation range


def write_html(history, path: str | os.PathLike, *, title: str, fps: float, size: tuple[int, int],
               theme: str = "light", loop: bool = False) -> None:
    """Write ``history`` as a self-contained interactive HTML player to ``path``, atomically.

    The page is :func:`html_page`'s; see there for what it shows and the arguments.
    """
    page = html_page(history, title=title, fps=fps, size=size, theme=theme, loop=loop)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")


def html_page(history, *, title: str = "", fps: float = 10.0, size: tuple[int, int] = (640, 480),
              theme: str = "light", loop: bool = False) -> str:
    """``history`` as a self-contained interactive HTML player page, as a string.

    The page draws the target curve, the prediction of the current snapshot,
    the red ``t=STEP, Loss=LOSS`` label and a log-scale loss panel on a canvas
    of ``size`` = (width, height) CSS pixels, and plays the snapshots at
    ``fps`` (the speed menu scales it from 0.25x to 4x). Controls have stable
    ids (``#play``, ``#slider``, ``#speed``, ``#loop``, canvas ``#plot``);
    space toggles playback, left/right arrows step one snapshot. ``title`` is
    shown above the player and HTML-escaped; ``theme`` is ``"light"`` or
    ``"dark"``; ``loop`` starts the player with looping on. It loads nothing
    from the network (a Content-Security-Policy forbids it), so it works
    offline and can be attached or iframed as is.
    Raises :class:`ValueError` for a bad ``fps``, ``size`` or ``theme``.
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
    # the frames draw $…$ as mathtext; the page shows the same text in plain characters
    return _page(history, title=plain_text(str(title)), fps=float(fps), size=(width, height), theme=theme, loop=loop)


def _page(history, *, title: str, fps: float, size: tuple[int, int], theme: str, loop: bool) -> str:
    data = _payload(history, fps=fps, size=size, theme=theme)
    # The data sits in a <script> element: escaping <, > and & keeps user text
    # such as "</script>" in the target name from ending it early.
    blob = (json.dumps(data, separators=(",", ":"), allow_nan=False, ensure_ascii=True)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    heading = f"<h1>{_html.escape(title)}</h1>\n" if title.strip() else ""
    values = {"TITLE": _html.escape(title.strip() or "polyanim"), "HEADING": heading, "THEME": theme,
              "WIDTH": str(size[0]), "LAST": str(len(history) - 1), "DATA": blob, "SCRIPT": _SCRIPT,
              "LOOP": " checked" if loop else "",
              # room for the widest "201 / 201" up front, so the slider does not shrink while playing
              "READOUT": str(2 * len(str(len(history))) + 3)}
    # one pass, so a title that happens to contain "@DATA@" is never expanded again
    return re.sub(r"@([A-Z]+)@", lambda m: values[m.group(1)], _TEMPLATE)


def _payload(history, *, fps: float, size: tuple[int, int], theme: str) -> dict:
    multi = isinstance(history, RunSet)
    x, y = history.x, history.y
    cols = np.flatnonzero(np.isfinite(x))
    cols = cols[np.argsort(x[cols], kind="stable")]
    points = min(MAX_POINTS, max(size[0], 2))
    if cols.size > points:
        cols = cols[np.unique(np.rint(np.linspace(0, cols.size - 1, points)).astype(np.int64))]
    if cols.size == 0:
        cols = np.arange(len(x))  # nothing finite to draw; keep the shapes consistent
    xs = x[cols]
    finite_x = xs[np.isfinite(xs)]
    x_lo, x_hi = (float(finite_x.min()), float(finite_x.max())) if finite_x.size else (0.0, 1.0)
    if x_hi <= x_lo:
        x_lo, x_hi = x_lo - 0.5, x_hi + 0.5
    y_lo, y_hi = fit_limits(history)  # the frames' limits: samples included
    # Quantise over a band a little wider than the view (2 spans: 2047 levels
    # per view height, finer than a pixel) so a curve leaving the plot is cut
    # by the canvas edge; values beyond the band become gaps (see _pack).
    span = y_hi - y_lo
    band = (y_lo - span / 2, y_hi + span / 2)
    out = {
        "fps": fps, "size": list(size), "theme": theme, "colors": THEMES[theme],
        # no finite target (a data file without data.target): no curve, and the points are drawn instead
        "target": plain_text(target_name(history) or "") if np.isfinite(y).any() else None,
        "note": _note(history),
        # decided in polyanim.style, as for the frames: when each run fades, how much, the label's box
        "fade": fade_positions(history)[0] if not multi else None, "faded": FADED_ALPHA,
        "labelBox": label_box(theme),
        "steps": [int(s) for s in history.steps],
        "xlim": [x_lo, x_hi], "ylim": [y_lo, y_hi], "band": list(band), "n": int(cols.size),
        "x": _pack(xs, x_lo, x_hi),
        "y": _pack(y[cols], *band),
    }
    if out["target"] is None and history.data_x is not None:
        out["points"] = {"n": int(len(history.data_x)), "x": _pack(history.data_x, x_lo, x_hi),
                         "y": _pack(history.data_y, *band)}
    if not multi:
        return {**out, "loss": [_sig(v) for v in history.loss], "pred": _pack(history.pred[:, cols], *band)}
    # Several runs: the slider walks the union of their steps (``steps``); ``idx[i]`` is each run's
    # latest snapshot at or before ``steps[i]``, as in the GIF.
    colors = RUN_COLORS[theme]
    runs = []
    fades = fade_positions(history)
    for k, (label, h) in enumerate(history.runs):
        runs.append({"label": plain_text(label), "color": colors[k % len(colors)], "note": _note(h),
                     "fade": fades[k],
                     "calm": not h.meta.get("stopped"),  # a diverged run does not set the loss scale
                     "steps": [int(s) for s in h.steps], "loss": [_sig(v) for v in h.loss],
                     "idx": [int(v) for v in np.searchsorted(h.steps, history.steps, side="right") - 1],
                     "pred": _pack(h.pred[:, cols], *band)})
    last = max(max(int(h.steps[-1]), int(h.config.get("train", {}).get("steps", 0) or 0))
               for h in history.histories)
    return {**out, "runs": runs, "lossMax": last}


def _note(history) -> str:
    return "; ".join(run_notes(history.meta if isinstance(history.meta, dict) else {}))


def _pack(values: np.ndarray, lo: float, hi: float) -> str:
    """Base64 of 12-bit codes for ``values`` on [lo, hi], two codes in three bytes; NaN -> _MISSING."""
    values = np.asarray(values, dtype=np.float64).ravel()
    codes = np.full(values.size + values.size % 2, _MISSING, dtype=np.uint16)
    # beyond the band (which lies outside the view) is a gap, not the band's edge: a run
    # that blew up to 1e17 must not become a vertical line through the plot
    known = np.flatnonzero((values >= lo) & (values <= hi))
    codes[known] = np.rint((values[known] - lo) / (hi - lo) * _LEVELS)
    a, b = codes[0::2], codes[1::2]
    packed = np.stack([a & 0xFF, (a >> 8) | ((b & 0xF) << 4), b >> 4], axis=1).astype(np.uint8)
    return base64.b64encode(packed.tobytes()).decode("ascii")


def _sig(v: float) -> float | str:
    """Loss to 10 significant digits (the label shows 4 decimals); "inf", "-inf", "nan" as strings."""
    v = float(v)
    return float(f"{v:.10g}") if math.isfinite(v) else str(v)


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'">
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

# Kept plain ES5-ish and dependency-free so the page runs in any browser and
# stays small; the layout mirrors the figure renderer (fit above loss, or side
# by side for wide sizes) so the HTML and GIF of a run look alike.
_SCRIPT = r"""
(function () {
"use strict";
var D = JSON.parse(document.getElementById("polyanim-data").textContent);
var C = D.colors;  // polyanim.style.THEMES, shared with the GIF/MP4 frames

function unpack(b64, lo, hi) {  // inverse of _pack: 3 bytes hold two 12-bit codes
  var s = atob(b64), n = 2 * s.length / 3, out = new Float64Array(n), k = (hi - lo) / 4094;
  for (var i = 0, j = 0; i < n; i += 2, j += 3) {
    var b0 = s.charCodeAt(j), b1 = s.charCodeAt(j + 1), b2 = s.charCodeAt(j + 2);
    var c = b0 | ((b1 & 15) << 8), d = (b1 >> 4) | (b2 << 4);
    out[i] = c === 4095 ? NaN : lo + c * k;
    out[i + 1] = d === 4095 ? NaN : lo + d * k;
  }
  return out;
}
var X = unpack(D.x, D.xlim[0], D.xlim[1]), Y = unpack(D.y, D.band[0], D.band[1]);
var F = D.steps.length, M = D.n;  // X may carry one padding code
var PTS = D.points ? {n: D.points.n, x: unpack(D.points.x, D.xlim[0], D.xlim[1]),
                      y: unpack(D.points.y, D.band[0], D.band[1])} : null;  // data points, when they are the target
var TARGET = D.target !== null ? {color: C.target, text: D.target ? "target: " + D.target : "target"}
  : PTS ? {color: C.target, text: "data (" + PTS.n + " points)", dot: true} : null;
var STEPS = D.steps.map(Number);
function lossValues(a) {  // JSON has no inf/nan: they arrive as strings
  return a.map(function (v) { return typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN; });
}
// One run, or several (D.runs) drawn together: each with its own steps, losses, predictions and
// its snapshot index at each slider position (idx), over the union of their steps (D.steps).
var MULTI = !!D.runs;
var RUNS = (D.runs || [{label: "prediction", color: C.pred, steps: D.steps, loss: D.loss, pred: D.pred,
                        note: D.note, calm: true, fade: D.fade}]).map(function (r) {
  return {label: r.label, color: r.color, steps: r.steps.map(Number), loss: lossValues(r.loss), note: r.note,
          calm: r.calm, idx: r.idx, fade: r.fade, P: unpack(r.pred, D.band[0], D.band[1])};
});
var finiteLoss = [].concat.apply([], RUNS.map(function (r) { return r.loss.filter(isFinite); }));
var LOG = finiteLoss.length > 0 && finiteLoss.every(function (v) { return v > 0; });
RUNS.forEach(function (r) { r.LV = r.loss.map(function (v) { return LOG ? Math.log10(v) : v; }); });
function at(r, i) { return r.idx ? r.idx[i] : i; }
function frozen(r, i) { return STEPS[i] >= r.steps[r.steps.length - 1]; }

var W = D.size[0], H = D.size[1];
var canvas = document.getElementById("plot"), ctx = canvas.getContext("2d");
var dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

var FS = Math.max(10, Math.round(Math.min(W / 640, H / 480) * 13));
var FONT = FS + "px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif";
var SMALL = Math.round(FS * 0.75) + "px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif";

function niceTicks(lo, hi, n, integer) {
  var raw = (hi - lo) / Math.max(1, n), mag = Math.pow(10, Math.floor(Math.log10(raw)));
  var r = raw / mag, step = (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
  if (integer) step = Math.max(1, Math.round(step));
  var out = [], k0 = Math.ceil(lo / step - 1e-9), k1 = Math.floor(hi / step + 1e-9);
  for (var k = k0; k <= k1; k++) out.push(k * step);
  var digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return out.map(function (v) { return {v: v, s: num(v, digits)}; });
}
function num(v, digits) {
  var s = Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-4) ? v.toExponential(1) : v.toFixed(digits);
  if (/^-0(\.0*)?$/.test(s)) s = s.slice(1);
  return s.replace("-", "\u2212");
}

// Fixed layout, computed once: the axes never move between snapshots.
var fitX = D.xlim, fitY = D.ylim;
var lossX = [0, Math.max(D.lossMax || D.steps[F - 1], 1)];
var lossY;
(function () {
  // the runs that did not blow up (and every run's first loss) set the scale
  var f = [].concat.apply([], RUNS.map(function (r) { return r.calm ? r.LV : r.LV.slice(0, 1); })).filter(isFinite);
  if (!f.length) f = [].concat.apply([], RUNS.map(function (r) { return r.LV; })).filter(isFinite);
  if (!f.length) { lossY = [0, 1]; return; }
  var lo = Math.min.apply(null, f), hi = Math.max.apply(null, f);
  var pad = LOG ? Math.max(0.05 * (hi - lo), 0.05) : Math.max(0.05 * (hi - lo), 1e-12 + Math.abs(hi) * 0.05);
  lossY = [lo - pad, hi + pad];
})();
function lossTicks() {
  if (!LOG) return niceTicks(lossY[0], lossY[1], 3);
  var a = Math.ceil(lossY[0] - 1e-9), b = Math.floor(lossY[1] + 1e-9), out = [];
  var room = wide ? H * 0.7 : H * 0.22;  // about the loss panel's height
  var every = Math.max(1, Math.ceil((b - a + 1) / Math.max(2, Math.floor(room / (FS * 1.9)))));
  for (var e = a; e <= b; e++) if ((e - a) % every === 0) out.push({v: e, s: "10", e: num(e, 0)});
  if (out.length >= 2) return out;
  // about a decade or less: plain values, placed on the log axis
  return niceTicks(Math.pow(10, lossY[0]), Math.pow(10, lossY[1]), 3).filter(function (t) { return t.v > 0; })
    .map(function (t) { return {v: Math.log10(t.v), s: t.s}; });
}

var wide = W / H >= 1.6;
var fitXT = niceTicks(fitX[0], fitX[1], Math.round(W / (wide ? 130 : 90)));
var fitYT = niceTicks(fitY[0], fitY[1], Math.round(H / (wide ? 70 : 90)));
var lossXT, lossYT = lossTicks();
function textWidth(t) {
  ctx.font = FONT; var w = ctx.measureText(t.s).width;
  if (t.e !== undefined) { ctx.font = SMALL; w += ctx.measureText(t.e).width + 1; }
  return w;
}
function labelRoom(ts) { return Math.max.apply(null, ts.map(textWidth).concat([0])) + FS * 0.6; }

var pad = Math.round(FS * 0.9), tickRoom = Math.round(FS * 1.5), legendRow = Math.round(FS * 1.7);
// Legend rows: one for a single run; several runs wrap onto as many rows as the fit panel's width needs.
var LEGEND = (TARGET ? [TARGET] : []).concat(RUNS.map(function (r) {
  return {color: r.color, text: r.label};
}));
var legendRows = [LEGEND];
if (MULTI) {
  ctx.font = FONT;
  var legendWidth = (wide ? (W - 2 * pad) * 0.6 : W - 2 * pad) - FS * 3;
  if (D.target !== null && ctx.measureText(LEGEND[0].text).width > legendWidth * 0.6) LEGEND[0].text = "target";
  legendRows = [[]];
  var used = 0;
  LEGEND.forEach(function (item) {
    var w = FS * 2 + ctx.measureText(item.text).width + FS * 1.2;
    if (used + w > legendWidth && legendRows[legendRows.length - 1].length) { legendRows.push([]); used = 0; }
    legendRows[legendRows.length - 1].push(item);
    used += w;
  });
}
var legendRoom = legendRow * legendRows.length;
var fitBox, lossBox;
lossXT = niceTicks(lossX[0], lossX[1], wide ? 3 : Math.round(W / 110), true);
// the last x tick label is centred on the right edge: leave room for its right half
function rightRoom(ts) { return ts.length ? Math.max(pad, textWidth(ts[ts.length - 1]) / 2 + 3) : pad; }
if (wide) {
  var split = Math.round((W - 2 * pad) * 0.6);
  var l1 = pad + labelRoom(fitYT);
  fitBox = {x: l1, y: legendRoom + 4, w: pad + split - l1 - pad, h: H - legendRoom - 4 - tickRoom - FS * 1.3 - pad};
  var l2 = pad + split + pad + FS * 1.3 + labelRoom(lossYT);
  lossBox = {x: l2, y: fitBox.y, w: W - rightRoom(lossXT) - l2, h: fitBox.h};
} else {
  var left = pad + FS * 1.3 + Math.max(labelRoom(fitYT), labelRoom(lossYT));
  var right = Math.max(rightRoom(fitXT), rightRoom(lossXT));
  var avail = H - legendRoom - 4 - 2 * (tickRoom + FS * 1.3) - pad - FS * 0.5;
  var fh = Math.round(avail * 2 / 3);
  fitBox = {x: left, y: legendRoom + 4, w: W - right - left, h: fh};
  lossBox = {x: left, y: fitBox.y + fh + tickRoom + FS * 1.3 + FS * 0.5, w: fitBox.w, h: avail - fh};
}
function sx(b, lim, v) { return b.x + (v - lim[0]) / (lim[1] - lim[0]) * b.w; }
function sy(b, lim, v) { return b.y + b.h - (v - lim[0]) / (lim[1] - lim[0]) * b.h; }

function axes(b, xl, yl, xt, yt, xlabel, ylabel) {
  ctx.lineWidth = 1; ctx.strokeStyle = C.grid; ctx.beginPath();
  xt.forEach(function (t) { var p = Math.round(sx(b, xl, t.v)) + 0.5; ctx.moveTo(p, b.y); ctx.lineTo(p, b.y + b.h); });
  yt.forEach(function (t) { var p = Math.round(sy(b, yl, t.v)) + 0.5; ctx.moveTo(b.x, p); ctx.lineTo(b.x + b.w, p); });
  ctx.stroke();
  ctx.strokeStyle = C.frame;
  ctx.strokeRect(Math.round(b.x) + 0.5, Math.round(b.y) + 0.5, Math.round(b.w), Math.round(b.h));
  ctx.fillStyle = C.fg; ctx.font = FONT; ctx.textBaseline = "top"; ctx.textAlign = "center";
  xt.forEach(function (t) { ctx.fillText(t.s, sx(b, xl, t.v), b.y + b.h + FS * 0.35); });
  ctx.textBaseline = "middle";
  yt.forEach(function (t) {
    var p = sy(b, yl, t.v), right = b.x - FS * 0.4;
    if (t.e !== undefined) {  // 10 with a raised exponent, like matplotlib's log axis
      ctx.font = SMALL; ctx.textAlign = "right"; var ew = ctx.measureText(t.e).width;
      ctx.fillText(t.e, right, p - FS * 0.35);
      ctx.font = FONT; ctx.fillText(t.s, right - ew - 1, p);
    } else { ctx.font = FONT; ctx.textAlign = "right"; ctx.fillText(t.s, right, p); }
  });
  var yRoom = labelRoom(yt);  // measures with both fonts: set the font after it
  ctx.font = FONT; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
  ctx.fillText(xlabel, b.x + b.w / 2, b.y + b.h + tickRoom + FS * 1.3);
  if (ylabel) {
    ctx.save(); ctx.translate(b.x - yRoom - FS * 0.3, b.y + b.h / 2); ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "bottom"; ctx.fillText(ylabel, 0, 0); ctx.restore();
  }
}
function polyline(xs, ys, off, n, b, xl, yl) {
  ctx.beginPath();
  var pen = false;
  for (var i = 0; i < n; i++) {
    var xv = xs[i], yv = ys[off + i];
    if (!(isFinite(xv) && isFinite(yv))) { pen = false; continue; }
    var px = sx(b, xl, xv), py = sy(b, yl, yv);
    if (pen) ctx.lineTo(px, py); else { ctx.moveTo(px, py); pen = true; }
  }
  ctx.stroke();
}
function clip(b) { ctx.save(); ctx.beginPath(); ctx.rect(b.x, b.y, b.w, b.h); ctx.clip(); }
function legendItem(x, color, text, row, dot) {
  var y = (row || 0) * legendRow + legendRow / 2 + 2;
  ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 2; ctx.beginPath();
  if (dot) { ctx.arc(x + FS * 0.75, y, FS * 0.2, 0, 2 * Math.PI); ctx.fill(); }
  else { ctx.moveTo(x, y); ctx.lineTo(x + FS * 1.5, y); ctx.stroke(); }
  ctx.fillStyle = C.fg; ctx.textAlign = "left"; ctx.textBaseline = "middle";
  ctx.fillText(text, x + FS * 2, y);
  return x + FS * 2 + ctx.measureText(text).width + FS * 1.2;
}
function lossText(v) {
  if (!isFinite(v)) return v !== v ? "nan" : v > 0 ? "inf" : "-inf";  // as Python prints them
  var a = Math.abs(v);  // as polyanim.scene.loss_label
  return (a >= 1e-3 && a < 1e6) || v === 0 ? v.toFixed(4) : v.toPrecision(4);
}

function draw(i) {
  ctx.clearRect(0, 0, W, H);  // a transparent background paints nothing over the last frame
  ctx.fillStyle = C.bg; ctx.fillRect(0, 0, W, H);
  axes(fitBox, fitX, fitY, fitXT, fitYT, "x", "");
  axes(lossBox, lossX, lossY, lossXT, lossYT, "step", "loss");
  ctx.font = FONT;
  if (MULTI) {
    legendRows.forEach(function (row, k) {
      row.reduce(function (x, item) { return legendItem(x, item.color, item.text, k, item.dot); }, fitBox.x);
    });
  } else {
    var tname = TARGET ? TARGET.text : "";
    if (D.target !== null && ctx.measureText(tname).width > fitBox.w * 0.6) tname = "target";
    legendItem(TARGET ? legendItem(fitBox.x, C.target, tname, 0, TARGET.dot) : fitBox.x, C.pred, "prediction");
  }
  clip(fitBox);
  ctx.lineJoin = "round"; ctx.lineWidth = 2;
  if (PTS) {
    ctx.fillStyle = C.target; ctx.globalAlpha = 0.8;
    for (var p = 0; p < PTS.n; p++) {
      if (!(isFinite(PTS.x[p]) && isFinite(PTS.y[p]))) continue;
      ctx.beginPath(); ctx.arc(sx(fitBox, fitX, PTS.x[p]), sy(fitBox, fitY, PTS.y[p]), 1.5, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.globalAlpha = 1;
  }
  ctx.strokeStyle = C.target; polyline(X, Y, 0, M, fitBox, fitX, fitY);
  RUNS.forEach(function (r) {  // a run that ended early fades from the position Python chose (polyanim.style)
    ctx.globalAlpha = r.fade !== null && r.fade !== undefined && i >= r.fade ? D.faded : 1;
    ctx.strokeStyle = r.color; polyline(X, r.P, at(r, i) * M, M, fitBox, fitX, fitY);
  });
  ctx.globalAlpha = 1;
  var lines = [MULTI ? "t=" + STEPS[i] : "t=" + STEPS[i] + ", Loss=" + lossText(RUNS[0].loss[i])];
  if (!MULTI && D.note && i === F - 1) lines.push(D.note);
  if (MULTI) RUNS.forEach(function (r, i2) { if (r.note && frozen(r, i)) lines.push(r.label + ": " + r.note); });
  ctx.font = FONT; ctx.textAlign = "left"; ctx.textBaseline = "top";
  lines.forEach(function (s, k) {
    var tx = fitBox.x + FS * 0.6, ty = fitBox.y + FS * 0.5 + k * FS * 1.25;
    if (D.labelBox) { ctx.fillStyle = D.labelBox; ctx.fillRect(tx - 3, ty - 2, ctx.measureText(s).width + 6, FS * 1.25); }
    ctx.fillStyle = C.label; ctx.fillText(s, tx, ty);
  });
  ctx.restore();
  clip(lossBox);
  RUNS.forEach(function (r) {  // one run: the whole curve faint, the part so far in the prediction's colour
    ctx.lineWidth = 1; ctx.strokeStyle = MULTI ? r.color : C.faint; ctx.globalAlpha = MULTI ? 0.3 : 1;
    polyline(r.steps, r.LV, 0, r.steps.length, lossBox, lossX, lossY);
    ctx.globalAlpha = 1; ctx.lineWidth = MULTI ? 1.8 : 2; ctx.strokeStyle = r.color;
    polyline(r.steps, r.LV, 0, at(r, i) + 1, lossBox, lossX, lossY);
  });
  ctx.restore();
  // unclipped, so the marker stays whole on the panel's edge at the first and last step
  RUNS.forEach(function (r) {
    var j = at(r, i), v = r.LV[j];
    if (!isFinite(v) || (MULTI && (v < lossY[0] || v > lossY[1]))) return;  // a diverged run left the panel
    ctx.fillStyle = MULTI ? r.color : C.label; ctx.beginPath();
    ctx.arc(sx(lossBox, lossX, r.steps[j]), sy(lossBox, lossY, v), Math.max(3, FS * 0.3), 0, 2 * Math.PI);
    ctx.fill();
  });
}

var play = document.getElementById("play"), slider = document.getElementById("slider");
var speedSel = document.getElementById("speed"), loop = document.getElementById("loop");
var readout = document.getElementById("readout");
var cur = 0, playing = false, last = 0, acc = 0, raf = 0;

function show(i) {
  cur = Math.max(0, Math.min(F - 1, i));
  slider.value = String(cur);
  readout.textContent = (cur + 1) + " / " + F;
  // the label as text, for screen readers (and tests) that cannot read the canvas
  canvas.setAttribute("aria-label", "t=" + STEPS[cur] + (MULTI ? RUNS.map(function (r) {
    return ", " + r.label + " Loss=" + lossText(r.loss[at(r, cur)]);
  }).join("") : ", Loss=" + lossText(RUNS[0].loss[cur])));
  slider.setAttribute("aria-valuetext", "step " + STEPS[cur]);
  draw(cur);
}
function setPlaying(p) {
  if (p && F < 2) p = false;
  if (p && cur >= F - 1) show(0);
  playing = p;
  play.textContent = p ? "Pause" : "Play";
  play.setAttribute("aria-pressed", String(p));
  cancelAnimationFrame(raf);
  if (p) { last = 0; acc = 0; raf = requestAnimationFrame(tick); }
}
function tick(ts) {
  if (!playing) return;
  if (last) acc += Math.min(ts - last, 1000);  // a background tab must not leap to the end
  last = ts;
  var per = 1000 / (D.fps * parseFloat(speedSel.value));
  if (acc >= per) {
    var n = Math.floor(acc / per); acc -= n * per;
    var next = cur + n;
    if (next > F - 1) {
      if (loop.checked) next = next % F;
      else { show(F - 1); setPlaying(false); return; }
    }
    show(next);
  }
  raf = requestAnimationFrame(tick);
}
play.addEventListener("click", function () { setPlaying(!playing); });
slider.addEventListener("input", function () { setPlaying(false); show(parseInt(slider.value, 10)); });
document.addEventListener("keydown", function (e) {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  var tag = e.target && e.target.tagName, type = e.target && e.target.type;
  if (e.key === " " || e.key === "Spacebar") {
    // buttons and checkboxes turn a space into their own click
    if (tag === "BUTTON" || type === "checkbox") return;
    e.preventDefault(); setPlaying(!playing);
  } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
    e.preventDefault(); setPlaying(false); show(cur + (e.key === "ArrowLeft" ? -1 : 1));
  }
});
show(0);
})();
"""
