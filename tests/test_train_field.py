"""The built-in trainer for two inputs (data.dataset): data sets, models, losses, accuracies, runs."""

import numpy as np
import pytest

from polyanim import limits
from polyanim.config import ConfigError, from_dict, load as load_config
from polyanim.history import RunSet, load
from polyanim.multirun import train_runs
from polyanim.registry.models import MODELS
from polyanim.train import train

FAST = dict(steps=60, optimizer="adam", lr=0.05, record_every=20, log_every=0)


def config(data, model, **train_keys):
    return from_dict({"data": {"samples": 100, "mesh": 16, **data}, "model": model, "train": {**FAST, **train_keys}})


def test_moons_mlp_learns_and_records_accuracy():
    h = train(config({"dataset": "moons", "noise": 0.1}, {"kind": "mlp", "hidden": [16]}, steps=150), quiet=True)
    assert h.kind == "field" and h.meta["task"] == "classify" and h.meta["classes"] == 2
    assert h.pred.shape == (len(h.steps), 16, 16) and h.steps.tolist()[-1] == 150
    assert h.data_x.shape == (80, 2) and h.test_x.shape == (20, 2)  # data.test 0.2 by default
    assert h.acc[-1] > h.acc[0] and h.acc[-1] >= 0.8 and h.loss[-1] < h.loss[0]
    assert h.test_acc.shape == h.acc.shape and h.lr.shape == h.acc.shape
    rect_x = (h.data_x[:, 0].min(), h.data_x[:, 0].max())
    assert h.x[0] < rect_x[0] and h.x[-1] > rect_x[1]  # the mesh covers the points with a margin


def test_seeded_runs_are_identical():
    c = config({"dataset": "circles", "noise": 0.05}, {"kind": "polyfeatures", "degree": 2})
    a, b = train(c, quiet=True), train(c, quiet=True)
    np.testing.assert_array_equal(a.pred, b.pred)
    np.testing.assert_array_equal(a.data_x, b.data_x)


def test_three_classes_give_probabilities_per_class(tmp_path):
    c = config({"dataset": "blobs", "classes": 3, "test": 0.0}, {"kind": "logistic"})
    h = load(train(c, quiet=True).save(tmp_path / "b.history.npz"))
    assert h.meta["classes"] == 3 and h.pred.shape[1:] == (16, 16, 3) and h.test_x is None
    np.testing.assert_allclose(h.pred.sum(-1), 1, atol=1e-5)
    assert h.acc[-1] > 0.9  # blobs on a circle are linearly separable


def test_surface_records_the_target_on_the_mesh():
    c = config({"dataset": "surface", "target": "x1 * x2", "domain": [-1, 1], "noise": 0.0},
               {"kind": "polyfeatures", "degree": 2}, loss="mse_mean", steps=200)
    h = train(c, quiet=True)
    assert h.meta["task"] == "regress" and h.acc is None and (h.x[0], h.x[-1]) == (-1, 1)
    np.testing.assert_allclose(h.y, np.outer(h.x2, h.x), atol=1e-12)  # y[j, i] = x[i] * x2[j]
    assert np.abs(h.pred[-1] - h.y).max() < np.abs(h.pred[0] - h.y).max()


def test_polyfeatures_has_the_parameters_its_entry_says():
    from polyanim.models_field import PolyFeatures

    m = from_dict({"data": {"dataset": "xor"}, "model": {"kind": "polyfeatures", "degree": 3}}).model
    model = PolyFeatures.from_field(m, (-1, 1, -1, 1), 1)
    assert sum(p.numel() for p in model.parameters()) == MODELS["polyfeatures"].params(m) == 10


def test_linear_vs_mlp_runs_share_the_data(tmp_path):
    c = from_dict({"data": {"dataset": "xor", "samples": 100, "mesh": 12}, "model": {"kind": "logistic"},
                   "train": {**FAST, "steps": 200},
                   "runs": [{"label": "linear"}, {"label": "mlp", "model": {"kind": "mlp", "hidden": [8]}}]})
    rs = train_runs(c, quiet=True, workers=1)
    back = load(rs.save(tmp_path / "x.history.npz"))
    assert isinstance(back, RunSet) and back.kind == "field" and back.labels == ["linear", "mlp"]
    linear, mlp = back.histories
    assert mlp.acc[-1] > linear.acc[-1] and mlp.acc[-1] >= 0.9  # a straight line cannot split XOR
    np.testing.assert_array_equal(linear.data_x, mlp.data_x)


