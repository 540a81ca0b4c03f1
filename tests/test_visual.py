"""What the frames say: which runs fade, when a flat loss is a warning, the label and panel layout,
--quiet and warnings, and `$` in titles and labels (issue 10, items 1, 2, 4 and 5)."""

import io
import math
import re

import numpy as np
import pytest
import torch

from conftest import make_history, make_runset, run_python
from polyanim import cli, config
from polyanim.html import html_page, write_html
from polyanim.models import Chebyshev, Legendre, Polynomial, unit_interval, unit_interval_string
from polyanim.optimum import converged_below, design_matrix, least_squares_loss
from polyanim.recording import STALL_SNAPSHOTS, loss_warnings
from polyanim.scene import Scene
from polyanim.style import RUN_COLORS, THEMES, fade_positions, plain_text
from polyanim.train import train
from test_html import browser, embedded_data, open_page  # noqa: F401 (browser is a fixture)

STALL = [{"message": "loss stalled …", "note": "loss flat after step 20"}]


def render_cfg(**options):
    return config.from_dict({"render": {"size": [320, 240], **options}}).render


def color_pixels(frame, color: str) -> int:
    """Pixels within a few levels of ``color`` (a faded curve, blended with the page, is far from it)."""
    rgb = np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)])
    return int(np.count_nonzero(np.abs(np.asarray(frame)[..., :3].astype(int) - rgb).max(axis=-1) <= 24))


# --- 1. fades: only a run that ended early -------------------------------------------------------

def test_a_stalled_run_is_drawn_like_a_finished_one_and_a_stopped_run_fades():
    def last_frame(notes_for_first, stop_last):
        runs = make_runset(stopped_last=stop_last)
        runs.histories[0].meta["warnings"] = notes_for_first
        scene = Scene(runs, render_cfg())
        return np.array(scene.frame(len(runs) - 1)), scene

    plain, scene = last_frame([], False)
    stalled, _ = last_frame(STALL, False)
    stopped, _ = last_frame([], True)
    fit = scene.axes["fit"].get_window_extent()  # the loss panel draws the runs' colours too
    crop = (slice(int(240 - fit.y1), int(240 - fit.y0)), slice(int(fit.x0), int(fit.x1)))
    plain, stalled, stopped = plain[crop], stalled[crop], stopped[crop]
    first, last = RUN_COLORS["light"][0], RUN_COLORS["light"][2]
    assert color_pixels(stalled, first) == color_pixels(plain, first) > 100  # a note, but no fade
    assert color_pixels(stopped, last) < color_pixels(plain, last) / 4  # faded: blended with the page
    assert fade_positions(make_runset()) == [None, None, len(make_runset()) - 1]


def test_a_single_run_fades_only_when_stopped_and_only_on_its_last_snapshot():
    pred = THEMES["light"]["pred"]
    stopped = make_history(stopped={"step": 53, "reason": "loss became inf"})
    stalled = make_history()
    stalled.meta["warnings"] = STALL
    counts = {}
    for name, h in (("stopped", stopped), ("stalled", stalled)):
        scene = Scene(h, render_cfg(panels=["fit"]))
        counts[name] = [color_pixels(scene.frame(p), pred) for p in (len(h) - 2, len(h) - 1)]
    assert counts["stalled"][1] > 200 and counts["stopped"][0] > 200
    assert counts["stopped"][1] < counts["stalled"][1] / 4
    assert fade_positions(stopped) == [len(stopped) - 1] and fade_positions(stalled) == [None]


def test_the_player_gets_the_fade_positions_from_python():
    runs = make_runset()
    runs.histories[0].meta["warnings"] = STALL
    data = embedded_data(html_page(runs))
    assert [r["fade"] for r in data["runs"]] == fade_positions(runs) == [None, None, len(runs) - 1]
    assert data["faded"] == 0.45
    single = make_history(stopped={"step": 53, "reason": "loss became inf"})
    assert embedded_data(html_page(single))["runs"][0]["fade"] == len(single) - 1
    assert embedded_data(html_page(make_history()))["runs"][0]["fade"] is None


def test_the_player_fades_the_stopped_run_at_the_same_position(browser, tmp_path):  # noqa: F811
    color = RUN_COLORS["light"][2]
    rgb = [int(color[k:k + 2], 16) for k in (1, 3, 5)]
    count = ("(() => { const c = document.getElementById('plot'); const d = c.getContext('2d')"
             ".getImageData(0, 0, c.width, c.height).data; let n = 0; for (let i = 0; i < d.length; i += 4)"
             f" if (d[i] === {rgb[0]} && d[i + 1] === {rgb[1]} && d[i + 2] === {rgb[2]}) n++; return n; }})()")
    seen = {}
    for stop in (True, False):
        out = tmp_path / f"{stop}.html"
        write_html(make_runset(stopped_last=stop), out, title="fade", fps=10, size=(480, 360))
        page, errors = open_page(browser, out)
        fade = len(make_runset()) - 1
        page.locator("#slider").fill(str(fade - 1))
        before = page.evaluate(count)
        page.locator("#slider").fill(str(fade))
        seen[stop] = (before, page.evaluate(count))
        assert [e for e in errors if "willReadFrequently" not in e] == []  # our readback's own advice
    # the colour also marks the legend and the loss panel: the curve itself is the difference
    assert seen[True][0] == seen[False][0]  # not faded one position before
    assert seen[True][1] < seen[False][1] - 300


