"""What the field panels (boundary, surface) share, in numpy only: lookup tables, codes, contours, cells.

A frame's colours over the mesh are one lookup: every mesh cell gets a byte
code (a class and its quantised confidence, or a quantised value) and a
``[256, 4]`` table maps codes to RGBA. The frames index the table in numpy
into one image; the HTML player receives the codes per snapshot and the table
once, and does the same lookup in the browser. No matplotlib here.
"""

from __future__ import annotations

import numpy as np

from .. import style

PALE, STRONG = 0.06, 0.62  # the winning class's opacity at no confidence (1/C) and at certainty
CMAP = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")  # viridis' anchors: the surface's colour map


def rgb(color: str) -> np.ndarray:
    """``#rrggbb`` (or ``#rrggbbaa``) as three floats in [0, 1]."""
    return np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)], dtype=np.float64) / 255


def levels(classes: int) -> int:
    """Confidence levels per class in a byte code: 256 codes shared by ``classes`` classes."""
    return 256 if classes == 2 else 256 // classes


def class_lut(theme: str, classes: int) -> np.ndarray:
    """The ``[256, 4]`` uint8 table from a boundary code to RGBA: the class colour, opacity by confidence.

    Two classes: the code is P(class 1) in 256 steps (so the player's 0.5
    line and the frames' agree). Three or more: ``class * levels + q``, ``q``
    the confidence above 1/C quantised to :func:`levels` steps.
    """
    palette = style.CLASS_COLORS[theme]
    table = np.zeros((256, 4), dtype=np.float64)
    if classes == 2:
        p = np.arange(256) / 255
        winner = (p >= 0.5).astype(np.int64)
        confidence = (np.maximum(p, 1 - p) - 0.5) / 0.5
    else:
        n = levels(classes)
        code = np.arange(n * classes)
        winner, confidence = code // n, (code % n) / (n - 1)
    colors = np.stack([rgb(palette[k % len(palette)]) for k in range(classes)])
    table[: len(winner), :3] = colors[winner]
    table[: len(winner), 3] = PALE + (STRONG - PALE) * confidence ** 1.5  # pale stays pale until fairly sure
    return np.rint(table * 255).astype(np.uint8)


def over_background(lut: np.ndarray, theme: str) -> np.ndarray:
    """``lut`` blended over the theme's background into opaque colours (the transparent theme keeps it).

    The same picture as drawing the see-through table over the axes' background, but Agg copies
    opaque pixels instead of blending them: 0.3 ms against 1.3 ms a 560x400 frame.
    """
    if theme == "transparent":
        return lut
    bg = rgb(style.THEMES[theme]["bg"][:7])
    alpha = lut[:, 3:] / 255.0
    out = np.full_like(lut, 255)
    out[:, :3] = np.rint((lut[:, :3] / 255.0 * alpha + bg * (1 - alpha)) * 255).astype(np.uint8)
    return out


def palette_pins(theme: str, colors=()) -> list[str]:
    """Colours a field panel needs exactly in a GIF's palette (hex): ``colors`` and each of them as a
    region at full confidence over the background, and the ink half blended into the background.

    A small palette's median cut spends itself on the large mesh areas: without these the class
    colours drift (a blue region turned slate grey) and anti-aliased text took a colour map's green.
    """
    t = style.THEMES[theme]
    bg = rgb(t["bg"][:7])
    blends = [rgb(c) * STRONG + bg * (1 - STRONG) for c in colors] + [(rgb(t["fg"]) + bg) / 2]
    return list(colors) + ["#%02x%02x%02x" % tuple(int(round(v * 255)) for v in c) for c in blends]


def class_codes(pred: np.ndarray, classes: int) -> np.ndarray:
    """A snapshot's (or a stack's) probabilities as byte codes for :func:`class_lut`: ``[..., G2, G1]`` uint8."""
    pred = np.nan_to_num(np.asarray(pred, dtype=np.float32), nan=0.5 if classes == 2 else 1.0 / classes)
    if classes == 2:
        return np.rint(np.clip(pred, 0, 1) * 255).astype(np.uint8)
    n = levels(classes)
    winner = np.argmax(pred, axis=-1)
    confidence = (np.max(pred, axis=-1) - 1.0 / classes) / (1 - 1.0 / classes)
    return (winner * n + np.rint(np.clip(confidence, 0, 1) * (n - 1))).astype(np.uint8)


