"""Panels behind one protocol: the registry, and the lr panel (the learning rate each snapshot recorded)."""

import numpy as np
import pytest
from matplotlib.text import Text
from PIL import Image

from conftest import make_history, make_runset, run_python
from polyanim import config
from polyanim.history import History, RunSet
from polyanim.panels import PANELS, panel_class
from polyanim.renderer import render
from polyanim.scene import Scene

STEP_SCHEDULE = [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]


def render_cfg(**options):
    return config.from_dict({"render": {"size": [320, 240], "hold": 0, **options}}).render


def with_lr(h: History, lr) -> History:
    return History(steps=h.steps, loss=h.loss, x=h.x, y=h.y, pred=h.pred, params=h.params, meta=h.meta,
                   lr=None if lr is None else np.asarray(lr, dtype=np.float64))


def test_config_takes_the_panel_names_from_the_registry_without_matplotlib(tmp_path):
    assert config.PANELS == tuple(PANELS)
    for name in PANELS:  # every registered panel has a class that follows the protocol
        cls = panel_class(name)
        assert callable(getattr(cls, "setup")) and callable(getattr(cls, "update"))
    with pytest.raises(config.ConfigError, match=rf"each of {', '.join(PANELS)} at most once"):
        config.from_dict({"render": {"panels": ["fit", "gradient"]}})
    done = run_python("import sys, polyanim.config as c; c.from_dict({'render': {'panels': ['lr']}}); "
                      "print('matplotlib' in sys.modules)", tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "False", done.stderr


def test_lr_panel_follows_a_step_schedule_on_a_log_scale():
    h = with_lr(make_history(), STEP_SCHEDULE)
    scene = Scene(h, render_cfg(panels=["fit", "lr"]))
    ax = scene.axes["lr"]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] < 0.001 and ax.get_ylim()[1] > 0.1
    assert ax.get_ylabel() == "learning rate"
    curves = scene.panels["lr"].curves
    assert set(curves.artists) <= set(scene.update(2.5))
    np.testing.assert_array_equal(curves.lines[0].get_xdata(), [0, 10, 20, 25])
    np.testing.assert_allclose(curves.lines[0].get_ydata(), [0.1, 0.1, 0.01, 0.01])
    np.testing.assert_allclose(curves.dots[0].get_ydata(), [0.01])


def ink(image, box, color) -> int:
    """How many pixels inside ``box`` (a matplotlib bbox, y up) are near ``color`` (#rrggbb)."""
    rgb = np.asarray(image.convert("RGB")).astype(int)
    target = np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)])
    h = rgb.shape[0]
    cell = rgb[int(h - box.y1):int(h - box.y0), int(box.x0):int(box.x1)]
    return int((np.abs(cell - target).max(axis=-1) < 40).sum())


def test_lr_panel_draws_in_gif_and_png(tmp_path):
    h = with_lr(make_history(), STEP_SCHEDULE)
    r = render_cfg(panels=["fit", "lr"], poster=3)
    scene = Scene(h, r)
    scene.frame(3)
    box, orange = scene.axes["lr"].get_window_extent(), scene.theme["pred"]
    png = render(h, tmp_path / "lr.png", r, quiet=True)
    gif = render(h, tmp_path / "lr.gif", render_cfg(panels=["fit", "lr"]), quiet=True)
    bare = render(with_lr(h, None), tmp_path / "bare.png", r, quiet=True)
    with Image.open(png) as a, Image.open(bare) as b, Image.open(gif) as g:
        assert ink(a, box, orange) > 100  # the rate so far, in the prediction's colour
        assert ink(b, box, orange) == 0  # no rates: a message, no curve
        assert g.n_frames == len(h) and g.size == (320, 240)
        g.seek(g.n_frames - 1)
        assert ink(g, box, orange) > 100


def test_constant_lr_is_linear_from_zero_and_a_history_without_lr_says_so():
    scene = Scene(with_lr(make_history(), [0.05] * 6), render_cfg(panels=["lr"]))
    assert scene.axes["lr"].get_yscale() == "linear" and scene.axes["lr"].get_ylim()[0] == 0
    bare = Scene(make_history(), render_cfg(panels=["loss", "lr"]))
    texts = [t.get_text() for t in bare.axes["lr"].findobj(Text)]
    assert any(t.startswith("no learning rate recorded") for t in texts)
    assert not any("learning rate" in a.get_label() for a in bare.update(3))
    image = bare.frame(3)
    assert np.asarray(image).shape == (240, 320, 4)


def test_lr_panel_for_several_runs_names_them():
    rs = make_runset()
    runs = [(label, with_lr(h, np.full(len(h), 10.0 ** -k))) for k, (label, h) in enumerate(rs)]
    scene = Scene(RunSet(runs, meta=rs.meta), render_cfg(panels=["loss", "lr"], layout="grid"))
    ax = scene.axes["lr"]
    assert ax.get_yscale() == "log"
    assert ax.get_legend() is None  # the loss panel, first, names the runs
    assert [t.get_text() for t in scene.axes["loss"].get_legend().get_texts()] == rs.labels
    alone = Scene(RunSet(runs, meta=rs.meta), render_cfg(panels=["lr"]))
    assert [t.get_text() for t in alone.axes["lr"].get_legend().get_texts()] == rs.labels
    assert np.array_equal(np.array(alone.frame(10)), alone.full_frame(10))


def test_the_equation_is_a_caption_under_the_main_panel_or_in_its_own():
    """The params panel never writes into the fit panel's Axes: it asks for a caption, and the scene puts it
    under the main panel's label when there is one, else in the params panel (whatever the panels' order)."""
    h = make_history()
    h.meta["config"]["model"] = {"kind": "polynomial", "degree": 3}
    for panels, host in ((["params", "loss", "fit"], "fit"), (["loss", "params"], "params")):
        scene = Scene(h, render_cfg(panels=panels))
        (caption,) = scene.captions
        assert caption.axes is scene.axes[host]
        assert caption in scene.update(3) and caption.get_text().startswith("y = ")
    h.meta["config"]["model"] = {"kind": "legendre", "degree": 3}
    assert Scene(h, render_cfg(panels=["fit", "params"])).captions == []  # only a polynomial's equation