# --- 2. a flat loss at the best fit is converged, not stalled --------------------------------------

def test_flat_loss_warns_only_above_the_converged_bar():
    steps = list(range(0, 300, 10))
    flat = list(np.linspace(10, 1, 15)) + [1.0] * STALL_SNAPSHOTS
    assert loss_warnings(steps[: len(flat)], flat, 1.05, "the least-squares optimum 1") == []
    (warning,) = loss_warnings(steps[: len(flat)], flat, 0.5, "the least-squares optimum 0.45")
    assert warning["message"].startswith("loss stalled at 1, above the least-squares optimum 0.45,")


@pytest.mark.parametrize("kind, cls", [("polynomial", None), ("legendre", Legendre), ("chebyshev", Chebyshev)])
def test_closed_form_basis_is_the_models_basis(kind, cls):
    domain = (-1.5, 2.5)
    x = torch.linspace(*domain, 50)
    torch.manual_seed(0)
    model = Polynomial(4) if cls is None else cls(4, domain)
    coefs = np.array([c.item() for c in model.coefficients()])
    with torch.no_grad():
        expected = model(x).double().numpy()
    np.testing.assert_allclose(design_matrix(config.Model(kind=kind, degree=4), domain, x.double().numpy()) @ coefs, expected, rtol=1e-5,
                               atol=1e-5)


def test_least_squares_optimum_is_what_a_converged_run_reaches():
    c = config.from_dict({"data": {"points": 200, "noise": 0.1}, "model": {"kind": "legendre", "degree": 5},
                          "train": {"optimizer": "lbfgs", "lr": 1.0, "steps": 40, "record_every": 1,
                                    "log_every": 0, "loss": "mse_mean"}})
    err = io.StringIO()
    h = train(c, quiet=True, err=err)
    best = least_squares_loss(c.model, c.data.domain, h.data_x, h.data_y, "mse_mean")
    assert err.getvalue() == "" and h.meta["warnings"] == []  # flat at the optimum: no warning
    assert best <= h.loss[-1] <= best * 1.001
    x = np.linspace(-1, 1, 30)
    assert least_squares_loss(config.Model(degree=3), (-1, 1), x, 2 * x**3 - x, "mse_sum") < 1e-20  # an exact fit


def test_an_mlp_bar_is_the_noise_plus_one_percent_of_the_variance():
    c = config.from_dict({"data": {"noise": 0.2}, "model": {"kind": "mlp"}, "train": {"loss": "mse_mean"}})
    y = np.sin(np.linspace(-3, 3, 100))
    bar, how = converged_below(c, np.zeros(100), y)
    assert bar == pytest.approx(0.04 + 0.01 * y.var()) and "rule of thumb" in how


def test_no_bar_when_the_basis_overflows(capfd):
    c = config.from_dict({"data": {"domain": [-1e30, 1e30], "target": "x"}, "model": {"degree": 20}})
    x = np.linspace(-1e30, 1e30, 100)
    assert converged_below(c, x, x) == (None, "")
    assert capfd.readouterr() == ("", "")  # and LAPACK had nothing to say
    assert loss_warnings(list(range(12)), [1.0] * 12, None)[0]["message"].startswith("loss stalled: no improvement")


def test_shipped_configs_warn_only_about_the_planned_divergence(shipped):
    from conftest import SHIPPED

    lines = {name: shipped[name][1].splitlines() for name in SHIPPED}
    assert lines.pop("lr_sweep") == ["warning: [lr=5e-06] loss became inf at step 64; training stopped there, "
                                     "keeping 4 snapshot(s) (try a smaller train.lr)"]
    assert lines == {name: [] for name in lines}


# --- 4. label, panels, result line, --quiet -------------------------------------------------------

def test_gridlines_stay_behind_the_red_label():
    scene = Scene(make_history(), render_cfg(panels=["fit", "loss"]))
    scene.frame(2.0)
    box, ax = scene.panels["fit"].labels[0].get_window_extent(), scene.axes["fit"]
    middle = (box.y0 + box.y1) / 2
    ax.set_yticks([ax.transData.inverted().transform((0, middle))[1]])  # a gridline through the label
    frame = scene.full_frame(2.0).astype(int)
    row = frame[int(frame.shape[0] - middle) - 1:int(frame.shape[0] - middle) + 2, :, :3]
    grey = (row.max(axis=-1) - row.min(axis=-1) < 6) * (255 - row.min(axis=-1))  # gridline ink, not red text
    inside = grey[:, int(box.x0) + 2:int(box.x1) - 2].sum(axis=0).mean()
    beside = grey[:, int(box.x1) + 5:int(ax.get_window_extent().x1) - 2].sum(axis=0).mean()
    assert beside > 8 and inside < beside / 3  # the box (the page at 75%) leaves a quarter of the line


