"""The field kind of History (format version 3): two inputs, predictions on a mesh."""

import json
from pathlib import Path

import numpy as np
import pytest

from polyanim import limits
from polyanim.history import FORMAT_VERSION, History, HistoryError, RunSet, load

DATA = Path(__file__).parent / "data"


def field(classes=2, task="classify", frames=3, g1=6, g2=4, test=True, seed=0, **overrides):
    """A small, valid field History (random but proper probabilities and labels)."""
    rng = np.random.default_rng(seed)
    if task == "regress":
        pred = rng.normal(size=(frames, g2, g1))
        labels = rng.normal(size=10)
    elif classes == 2:
        pred = rng.uniform(size=(frames, g2, g1))
        labels = rng.integers(0, 2, 10).astype(float)
    else:
        raw = rng.uniform(size=(frames, g2, g1, classes))
        pred = raw / raw.sum(axis=-1, keepdims=True)
        labels = rng.integers(0, classes, 10).astype(float)
    meta = {"kind": "field", "task": task, "config": {"name": "f"}}
    if task == "classify":
        meta["classes"] = classes
    args = dict(steps=np.arange(frames) * 10, loss=np.linspace(1, 0.1, frames), x=np.linspace(-1, 1, g1),
                x2=np.linspace(0, 2, g2), y=np.full((g2, g1), np.nan), pred=pred, data_x=rng.normal(size=(10, 2)),
                data_y=labels, meta=meta, acc=np.linspace(0.5, 0.9, frames))
    if test:
        args.update(test_x=rng.normal(size=(4, 2)), test_y=labels[:4], test_acc=np.linspace(0.4, 0.8, frames))
    args.update(overrides)
    return History(**args)


@pytest.mark.parametrize("classes,task", [(2, "classify"), (4, "classify"), (None, "regress")])
def test_round_trip(tmp_path, classes, task):
    h = field(classes=classes, task=task)
    back = load(h.save(tmp_path / "f.history.npz"))
    assert isinstance(back, History) and back.kind == "field" and back.meta["version"] == FORMAT_VERSION == 3
    for key in ("steps", "loss", "x", "x2", "y", "pred", "data_x", "data_y", "test_x", "test_y", "acc", "test_acc"):
        np.testing.assert_array_equal(getattr(back, key), getattr(h, key))
    assert back.pred.dtype == np.float32 and back.x2.dtype == np.float64
    assert back.meta["task"] == task and back.meta.get("classes") == classes


def test_plain_numpy_reads_a_field_file(tmp_path):
    p = field().save(tmp_path / "f.npz")
    with np.load(p) as npz:  # allow_pickle is False by default: nothing pickled
        assert {"x2", "test_x", "test_y", "acc", "test_acc"} <= set(npz.files)
        assert npz["pred"].shape == (3, 4, 6)
        assert json.loads(str(npz["meta"]))["kind"] == "field"


def test_older_files_are_curves():
    h = load(DATA / "v1_single.history.npz")
    assert h.kind == "curve" and h.meta["version"] == 1 and h.x2 is None and h.acc is None


def test_repr_is_one_line():
    assert "\n" not in repr(field()) and "mesh 6x4" in repr(field()) and "classify" in repr(field())
    rs = RunSet([("a", field()), ("b", field())])
    assert "\n" not in repr(rs) and "2 runs" in repr(rs)


@pytest.mark.parametrize("overrides,words", [
    (dict(pred=np.full((3, 4, 5), 0.5)), "pred: expected shape (3, 4, 6)"),
    (dict(y=np.zeros((6, 4))), "y: expected shape (4, 6)"),
    (dict(data_x=np.zeros((10, 3))), "data_x, data_y"),
    (dict(test_y=None), "test_x, test_y: expected both or neither"),
    (dict(pred=np.full((3, 4, 6), 1.5)), "probabilities from 0 to 1"),
    (dict(data_y=np.full(10, 2.0)), "data_y: expected class labels"),
    (dict(test_y=np.full(4, 0.5)), "test_y: expected class labels"),
    (dict(x=np.array([-1, 0, 0.1, 0.2, 0.5, 1.0])), "x: expected evenly spaced"),
    (dict(x2=np.linspace(0, 1, 500), y=np.zeros((500, 6)), pred=np.zeros((3, 500, 6))), "2 to 400 points"),
    (dict(acc=np.array([0.1, 0.2, 1.2])), "acc: expected accuracies"),
    (dict(acc=np.zeros(2)), "acc: expected shape (3,)"),
    (dict(x2=None), "x2: missing"),
    (dict(test_x=np.array([[np.nan, 0]] * 4)), "test_x: expected finite"),
])
def test_bad_field_arrays_are_named(overrides, words):
    with pytest.raises(ValueError) as err:
        field(**overrides)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_classes_and_pred_must_agree():
    with pytest.raises(ValueError, match=r"pred: expected shape \(3, 4, 6, 3\) for 3 classes"):
        field(classes=4, meta={"kind": "field", "task": "classify", "classes": 3})
    with pytest.raises(ValueError, match="for a regression"):
        field(classes=3, meta={"kind": "field", "task": "regress"})


