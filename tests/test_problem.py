"""The problem: section end to end: config, numpy training (no torch), the CLI's refusals, the player's paths."""

import json

import numpy as np
import pytest
from PIL import Image

from conftest import ROOT
from polyanim import config, npoptim
from polyanim.cli import main
from polyanim.history import kind_of, load
from polyanim.train_paths import kept, train
from test_cli import one_line_error, run_without_torch
from test_html import browser, open_page  # noqa: F401  (the module's Chromium fixture)

RACE = {"problem": {"function": "rosenbrock", "steps": 300}, "train": {"frames": 30, "lr": 2e-4},
        "render": {"panels": ["paths", "loss"], "size": [320, 240], "hold": 0},
        "runs": [{"label": "SGD"}, {"label": "momentum", "train": {"momentum": 0.9, "lr": 1e-4}},
                 {"label": "Adam", "train": {"optimizer": "adam", "lr": 0.05}},
                 {"label": "too fast", "train": {"lr": 4e-3}}]}


def write(tmp_path, data, name="race.yaml"):
    path = tmp_path / name
    path.write_text(json.dumps(data))  # JSON is YAML
    return path


def test_a_race_left_at_the_default_panels_draws_paths_and_loss():
    data = {k: v for k, v in RACE.items() if k != "render"}
    assert config.from_dict(data).render.panels == ("paths", "loss")


def test_no_problem_section_is_the_curve_problem_unchanged():
    cfg = config.from_dict({})
    assert not cfg.problem.given and "problem" not in cfg.to_dict() and cfg.render.path_params is None


def test_a_race_trains_every_step_and_keeps_the_frame_budget():
    cfg = config.from_dict(RACE)
    runs = train(cfg)
    assert kind_of(runs) == "paths" and runs.labels == ["SGD", "momentum", "Adam", "too fast"]
    adam = runs.histories[2]
    params, loss = npoptim.run("rosenbrock", "adam", 0.05, None, 300)
    np.testing.assert_array_equal(adam.steps, kept(300, cfg.train))
    assert len(adam.steps) == 31
    np.testing.assert_array_equal(adam.params, params[adam.steps])  # the kept snapshots are the exact steps
    np.testing.assert_array_equal(adam.loss, loss[adam.steps])
    fast = runs.histories[3]  # leaves the domain: stopped at the first point outside
    assert fast.meta["stopped"]["reason"] == "left the domain"
    x, y = fast.params[-1]
    assert not (-2 <= x <= 2 and -1 <= y <= 3) and all(-2 <= p[0] <= 2 for p in fast.params[:-1])


