"""The field panels (boundary, surface, accuracy) on hand-made field Histories: files, blitting, player, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from test_html import browser, embedded_data, open_page, panel, pixels, real  # noqa: F401 (browser: a fixture)
import polyanim
from polyanim import config
from polyanim.history import History, RunSet
from polyanim.panels import field
from polyanim.scene import Scene
from polyanim.style import CLASS_COLORS


def field_history(frames=5, mesh=30, n=60, task="classify", classes=2, acc=True, seed=0, shift=0.0):
    """A classifier sharpening around y = 0.8 sin(2x) (or a surface growing to sin x1 cos x2)."""
    rng = np.random.default_rng(seed)
    x, x2 = np.linspace(-2, 2, mesh), np.linspace(-1.5, 1.5, mesh)
    g1, g2 = np.meshgrid(x, x2)
    pts, test = rng.uniform([-2, -1.5], [2, 1.5], (n, 2)), rng.uniform([-2, -1.5], [2, 1.5], (n // 4, 2))
    t = np.linspace(0, 1, frames)[:, None, None]
    meta = {"kind": "field", "task": task, "config": {}}
    extra = {}
    if task == "classify":
        def label(p):
            return (p[:, 1] > 0.8 * np.sin(2 * p[:, 0])).astype(float) + (classes > 2) * (p[:, 0] > 1)
        margin = g2 - 0.8 * np.sin(2 * g1) * t + shift
        pred = 1 / (1 + np.exp(-(0.3 + 6 * t) * margin))
        if classes > 2:
            third = 1 / (1 + np.exp(-(0.3 + 6 * t) * (g1 - 1)))
            p = np.stack([(1 - pred) * (1 - third), pred * (1 - third), third], -1)
            pred = p / p.sum(-1, keepdims=True)
        y, labels, test_labels = np.full((mesh, mesh), np.nan), label(pts), label(test)
        meta["classes"] = classes
        if acc:
            extra = {"acc": np.linspace(0.5, 0.95, frames), "test_acc": np.linspace(0.45, 0.9, frames)}
    else:
        y = np.sin(g1) * np.cos(g2)
        pred = y[None] * t
        labels, test_labels = np.sin(pts[:, 0]) * np.cos(pts[:, 1]), np.sin(test[:, 0]) * np.cos(test[:, 1])
    return History(steps=np.arange(frames) * 10, loss=np.geomspace(1, 0.05, frames), x=x, y=y,
                   pred=pred.astype(np.float32), meta=meta, data_x=pts, data_y=labels, x2=x2, test_x=test,
                   test_y=test_labels, lr=np.full(frames, 0.01), **extra)


def render_cfg(**options):
    return config.render_settings({"size": [320, 240], "hold": 0, "fps": 10, "workers": 1, **options})


def strong(color: str, bg: str = "#ffffff") -> str:
    """``color`` at the boundary panel's strongest opacity over ``bg``: a sure region's colour."""
    mix = field.STRONG * field.rgb(color) + (1 - field.STRONG) * field.rgb(bg)
    return "#" + "".join(f"{int(round(v * 255)):02x}" for v in mix)


def near(image: np.ndarray, color: str, tol: int = 40) -> int:
    rgb = np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(image[..., :3].astype(int) - rgb).max(axis=-1) <= tol).sum())


@pytest.mark.parametrize("suffix", [".gif", ".png"])
@pytest.mark.parametrize("panels,task", [(["boundary", "loss"], "classify"), (["surface", "lr"], "regress"),
                                         (["accuracy"], "classify")])
def test_each_panel_is_drawn_in_gif_and_png(tmp_path, suffix, panels, task):
    out = polyanim.render(field_history(task=task), tmp_path / f"f{suffix}", panels=panels, size=(320, 240), hold=0)
    with Image.open(out) as im:
        if suffix == ".gif":
            im.seek(im.n_frames - 1)
        frame = np.asarray(im.convert("RGB"))
    if panels[0] == "boundary":  # both classes' colours, strong where the classifier is sure
        assert near(frame, strong(CLASS_COLORS["light"][0]), 30) > 500
        assert near(frame, strong(CLASS_COLORS["light"][1]), 30) > 500
    elif panels[0] == "surface":
        assert near(frame, field.CMAP[-1], 60) > 100 and near(frame, field.CMAP[0], 60) > 100
    else:
        assert near(frame, "#ff7f0e", 30) > 50  # the accuracy curves


def test_default_panels_follow_the_kind():
    assert polyanim.api.resolve(field_history(), {})[1].panels == ("boundary", "loss", "accuracy")
    assert polyanim.api.resolve(field_history(acc=False), {})[1].panels == ("boundary", "loss")
    assert polyanim.api.resolve(field_history(task="regress"), {})[1].panels == ("surface", "loss")
    moons = config.from_dict({"data": {"dataset": "moons"}, "model": {"kind": "mlp", "hidden": [4]}})
    assert moons.render.panels == ("boundary", "loss", "accuracy")
    assert config.from_dict({}).render.panels == ("fit", "loss")


def test_one_dimensional_panels_are_refused_for_a_field_and_the_reverse():
    from conftest import make_history

    with pytest.raises(polyanim.InputError, match=r"render.panels: the fit panel draws 1-D curves; this History is "
                                                  r"a 2-D field \(use loss, lr, boundary, surface, accuracy\)"):
        polyanim.render(field_history(), "/tmp/never.gif", panels=["fit", "loss"])
    with pytest.raises(polyanim.InputError, match="render.panels: the boundary panel draws 2-D fields; this "
                                                  "History is a 1-D curve"):
        polyanim.render(make_history(frames=3), "/tmp/never.gif", panels=["boundary"])
    with pytest.raises(config.ConfigError, match="render.panels: the params panel draws 1-D curves"):
        config.from_dict({"data": {"dataset": "moons"}, "model": {"kind": "mlp"}, "render": {"panels": ["params"]}})
    with pytest.raises(config.ConfigError, match="render.panels: the surface panel draws 2-D fields"):
        config.from_dict({"render": {"panels": ["fit", "surface"]}})
    with pytest.raises(ValueError, match="render.panels: the fit panel"):
        Scene(field_history(), render_cfg(panels=["fit"]))


@pytest.mark.parametrize("make", [lambda: field_history(), lambda: field_history(classes=3),
                                  lambda: field_history(task="regress"),
                                  lambda: RunSet([("a", field_history()), ("b", field_history(shift=0.4))])])
def test_blitted_frame_equals_full_redraw(make):
    h = make()
    panels = ["surface", "loss"] if h.meta.get("task") == "regress" else ["boundary", "loss", "accuracy"]
    for theme in ("light", "transparent"):
        scene = Scene(h, render_cfg(panels=panels, theme=theme))
        blitted = np.array(scene.frame(2))
        np.testing.assert_array_equal(blitted, Scene(h, render_cfg(panels=panels, theme=theme)).full_frame(2))


def test_unsure_regions_are_pale_and_mistakes_ringed():
    h = field_history(frames=3)
    scene = Scene(h, render_cfg(panels=["boundary"]))
    scene.frame(0)
    cell = scene.panels["boundary"].cells[0]
    def ink():  # how far the regions are from the white page (the table is blended over it, opaque)
        return (255.0 * 3 - cell["image"].get_array()[..., :3].astype(float).sum(axis=-1)).mean()

    early, early_wrong = ink(), len(cell["rings"].get_xdata())
    scene.frame(2)
    assert early < ink()  # a sure classifier is strongly coloured, an unsure one pale
    assert len(cell["rings"].get_xdata()) < early_wrong  # the final boundary gets fewer points wrong
    line = cell["line"].get_xydata()
    finite = line[np.isfinite(line).all(axis=1)]
    np.testing.assert_allclose(finite[:, 1], 0.8 * np.sin(2 * finite[:, 0]), atol=0.12)  # the 0.5 line


def test_regions_are_opaque_over_a_page_and_see_through_without_one():
    for theme, opaque in (("light", True), ("dark", True), ("transparent", False)):
        scene = Scene(field_history(frames=3), render_cfg(panels=["boundary"], theme=theme))
        scene.frame(0)
        alpha = scene.panels["boundary"].cells[0]["image"].get_array()[..., 3]
        assert (alpha == 255).all() == opaque  # Agg copies opaque pixels, a quarter of blending's cost


def test_several_field_runs_get_a_cell_each_even_in_overlay():
    rs = RunSet([("a", field_history()), ("b", field_history(shift=0.4)), ("c", field_history(shift=-0.4))])
    scene = Scene(rs, render_cfg(panels=["boundary", "loss"], layout="overlay"))
    assert len(scene.panels["boundary"].cells) == 3
    assert len({id(c["image"].axes) for c in scene.panels["boundary"].cells}) == 3


def test_a_small_gif_palette_keeps_the_class_colours_of_a_grid_of_runs(tmp_path):
    # four runs pin four colours: the median cut's few left once drifted the blue class to slate grey
    rs = RunSet([(f"r{k}", field_history(shift=0.2 * k)) for k in range(4)])
    out = polyanim.render(rs, tmp_path / "g.gif", panels=["boundary", "loss", "accuracy"], size=(320, 240), hold=0,
                          quality="small")
    with Image.open(out) as im:
        im.seek(im.n_frames - 1)
        frame = np.asarray(im.convert("RGB"))
    for color in CLASS_COLORS["light"][:2]:
        assert near(frame, strong(color), 2) > 300  # the sure regions, exactly


def test_outer_cells_alone_label_a_grid():
    rs = RunSet([(f"r{k}", field_history(shift=0.2 * k)) for k in range(3)])  # 2 x 2, one cell empty
    axes = [c["image"].axes for c in Scene(rs, render_cfg(panels=["boundary"])).panels["boundary"].cells]
    assert [ax.get_xlabel() for ax in axes] == ["", "x₁", "x₁"]  # the top right cell has none below it
    assert [ax.get_ylabel() for ax in axes] == ["x₂", "", "x₂"]


def test_render_labels_name_the_plane_in_frames_and_player(tmp_path):
    # a data file's columns: render.labels.x / .y name the plane's axes where set, else x₁ and x₂
    names = {"x": "petal length", "y": "petal width"}
    for panels in (["boundary"], ["surface"]):
        ax = Scene(field_history(task="regress" if panels == ["surface"] else "classify"),
                   render_cfg(panels=panels, labels=names)).axes[panels[0]]
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("petal length", "petal width")
    page = polyanim.render(field_history(frames=3), tmp_path / "b.html", labels=names).read_text()
    axes = panel(embedded_data(page), "boundary")["axes"]
    assert (axes["xlabel"], axes["ylabel"]) == ("petal length", "petal width")
    assert Scene(field_history(), render_cfg(panels=["boundary"], labels={"y": "width"})).axes["boundary"] \
        .get_xlabel() == "x₁"


def test_the_player_draws_a_boundary_with_no_console_error(browser, tmp_path):  # noqa: F811
    out = polyanim.render(field_history(frames=6), tmp_path / "b.html", size=(480, 360))
    data = embedded_data(out.read_text(encoding="utf-8"))
    image = [it for it in panel(data, "boundary")["draw"] if it["type"] == "image"][0]
    assert image["width"] == 30 and len(image["lut"]) > 1000
    page, errors = open_page(browser, out)
    page.locator("#slider").fill("5")
    late = pixels(page)
    page.locator("#slider").fill("0")
    early = pixels(page)
    blue, orange = (strong(c) for c in CLASS_COLORS["light"][:2])
    assert near(late, blue, 50) > 2000 and near(late, orange, 50) > 2000  # the regions, strongly coloured
    assert near(early, blue, 50) < near(late, blue, 50) / 2  # pale while unsure
    assert real(errors) == []