@pytest.mark.parametrize("meta,words", [
    ({"kind": "surface"}, "meta.kind: expected one of curve, field"),
    ({"kind": "field", "task": "cluster"}, "meta.task"),
    ({"kind": "field", "task": "classify", "classes": 11}, "meta.classes"),
    ({"kind": "field", "task": "classify", "classes": 2, "class_names": ["a"]}, "meta.class_names"),
])
def test_bad_field_meta(meta, words):
    with pytest.raises(ValueError, match=words):
        field(meta=meta)


def test_curve_refuses_field_arrays():
    from conftest import make_history

    h = make_history()
    with pytest.raises(ValueError, match="test_x, test_y: only a field history"):
        History(steps=h.steps, loss=h.loss, x=h.x, y=h.y, pred=h.pred, meta={}, test_x=np.zeros((2, 2)),
                test_y=np.zeros(2))


def _rewrite(path, **changes):
    """Write the arrays of ``path`` again with ``changes`` (None removes an array), as np.savez would."""
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    np.savez(path, **arrays)


def test_a_bad_file_is_refused_from_its_headers(tmp_path):
    p = field().save(tmp_path / "f.npz")
    _rewrite(p, pred=np.zeros((3, 4, 5), np.float32))
    with pytest.raises(HistoryError, match=r"pred: expected shape \(3, 4, 6\)"):
        load(p)


def test_a_field_needs_version_3(tmp_path):
    p = field().save(tmp_path / "f.npz")
    with np.load(p) as npz:
        meta = json.loads(str(npz["meta"]))
    meta["version"] = 2
    _rewrite(p, meta=np.array(json.dumps(meta)))
    with pytest.raises(HistoryError, match="needs format version 3"):
        load(p)


def test_runset_of_fields_round_trip(tmp_path):
    a, b = field(seed=0), field(seed=0, acc=np.array([0.2, 0.3, 0.4]), steps=np.array([0, 5, 20]))
    p = RunSet([("small", a), ("big", b)], meta={"config": {"name": "w"}}).save(tmp_path / "w.npz")
    with np.load(p) as npz:
        assert {"run1_acc", "run1_test_acc", "run1_pred"} <= set(npz.files)
        assert "run1_x2" not in npz.files and "run1_test_x" not in npz.files  # shared: stored once
    back = load(p)
    assert isinstance(back, RunSet) and back.kind == "field" and back.labels == ["small", "big"]
    big = back.histories[1]
    assert big.kind == "field" and big.meta["classes"] == 2
    np.testing.assert_array_equal(big.acc, [0.2, 0.3, 0.4])
    np.testing.assert_array_equal(big.steps, [0, 5, 20])
    np.testing.assert_array_equal(back.test_x, a.test_x)


def test_runset_runs_share_the_mesh_points_and_task():
    with pytest.raises(ValueError, match="must be the first run's"):
        RunSet([("a", field(seed=0)), ("b", field(seed=1))])  # other points
    with pytest.raises(ValueError, match="must be the first run's"):
        RunSet([("a", field()), ("b", field(test=False))])  # one has test points, the other not
    with pytest.raises(ValueError, match="kind, task and classes"):
        RunSet([("a", field()), ("b", field(classes=3))])


def test_field_snapshot_bytes_checked_before_training():
    assert limits.field_snapshot_bytes(120, 100, 2) == 4 * 120 * 100 + 40
    assert limits.field_snapshot_bytes(120, 100, 5) == 4 * 120 * 100 * 5 + 40
    assert limits.field_problem(120, 120, 2, 1000) is None
    problem = limits.field_problem(400, 400, 10, 200)
    assert "400x400 mesh x 10 classes" in problem and "limit" in problem