def test_a_race_renders_without_torch_and_replays(tmp_path):
    cfg = write(tmp_path, RACE)
    proc = run_without_torch([str(cfg), "--out", str(tmp_path / "race.gif"), "--quiet"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    h = load(tmp_path / "race.history.npz")
    assert kind_of(h) == "paths" and h.histories[0].params.shape[1] == 2
    with Image.open(tmp_path / "race.gif") as gif:
        assert gif.size == (320, 240) and gif.n_frames == len(h.steps)  # one frame per position of the race
    assert main([str(tmp_path / "race.history.npz"), "--out", str(tmp_path / "again.png"), "--quiet"]) == 0


BAD = [
    ({"problem": {"function": "rosenbrock", "start": [5, 5]}}, "problem.start: [5.0, 5.0] is outside the domain"),
    ({"problem": {"function": "banana"}}, "problem.function: unknown function 'banana'; allowed: rosenbrock"),
    ({"problem": {"function": "expression", "expression": "x + z"}}, "problem.expression: 'z' is not allowed"),
    ({"problem": None, "render": {"panels": ["fit", "paths"], "path_params": ["c1", "c7"]}},
     "render.path_params: the model has no coefficient 'c7'; allowed: c0, c1, c2, c3"),
    ({"problem": None, "model": {"kind": "mlp"}, "render": {"panels": ["paths"], "path_params": ["c1", "c3"]}},
     "render.path_params: an exact loss slice needs a model linear in its parameters"),
    ({"problem": {"function": "beale"}, "render": {"panels": ["fit"]}},
     "render.panels: the fit panel draws 1-D curves; this History is optimizer paths"),
    ({"problem": None, "render": {"panels": ["paths", "loss"]}}, "render.panels: the paths panel needs a parameter pair"),
]


@pytest.mark.parametrize("change, fragment", BAD, ids=[b[1].split(":")[0] + str(k) for k, b in enumerate(BAD)])
def test_bad_problems_are_one_line_and_exit_2(tmp_path, capsys, change, fragment):
    data = {**RACE, "runs": RACE["runs"][:1], **change}
    data = {k: v for k, v in data.items() if v is not None}
    if "problem" not in data:
        data.pop("runs")
    one_line_error(capsys, [str(write(tmp_path, data)), "--out", str(tmp_path / "x.gif")], fragment)
    assert not (tmp_path / "x.gif").exists()


def test_panels_refuse_the_wrong_kind_of_history_in_one_line():
    from polyanim.scene import Scene
    from test_html import cubic_history

    races = train(config.from_dict(RACE))
    for history, panels, fragment in [(cubic_history(frames=3), ("paths", "loss"), "needs a parameter pair"),
                                      (races, ("fit", "loss"), "the fit panel draws 1-D curves; this History is optimizer paths"),
                                      (races.histories[0], ("params",), "the params panel draws 1-D curves")]:
        render = config.from_dict({"render": {"size": [160, 120]}}).render
        object.__setattr__(render, "panels", panels)  # past the config's own check: a History replayed
        with pytest.raises(ValueError, match=f"^render.panels: .*{fragment}") as err:
            Scene(history, render)
        assert "\n" not in str(err.value)


def test_the_contours_are_in_the_cached_background_not_redrawn_per_frame():
    from matplotlib.collections import Collection
    from polyanim.scene import Scene

    cfg = config.from_dict(RACE)
    scene = Scene(train(cfg), cfg.render)
    panel = scene.panels["paths"]
    moving = panel.update(scene.timeline.states(3))
    assert moving and not any(isinstance(a, Collection) for a in moving)  # lines and marks only
    contours = [c for c in scene.axes["paths"].collections if not c.get_animated()]
    assert contours  # the filled bands and level lines: static, drawn once into the background
    blitted, full = np.asarray(scene.frame(10)).copy(), np.asarray(scene.full_frame(10))
    assert np.abs(blitted.astype(int) - full.astype(int)).max() <= 2  # the blit shows the contours too


def test_the_players_paths_in_the_browser(browser, tmp_path):  # noqa: F811
    cfg = write(tmp_path, RACE)
    assert main([str(cfg), "--out", str(tmp_path / "race.html"), "--quiet"]) == 0
    page, errors = open_page(browser, tmp_path / "race.html")
    canvas = "document.getElementById('plot').toDataURL()"
    page.locator("#slider").fill("0")
    start = page.evaluate(canvas)
    page.locator("#slider").fill("25")
    later = page.evaluate(canvas)
    assert start != later  # the paths moved
    page.locator("#slider").fill(str(page.evaluate("document.getElementById('slider').max")))
    assert page.evaluate(canvas) != later  # the end: "too fast" crossed where it left, the minimum a star
    shot = tmp_path / "player.png"
    page.locator("#plot").screenshot(path=str(shot))
    rgb = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    from polyanim import style
    for color in style.RUN_COLORS["light"][:3]:  # each run's path is drawn in its colour
        target = np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(rgb - target).max(axis=-1) < 30).sum() > 10, color
    grey = np.abs(rgb - rgb[..., :1]).max(axis=-1) < 4
    assert grey.sum() > rgb.shape[0] * rgb.shape[1] * 0.2  # the contour bands (grey ink) behind them
    assert errors == []


def registry_race(train_section, steps):
    """The path the curve trainer's own optimizer (polyanim.optimizers.make_optimizer: torch.optim, or the
    hand-written SGD tested equal to it) takes on Beale's function for this train section, with autograd."""
    import torch

    from polyanim.optimizers import make_optimizer
    from polyanim.registry.optimizers import OPTIMIZERS
    from test_surfaces import TORCH

    p = torch.tensor([1.0, 1.5], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(train_section, [p])

    def closure():
        opt.zero_grad()
        value = TORCH["beale"](p[0], p[1])
        value.backward()
        return value

    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.step(closure) if OPTIMIZERS[train_section.optimizer].closure else (closure(), opt.step())
        path.append(p.detach().numpy().copy())
    return np.array(path)


def racers():
    from polyanim.registry.optimizers import OPTIMIZERS

    lrs = {"adadelta": 1.0, "lbfgs": 1.0, "sgd": 1e-3}
    return [*({"optimizer": name, "lr": lrs.get(name, 0.01)} for name in OPTIMIZERS),
            {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9}, {"optimizer": "sgd", "lr": 1e-3, "momentum": 0.9,
                                                                "nesterov": True},
            {"optimizer": "rmsprop", "lr": 0.01, "momentum": 0.5}, {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.1}]


@pytest.mark.parametrize("section", racers(), ids=lambda s: "-".join(f"{v}" for v in s.values()))
def test_every_registered_optimizer_races_from_a_config_as_its_torch_optimizer_steps(section):
    steps = 4 if section["optimizer"] == "lbfgs" else 60
    cfg = config.from_dict({"problem": {"function": "beale", "start": [1.0, 1.5], "steps": steps},
                            "train": {**section, "record_every": 1}})
    h = train(cfg)
    assert len(h.steps) == steps + 1 and np.abs(h.params[-1] - h.params[0]).max() > 1e-3  # it moved
    np.testing.assert_allclose(h.params, registry_race(cfg.train, steps), rtol=1e-9, atol=1e-12)


def test_a_race_recorded_log_spaced_keeps_its_first_steps():
    from polyanim.recording import log_steps

    cfg = config.from_dict({**RACE, "train": {**RACE["train"], "record": "log", "frames": 20}})
    runs = train(cfg)
    np.testing.assert_array_equal(runs.histories[0].steps, log_steps(300, 20))
    params, _ = npoptim.run("rosenbrock", "sgd", 2e-4, None, 300)
    np.testing.assert_array_equal(runs.histories[0].params, params[log_steps(300, 20)])


def test_the_players_paths_mark_exits_minima_and_saddles():
    from polyanim.html import html_page
    from test_html import embedded_data, items, panel

    runs = train(config.from_dict(RACE))
    data = {}
    for function in ("rosenbrock", "saddle"):
        cfg = config.from_dict({**RACE, "problem": {"function": function, "steps": 300}})
        page = html_page(train(cfg), title=function, fps=10, size=(320, 240), panels=("paths", "loss"))
        data[function] = panel(embedded_data(page), "paths")
    lines = items(data["rosenbrock"], "lines")
    fast = runs.histories[3]  # "too fast" left the domain: its head turns into a cross from that snapshot on
    assert [("exit" in it) for it in lines] == [False, False, False, True]
    assert lines[3]["exit"] == len(fast.steps) - 1
    stars = items(data["rosenbrock"], "points", marker="*")
    assert len(stars) == 1 and (stars[0]["x"], stars[0]["y"]) == ([1.0], [1.0])
    crosses = items(data["saddle"], "points", marker="+")
    assert len(crosses) == 1 and (crosses[0]["x"], crosses[0]["y"]) == ([0.0], [0.0])
    assert not items(data["saddle"], "points", marker="*")  # no minimum: unbounded below


def test_a_race_renders_to_every_registered_format_in_one_pass(tmp_path):
    from polyanim.registry.formats import FORMATS

    cfg = write(tmp_path, {**RACE, "problem": {"function": "saddle", "steps": 60}, "train": {"frames": 12, "lr": 0.02}})
    outs = [tmp_path / f"race{suffix}" for suffix in FORMATS]
    assert main([str(cfg), *[a for out in outs for a in ("--out", str(out))], "--quiet"]) == 0
    assert all(out.stat().st_size > 1000 for out in outs)
    with Image.open(tmp_path / "race.png") as png:
        assert png.size == (320, 240)