def value_lut(theme: str) -> np.ndarray:
    """The surface's ``[256, 4]`` table: the colour map, a little see-through on the transparent theme."""
    anchors = np.stack([rgb(c) for c in CMAP])
    t = np.linspace(0, 1, 256)
    at = np.linspace(0, 1, len(CMAP))
    table = np.ones((256, 4))
    for k in range(3):
        table[:, k] = np.interp(t, at, anchors[:, k])
    table[:, 3] = 0.85 if theme == "transparent" else 1.0
    return np.rint(table * 255).astype(np.uint8)


def value_codes(pred: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Values as byte codes over [lo, hi] for :func:`value_lut` (NaN: the low end)."""
    scaled = (np.nan_to_num(np.asarray(pred, dtype=np.float64), nan=lo) - lo) / max(hi - lo, 1e-12)
    return np.rint(np.clip(scaled, 0, 1) * 255).astype(np.uint8)


def extent(history) -> list[float]:
    """The image's extent [x0, x1, y0, y1]: the mesh points are cell centres, so half a cell beyond them."""
    x, x2 = history.x, history.x2
    dx = (x[-1] - x[0]) / max(len(x) - 1, 1) / 2
    dy = (x2[-1] - x2[0]) / max(len(x2) - 1, 1) / 2
    return [float(x[0] - dx), float(x[-1] + dx), float(x2[0] - dy), float(x2[-1] + dy)]


def nearest_cells(history, points: np.ndarray) -> np.ndarray:
    """The flat mesh index nearest each of ``points`` [N, 2] (where a point's prediction is read)."""
    x, x2 = history.x, history.x2
    i = np.clip(np.rint((points[:, 0] - x[0]) / (x[-1] - x[0]) * (len(x) - 1)), 0, len(x) - 1).astype(np.int64)
    j = np.clip(np.rint((points[:, 1] - x2[0]) / (x2[-1] - x2[0]) * (len(x2) - 1)), 0, len(x2) - 1).astype(np.int64)
    return j * len(x) + i


def predicted_class(pred: np.ndarray, cells: np.ndarray, classes: int) -> np.ndarray:
    """The class a snapshot's prediction gives at the mesh ``cells``."""
    flat = pred.reshape(-1) if classes == 2 else pred.reshape(-1, classes)
    at = flat[cells]
    return (at >= 0.5).astype(np.int64) if classes == 2 else np.argmax(at, axis=-1)


def contour(z: np.ndarray, x: np.ndarray, x2: np.ndarray, level: float) -> np.ndarray:
    """Marching squares: the ``level`` line of ``z`` [G2, G1] as one polyline [k, 2], NaN between segments.

    Each mesh square whose corners straddle the level gives one segment (two
    for a saddle) between the interpolated crossings on its edges; one line
    with NaN breaks draws as cheaply as a single curve.
    """
    f = np.asarray(z, dtype=np.float64) - level
    pos = f > 0
    # the squares the line passes, found from the signs alone: only those (a few hundred of 14,000 on a
    # 120 mesh) are interpolated, which took a frame's contour from 6.5 ms to 1.8 ms
    sides = ((pos[:-1, :-1] != pos[:-1, 1:]) | (pos[:-1, 1:] != pos[1:, 1:]) | (pos[1:, :-1] != pos[1:, 1:])
             | (pos[:-1, :-1] != pos[1:, :-1]))
    jj, ii = np.nonzero(sides & np.isfinite(f[:-1, :-1] + f[1:, 1:] + f[:-1, 1:] + f[1:, :-1]))
    a, b, c, d = f[jj, ii], f[jj, ii + 1], f[jj + 1, ii], f[jj + 1, ii + 1]  # bottom-left, -right, top-left, -right
    xa, xb, ya, yb = x[ii], x[ii + 1], x2[jj], x2[jj + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        edges = [  # (crosses?, x, y) on the bottom, right, top and left edges
            ((a > 0) != (b > 0), xa + a / (a - b) * (xb - xa), ya),
            ((b > 0) != (d > 0), xb, ya + b / (b - d) * (yb - ya)),
            ((c > 0) != (d > 0), xa + c / (c - d) * (xb - xa), yb),
            ((a > 0) != (c > 0), xa, ya + a / (a - c) * (yb - ya)),
        ]
    cross = np.stack([e[0] for e in edges], axis=-1)
    px = np.stack([e[1] for e in edges], axis=-1)
    py = np.stack([e[2] for e in edges], axis=-1)
    count = cross.sum(axis=-1)
    segs = []
    two = count == 2
    if two.any():
        order = np.argsort(~cross[two], axis=-1, kind="stable")[:, :2]  # the two crossed edges, in order
        sx, sy = np.take_along_axis(px[two], order, 1), np.take_along_axis(py[two], order, 1)
        segs.append(np.stack([sx, sy], axis=-1))
    four = count == 4
    if four.any():  # a saddle: pair bottom with left and right with top
        for e0, e1 in ((0, 3), (1, 2)):
            segs.append(np.stack([np.stack([px[four][:, e0], px[four][:, e1]], 1),
                                  np.stack([py[four][:, e0], py[four][:, e1]], 1)], axis=-1))
    if not segs:
        return np.empty((0, 2))
    pairs = np.concatenate(segs)  # [k, 2 ends, 2 coords]
    out = np.full((len(pairs), 3, 2), np.nan)
    out[:, :2] = pairs
    return out.reshape(-1, 2)


def nearest_image(ax, rgba: np.ndarray, bounds, zorder: float):
    """An image artist on ``ax`` that picks each screen pixel's mesh cell in numpy (nearest, as
    ``imshow(interpolation="nearest")`` looks) and hands the pixels to the renderer as they are:
    matplotlib's resampler cost more than the rest of a boundary frame. ``set_data`` takes a new
    ``rgba`` (origin lower; Agg takes the rows bottom first)."""
    from matplotlib.image import AxesImage

    class Nearest(AxesImage):
        _key, _index = None, None

        def draw(self, renderer):
            if not self.get_visible():
                return
            data = np.asarray(self._A)
            box = self.axes.bbox
            l, b, r, t = int(round(box.x0)), int(round(box.y0)), int(round(box.x1)), int(round(box.y1))
            key = (l, b, r, t, data.shape)
            if key != self._key:
                (px0, py0), (px1, py1) = self.axes.transData.transform([(bounds[0], bounds[2]), (bounds[1], bounds[3])])
                cols = np.floor((np.arange(l, r) + 0.5 - px0) / (px1 - px0) * data.shape[1]).astype(np.int64)
                rows = np.floor((np.arange(b, t) + 0.5 - py0) / (py1 - py0) * data.shape[0]).astype(np.int64)
                self._index = (np.clip(rows, 0, data.shape[0] - 1), np.clip(cols, 0, data.shape[1] - 1))
                self._key = key
            # rows, then columns: two takes cost a twentieth of one broadcast fancy index (0.6 ms against
            # 11 ms at 560x400), which was a quarter of a boundary frame; a new array either way
            out = np.take(np.take(data, self._index[0], axis=0), self._index[1], axis=1)
            alpha = self.get_alpha()
            if alpha is not None:
                out[..., 3] = (out[..., 3] * alpha).astype(np.uint8)
            gc = renderer.new_gc()
            gc.set_clip_rectangle(box)
            renderer.draw_image(gc, l, b, out)
            gc.restore()
            self.stale = False

    image = Nearest(ax, extent=bounds, origin="lower", interpolation="nearest", zorder=zorder)
    image.set_data(rgba)
    ax.add_image(image)
    return image
