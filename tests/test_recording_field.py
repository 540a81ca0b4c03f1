"""The Recorder of two inputs: points X [N, 2], their labels, predictions on rec.mesh."""

import numpy as np
import pytest
import torch

import polyanim
from polyanim import datasets, limits
from polyanim.history import load


@pytest.fixture
def moons():
    return datasets.make("moons", 60, 0.1, 0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_mesh_is_row_major_like_pred(moons):
    X, y = moons
    rec = polyanim.Recorder(X, y, resolution=12, every=1)
    assert rec.mesh.dtype == np.float32 and rec.mesh.shape == (144, 2) and rec.mesh_shape == (12, 12)
    rec.add(0, loss=1.0, pred=lambda: sigmoid(rec.mesh[:, 0] - 2 * rec.mesh[:, 1]), final=True)
    h = rec.history()
    j, i = 3, 7
    assert h.pred[0, j, i] == pytest.approx(sigmoid(h.x[i] - 2 * h.x2[j]), rel=1e-5)
    lo1, hi1, lo2, hi2 = datasets.rectangle(X)
    assert (h.x[0], h.x[-1], h.x2[0], h.x2[-1]) == pytest.approx((lo1, hi1, lo2, hi2))


def test_defaults_from_the_labels(moons):
    X, y = moons
    rec = polyanim.Recorder(X, y, resolution=4)
    assert (rec.field.task, rec.field.classes) == ("classify", 2)
    rec = polyanim.Recorder(X, X[:, 0] * 1.5, resolution=4)
    assert (rec.field.task, rec.field.classes) == ("regress", None)
    assert polyanim.Recorder(X, np.arange(60) % 4, resolution=4).field.classes == 4


@pytest.mark.parametrize("shape", ["flat", "grid", "two_columns", "grid_two"])
def test_two_class_prediction_shapes(moons, shape):
    X, y = moons
    rec = polyanim.Recorder(X, y, resolution=8, every=1)
    p1 = sigmoid(rec.mesh[:, 0])
    value = {"flat": p1, "grid": p1.reshape(8, 8), "two_columns": np.stack([1 - p1, p1], 1),
             "grid_two": np.stack([1 - p1, p1], 1).reshape(8, 8, 2)}[shape]
    rec.add(0, loss=0.5, pred=value, final=True)
    np.testing.assert_allclose(rec.history().pred[0], p1.reshape(8, 8), rtol=1e-6)


def test_torch_model_three_classes_round_trip(tmp_path):
    X, y = datasets.make("blobs", 90, 0.2, 1, classes=3)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    rec = polyanim.Recorder(Xt, yt, resolution=10, every=2, test=(Xt[:9], yt[:9]), class_names=["a", "b", "c"])
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    mesh = torch.from_numpy(rec.mesh)
    for step in range(5):
        logits = model(Xt)
        loss = torch.nn.functional.cross_entropy(logits, yt)
        acc = (logits.argmax(1) == yt).float().mean()
        rec.add(step, loss=loss, pred=lambda: torch.softmax(model(mesh), 1), acc=acc, test_acc=acc,
                final=step == 4)  # tensors with grad, as a loop has them
        opt.zero_grad()
        loss.backward()
        opt.step()
    back = load(rec.history().save(tmp_path / "b.history.npz"))
    assert back.kind == "field" and back.meta["classes"] == 3 and back.meta["class_names"] == ["a", "b", "c"]
    assert back.pred.shape == (3, 10, 10, 3) and np.allclose(back.pred.sum(-1), 1, atol=1e-5)
    assert back.steps.tolist() == [0, 2, 4] and back.acc.shape == (3,) and back.test_x.shape == (9, 2)
    np.testing.assert_array_equal(back.data_y, y)


def test_regression_keeps_values(moons):
    X, _ = moons
    rec = polyanim.Recorder(X, np.sin(X[:, 0]), resolution=6, every=1)
    rec.add(0, loss=2.0, pred=np.full(36, 7.5), final=True)
    h = rec.history()
    assert h.meta["task"] == "regress" and "classes" not in h.meta and (h.pred == 7.5).all()


def bad_cases():
    X, y = datasets.make("moons", 20, 0.1, 0)
    nan_x = X.copy()
    nan_x[3, 1] = np.nan
    return {
        "labels_not_whole": (dict(X=X, labels=y + 0.5, task="classify"), "labels: a classifier's labels must be whole"),
        "too_many_classes": (dict(X=X, labels=np.arange(20) % 12, task="classify"), "12 classes"),
        "classes_1": (dict(X=X, labels=np.zeros(20)), "classes: a classifier needs 2 to 10"),
        "negative_labels": (dict(X=X, labels=2 * y - 1), "labels: expected whole numbers from 0 to"),
        "nan_in_X": (dict(X=nan_x, labels=y), "X: NaN or infinity in row 3"),
        "nan_in_labels": (dict(X=X, labels=np.where(y > 0, np.nan, 0.0)), "labels: NaN or infinity"),
        "nan_in_test": (dict(X=X, labels=y, test=(nan_x, y)), "test[0]: NaN or infinity in row 3"),
        "labels_length": (dict(X=X, labels=y[:5]), "labels: expected one label or value per point (20)"),
        "flat_rect": (dict(X=X, labels=y, rect=(0, 1, 2, 2)), "rect: expected finite (x1_lo, x1_hi, x2_lo, x2_hi)"),
        "rect_short": (dict(X=X, labels=y, rect=(0, 1)), "rect: expected"),
        "one_spot": (dict(X=np.ones((5, 2)), labels=[0, 1, 0, 1, 0]), "span no rectangle"),
        "resolution": (dict(X=X, labels=y, resolution=401), "resolution: mesh points a side"),
        "task": (dict(X=X, labels=y, task="cluster"), "task: expected one of classify, regress"),
        "class_names": (dict(X=X, labels=y, class_names=["a"]), "class_names: expected one name per class (2)"),
        "too_big": (dict(X=X, labels=np.arange(20) % 10, resolution=400, every=1, steps=1000),
                    "resolution, every, frames"),
        "curve_task": (dict(X=np.linspace(0, 1, 5), labels=None, task="classify"), "task: only for two inputs"),
    }


@pytest.mark.parametrize("case", list(bad_cases()))
def test_bad_arguments_are_one_line(case):
    kwargs, words = bad_cases()[case]
    with pytest.raises(polyanim.InputError) as err:
        polyanim.Recorder(kwargs.pop("X"), kwargs.pop("labels"), **kwargs)
    message = str(err.value)
    assert words in message and "\n" not in message and message.startswith("polyanim.Recorder: ")


@pytest.mark.parametrize("classes,pred,words", [
    (2, np.zeros(17), "pred: expected the prediction on rec.mesh, shape [16] or [4, 4]"),
    (3, np.full((16, 2), 0.5), "with a last axis of 3 classes"),
    (2, np.full(16, 1.3), "probabilities must lie in [0, 1]"),
    (2, np.full(16, np.nan), "and NaN"),
    (3, np.full((16, 3), 0.5), "must sum to 1 over the last axis, got sums from 1.5 to 1.5; apply softmax"),
    (2, np.full((16, 2), 0.3), "must sum to 1"),
])
def test_bad_predictions(classes, pred, words):
    X = np.random.default_rng(0).normal(size=(30, 2))
    rec = polyanim.Recorder(X, np.arange(30) % classes, resolution=4, every=1)
    with pytest.raises(polyanim.InputError) as err:
        rec.add(0, loss=1.0, pred=pred)
    assert words in str(err.value) and "\n" not in str(err.value)
    assert "sigmoid" in str(err.value) if classes == 2 and "[0, 1]" in words else True


def test_bad_accuracy_and_curve_accuracy(moons):
    X, y = moons
    rec = polyanim.Recorder(X, y, resolution=4, every=1)
    with pytest.raises(polyanim.InputError, match=r"acc: expected a fraction from 0 to 1, got 87 \(a percentage"):
        rec.add(0, loss=1.0, pred=np.full(16, 0.5), acc=87)
    curve = polyanim.Recorder(np.linspace(0, 1, 5), np.zeros(5))
    with pytest.raises(polyanim.InputError, match="acc, test_acc: only for two inputs"):
        curve.add(0, loss=1.0, pred=np.zeros(5), acc=0.5)
    with pytest.raises(polyanim.InputError, match="mesh: only a Recorder of two inputs"):
        curve.mesh


def test_size_limit_matches_limits(moons):
    X, y = moons
    # exactly the bytes limits counts: the largest schedule that fits is accepted, one more is refused
    per = limits.field_snapshot_bytes(300, 300, 2)
    fits = limits.MAX_HISTORY_BYTES // per
    polyanim.Recorder(X, y, resolution=300, every=1, steps=fits - 1)
    with pytest.raises(polyanim.InputError, match="limit"):
        polyanim.Recorder(X, y, resolution=300, every=1, steps=fits)


def test_history_ends_on_the_last_offered_step_with_its_accuracy(moons):
    X, y = moons
    rec = polyanim.Recorder(X, y, resolution=4, every=2)
    for step in range(6):  # kept: 0, 2, 4; 5 is the latest, read when the History is taken
        rec.add(step, loss=1.0 / (step + 1), pred=lambda: np.full(16, 0.1 * step), acc=step / 10, test_acc=None)
    h = rec.history()
    assert h.steps.tolist() == [0, 2, 4, 5]
    np.testing.assert_allclose(h.acc, [0, 0.2, 0.4, 0.5])
    np.testing.assert_allclose(h.pred[-1], 0.5)
