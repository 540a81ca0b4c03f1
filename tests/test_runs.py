"""Side-by-side runs: config (runs, sweep), training (sequential and parallel), the multi-run
History file, rendering (overlay and grid), the HTML player and the command line."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from polyanim import config, history as history_mod
from polyanim.config import ConfigError
from polyanim.history import FORMAT_VERSION, History, RunSet, load
from polyanim.html import write_html
from polyanim.renderer import plan, render
from polyanim.scene import Scene

from conftest import make_history, make_runset
from test_cli import ROOT, run_without_torch
from test_render import CountingWriter

DATA = Path(__file__).parent / "data"
SMALL = {"data": {"points": 60}, "train": {"steps": 40, "record_every": 10, "log_every": 0, "workers": 1},
         "render": {"size": [160, 120], "hold": 0}}


def write(tmp_path, text, name="runs.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def small(**extra) -> config.Config:
    return config.from_dict({**SMALL, **extra})


# --- config ---------------------------------------------------------------------------------------

def test_runs_and_sweep_resolve_to_whole_configs():
    c = config.from_dict({"runs": [{"label": "SGD", "train": {"optimizer": "sgd"}},
                                   {"label": "Adam", "train": {"optimizer": "adam", "lr": 0.01}}]})
    assert c.multi and [r.label for r in c.runs] == ["SGD", "Adam"]
    adam = c.runs[1].config
    assert (adam.train.optimizer, adam.train.lr, adam.data) == ("adam", 0.01, c.data)
    assert not adam.multi and c.runs[0].config.train.lr == 1e-6  # the top level is every run's default
    assert config.from_dict(c.to_dict()) == c  # the History keeps the config; it must rebuild itself
    s = config.from_dict({"sweep": {"key": "train.lr", "values": ["1e-6", 1e-5, 1e-4]}})
    assert [r.label for r in s.runs] == ["lr=1e-06", "lr=1e-05", "lr=0.0001"]
    assert [r.config.train.lr for r in s.runs] == [1e-6, 1e-5, 1e-4]
    assert config.from_dict(s.to_dict()) == s
    named = config.from_dict({"sweep": {"key": "model.degree", "values": [1, 9], "labels": ["line", "nine"]}})
    assert [(r.label, r.config.model.degree) for r in named.runs] == [("line", 1), ("nine", 9)]
    assert [r.label for r in config.from_dict({"runs": [{}, {"model": {"degree": 5}}]}).runs] == \
        ["run 1", "degree=5"]


def test_single_config_is_unchanged():
    c = config.from_dict({})
    assert not c.multi and c.runs == () and "runs" not in c.to_dict()
    assert c.train.workers == "auto" and c.render.layout == "overlay"


@pytest.mark.parametrize("text, fragment", [
    ("runs: [{train: {lr: 1e-3}}, {train: {lr: 0}}]", "runs[1].train.lr: must be > 0"),
    ("runs: [{label: a}, {label: b, train: {steps: 10}}]", "runs[1].train.record_every: must be <= train.steps"),
    ("runs: [{data: {noise: 0.1}}]", "runs[0].data: cannot differ between runs"),
    ("runs: [{label: a}, {render: {fps: 5}}]", "runs[1].render: cannot differ between runs"),
    ("runs: [{seed: 3}]", "runs[0].seed: cannot differ between runs"),
    ("runs: [{trian: {}}]", "runs[0].trian: unknown key; did you mean 'runs[0].train'?"),
    ("runs: [{train: {lrr: 1}}]", "runs[0].train.lrr: unknown key; did you mean 'runs[0].train.lr'?"),
    ("runs: [{train: {workers: 2}}]", "runs[0].train.workers: applies to all the runs"),
    ("runs: [{label: a}, {label: a}]", "runs[1]: label 'a' is also the label of runs[0]"),
    ("runs: [{label: ''}]", "runs[0].label: expected a non-empty text label"),
    ("runs: 3", "runs: expected a list of runs"),
    ("runs: []", "runs: needs 1 to 8 runs, got 0"),
    ("sweep: {key: train.lr, values: [1, 2, 3, 4, 5, 6, 7, 8, 9]}", "sweep.values: needs 1 to 8 runs, got 9"),
    ("sweep: {key: data.noise, values: [0, 1]}", "sweep.key: expected a model.* or train.* key"),
    ("sweep: {key: train.lrr, values: [1]}", "sweep.key: train.lrr: unknown key; did you mean 'train.lr'?"),
    ("sweep: {key: train.lr, values: [1.0e-3, -1]}", "sweep.values[1]: train.lr: must be > 0"),
    ("sweep: {key: model.degree, values: [1, 2.5]}", "sweep.values[1]: model.degree: expected a whole number"),
    ("sweep: {key: train.lr, values: []}", "sweep.values: expected a non-empty list"),
    ("sweep: {key: train.lr, values: [1], labels: [a, b]}", "sweep.labels: expected one label per value"),
    ("sweep: {key: train.lr, values: [1], step: 2}", "sweep.step: unknown key"),
    ("sweep: {key: train.lr, values: [1]}\nruns: [{}]", "runs, sweep: give one or the other"),
    ("sweep: {key: train.lr, values: [1]}\nrender: {panels: [fit, params]}",
     "render.panels: the params panel shows one run's coefficients"),
    ("train: {workers: 0}", "train.workers: must be auto or a whole number >= 1, got 0"),
    ("train: {workers: 1.5}", "train.workers: must be auto or a whole number >= 1, got 1.5"),
    ("render: {layout: tiles}", "render.layout: must be one of overlay, grid"),
])
def test_bad_runs_name_file_key_and_rule(tmp_path, text, fragment):
    p = write(tmp_path, text + "\n")
    with pytest.raises(ConfigError) as info:
        config.load(p)
    msg = str(info.value)
    assert "\n" not in msg and msg.startswith(f"{p}: "), msg
    assert fragment in msg, msg


def test_set_replaces_runs_and_reaches_the_top_level(tmp_path):
    p = write(tmp_path, "runs: [{label: slow}, {label: fast, train: {lr: 1.0e-5}}]\n")
    c = config.load(p, ["train.lr=2e-6"])  # the top level: runs that set their own lr keep it
    assert [r.config.train.lr for r in c.runs] == [2e-6, 1e-5]
    c = config.load(p, ["sweep={key: model.degree, values: [1, 2]}"])
    assert [r.label for r in c.runs] == ["degree=1", "degree=2"]
    with pytest.raises(ConfigError, match=r"^--set: runs\[0\]\.train\.lr: must be > 0"):
        config.load(p, ["runs=[{train: {lr: -1}}]"])


# --- training -------------------------------------------------------------------------------------

def test_workers_auto_decides_by_size_and_cores():
    from polyanim import multirun

    tiny = small(sweep={"key": "train.lr", "values": [1e-6, 2e-6]}, train={**SMALL["train"], "workers": "auto"})
    assert multirun.workers_for(tiny, cores=2) == 1  # starting workers costs more than it saves
    long = config.from_dict({"train": {"steps": 20000}, "sweep": {"key": "train.lr", "values": [1e-6, 2e-6, 3e-6]}})
    assert multirun.workers_for(long, cores=2) == 2 and multirun.workers_for(long, cores=8) == 3
    assert multirun.workers_for(long, cores=1) == 1
    big = config.from_dict({"model": {"kind": "mlp", "hidden": [512, 512]}, "train": {"steps": 20000},
                            "sweep": {"key": "train.lr", "values": [1e-3, 1e-2]}})
    assert multirun.workers_for(big, cores=2) == 1  # each run already uses every core
    assert multirun.workers_for(config.from_dict({**long.to_dict(), "train": {"workers": 8}})) == 3


def test_parallel_training_equals_sequential():
    from polyanim.multirun import train_runs

    c = small(runs=[{"label": "SGD"}, {"label": "Adam", "train": {"optimizer": "adam", "lr": 0.05}}])
    one = train_runs(c, quiet=True, workers=1)
    two = train_runs(c, quiet=True, workers=2)
    assert one.meta["workers"] == 1 and two.meta["workers"] == 2
    assert one.labels == two.labels == ["SGD", "Adam"]
    for a, b in zip(one.histories, two.histories):
        for key in ("steps", "loss", "x", "y", "pred", "params", "lr"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
        drop = lambda m: {k: v for k, v in m.items() if k != "train_seconds"}  # noqa: E731
        assert drop(a.meta) == drop(b.meta)
    assert one.histories[1].config["train"]["optimizer"] == "adam"


def test_each_run_keeps_its_schedule_and_a_diverging_one_is_named_once():
    from polyanim.multirun import train_runs

    c = config.from_dict({**SMALL, "train": {**SMALL["train"], "log_every": 20},
                          "data": {"points": 200},
                          "runs": [{"label": "post"},
                                   {"label": "dense", "train": {"record_every": 5}},
                                   {"label": "wild", "train": {"lr": 1e-3}}]})
    out, err = io.StringIO(), io.StringIO()
    runs = train_runs(c, out=out, err=err)
    post, dense, wild = runs.histories
    assert list(post.steps) == [0, 10, 20, 30, 40] and list(dense.steps) == list(range(0, 41, 5))
    assert wild.meta["stopped"] and len(wild) < len(post)
    assert list(runs.steps) == list(range(0, 41, 5))  # the union: the animation's timeline
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: [wild] loss became inf"), lines
    log = out.getvalue().splitlines()
    assert log[0].startswith("[post] 0 ") and any(l.startswith("[dense] Result: y = ") for l in log)


# --- the History file -----------------------------------------------------------------------------

def test_runset_round_trip_and_plain_numpy_layout(tmp_path):
    rs = make_runset()
    p = rs.save(tmp_path / "runs.history.npz")
    back = load(p)
    assert isinstance(back, RunSet) and back.labels == rs.labels
    for (_, a), (_, b) in zip(rs.runs, back.runs):
        for key in ("steps", "loss", "x", "y", "pred"):
            np.testing.assert_array_equal(getattr(a, key), getattr(b, key))
        assert a.meta.get("stopped") == b.meta.get("stopped")
    np.testing.assert_array_equal(back.steps, rs.steps)
    assert back.config == rs.config and back.meta["version"] == FORMAT_VERSION == 3
    with np.load(p) as npz:  # no pickles; the first run where single-run readers look for it
        names = set(npz.files)
        meta = json.loads(str(npz["meta"]))
        np.testing.assert_array_equal(npz["pred"], rs.histories[0].pred)
        np.testing.assert_array_equal(npz["run2_loss"], rs.histories[2].loss)
    assert {"steps", "loss", "x", "y", "pred", "meta", "run1_steps", "run1_loss", "run1_pred",
            "run2_steps", "run2_loss", "run2_pred"} <= names
    assert not any(n.startswith("run0_") or n.startswith("run1_x") for n in names)  # data stored once
    assert [r["label"] for r in meta["runs"]] == rs.labels and meta["runs"][2]["stopped"]["step"] == 53


def test_runset_rejects_runs_on_different_data():
    a, b = make_history(points=50), make_history(points=60)
    with pytest.raises(ValueError, match="runs share data"):
        RunSet([("a", a), ("b", b)])
    with pytest.raises(ValueError, match="labels must differ"):
        RunSet([("a", a), ("a", a)])


def test_version_1_files_load_unchanged(tmp_path):
    # a file written by polyanim before version 2 (tests/data, committed), and one made now
    h = load(DATA / "v1_single.history.npz")
    assert isinstance(h, History) and h.meta["version"] == 1
    assert list(h.steps) == [0, 10, 20, 30] and h.pred.shape == (4, 40) and h.params.shape == (4, 4)
    assert h.config["name"] == "v1" and h.meta["param_names"] == ["c0", "c1", "c2", "c3"]
    p = make_history().save(tmp_path / "now.npz")
    with zipfile.ZipFile(p) as z:
        arrays = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    meta = json.loads(str(arrays["meta"]))
    meta["version"] = 1
    np.savez(p, **dict(arrays, meta=np.array(json.dumps(meta))))
    old = load(p)
    assert isinstance(old, History) and old.meta["version"] == 1
    np.testing.assert_array_equal(old.pred, make_history().pred)
    # and a version-1 file never holds several runs
    meta["runs"] = [{"label": "a"}]
    np.savez(p, **dict(arrays, meta=np.array(json.dumps(meta))))
    assert isinstance(load(p), History)


def test_broken_multi_run_file_is_one_line_error(tmp_path):
    p = make_runset().save(tmp_path / "r.npz")
    with zipfile.ZipFile(p) as z:
        arrays = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    del arrays["run2_pred"]
    np.savez(p, **arrays)
    with pytest.raises(history_mod.HistoryError, match=r"missing arrays: run2_pred\)$"):
        load(p)


# --- rendering ------------------------------------------------------------------------------------

def render_cfg(**kw):
    return config.from_dict({"render": {"size": [320, 240], **kw}}).render


def test_frames_walk_the_union_of_steps_plus_holds(tmp_path):
    rs = make_runset()
    assert len(rs) == 11  # steps 0, 5, …, 50 from the three schedules
    r = config.from_dict({"render": {"size": [160, 120], "fps": 10, "hold": 0.5, "hold_start": 0.2}}).render
    CountingWriter.frames, CountingWriter.nbytes = 0, set()
    render(rs, tmp_path / "count.gif", r, quiet=True, writer=CountingWriter)
    assert CountingWriter.frames == 2 + 11 + 5 == len(plan(len(rs), r, CountingWriter.frame_rate)[0])


def test_each_run_shows_its_latest_snapshot_at_or_before_the_step():
    rs = make_runset()
    scene = Scene(rs, render_cfg())
    scene.update(3)  # step 15: run 0 recorded at 10 and 20, run 1 every 5, run 2 at 0 and 25
    np.testing.assert_array_equal(scene.panels["fit"].lines[0].get_ydata(), rs.histories[0].pred[1])
    np.testing.assert_array_equal(scene.panels["fit"].lines[1].get_ydata(), rs.histories[1].pred[3])
    np.testing.assert_array_equal(scene.panels["fit"].lines[2].get_ydata(), rs.histories[2].pred[0])
    assert scene.panels["fit"].labels[0].get_text() == "t=15"
    scene.update(len(rs) - 1)
    assert "lr=0.1: stopped at step 53: loss became inf" in scene.panels["fit"].labels[0].get_text()
    assert scene.panels["fit"].lines[2].get_alpha() < 1  # the diverged run stays, faded
    np.testing.assert_array_equal(scene.panels["loss"].curves.lines[2].get_xdata(), rs.histories[2].steps)


def test_overlay_legend_names_the_runs():
    rs = make_runset(labels=("lr=1e-06", "lr=1e-05", "lr=0.0001", "lr=0.001"), frames=(6, 6, 6, 3))
    for size in ([320, 240], [640, 480], [960, 480]):
        scene = Scene(rs, render_cfg(size=size))
        texts = [t.get_text() for t in scene.axes["fit"].get_legend().get_texts()]
        assert sorted(texts) == sorted(["target: sin(x)", *rs.labels])
        image = scene.full_frame(len(rs) - 1)
        renderer = scene.canvas.get_renderer()
        box = scene.axes["fit"].get_legend().get_window_extent(renderer)
        assert box.x0 >= 0 and box.x1 <= size[0] and image.shape[:2] == (size[1], size[0])
    colors = {line.get_color() for line in scene.panels["fit"].lines}
    assert len(colors) == 4 and scene.theme["target"] not in colors


def test_grid_has_a_fit_panel_per_run_with_shared_limits():
    rs = make_runset()
    scene = Scene(rs, render_cfg(layout="grid", title="three runs"))
    assert len(scene.panels["fit"].axes) == 3 and len(scene.fig.axes) == 4  # and the loss panel
    assert [ax.get_title() for ax in scene.panels["fit"].axes] == rs.labels
    cells = scene.panels["fit"].axes
    assert len({ax.get_ylim() for ax in cells}) == 1 and len({ax.get_xlim() for ax in cells}) == 1
    scene.update(len(rs) - 1)
    assert scene.panels["fit"].labels[2].get_text().startswith("t=50, Loss=") and "stopped at step 53" in \
        scene.panels["fit"].labels[2].get_text()
    loss_legend = [t.get_text() for t in scene.axes["loss"].get_legend().get_texts()]
    assert loss_legend == rs.labels


@pytest.mark.parametrize("layout", ["overlay", "grid"])
@pytest.mark.parametrize("i", [0, 4, 10])
def test_blitted_multi_run_frame_equals_full_redraw(layout, i):
    rs = make_runset()
    r = render_cfg(layout=layout, title="blit check", trail=2)
    blitted = np.array(Scene(rs, r).frame(i))
    scene = Scene(rs, r)
    for j in (1, 7, i):  # after other frames, not only the first
        frame = np.array(scene.frame(j))
    np.testing.assert_array_equal(frame, blitted)
    np.testing.assert_array_equal(blitted, Scene(rs, r).full_frame(i))
    np.testing.assert_array_equal(blitted, scene.full_frame(i))  # the same scene, redrawn in full


def test_update_returns_what_it_changed_and_interpolates_by_step():
    rs = make_runset()
    scene = Scene(rs, render_cfg(interpolate=1))
    changed = scene.update(2.5)  # between steps 10 and 15: step 12.5
    fit, loss = scene.panels["fit"], scene.panels["loss"]
    assert set(fit.lines + loss.curves.lines + loss.curves.dots + fit.labels) <= set(changed)
    h = rs.histories[1]  # recorded every 5 steps: halfway between its snapshots 2 and 3
    np.testing.assert_allclose(scene.panels["fit"].lines[1].get_ydata(), (h.pred[2] + h.pred[3]) / 2, rtol=1e-6)
    h = rs.histories[0]  # recorded every 10 steps: a quarter of the way from 10 to 20
    np.testing.assert_allclose(scene.panels["fit"].lines[0].get_ydata(), 0.75 * h.pred[1] + 0.25 * h.pred[2], rtol=1e-6)


def test_params_panel_is_refused_for_several_runs():
    with pytest.raises(ValueError, match="params panel"):
        Scene(make_runset(), render_cfg(panels=["fit", "params"]))


def test_a_diverging_run_in_a_sweep_renders(tmp_path):
    rs = make_runset()
    wild = rs.histories[2]
    wild.pred[-1] = np.where(np.arange(wild.pred.shape[1]) % 2, 1e17, -1e17)  # exploding, alternating
    wild.loss[-1] = 1e30
    out = render(rs, tmp_path / "sweep.png", render_cfg(), quiet=True)
    scene = Scene(rs, render_cfg())
    scene.update(len(rs) - 1)
    assert np.isnan(scene.panels["fit"].lines[2].get_ydata()).all()  # off the panel, not a vertical line through it
    assert scene.axes["loss"].get_ylim()[1] < 1e10  # the calm runs set the loss scale
    assert not len(scene.panels["loss"].curves.dots[2].get_xdata())  # its dot left the panel
    with Image.open(out) as im:
        assert im.size == (320, 240)


def test_gif_palette_keeps_every_run_colour(tmp_path):
    rs = make_runset(labels=("a", "b", "c", "d"), frames=(6, 6, 6, 6), stopped_last=False)
    out = render(rs, tmp_path / "p.gif", render_cfg(hold=0, quality="small"), quiet=True)
    with Image.open(out) as im:
        im.seek(len(rs) - 1)
        palette = {tuple(c) for c in np.asarray(im.convert("RGB")).reshape(-1, 3)}
    for color in Scene(rs, render_cfg()).run_colors:
        assert tuple(int(color[k:k + 2], 16) for k in (1, 3, 5)) in palette


# --- HTML -----------------------------------------------------------------------------------------

def test_html_player_carries_every_run(tmp_path):
    from test_html import embedded_data, items, panel

    rs = make_runset()
    out = tmp_path / "runs.html"
    write_html(rs, out, title="runs", fps=10, size=(480, 360))
    text = out.read_text(encoding="utf-8")
    data = embedded_data(text)
    assert data["steps"] == [int(s) for s in rs.steps]
    assert [r["label"] for r in data["runs"]] == rs.labels
    assert data["runs"][1]["idx"][3] == 3 and data["runs"][2]["idx"][3] == 0  # latest at or before step 15
    # the label of the last position says how the stopped run ended, decided by style.fit_label
    (label,) = items(panel(data, "fit"), "text")
    assert label["texts"][-1].endswith("\nlr=0.1: stopped at step 53: loss became inf")
    loss = panel(data, "loss")["axes"]
    assert loss["log"] and loss["ylim"][1] < 1e6  # the diverged run does not set the scale (style.loss_scale)
    assert 'max="10"' in text  # the slider walks the union of steps


def test_html_player_with_runs_in_browser(tmp_path):
    from test_html import CHROMIUM, CHROMIUM_ARGS, open_page

    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    import shutil

    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    out = tmp_path / "runs.html"
    write_html(make_runset(), out, title="runs", fps=10, size=(320, 240))
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page, errors = open_page(browser, out)
        label = "document.getElementById('plot').getAttribute('aria-label')"
        assert page.evaluate(label).startswith("t=0, SGD Loss=")
        for _ in range(10):
            page.keyboard.press("ArrowRight")
        assert re.fullmatch(r"t=50, SGD Loss=[\d.]+, Adam Loss=[\d.]+, lr=0\.1 Loss=[\d.]+", page.evaluate(label))
        browser.close()
    assert errors == []


# --- command line ---------------------------------------------------------------------------------

def test_cli_trains_a_sweep_and_replays_it_without_torch(tmp_path, capsys):
    from polyanim.cli import main

    cfg = write(tmp_path, "data: {points: 60}\n"
                          "train: {steps: 30, record_every: 10, log_every: 0}\n"
                          "sweep: {key: train.lr, values: [1.0e-6, 1.0e-3]}\n"
                          "render: {size: [160, 120], hold: 0}\n", "sweep.yaml")
    out = tmp_path / "sweep.gif"
    assert main([str(cfg), "--out", str(out), "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [str(tmp_path / "sweep.history.npz"), str(out)]
    assert captured.err.count("\n") == 1 and captured.err.startswith("warning: [lr=0.001] loss became inf")
    runs = load(tmp_path / "sweep.history.npz")
    assert isinstance(runs, RunSet) and runs.labels == ["lr=1e-06", "lr=0.001"]
    with Image.open(out) as im:
        assert im.n_frames == len(runs) == 4 and im.size == (160, 120)
    for suffix in (".gif", ".html"):
        again = tmp_path / f"again{suffix}"
        proc = run_without_torch([str(tmp_path / "sweep.history.npz"), "--out", str(again), "-q",
                                  "--set", "render.layout=grid"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == str(again) and again.stat().st_size > 0


def test_cli_bad_run_is_exit_2(tmp_path, capsys):
    from polyanim.cli import main

    cfg = write(tmp_path, "runs: [{label: a}, {label: b, train: {lr: -1}}]\n", "bad.yaml")
    assert main([str(cfg), "--out", str(tmp_path / "x.gif")]) == 2
    err = capsys.readouterr().err
    assert err == f"polyanim: error: {cfg}: runs[1].train.lr: must be > 0\n"
    assert not (tmp_path / "x.gif").exists()


def test_shipped_multi_run_configs_load():
    for name, n, layout in (("sgd_vs_adam", 3, "overlay"), ("degree_sweep", 4, "grid"), ("lr_sweep", 4, "overlay")):
        c = config.load(ROOT / "configs" / f"{name}.yaml")
        assert len(c.runs) == n and c.render.layout == layout and c.name == name
    degrees = config.load(ROOT / "configs/degree_sweep.yaml")
    assert [r.config.model.degree for r in degrees.runs] == [1, 3, 5, 9]
    assert {r.config.model.kind for r in degrees.runs} == {"chebyshev"}


def test_live_replay_plays_a_runset():
    from polyanim import live

    class Window:  # stands in for live.Window
        closed = False

        def __init__(self):
            self.shown = []

        def attach(self, scene):
            self.scene = scene

        def show(self, scene, position, redraw=False):
            scene.frame(position)
            self.shown.append(position)

        def wait(self, seconds):
            pass

        @property
        def frames(self):
            return len(self.shown)

    window, rs = Window(), make_runset()
    live.replay(window, rs, render_cfg(hold=0, fps=120), clock=lambda: 0.0)
    assert window.shown == [float(i) for i in range(len(rs))] and len(window.scene.panels["fit"].lines) == 3



def test_a_top_level_override_does_not_reach_a_run_that_sets_the_key_itself():
    # lr_sweep's second run sets train.lr to the top level's value; --set train.lr must not change it
    plain = config.load(ROOT / "configs/lr_sweep.yaml")
    changed = config.load(ROOT / "configs/lr_sweep.yaml", ["train.lr=5e-6", "train.steps=300"])
    assert [r.config.train.lr for r in changed.runs] == [r.config.train.lr for r in plain.runs]
    assert all(r.config.train.steps == 300 for r in changed.runs)
