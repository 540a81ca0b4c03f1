"""Pictures: fresh frames against the golden references, and the README's pictures against fresh renders."""

import re

import numpy as np
import pytest

from conftest import ROOT
from golden.scenes import HERE, compare, draw, load, on_palette, scenes
from polyanim import config
from polyanim import renderer
from polyanim.renderer import plan, render
from polyanim.writers import GifWriter


@pytest.mark.parametrize("name", list(scenes()))
def test_golden_picture(name, tmp_path):
    reference = load(HERE / f"{name}.png")
    problem = compare(on_palette(draw(name), reference), reference, name, tmp_path)
    assert problem is None, f"{problem} (if the change is intended: python tests/golden/regenerate.py {name})"


def test_golden_tolerance_sees_a_fade_and_writes_a_diff(tmp_path, monkeypatch):
    # the diverged run drawn unfaded is a change the comparison must report, with a diff image
    import polyanim.style

    reference = load(HERE / "overlay_diverged.png")
    monkeypatch.setattr(polyanim.style, "run_fades", lambda meta: False)
    problem = compare(on_palette(draw("overlay_diverged"), reference), reference, "overlay_diverged", tmp_path)
    assert problem is not None and "diff image: " in problem
    assert (tmp_path / "overlay_diverged.diff.png").stat().st_size > 1000


# --- the README's pictures (docs/make_gallery.sh, docs/make_panels.sh) ------------------------------

GALLERY = ["render.size=[320,240]", "render.quality=small"]  # docs/make_gallery.sh
RACES = ["render.size=[320,240]", "render.quality=medium"]  # its races: grey contour bands need the colours
PANELS = ["render.size=[480,360]", "render.poster=40", "render.title="]  # docs/make_panels.sh
README_PICTURES = {
    "docs/gallery/sin.gif": ("sin", GALLERY),
    "docs/gallery/sgd_vs_adam.gif": ("sgd_vs_adam", GALLERY),
    "docs/gallery/degree_sweep.gif": ("degree_sweep", GALLERY),
    "docs/gallery/lr_sweep.gif": ("lr_sweep", GALLERY),
    "docs/gallery/mlp_sin.gif": ("mlp_sin", GALLERY),
    "docs/gallery/measurements.gif": ("measurements", GALLERY),
    "docs/gallery/rosenbrock.gif": ("rosenbrock", RACES),
    "docs/gallery/beale.gif": ("beale", RACES),
    "docs/gallery/saddle.gif": ("saddle", RACES),
    "docs/gallery/sin_valley.gif": ("sin_valley", RACES),
    "docs/gallery/moons.gif": ("moons", GALLERY),
    "docs/gallery/spirals.gif": ("spirals", GALLERY),
    "docs/gallery/xor_linear_vs_mlp.gif": ("xor_linear_vs_mlp", GALLERY),
    "docs/gallery/widths.gif": ("widths", GALLERY),
    "docs/gallery/surface.gif": ("surface", GALLERY),
    "docs/gallery/petals.gif": ("petals", GALLERY),
    "docs/panels/fit.png": ("sin", PANELS + ["render.panels=[fit]"]),
    "docs/panels/fit_loss.png": ("sin", PANELS + ["render.panels=[fit,loss]"]),
    "docs/panels/fit_loss_params.png": ("sin", PANELS + ["render.panels=[fit,loss,params]", "render.trail=4"]),
    "docs/panels/dark.png": ("sin", PANELS + ["render.panels=[fit,loss,params]", "render.theme=dark"]),
    "docs/panels/transparent.png": ("sin", PANELS + ["render.panels=[fit,loss]", "render.theme=transparent"]),
    "docs/panels/filmstrip.png": ("sin", ["render.size=[240,180]", "render.filmstrip=6", "render.panels=[fit]",
                                          "render.title="]),
}


def test_readme_lists_only_pictures_this_test_checks():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\((docs/[^)]+\.(?:png|gif))\)", readme))
    assert linked == set(README_PICTURES)


def _gif_frames(path, picks):
    from PIL import Image, ImageSequence

    with Image.open(path) as gif:
        frames = [np.asarray(f.convert("RGBA")) for f in ImageSequence.Iterator(gif)]
    return len(frames), {k: frames[k] for k in picks}


@pytest.mark.parametrize("picture", sorted(README_PICTURES))
def test_readme_picture_matches_a_fresh_render(picture, shipped, tmp_path, monkeypatch):
    name, sets = README_PICTURES[picture]
    history = shipped[name][0]
    cfg = config.from_dict(history.config, overrides=sets)
    stale = f"; regenerate it: bash docs/make_{'gallery' if picture.endswith('.gif') else 'panels'}.sh"
    if picture.endswith(".png"):  # a poster or a filmstrip: one PNG render
        fresh = load(render(history, tmp_path / "fresh.png", cfg.render, quiet=True))
        reference = load(ROOT / picture)
        problem = compare(fresh, reference, picture.replace("/", "_"), tmp_path)
        assert problem is None, problem + stale
        return
    # a GIF: its first frame, one in the middle and the last (held) one, rendered through the real
    # writer (same palette from the same sample frames, same ffmpeg), only those frames for speed
    positions = plan(len(history), cfg.render, GifWriter.frame_rate)[0]
    picks = (0, len(positions) // 2, len(positions) - 1)
    count, frames = _gif_frames(ROOT / picture, picks)
    assert count == len(positions), f"{picture}: {count} frames, a fresh render has {len(positions)}" + stale

    def only_picks(*args):
        frames_, rate, warnings = plan(*args)
        return [frames_[k] for k in picks], rate, warnings

    monkeypatch.setattr(renderer, "plan", only_picks)
    _, fresh = _gif_frames(render(history, tmp_path / "fresh.gif", cfg.render, quiet=True), range(len(picks)))
    for j, k in enumerate(picks):
        problem = compare(fresh[j], frames[k], f"{picture.replace('/', '_')}_{k}", tmp_path)
        assert problem is None, f"frame {k}: {problem}{stale}"