@pytest.mark.parametrize("panels, size", [(["fit", "loss"], [320, 240]), (["fit", "loss", "params"], [320, 240]),
                                          (["fit", "loss", "params"], [640, 300])])
def test_panels_line_up(panels, size):
    scene = Scene(make_history(), render_cfg(panels=panels, size=size))
    scene.frame(0.0)
    fit, loss = (scene.axes[p].get_window_extent() for p in ("fit", "loss"))
    if size[0] / size[1] >= 1.6:  # side by side: the tops line up
        assert abs(fit.y1 - loss.y1) <= 1
    else:  # stacked: the left edges line up
        assert abs(fit.x0 - loss.x0) <= 1


def test_runs_panels_line_up():
    scene = Scene(make_runset(), render_cfg())
    scene.frame(0.0)
    assert abs(scene.axes["fit"].get_window_extent().x0 - scene.axes["loss"].get_window_extent().x0) <= 1


def test_result_line_maps_x_cleanly():
    assert Chebyshev(3, (-math.pi, math.pi)).string().endswith(", t = x / 3.14159")
    assert Legendre(2, (0, 2)).string().endswith(", t = x - 1")
    x = np.linspace(-7, 7, 15)
    for domain in [(-math.pi, math.pi), (0, 2), (-1, 3), (-1, 1), (2, 12), (-5, -1)]:
        text = unit_interval_string(domain)
        assert "--" not in text and "+ -" not in text
        np.testing.assert_allclose(eval(text, {"x": x}), unit_interval(x, domain), rtol=1e-5)


def test_quiet_hides_progress_but_never_warnings(tmp_path, capsys):
    path = make_history().save(tmp_path / "h.history.npz")
    code = cli.main([str(path), "--out", str(tmp_path / "a.gif"), "--quiet", "--set", "render.fps=30",
                     "--set", "render.size=[160,120]", "--set", "render.hold=0"])
    captured = capsys.readouterr()
    assert code == 0 and captured.err.startswith("warning: GIF frame delays are whole centiseconds")
    assert "warnings and errors still show, on stderr" in " ".join(cli.build_parser().format_help().split())


# --- 5. `$` in titles and labels ------------------------------------------------------------------

@pytest.mark.parametrize("title, why", [("$\\frac{$", "not valid mathtext"), ("$$$$", "not valid mathtext"),
                                        ("costs $5", "odd number of $")])
def test_bad_mathtext_title_is_a_config_error(title, why):
    with pytest.raises(config.ConfigError, match=rf"^c\.yaml: render\.title: .*{re.escape(why)}.*\\\$ for a literal"):
        config.from_dict({"render": {"title": title}}, source="c.yaml")


def test_bad_mathtext_label_names_the_run():
    with pytest.raises(config.ConfigError, match=r"^c\.yaml: runs\[1\]\.label: .*odd number of \$"):
        config.from_dict({"runs": [{"label": "a"}, {"label": "costs $5"}]}, source="c.yaml")
    with pytest.raises(config.ConfigError, match=r"^c\.yaml: sweep\.labels\[0\]: .*not valid mathtext"):
        config.from_dict({"sweep": {"key": "train.lr", "values": [1e-3], "labels": ["$x^{$"]}}, source="c.yaml")
    assert config.from_dict({"render": {"title": "costs \\$5 and $\\alpha$"}}).render.title


def test_bad_title_exits_2_before_training(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text('name: c\nrender: {title: "$\\\\frac{$"}\n', encoding="utf-8")
    code = cli.main([str(cfg), "--out", str(tmp_path / "c.gif"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "render.title" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == [cfg]  # nothing trained, nothing written


def test_mathtext_check_imports_matplotlib_only_for_dollar_signs(tmp_path):
    code = ("import sys; from polyanim import config; config.from_dict({'render': {'title': 'plain'}}); "
            "print('matplotlib' in sys.modules); config.from_dict({'render': {'title': '$x$'}}); "
            "print('matplotlib' in sys.modules)")
    result = run_python(code, tmp_path)
    assert result.stdout.split() == ["False", "True"], result.stderr


@pytest.mark.parametrize("text, shown", [
    ("costs \\$5 and \\$10", "costs $5 and $10"), ("lr=$10^{-3}$", "lr=10⁻³"), ("plain $ 5", "plain $ 5"),
    ("$\\alpha = 0.1$, $\\frac{1}{2}$", "α = 0.1, 1/2"), ("$x_0^{ab}$ \\$", "x₀^ab $"), ("no math", "no math")])
def test_plain_text_shows_what_the_frames_draw(text, shown):
    assert plain_text(text) == shown


def test_html_shows_titles_and_labels_as_plain_text():
    runs = make_runset(labels=("lr=$10^{-3}$", "costs \\$5"))
    page = html_page(runs, title="Rates: $\\alpha$ and \\$")
    assert "<h1>Rates: α and $</h1>" in page
    assert [r["label"] for r in embedded_data(page)["runs"]] == ["lr=10⁻³", "costs $5"]
    scene = Scene(runs, render_cfg(title="Rates: $\\alpha$ and \\$"))  # the frames draw the same text
    assert np.array(scene.frame(0.0)).shape == (240, 320, 4)

