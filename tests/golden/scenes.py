"""The golden pictures' scenes, and the one rule that says whether two pictures match.

Each scene is a small, deterministic History or RunSet built without torch
(``conftest.make_history`` / ``make_runset``), render options at 320x240 and
the snapshot position drawn. ``tests/test_golden.py`` compares fresh frames
with ``tests/golden/NAME.png``; ``tests/golden/regenerate.py`` rewrites them
on purpose (say why in the commit).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from conftest import make_history, make_runset
from polyanim import config
from polyanim.history import History
from polyanim.scene import Scene

HERE = Path(__file__).resolve().parent
SIZE = [320, 240]

# Antialiased text differs a little between FreeType builds: a pixel counts as different beyond
# PIXEL_TOL (of 255, any channel), and a picture matches while under FRAC_TOL of its pixels differ and
# the mean difference stays under MEAN_TOL. A faded curve or one more line of text is ~0.5-1.5% of a
# 320x240 frame, so the check still sees those (test_golden checks that it does).
PIXEL_TOL = 40
FRAC_TOL = 0.003
MEAN_TOL = 0.6


def _render(**options):
    return config.from_dict({"render": {"size": SIZE, **options}}).render


def _held_out() -> History:
    """A run trained on [-2, 2] only, with noisy samples, drawn on [-pi, pi]."""
    h = make_history(frames=6, params=False)
    rng = np.random.default_rng(0)
    data_x = np.linspace(-2, 2, 40)
    h.meta["config"]["data"]["train_domain"] = [-2.0, 2.0]
    return History(steps=h.steps, loss=h.loss, x=h.x, y=h.y, pred=h.pred, meta=h.meta,
                   data_x=data_x, data_y=np.sin(data_x) + 0.1 * rng.standard_normal(data_x.size))


def _overlay():
    """Three runs: the first flattened out (a stall note, not faded), the last diverged (faded)."""
    runs = make_runset()
    runs.histories[0].meta["warnings"] = [{"message": "loss stalled", "note": "loss flat after step 30"}]
    return runs


def scenes() -> dict:
    """name -> (history or runset, render options, snapshot position)."""
    single = make_history(frames=6)
    return {
        "single_fit_loss_params": (single, _render(panels=["fit", "loss", "params"], title="One run"), 2.0),
        "trail": (make_history(frames=8, params=False), _render(panels=["fit"], trail=4, interpolate=1), 4.5),
        "held_out": (_held_out(), _render(panels=["fit", "loss"]), 5.0),
        "overlay_diverged": (_overlay(), _render(title="Three runs, one diverged"), 10.0),
        "grid_runs": (make_runset(labels=("SGD", "Adam", "lr=$10^{-1}$", "LBFGS"), frames=(6, 11, 3, 6)),
                      _render(layout="grid", title="A grid of runs"), 10.0),
        "dark": (single, _render(panels=["fit", "loss", "params"], theme="dark"), 5.0),
        "transparent": (single, _render(panels=["fit", "loss"], theme="transparent"), 5.0),
        "boundary": (_field(), config.render_settings({"size": list(SIZE), "panels": ["boundary", "loss", "accuracy"]}),
                     3.0),
    }


def _field():
    from test_field_panels import field_history  # a two-class boundary sharpening over 5 snapshots

    return field_history()


def draw(name: str) -> np.ndarray:
    """Scene ``name`` as an RGBA array (the PNG writer's picture)."""
    history, render, position = scenes()[name]
    return np.array(Scene(history, render).frame(position))


COLORS = 128  # the golden PNGs are stored with a palette of this many colours: a few KB each


def save(path: Path, picture: np.ndarray) -> None:
    """Write ``picture`` (RGBA) as a palette PNG (RGB unless it has transparent pixels)."""
    from PIL import Image

    opaque = bool((picture[..., 3] == 255).all())
    image = Image.fromarray(picture[..., :3] if opaque else picture)
    method = Image.Quantize.MEDIANCUT if opaque else Image.Quantize.FASTOCTREE
    image.quantize(COLORS, method=method, dither=Image.Dither.NONE).save(path, optimize=True)


def load(path: Path) -> np.ndarray:
    """A stored picture (PNG or one decoded GIF frame) as an RGBA array."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGBA"))


def on_palette(fresh: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``fresh`` with every pixel replaced by the nearest colour ``reference`` uses.

    References are stored with a small palette (the golden PNGs, GIF frames):
    mapped onto the same colours, an unchanged picture comes out (nearly)
    identical, so the tolerances measure real changes and not quantisation.
    """
    colors = np.unique(reference.reshape(-1, reference.shape[-1]), axis=0).astype(np.int32)
    flat = fresh.reshape(-1, fresh.shape[-1]).astype(np.int32)
    distinct, back = np.unique(flat, axis=0, return_inverse=True)
    nearest = np.argmin(((distinct[:, None, :] - colors[None, :, :]) ** 2).sum(axis=-1), axis=1)
    return colors[nearest][back.ravel()].reshape(fresh.shape).astype(np.uint8)


def compare(fresh: np.ndarray, reference: np.ndarray, name: str, out_dir: Path) -> str | None:
    """None when ``fresh`` matches ``reference`` (same shape, within the tolerances above).

    Otherwise the failure message: the numbers, and the path of a diff image
    (reference | fresh | differing pixels in red) written to ``out_dir``.
    """
    if fresh.shape != reference.shape:
        return f"{name}: fresh picture is {fresh.shape}, the reference {reference.shape}"
    diff = np.abs(fresh.astype(np.int16) - reference.astype(np.int16)).max(axis=-1)
    mean, frac = float(diff.mean()), float((diff > PIXEL_TOL).mean())
    if mean <= MEAN_TOL and frac <= FRAC_TOL:
        return None
    from PIL import Image

    rgb = [np.asarray(Image.fromarray(a).convert("RGB")) for a in (reference, fresh)]
    marked = (rgb[1] // 3 + 170).astype(np.uint8)
    marked[diff > PIXEL_TOL] = (255, 0, 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.diff.png"
    Image.fromarray(np.concatenate([*rgb, marked], axis=1)).save(path)
    return (f"{name}: mean abs difference {mean:.3f} (allowed {MEAN_TOL}), {frac:.3%} of pixels differ by "
            f"more than {PIXEL_TOL} (allowed {FRAC_TOL:.1%}); diff image: {path}")

