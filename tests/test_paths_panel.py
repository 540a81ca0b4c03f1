"""The paths panel: optimizer paths on a test surface, a linear model's exact slice and your own model's loss on a grid."""

import numpy as np
import pytest
from PIL import Image

from polyanim import config, npoptim
from polyanim.history import History, RunSet
from polyanim.panels import PANELS
from polyanim.panels.paths import PathsPanel, clip_path, contour_levels
from polyanim.scene import Scene
from polyanim.surfaces import FUNCTIONS

RACE = [("Adam", "adam", 0.05), ("SGD", "sgd", 2e-4), ("momentum", "momentum", 1e-4), ("SGD lr 4e-3", "sgd", 4e-3)]


def race(function="rosenbrock", steps=300, every=1) -> RunSet:
    """Runs whose params are their 2-D paths, as the trainer of a problem: section would record them."""
    problem = {"function": function}
    runs = []
    x = np.linspace(0.0, 1.0, 2)
    for label, name, lr in RACE:
        params, loss = npoptim.run(function, name, lr, None, steps)
        keep = np.arange(0, len(loss), every)
        meta = {"config": {"problem": problem}, "param_names": ["x", "y"]}
        if len(loss) < steps + 1:
            meta["stopped"] = {"step": int(len(loss)), "reason": "diverged"}
        runs.append((label, History(steps=keep, loss=loss[keep], x=x, y=x, pred=np.zeros((len(keep), 2)),
                                    params=params[keep], meta=meta)))
    return RunSet(runs, meta={"config": {"problem": problem}})


@pytest.fixture
def paths_registered():
    # registered in polyanim.panels.registry since issue 18 was wired: the entry the tests rely on
    assert PANELS["paths"].path == "polyanim.panels.paths:PathsPanel" and PANELS["paths"].pair


def render_cfg(panels=("paths", "loss"), size=(640, 320)):
    render = config.from_dict({"render": {"size": list(size), "hold": 0}}).render
    object.__setattr__(render, "panels", tuple(panels))  # past the config's check of registered names
    return render


def test_contour_levels_are_log_spaced_when_the_surface_spans_decades():
    _, _, z = FUNCTIONS["rosenbrock"].mesh(60)
    levels, log = contour_levels(z)
    assert log and levels[-1] == pytest.approx(np.nanmax(z)) and levels[0] > 0
    assert np.allclose(np.diff(np.log(levels)), np.log(levels[1] / levels[0]))
    for name in ("saddle", "rastrigin"):  # negative values; a range of one decade
        assert not contour_levels(FUNCTIONS[name].mesh(60)[2])[1]


def test_a_path_is_cut_where_it_crosses_the_edge():
    domain = ((-1.0, 1.0), (-1.0, 1.0))
    path = np.array([[0.0, 0.0], [0.5, 0.5], [1.5, 0.75], [3.0, 3.0]])
    inside, exit_point = clip_path(path, domain)
    np.testing.assert_array_equal(inside, path[:2])
    np.testing.assert_allclose(exit_point, [1.0, 0.625])
    assert clip_path(path[:2], domain)[1] is None
    inside, exit_point = clip_path(np.array([[0.0, 0.0], [np.nan, np.nan]]), domain)
    assert len(inside) == 1 and np.array_equal(exit_point, [0.0, 0.0])