@pytest.mark.parametrize("data,model,words", [
    ({"dataset": "moons"}, {"kind": "polynomial"},
     "polynomial takes one input; with two inputs (data.dataset, data.columns) use"),
    ({}, {"kind": "logistic"}, "model.kind: logistic takes two inputs; set data.dataset"),
    ({"dataset": "moons", "target": "x1"}, {"kind": "mlp"}, "target: a moons data set has labels"),
    ({"target": "sin(x1)"}, {"kind": "mlp"}, "x1 and x2 are for data.dataset: surface"),
    ({"dataset": "surface", "target": "sin(x)"}, {"kind": "mlp"}, "a surface is an expression in x1 and x2"),
    ({"dataset": "surface", "target": "sqrt(x1)"}, {"kind": "mlp"}, "not finite on data.domain squared"),
    ({"dataset": "moons", "sampling": "uniform"}, {"kind": "mlp"}, "sampling: does not apply with data.dataset"),
    ({"dataset": "rings"}, {"kind": "mlp"}, "dataset: must be one of moons"),
    ({"dataset": "blobs", "classes": 11}, {"kind": "mlp"}, "classes: must be between 2 and 10"),
    ({"dataset": "moons", "mesh": 401}, {"kind": "mlp"}, "mesh: must be between 2 and 400"),
])
def test_bad_field_configs_are_one_line(data, model, words):
    with pytest.raises(ConfigError) as err:
        from_dict({"data": data, "model": model})
    assert words in str(err.value) and "\n" not in str(err.value)


def test_mesh_bytes_are_checked_before_training():
    c = from_dict({"data": {"dataset": "blobs", "classes": 10, "mesh": 400}, "model": {"kind": "mlp"},
                   "train": {"steps": 2000, "record_every": 1}})
    assert limits.history_bytes(c) > 2000 * 400 * 400 * 10 * 4
    with pytest.raises(ConfigError, match="data.mesh.*400x400 mesh"):
        limits.check_config(c)


@pytest.mark.parametrize("name", ["moons", "spirals", "xor_linear_vs_mlp", "widths", "surface", "petals"])
def test_shipped_configs_load(name):
    from pathlib import Path

    c = load_config(Path(__file__).parent.parent / "configs" / f"{name}.yaml")
    assert c.data.field and limits.check_config(c, still=True) == []
    assert len(c.runs) == {"xor_linear_vs_mlp": 2, "widths": 4}.get(name, 0)


@pytest.mark.parametrize("data", [{"dataset": "moons"}, {"dataset": "blobs", "classes": 3},
                                  {"dataset": "surface", "target": "x1 * x2", "domain": [-1, 1]}])
def test_live_view_of_two_inputs_records_what_the_trainer_records(data):
    # the live window draws a partial field History built from the same mesh, points and kind as the
    # trainer's, and every snapshot (accuracies included) reaches it while the History stays as it was
    from polyanim import live
    from polyanim.train import drawing_inputs

    from test_live import FakeWindow

    c = config(data, {"kind": "mlp", "hidden": [4]})
    plain = train(c, quiet=True)
    window = FakeWindow()
    view = live.TrainingView(window, c, **drawing_inputs(c))
    view.throttle.due = lambda: True  # draw every snapshot
    h = train(c, quiet=True, on_snapshot=view)
    view.finish(h)
    np.testing.assert_array_equal(plain.pred, h.pred)
    partial = view._partial()
    assert partial.kind == "field" and len(partial) == len(h) == view.draws - 1
    for key in ("x", "x2", "y", "data_x", "data_y", "test_x", "test_y", "pred", "loss", "acc", "test_acc", "lr"):
        a, b = getattr(partial, key), getattr(h, key)
        assert (a is None and b is None) or np.array_equal(a, b, equal_nan=True), key
    assert {k: partial.meta.get(k) for k in ("kind", "task", "classes")} == \
        {k: h.meta.get(k) for k in ("kind", "task", "classes")}
    assert window.shown[0] == (0.0, False) and window.shown[-1] == (float(len(h) - 1), True)
    assert list(view.scene.panels) == list(c.render.panels)
    again = live.TrainingView.for_history(FakeWindow(), c, h)  # a Recorder's partial History gives the same
    assert again.meta["kind"] == "field" and np.array_equal(again.field["x2"], h.x2)
