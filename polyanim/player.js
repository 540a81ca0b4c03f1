// The polyanim HTML player: draws the data that polyanim/player_data.py computed.
//
// Every rule (which panels, their cells, limits, log or linear, ticks and their labels, colours,
// fades, every label string) is decided in Python, with the functions the frames use. Each panel
// arrives as generic draw items (polyanim/player_kit.py: lines, points, spans, hline, image, text)
// that this script draws by type, never by panel name, so a new panel needs no change here. It
// maps values to pixels, measures text to leave room for it, and draws. Plain ES5 and
// dependency-free, so the page runs in any browser and stays small; it is inlined into the page.
(function () {
"use strict";
var D = JSON.parse(document.getElementById("polyanim-data").textContent);
var C = D.colors, W = D.size[0], H = D.size[1], F = D.steps.length, FS = D.font;
var PT = D.pt;  // pixels per typographic point in the frames of this size (line widths, markers)
var FAMILY = "px system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', Arial, sans-serif";
function font(scale) { return (FS * (scale || 1)).toFixed(1) + FAMILY; }
var SMALL = 0.833, XSMALL = 0.694;  // matplotlib's "small" and "x-small"

function unpack(b64, lo, hi) {  // inverse of player_data.pack: 3 bytes hold two 12-bit codes
  var s = atob(b64), n = 2 * s.length / 3, out = new Float64Array(n), k = (hi - lo) / 4094;
  for (var i = 0, j = 0; i < n; i += 2, j += 3) {
    var b0 = s.charCodeAt(j), b1 = s.charCodeAt(j + 1), b2 = s.charCodeAt(j + 2);
    var c = b0 | ((b1 & 15) << 8), d = (b1 >> 4) | (b2 << 4);
    out[i] = c === 4095 ? NaN : lo + c * k;
    out[i + 1] = d === 4095 ? NaN : lo + d * k;
  }
  return out;
}
function numbers(a) {  // JSON has no inf/nan: they arrive as strings
  return a.map(function (v) { return typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN; });
}
var STEPS = D.steps;
var RUNS = D.runs.map(function (r) {
  return {label: r.label, color: r.color, fade: r.fade, steps: r.steps, idx: r.idx, end: r.end};
});

var canvas = document.getElementById("plot"), ctx = canvas.getContext("2d");
var dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
ctx.setTransform(dpr, 0, 0, dpr, 0, 0);

// --- layout: each panel's axes box inside the cell Python gave it --------------------------------
var PAD = FS * 0.45, ROW = FS * 1.6;
function textWidth(s, scale) { ctx.font = font(scale); return ctx.measureText(s).width; }
function tickWidth(t, scale) { return textWidth(t.s, scale) + (t.e !== undefined ? textWidth(t.e, (scale || 1) * 0.7) + 1 : 0); }
function widest(ts, scale) { return Math.max.apply(null, ts.map(function (t) { return tickWidth(t, scale); }).concat([0])); }
function legendRows(items, room, scale) {  // legend entries wrapped onto as many rows as ``room`` needs
  var rows = [[]], used = 0;
  items.forEach(function (it) {
    var w = FS * 2 + textWidth(it.text, scale) + FS;
    if (used + w > room && rows[rows.length - 1].length) { rows.push([]); used = 0; }
    rows[rows.length - 1].push(it); used += w;
  });
  return rows;
}
function inset(cell, p, opts) {  // the axes box in ``cell``: room for the tick labels, axis labels, legend
  var scale = opts.scale || 1;
  var left = PAD + (opts.yticks ? widest(p.yticks || [], scale) + FS * 0.4 : 0) + (p.ylabel ? FS * 1.3 : 0);
  var xt = p.xticks || [], last = xt.length ? tickWidth(xt[xt.length - 1], scale) / 2 : 0;
  var bottom = PAD + (opts.xticks ? FS * scale * 1.35 : 0) + (opts.xlabel ? FS * 1.3 : 0);
  var top = PAD + (opts.top || 0);
  return {x: cell.x + left, y: cell.y + top, w: cell.w - left - Math.max(PAD, last + 2), h: cell.h - top - bottom};
}
function decode(s) { return s.b64 !== undefined ? unpack(s.b64, s.lo, s.hi) : numbers(s); }
function series(p, it, s) {  // an item's x or y: its own data, a series of its panel, or its run's steps
  if (s === "steps") return RUNS[it.run].steps;
  return typeof s === "string" ? p.S[s] : decode(s);
}
function prepare(p, it) {  // decode an item's data once
  if (it.x !== undefined) it.X = series(p, it, it.x);
  if (it.y !== undefined && typeof it.y !== "number") it.Y = series(p, it, it.y);
  if (it.type === "image") {
    var c = document.createElement("canvas"), g = c.getContext("2d");
    c.width = it.width; c.height = it.height;
    it.img = c; it.g = g; it.data = g.createImageData(it.width, it.height); it.shown = -1;
    if (it.codes !== undefined) {  // one byte per pixel per snapshot of run ``run``, through ``lut`` (256 x RGBA)
      it.raw = atob(it.codes); var l = atob(it.lut);
      it.L = new Uint8Array(1024); for (var q = 0; q < l.length; q++) it.L[q] = l.charCodeAt(q);
    } else {
      var raw = atob(it.rgba);
      for (var q2 = 0; q2 < raw.length; q2++) it.data.data[q2] = raw.charCodeAt(q2);
      g.putImageData(it.data, 0, 0);
    }
  }
}
var figLegend = null, top = 0, BY = {};
D.panels.forEach(function (p) {
  BY[p.name] = p; p.S = {}; p.draw = p.draw || [];
  Object.keys(p.series || {}).forEach(function (k) { p.S[k] = decode(p.series[k]); });
  p.draw.forEach(function (it) { prepare(p, it); });
  if (p.legend && p.legend.place === "figure") { figLegend = p.legend.items; top = ROW; }  // over the whole figure
});
D.panels.forEach(function (p) {
  var c = p.cell, cell = {x: c[0] * W, y: top + c[1] * (H - top), w: c[2] * W, h: c[3] * (H - top)};
  var a = p.axes || {};
  if (p.grid && !p.empty) {  // small multiples: one axes box per cell, titled
    var rows = p.grid[0], cols = p.grid[1], n = p.titles.length;
    p.boxes = p.titles.map(function (t, k) {
      var row = Math.floor(k / cols), col = k % cols, below = k + cols >= n;
      var sub = {x: cell.x + col * cell.w / cols, y: cell.y + row * cell.h / rows, w: cell.w / cols, h: cell.h / rows};
      return {box: inset(sub, a, {scale: SMALL, yticks: col === 0, xticks: below, xlabel: below, top: FS * 1.3}),
              left: col === 0, below: below};
    });
    return;
  }
  var opts = {yticks: true, xticks: true, xlabel: true};
  if (p.legend && p.legend.place === "above") {
    var room = cell.w - 2 * PAD - widest(a.yticks || []) - FS;
    p.rows = legendRows(p.legend.items, p.legend.wrap ? room : Infinity);
    opts.top = ROW * p.rows.length;
  }
  p.box = inset(cell, a, opts);
});
// As the frames' constrained layout does, panels stacked in one column share their axes' left edge: the
// widest tick labels of the column decide it, not each panel's own (a loss panel's 10^-1 is wider than 0.5).
D.panels.forEach(function (p) {
  if (!p.box) return;
  var left = Math.max.apply(null, D.panels.filter(function (q) { return q.box && q.cell[0] === p.cell[0]; })
    .map(function (q) { return q.box.x; }));
  p.box.w -= left - p.box.x; p.box.x = left;
});
canvas.dataset.boxes = JSON.stringify(D.panels.map(function (p) {  // for tests: each panel's axes box in CSS px
  return {name: p.name, box: p.box || null};
}));

// --- drawing primitives ----------------------------------------------------------------------------
function tf(log) { return log ? function (v) { return v > 0 ? Math.log10(v) : NaN; } : function (v) { return v; }; }
function mapper(b, xl, yl, log) {
  var f = tf(log), y0 = f(yl[0]), y1 = f(yl[1]);
  return {x: function (v) { return b.x + (v - xl[0]) / (xl[1] - xl[0]) * b.w; },
          y: function (v) { return b.y + b.h - (f(v) - y0) / (y1 - y0) * b.h; }};
}
function axes(b, m, p, o) {  // gridlines, frame, tick labels and axis labels of one Axes
  var scale = o.scale || 1;
  ctx.lineWidth = 0.8 * PT; ctx.strokeStyle = C.grid; ctx.beginPath();
  (p.xticks || []).forEach(function (t) { var q = m.x(t.v); ctx.moveTo(q, b.y); ctx.lineTo(q, b.y + b.h); });
  (p.yticks || []).forEach(function (t) { var q = m.y(t.v); ctx.moveTo(b.x, q); ctx.lineTo(b.x + b.w, q); });
  ctx.stroke();
  ctx.strokeStyle = C.frame; ctx.strokeRect(b.x, b.y, b.w, b.h);
  ctx.fillStyle = C.fg; ctx.font = font(scale); ctx.textAlign = "center"; ctx.textBaseline = "top";
  if (o.xticks !== false) (p.xticks || []).forEach(function (t) { ctx.fillText(t.s, m.x(t.v), b.y + b.h + FS * 0.3); });
  if (o.yticks !== false) (p.yticks || []).forEach(function (t) { yTick(t, b.x - FS * 0.35, m.y(t.v), scale); });
  ctx.font = font(); ctx.textAlign = "center"; ctx.textBaseline = "bottom"; ctx.fillStyle = C.fg;
  if (o.xlabel !== false && p.xlabel) ctx.fillText(p.xlabel, b.x + b.w / 2, b.y + b.h + FS * scale * 1.35 + FS * 1.2);
  if (p.ylabel) {
    ctx.save(); ctx.translate(b.x - widest(p.yticks || [], scale) - FS * 0.45, b.y + b.h / 2);
    ctx.rotate(-Math.PI / 2); ctx.font = font(); ctx.fillText(p.ylabel, 0, 0); ctx.restore();
  }
}
function yTick(t, right, y, scale) {  // "10" with a raised exponent, like matplotlib's log axis
  ctx.textBaseline = "middle"; ctx.textAlign = "right";
  if (t.e === undefined) { ctx.font = font(scale); ctx.fillText(t.s, right, y); return; }
  ctx.font = font(scale * 0.7); var ew = ctx.measureText(t.e).width; ctx.fillText(t.e, right, y - FS * 0.35);
  ctx.font = font(scale); ctx.fillText(t.s, right - ew - 1, y);
}
function polyline(xs, ys, n, m, off) {
  ctx.beginPath();
  var pen = false;
  for (var i = 0; i < n; i++) {
    var px = m.x(xs[i]), py = m.y(ys[(off || 0) + i]);
    if (!(isFinite(px) && isFinite(py))) { pen = false; continue; }
    if (pen) ctx.lineTo(px, py); else { ctx.moveTo(px, py); pen = true; }
  }
  ctx.stroke();
}
function dot(x, y, r, color) { ctx.fillStyle = color; ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.fill(); }
function clip(b) { ctx.save(); ctx.beginPath(); ctx.rect(b.x, b.y, b.w, b.h); ctx.clip(); }
function legendRow(items, x, y, scale, dashed) {  // one row of entries: a line (or a dot) and its text
  ctx.font = font(scale); ctx.textBaseline = "middle"; ctx.textAlign = "left";
  items.forEach(function (it) {
    ctx.strokeStyle = it.color; ctx.lineWidth = 2 * PT;
    if (it.dot) dot(x + FS * 0.75, y, 2.2 * PT, it.color);
    else {
      ctx.setLineDash(it.dash ? [3 * PT, 3 * PT] : []); ctx.lineWidth = it.dash ? PT : 2 * PT;
      ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + FS * 1.5 * scale, y); ctx.stroke(); ctx.setLineDash([]);
    }
    ctx.fillStyle = C.fg; ctx.fillText(it.text, x + FS * 2 * scale, y);
    x += FS * 2 * scale + ctx.measureText(it.text).width + FS * scale * 0.8;
  });
}
function boxedLegend(b, items, cols, corner) {  // in a corner of the panel Python chose, on a box in the theme's colours
  // matplotlib's legend box: rows 1.25 font sizes apart, a border of 0.3 and 0.5 to the axes (font: x-small)
  var s = XSMALL, fs = FS * s, lh = fs * 1.25, rows = [];
  for (var k = 0; k < items.length; k += cols) rows.push(items.slice(k, k + cols));
  var w = Math.max.apply(null, rows.map(function (r) {
    return r.reduce(function (a, it) { return a + fs * 2.8 + textWidth(it.text, s); }, fs * 0.4);
  }));
  var h = rows.length * lh + fs * 0.6, where = (corner || "upper right").split(" ");
  var x = where[1] === "left" ? b.x + fs * 0.5 : b.x + b.w - w - fs * 0.5;
  var y = where[0] === "upper" ? b.y + fs * 0.5 : where[0] === "lower" ? b.y + b.h - h - fs * 0.5 : b.y + (b.h - h) / 2;
  ctx.globalAlpha = 0.8; ctx.fillStyle = C.bg; ctx.fillRect(x, y, w, h);
  ctx.globalAlpha = 1; ctx.strokeStyle = C.grid; ctx.lineWidth = 1; ctx.strokeRect(x, y, w, h);
  rows.forEach(function (r, k) { legendRow(r, x + fs * 0.4, y + fs * 0.3 + (k + 0.5) * lh, s); });
}
function textLines(text, x, y, scale, color, box) {  // the frames' label: top-left anchored, line by line
  ctx.font = font(scale); ctx.textAlign = "left"; ctx.textBaseline = "top";
  text.split("\n").forEach(function (s, k) {
    var ty = y + k * FS * scale * 1.2;
    if (box) { ctx.fillStyle = box; ctx.fillRect(x - 2, ty - 2, ctx.measureText(s).width + 4, FS * scale * 1.2 + 1); }
    ctx.fillStyle = color; ctx.fillText(s, x, ty);
  });
}
function faded(r, i) { return r.fade !== null && i >= r.fade; }

// --- the draw items, by type ----------------------------------------------------------------------
function pen(st, r, i) {  // a stroke's look; a run's fade applies when the stroke asks for it
  ctx.strokeStyle = st.color; ctx.lineWidth = st.width * PT; ctx.lineJoin = "round";
  ctx.globalAlpha = st.fade && r && faded(r, i) ? D.faded : st.alpha;
  ctx.setLineDash(st.dash ? [3 * PT, 3 * PT] : []);
}
function drawLines(it, b, m, i) {  // whole, so far (up to the run's snapshot), or the run's current row
  var r = it.run !== undefined && it.run !== null ? RUNS[it.run] : null;
  if (it.whole) { pen(it.whole, r, i); polyline(it.X, it.Y, it.n, m); }
  if (it.sofar) {
    var j = r.idx[i], ext = it.extend && i < r.end, k = it.upto ? it.upto[j] : j + 1;  // upto: points per snapshot
    var xs = Array.prototype.slice.call(it.X, 0, k), ys = Array.prototype.slice.call(it.Y, 0, k);
    if (ext) { xs.push(STEPS[i]); ys.push(it.Y[j]); }
    pen(it.sofar, r, i); polyline(xs, ys, xs.length, m);
  }
  if (it.row) { pen(it.row, r, i); polyline(it.X, it.Y, it.n, m, r.idx[i] * it.n); }
  ctx.globalAlpha = 1; ctx.setLineDash([]);
}
function lineDot(it, m, a, i) {  // unclipped, so the dot stays whole on the edge; one outside the limits is not drawn
  var r = RUNS[it.run], j = r.idx[i], h = it.upto ? it.upto[j] - 1 : j;
  var y = it.Y[h], x = it.head ? it.X[h] : i >= r.end ? it.X[it.X.length - 1] : STEPS[i];
  if (!(isFinite(y) && y >= a.ylim[0] && y <= a.ylim[1])) return;
  if (it.exit === undefined || j < it.exit) return dot(m.x(x), m.y(y), it.dot.r * PT, it.dot.color);
  marker(m.x(x), m.y(y), 2 * it.dot.r * PT, "x");  // where the run left the domain or diverged: the frames' cross
  ctx.fillStyle = it.dot.color; ctx.fill(); ctx.strokeStyle = C.bg; ctx.lineWidth = 0.8 * PT; ctx.stroke();
}
var CROSS = [[1, 3], [3, 3], [3, 1], [3, -1], [1, -1], [1, -3], [-1, -3], [-1, -1], [-3, -1], [-3, 1], [-1, 1], [-1, 3]];
function marker(x, y, r, shape) {  // a dot, a triangle pointing up, matplotlib's filled "X" and "P" crosses, or a star
  ctx.beginPath();
  if (shape === "^") { ctx.moveTo(x, y - 1.3 * r); ctx.lineTo(x + 1.15 * r, y + 0.7 * r); ctx.lineTo(x - 1.15 * r, y + 0.7 * r); ctx.closePath(); }
  else if (shape === "x" || shape === "+") polygon(x, y, r / 3, CROSS, shape === "x" ? Math.PI / 4 : 0);
  else if (shape === "*") polygon(x, y, r, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map(function (k) {
    var q = k % 2 ? 0.4 : 1, t = -Math.PI / 2 + k * Math.PI / 5; return [q * Math.cos(t), q * Math.sin(t)];
  }), 0);
  else ctx.arc(x, y, r, 0, 2 * Math.PI);
}
function polygon(x, y, r, corners, turn) {  // ``corners`` scaled by r, turned by ``turn``, around (x, y)
  var c = Math.cos(turn), s = Math.sin(turn);
  corners.forEach(function (p, k) {
    var px = x + r * (p[0] * c - p[1] * s), py = y + r * (p[0] * s + p[1] * c);
    if (k) ctx.lineTo(px, py); else ctx.moveTo(px, py);
  });
  ctx.closePath();
}
function drawPoints(it, b, m) {  // one colour, or ``colors[c[q]]`` per point; an ``edge`` stroke around each
  ctx.globalAlpha = it.alpha;
  for (var q = 0; q < it.X.length; q++) {
    if (!isFinite(it.X[q] + it.Y[q])) continue;
    if (it.colors === undefined && it.edge === undefined) { dot(m.x(it.X[q]), m.y(it.Y[q]), it.r * PT, it.color); continue; }
    marker(m.x(it.X[q]), m.y(it.Y[q]), it.r * PT, it.marker);
    ctx.fillStyle = it.colors ? it.colors[it.c[q]] : it.color; ctx.fill();
    if (it.edge) { ctx.strokeStyle = it.edge; ctx.lineWidth = 0.5 * PT; ctx.stroke(); }
  }
  ctx.globalAlpha = 1;
}
function drawSpans(it, b, m) {
  ctx.globalAlpha = it.alpha; ctx.fillStyle = it.color;
  it.spans.forEach(function (s) { ctx.fillRect(m.x(s[0]), b.y, m.x(s[1]) - m.x(s[0]), b.h); });
  ctx.globalAlpha = 1;
}
function drawHline(it, b, m, i) {
  pen(it, null, i); ctx.beginPath(); ctx.moveTo(b.x, m.y(it.y)); ctx.lineTo(b.x + b.w, m.y(it.y)); ctx.stroke();
  ctx.globalAlpha = 1; ctx.setLineDash([]);
}
function drawImage(it, b, m, i) {
  var e = it.extent, x0 = m.x(e[0]), y0 = m.y(e[3]);
  if (it.codes !== undefined) {  // the run's snapshot at this position, looked up once per snapshot
    var r = RUNS[it.run], j = r.idx[i], n = it.width * it.height, d = it.data.data;
    if (j !== it.shown) {
      for (var q = 0, o = j * n; q < n; q++) {
        var c = it.raw.charCodeAt(o + q) * 4;
        d[4 * q] = it.L[c]; d[4 * q + 1] = it.L[c + 1]; d[4 * q + 2] = it.L[c + 2]; d[4 * q + 3] = it.L[c + 3];
      }
      it.g.putImageData(it.data, 0, 0); it.shown = j;
    }
    ctx.globalAlpha = it.fade && faded(r, i) ? D.faded : 1;
  }
  ctx.imageSmoothingEnabled = !!it.smooth;  // the frames' imshow(interpolation="nearest") unless asked
  ctx.drawImage(it.img, x0, y0, m.x(e[1]) - x0, m.y(e[2]) - y0);
  ctx.imageSmoothingEnabled = true; ctx.globalAlpha = 1;
}
function drawText(it, b, i) {
  textLines(it.texts[i], b.x + b.w * it.at[0], b.y + b.h * it.at[1], it.scale === "small" ? SMALL : 1, it.color,
            it.box ? D.labelBox : null);
}
var DRAW = {lines: drawLines, points: drawPoints, spans: drawSpans, hline: drawHline, image: drawImage};

function inCell(it, k) { return it.host === undefined && (k === null || it.cell === undefined || it.cell === null || it.cell === k); }
function drawAxes(p, b, k, i, o) {  // one axes box: axes, the clipped items, the dots, the texts
  var a = p.axes, m = mapper(b, a.xlim, a.ylim, a.log), mine = p.draw.filter(function (it) { return inCell(it, k); });
  axes(b, m, a, o);
  clip(b);
  mine.forEach(function (it) { if (DRAW[it.type]) DRAW[it.type](it, b, m, i); });
  ctx.restore();
  mine.forEach(function (it) { if (it.type === "lines" && it.dot) lineDot(it, m, a, i); });
  mine.forEach(function (it) { if (it.type === "text") drawText(it, b, i); });
}
function drawPanel(p, i) {
  if (p.empty) return emptyPanel(p, p.box);
  if (p.grid) {
    p.boxes.forEach(function (c, k) {
      var b = c.box;
      drawAxes(p, b, k, i, {scale: SMALL, yticks: c.left, xticks: c.below, xlabel: c.below});
      ctx.font = font(); ctx.fillStyle = C.fg; ctx.textAlign = "center"; ctx.textBaseline = "bottom";
      ctx.fillText(p.titles[k], b.x + b.w / 2, b.y - FS * 0.25);
    });
    return;
  }
  var b = p.box, lg = p.legend;
  drawAxes(p, b, null, i, {});
  if (lg && lg.place === "above") p.rows.forEach(function (row, k) { legendRow(row, b.x, b.y - ROW * (p.rows.length - k - 0.5), 1); });
  else if (lg && lg.place !== "figure") boxedLegend(b, lg.items, lg.cols, lg.place);
}
function emptyPanel(p, b) {
  ctx.strokeStyle = C.frame; ctx.lineWidth = 0.8 * PT; ctx.strokeRect(b.x, b.y, b.w, b.h);
  ctx.fillStyle = C.faint; ctx.font = font(); ctx.textAlign = "center"; ctx.textBaseline = "middle";
  p.empty.split("\n").forEach(function (s, k, all) { ctx.fillText(s, b.x + b.w / 2, b.y + b.h / 2 + (k - (all.length - 1) / 2) * FS * 1.2); });
}

function draw(i) {
  ctx.clearRect(0, 0, W, H);  // a transparent background paints nothing over the last frame
  ctx.fillStyle = C.bg; ctx.fillRect(0, 0, W, H);
  if (figLegend) {
    var w = figLegend.reduce(function (a, it) { return a + FS * 3 + textWidth(it.text); }, 0);
    legendRow(figLegend, (W - w) / 2, ROW / 2 + 2, 1);
  }
  D.panels.forEach(function (p) { drawPanel(p, i); });
  D.panels.forEach(function (p) {  // captions: in the box of the panel they name (the main one), over everything
    if (p.empty) return;
    p.draw.forEach(function (it) {
      if (it.host === undefined || it.type !== "text") return;
      var host = it.host !== null && BY[it.host] && BY[it.host].box ? BY[it.host].box : p.box;
      drawText(it, host, i);
    });
  });
}

// --- controls ----------------------------------------------------------------------------------------
var play = document.getElementById("play"), slider = document.getElementById("slider");
var speedSel = document.getElementById("speed"), loop = document.getElementById("loop");
var readout = document.getElementById("readout");
var cur = 0, playing = false, last = 0, acc = 0, raf = 0;

function show(i) {
  cur = Math.max(0, Math.min(F - 1, i));
  slider.value = String(cur);
  readout.textContent = (cur + 1) + " / " + F;
  canvas.setAttribute("aria-label", D.aria[cur]);  // the label as text, for screen readers (and tests)
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
    if (tag === "BUTTON" || type === "checkbox") return;  // buttons and checkboxes turn a space into their own click
    e.preventDefault(); setPlaying(!playing);
  } else if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
    e.preventDefault(); setPlaying(false); show(cur + (e.key === "ArrowLeft" ? -1 : 1));
  }
});
show(0);
})();