def test_the_paths_panel_draws_the_race_and_marks_the_run_that_left(paths_registered, tmp_path):
    runs = race()
    scene = Scene(runs, render_cfg())
    panel = scene.panels["paths"]
    assert isinstance(panel, PathsPanel) and panel.log
    ax = scene.axes["paths"]
    assert ax.get_xlim() == (-2.0, 2.0) and ax.get_ylim() == (-1.0, 3.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [label for label, *_ in RACE]
    last = len(runs.steps) - 1
    scene.update(last / 2)
    left = RACE.index(("SGD lr 4e-3", "sgd", 4e-3))
    assert runs.histories[left].meta.get("stopped")  # it diverges, after leaving the domain
    image = scene.full_frame(last)
    Image.fromarray(image).save(tmp_path / "paths.png")
    # the run that left: its line ends on the domain's edge, its cross there, no head dot
    (cx,), (cy,) = panel.exits[left].get_data()
    (x0, x1), (y0, y1) = FUNCTIONS["rosenbrock"].domain
    assert min(abs(cx - x0), abs(cx - x1), abs(cy - y0), abs(cy - y1)) < 1e-9
    assert len(panel.dots[left].get_xdata()) == 0
    # Adam's head is drawn on its last point, and its line holds every snapshot
    np.testing.assert_array_equal(np.ravel(panel.dots[0].get_data()), runs.histories[0].params[-1])
    assert len(panel.exits[0].get_xdata()) == 0
    assert len(panel.lines[0].get_xdata()) == len(runs.histories[0].steps)
    # pixels of each run's colour sit in the paths panel
    rgb = image[..., :3].astype(int)
    box = ax.get_window_extent()
    h = rgb.shape[0]
    cell = rgb[int(h - box.y1):int(h - box.y0), int(box.x0):int(box.x1)]
    for color in scene.run_colors[: len(RACE)]:
        target = np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(cell - target).max(axis=-1) < 40).sum() > 10, color


def test_mid_race_heads_follow_the_interpolated_state(paths_registered):
    runs = race(steps=100, every=20)
    scene = Scene(runs, render_cfg(panels=("paths",), size=(320, 240)))
    states = scene.timeline.states(1.5)
    scene.update(1.5)
    panel = scene.panels["paths"]
    for k, state in enumerate(states):
        if len(panel.exits[k].get_xdata()):
            continue
        np.testing.assert_allclose(np.ravel(panel.dots[k].get_data()), state.params)


def test_without_a_problem_the_scene_refuses_the_panel(paths_registered):
    runs = race(steps=20)
    for h in runs.histories:
        h.meta["config"] = {}
    runs.meta["config"] = {}
    with pytest.raises(ValueError, match="^render.panels: the paths panel needs a parameter pair: a problem: section"):
        Scene(runs, render_cfg(panels=("paths",), size=(320, 240)))


def trained_race(steps=300):
    """SGD and Adam on the post's cubic, trained (torch), as a RunSet."""
    from polyanim.train import train
    runs = []
    for label, optimizer, lr in [("SGD", "sgd", 5e-6), ("Adam", "adam", 0.02)]:
        cfg = config.from_dict({"seed": 0, "data": {"points": 400},
                                "train": {"steps": steps, "record_every": 5, "log_every": 0,
                                          "optimizer": optimizer, "lr": lr}})
        runs.append((label, train(cfg, quiet=True)))
    return RunSet(runs)


def test_a_linear_models_coefficients_race_over_their_exact_slice(paths_registered, tmp_path):
    from polyanim.landscape import history_slice
    runs = trained_race()
    render = render_cfg()
    object.__setattr__(render, "path_params", ["c1", "c3"])  # the key the integrator adds
    scene = Scene(runs, render)
    panel, ax = scene.panels["paths"], scene.axes["paths"]
    assert panel.columns == (1, 3) and (ax.get_xlabel(), ax.get_ylabel()) == ("c₁", "c₃")
    best = min(runs.histories, key=lambda h: h.loss[-1])
    exact = history_slice(best, 1, 3)
    # the surface drawn is the slice through the best run's final point, and it holds both paths
    c1, c3 = best.params[-1][1], best.params[-1][3]
    assert panel.surface.loss((c1, c3)) == pytest.approx(exact.loss(c1, c3))
    for h in runs.histories:
        assert all(panel.surface.inside(p) for p in h.params[:, [1, 3]])
    image = scene.full_frame(len(runs.steps) - 1)
    Image.fromarray(image).save(tmp_path / "valley.png")
    for k, h in enumerate(runs.histories):
        np.testing.assert_array_equal(np.ravel(panel.dots[k].get_data()), h.params[-1, [1, 3]])


def test_path_params_on_a_model_that_is_not_linear_say_so(paths_registered):
    from polyanim.train import train
    cfg = config.from_dict({"seed": 0, "data": {"points": 50}, "model": {"kind": "mlp", "hidden": [2]},
                            "train": {"steps": 5, "record_every": 1, "log_every": 0, "optimizer": "adam"}})
    h = train(cfg, quiet=True)
    render = render_cfg(panels=("paths",), size=(320, 240))
    object.__setattr__(render, "path_params", [0, 1])
    scene = Scene(h, render)
    texts = " ".join(t.get_text() for t in scene.axes["paths"].texts)
    assert "linear in its parameters" in texts or "kept no coefficients" in texts


def test_the_page_reads_path_params_from_the_render_as_the_frames_do_and_refuses_alike(paths_registered, tmp_path):
    import polyanim
    from polyanim.train import train
    from test_html import embedded_data, panel

    cfg = config.from_dict({"seed": 0, "data": {"points": 100}, "train": {"steps": 40, "record_every": 10,
                                                                          "log_every": 0}})
    h = train(cfg, quiet=True)
    options = dict(panels=["paths", "loss"], size=(320, 240), hold=0)
    page = polyanim.render(h, tmp_path / "slice.html", path_params=["c1", "c3"], **options).read_text()
    cell = panel(embedded_data(page), "paths")
    assert "empty" not in cell and cell["draw"][0]["type"] == "image"  # the slice, as the GIF draws it
    for out in ("none.html", "none.gif"):  # no pair: the same one line before anything is drawn, in every format
        with pytest.raises(polyanim.InputError, match="the paths panel needs a parameter pair"):
            polyanim.render(h, tmp_path / out, **options)
        assert not (tmp_path / out).exists()


def model_loss(kind, c, x, y, span):
    """The sum of squared errors of a linear model at coefficients ``c``, by numpy's own series (not the
    design matrix the slice is built from)."""
    from numpy.polynomial import chebyshev, legendre, polynomial

    t = x if kind == "polynomial" else (2 * x - span[0] - span[1]) / (span[1] - span[0])
    pred = {"polynomial": polynomial.polyval, "legendre": legendre.legval, "chebyshev": chebyshev.chebval}[kind](t, c)
    return float(np.sum((pred - y) ** 2))


@pytest.mark.parametrize("kind, names", [("polynomial", ["c1", "c3"]), ("legendre", ["P1", "P3"]),
                                         ("chebyshev", ["T1", "T3"])])
def test_path_params_draw_the_loss_evaluated_point_by_point_on_a_grid(kind, names):
    # end to end: a config with render.path_params, its trained History, the surface the panel draws
    from polyanim.train import make_samples, train
    cfg = config.from_dict({"seed": 2, "data": {"points": 200}, "model": {"kind": kind, "degree": 3},
                            "train": {"steps": 40, "record_every": 10, "log_every": 0, "optimizer": "adam",
                                      "lr": 0.02}, "render": {"panels": ["paths", "loss"], "path_params": names,
                                                              "size": [320, 240]}})
    h = train(cfg, quiet=True)
    panel = Scene(h, cfg.render).panels["paths"]
    samples = make_samples(cfg)
    x, y = samples.x.double().numpy(), samples.y.double().numpy()
    (x0, x1), (y0, y1) = panel.surface.domain
    for c1 in np.linspace(x0, x1, 7):
        for c3 in np.linspace(y0, y1, 5):
            c = h.params[-1].copy()
            c[1], c[3] = c1, c3
            want = model_loss(kind, c, x, y, cfg.data.span())
            assert panel.surface.loss((c1, c3)) == pytest.approx(want, rel=1e-9, abs=1e-9)


def sine_fit(landscape=None, steps=120, params=lambda a, b: [a, b]):
    """Your own loop: a * sin(b * x) fitted by hand-written gradient descent, recorded with its two parameters."""
    from polyanim import Recorder
    x = np.linspace(-3, 3, 50)
    y = 2 * np.sin(1.5 * x)
    rec = Recorder(x, y, every=10, param_names=["a", "b"] if params(0, 0) is not None and len(params(0, 0)) == 2
                   else None, landscape=landscape)
    a, b = 0.5, 1.0
    for step in range(steps):
        pred, r = a * np.sin(b * x), a * np.sin(b * x) - y
        rec.add(step, loss=float(np.mean(r * r)), pred=pred, params=params(a, b))
        a, b = a - 0.05 * float(np.mean(2 * r * np.sin(b * x))), b - 0.05 * float(np.mean(2 * r * a * x * np.cos(b * x)))
    return rec, x, y


def sine_loss(x, y):
    return lambda a, b: ((a[..., None] * np.sin(b[..., None] * x) - y) ** 2).mean(axis=-1)


def test_a_recorders_own_model_draws_its_path_over_its_loss_on_a_grid(tmp_path):
    from polyanim import load, render
    rec, x, y = sine_fit()
    rec.landscape = sine_loss(x, y)  # as if given to the Recorder: the loss on a grid of (a, b)
    h = rec.history()
    grid = h.meta["landscape"]
    assert grid["params"] == ["a", "b"]
    xs, ys, losses = np.array(grid["x"]), np.array(grid["y"]), np.array(grid["loss"])
    assert xs[0] < h.params[:, 0].min() and xs[-1] > h.params[:, 0].max()  # a box around the path
    assert ys[0] < h.params[:, 1].min() and ys[-1] > h.params[:, 1].max()
    for k, j in [(0, 0), (17, 60), (99, 99)]:  # the stored grid is the loss, point by point
        want = float(np.mean((xs[k] * np.sin(ys[j] * x) - y) ** 2))
        assert losses[j, k] == pytest.approx(want, rel=1e-6)
    path = tmp_path / "own.history.npz"
    h.save(path)
    for source in (h, load(path)):  # the grid travels with the saved History
        scene = Scene(source, render_cfg())
        panel = scene.panels["paths"]
        assert panel.surface.loss((xs[17], ys[60])) == pytest.approx(losses[60, 17])
        assert panel.surface.minima and panel.surface.inside(h.params[-1])
        assert (scene.axes["paths"].get_xlabel(), scene.axes["paths"].get_ylabel()) == ("a", "b")
    assert render(path, tmp_path / "own.html", panels=["paths", "loss"]).stat().st_size > 0
    assert render(path, tmp_path / "own.gif", panels=["fit", "paths", "loss"]).stat().st_size > 0


def test_without_a_landscape_a_recorders_history_says_what_the_panel_needs():
    rec, _, _ = sine_fit()
    h = rec.history()
    with pytest.raises(ValueError, match="needs a parameter pair.*Recorder\\(landscape=\\)") as err:
        Scene(h, render_cfg())
    assert "\n" not in str(err.value)
    render = render_cfg()
    object.__setattr__(render, "path_params", ["a", "b"])  # asked for a slice: no model to slice, it says so
    scene = Scene(h, render)
    text = " ".join(t.get_text() for t in scene.axes["paths"].texts).replace("\n", " ")
    assert "no model to slice" in text and "landscape=" in text and not scene.axes["paths"].collections


@pytest.mark.parametrize("landscape, params, message", [
    ("valley", lambda a, b: [a, b], "landscape: expected a function loss(a, b) of two grid arrays"),
    (lambda a, b: a[:3], lambda a, b: [a, b], "landscape: losses: expected shape (100, 100)"),
    (lambda a, b: 1 / 0, lambda a, b: [a, b], "landscape: your loss function failed on a 100x100 grid of a, b: "
                                              "ZeroDivisionError"),
    (([0, 1], [0, 1], [[1, 2], [3, 4]]), lambda a, b: [a, b, 0.0], "landscape: draws the path of two parameters"),
    (([0, 0], [0, 1], [[1, 2], [3, 4]]), lambda a, b: [a, b], "landscape: a_values: expected 2 to 400 finite"),
    (lambda a, b: a, lambda a, b: None, "landscape: draws the path of two parameters: pass exactly those two"),
])
def test_a_bad_landscape_is_one_line_naming_it(landscape, params, message):
    from polyanim import InputError
    rec, _, _ = sine_fit(landscape, steps=20, params=params)
    with pytest.raises(InputError) as err:
        rec.history()
    assert str(err.value).startswith(f"polyanim.Recorder: {message}") and "\n" not in str(err.value)


def test_a_landscape_on_two_inputs_is_refused():
    from polyanim import InputError, Recorder
    with pytest.raises(InputError, match="^polyanim.Recorder: landscape: for the paths of a 1-D grid"):
        Recorder(np.array([[0, 0], [1, 0], [0, 1], [1, 1]]), [0, 1, 0, 1], landscape=lambda a, b: a)
