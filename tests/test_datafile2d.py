"""data.file with data.columns: two inputs and a label or value per row, from a CSV, .npy or .npz."""

import importlib.util

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from polyanim import config
from polyanim.cli import main
from polyanim.history import load as load_history

from conftest import ROOT
from test_datafile import CSV_TEXT, cli_error

TINY = "seed: 0\nmodel: {{kind: mlp, hidden: [4]}}\ntrain: {{steps: 6, record_every: 2, lr: 0.05, optimizer: adam, " \
       "log_every: 0}}\nrender: {{size: [200, 150], fps: 10, hold: 0.2}}\ndata:\n  file: {file}\n  mesh: 12\n" \
       "  columns: {columns}\n{extra}"


def points(n=40, seed=0):
    X = np.random.default_rng(seed).uniform(-2, 3, size=(n, 2))
    return X, (X[:, 0] + X[:, 1] > 1).astype(int)


def setup(tmp_path, name, content, columns="[x1, x2, label]", extra=""):
    """A data file ``name`` (text, or an array to ``np.save``) and a config next to it that reads it."""
    data = tmp_path / name
    if isinstance(content, str):
        data.write_text(content)
    else:
        np.save(data, content)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY.format(file=name, columns=columns, extra=extra))
    return cfg, data


def csv_text(X, labels, header="x1,x2,label\n"):
    return header + "".join(f"{a!r},{b!r},{c}\n" for (a, b), c in zip(X.tolist(), labels.tolist()))


def render(tmp_path, cfg, capsys):
    out = tmp_path / "out" / "run.gif"
    assert main([str(cfg), "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err
    with Image.open(out) as gif:
        assert gif.n_frames >= 4
    return load_history(out.with_name("run.history.npz"))


def test_csv_with_a_header_trains_a_classifier_to_a_gif(tmp_path, capsys):
    X, labels = points()
    # the header's order and letter case are the file's own: data.columns picks by name
    text = "Label,x2,X1\n" + "".join(f"{c},{b!r},{a!r}\n" for (a, b), c in zip(X.tolist(), labels.tolist()))
    cfg, _ = setup(tmp_path, "d.csv", text)
    h = render(tmp_path, cfg, capsys)
    assert h.kind == "field" and h.meta["task"] == "classify" and h.meta["classes"] == 2
    assert h.meta["config"]["render"]["panels"] == ["boundary", "loss", "accuracy"]
    assert len(h.data_x) + len(h.test_x) == 40 and len(h.test_x) == 8  # data.test: 0.2 by default
    held = {tuple(p) for p in h.test_x}
    kept = [i for i, p in enumerate(X.tolist()) if tuple(p) not in held]
    np.testing.assert_array_equal(h.data_x, X[kept])
    np.testing.assert_array_equal(h.data_y, labels[kept])
    lo, hi = X.min(0), X.max(0)  # the mesh: the points' box widened, as for a data set
    assert h.x[0] < lo[0] and h.x[-1] > hi[0] and h.x2[0] < lo[1] and h.x2[-1] > hi[1] and len(h.x) == 12


def test_npy_by_index_with_extra_columns_and_data_test(tmp_path, capsys):
    X, labels = points(50)
    table = np.column_stack([np.arange(50), X, np.arange(50) % 3])  # an id column first, three classes
    cfg, _ = setup(tmp_path, "d.npy", table, columns="[1, 2, 3]", extra="  test: 0.5\n")
    h = render(tmp_path, cfg, capsys)
    assert h.meta["classes"] == 3 and len(h.data_x) == 25 and len(h.test_x) == 25
    assert h.pred.shape[1:] == (12, 12, 3)


def test_npz_by_name_and_a_headerless_csv_by_index_read_the_same_points(tmp_path):
    X, labels = points()
    np.savez(tmp_path / "d.npz", a=X[:, 0], b=X[:, 1], c=labels)
    (tmp_path / "d.csv").write_text(csv_text(X, labels, header=""))
    read = [config.from_dict({"data": {"file": str(tmp_path / name), "columns": columns},
                              "model": {"kind": "mlp"}}).data.field_points()
            for name, columns in (("d.npz", ["a", "b", "c"]), ("d.csv", [0, 1, 2]))]
    for p in read:
        np.testing.assert_array_equal(p.X, X)
        np.testing.assert_array_equal(p.values, labels)
        assert p.task == "classify" and p.classes == 2


def test_values_train_a_surface(tmp_path, capsys):
    X, _ = points(60)
    cfg, _ = setup(tmp_path, "d.csv", csv_text(X, np.sin(X[:, 0]) * X[:, 1], header="x1,x2,value\n"),
                   columns="[x1, x2, value]")
    h = render(tmp_path, cfg, capsys)
    assert h.meta["task"] == "regress" and h.meta["config"]["render"]["panels"] == ["surface", "loss"]


def test_data_task_overrides_the_labels_rule(tmp_path):
    X, labels = points()
    (tmp_path / "d.csv").write_text(csv_text(X, labels))
    d = {"file": str(tmp_path / "d.csv"), "columns": ["x1", "x2", "label"]}
    assert config.from_dict({"data": d, "model": {"kind": "logistic"}}).data.field_task() == "classify"
    c = config.from_dict({"data": {**d, "task": "regress"}, "model": {"kind": "mlp"}})
    assert c.data.field_task() == "regress" and c.render.panels == ("surface", "loss")
    # on the command line too: the panels left at their default follow the task set there
    c = config.from_dict({"data": d, "model": {"kind": "mlp"}}, overrides=["data.task=regress"])
    assert c.render.panels == ("surface", "loss")
    c = config.from_dict({"data": d, "model": {"kind": "mlp"}, "render": {"panels": ["boundary"]}},
                         overrides=["train.lr=0.1"])
    assert c.render.panels == ("boundary",)


BAD = [
    ("d.csv", "x1,x2,label\n0,1,0\n1,abc,1\n2,3,0\n3,1,1\n4,0,0\n", "", "data.file", ["row 3, column 2", "'abc'"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,nan,1\n2,3,0\n3,1,1\n4,0,0\n", "", "data.file", ["row 3", "x2 is nan"]),
    ("d.csv", "x1,x2\n0,1\n1,2\n2,3\n3,1\n", "", "data.columns", ["no column 'label'", "x1, x2"]),
    ("d.csv", "0,1\n1,2\n2,3\n3,1\n", "", "data.columns", ["no header", "indices"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,2\n2,3,0\n3,1,1\n", "", "data.file", ["row 3", "at least 3 columns", "got 2"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,2,1\n2,3,0\n", "", "data.file", ["3 data row(s)", "at least 4"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,2,1.5\n2,3,0\n3,1,1\n", "  task: classify\n", "data.task",
     ["row 3", "label is 1.5", "whole numbers"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,2,12\n2,3,0\n3,1,1\n", "", "data.task", ["13 class(es)", "2 to 10"]),
    ("d.csv", "x1,x2,label\n1,1,0\n1,1,1\n1,1,0\n1,1,1\n", "", "data.file", ["every point is at (1, 1)"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,2,1\n2,3,0\n3,1,1\n", "  test: 0.9\n", "data.test", ["leaving 0 to train on"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,2,1\n2,3,0\n3,1,1\n", "  noise: 0.1\n", "data.noise", ["does not apply"]),
    ("d.csv", "x1,x2,label\n0,1,0\n1,2,1\n2,3,0\n3,1,1\n", "  target: x1\n", "data.target", ["does not apply"]),
    ("d.npy", np.ones((5, 2)), "", "data.file", ["expected shape [N, 3]", "[5, 2]"]),
]


@pytest.mark.parametrize("name, content, extra, key, fragments", BAD)
def test_bad_two_input_file_is_one_line_and_exit_2(tmp_path, capsys, name, content, extra, key, fragments):
    columns = "[0, 1, 2]" if name.endswith(".npy") else "[x1, x2, label]"
    cfg, data = setup(tmp_path, name, content, columns=columns, extra=extra)
    err = cli_error(capsys, cfg, "--out", tmp_path / "out" / "run.gif")
    assert f"{cfg}: {key}: " in err
    if key in ("data.file", "data.columns", "data.task"):
        assert str(data) in err  # the resolved data file
    for fragment in fragments:
        assert fragment in err
    assert not (tmp_path / "out").exists()


def test_columns_need_a_file_and_task_needs_columns(capsys, tmp_path):
    for data, words in (({"columns": ["x1", "x2", "y"]}, "columns: picks the columns of data.file"),
                        ({"task": "classify"}, "task: only with data.columns"),
                        ({"file": "d.csv", "columns": ["x1", "x1", "y"]}, "columns: expected three different"),
                        ({"file": "d.csv", "columns": ["a", "b", "c"], "task": "cluster"}, "task: must be one of")):
        with pytest.raises(config.ConfigError, match=words):
            config.from_dict({"data": data})


def test_a_three_column_file_without_columns_says_how(tmp_path, capsys):
    (tmp_path / "d.csv").write_text("x1,x2,label\n0,1,0\n1,2,1\n")
    (tmp_path / "c.yaml").write_text("data: {file: d.csv}\n")
    assert "set data.columns" in cli_error(capsys, tmp_path / "c.yaml", "--out", tmp_path / "x.gif")


def test_example_data_is_what_its_script_writes():
    spec = importlib.util.spec_from_file_location("make_petals", ROOT / "examples/data/make_petals.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    X, species = module.petals()
    shipped = config.load(ROOT / "configs" / "petals.yaml").data
    p = shipped.field_points()
    assert (ROOT / "examples/data/petals.csv").stat().st_size < 50_000
    np.testing.assert_array_equal(p.X, X)
    np.testing.assert_array_equal(p.values, species)
    assert p.task == "classify" and p.classes == 3


def test_replay_without_the_file_and_a_sweep_sharing_it(tmp_path, capsys):
    X, labels = points()
    sweep = "sweep: {key: model.hidden, values: [[2], [4]]}\n"  # top level: after the data section's keys
    cfg, data = setup(tmp_path, "d.csv", csv_text(X, labels), extra=sweep)
    out = tmp_path / "out" / "run.gif"
    assert main([str(cfg), "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err
    runs = load_history(out.with_name("run.history.npz"))
    assert len(runs.runs) == 2 and all(np.array_equal(h.data_x, runs.runs[0][1].data_x) for _, h in runs.runs)
    data.unlink()  # everything drawn is in the History
    assert main([str(out.with_name("run.history.npz")), "--out", str(tmp_path / "again.png"), "--quiet"]) == 0
    assert (tmp_path / "again.png").stat().st_size > 1000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=CSV_TEXT, columns=st.sampled_from([["x", "y", "x1"], [0, 1, 2], [2, 0, 1], ["x1", "x2", "label"]]),
       task=st.sampled_from([None, "classify", "regress"]))
def test_any_csv_loads_or_is_a_config_error(tmp_path, text, columns, task):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(text.replace("x,y", "x,y,x1").encode("utf-8", "surrogatepass"))
    cfg = config.from_dict({"data": {"file": str(path), "columns": columns, "task": task},
                            "model": {"kind": "mlp"}, "render": {"panels": ["loss"]}})
    try:
        cfg.data.check_file()
    except config.ConfigError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc) or str(exc).startswith("data.test:")
        return
    p = cfg.data.field_points()
    assert p.X.shape == (len(p.values), 2) and len(p.values) >= 4 and np.isfinite(p.X).all()
    assert p.task in ("classify", "regress") and (p.classes is None) == (p.task == "regress")


@pytest.mark.parametrize("name", ["d.csv", "d.npy", "d.npz"])
def test_rows_are_capped_before_the_whole_file_is_read(tmp_path, monkeypatch, name):
    from polyanim import datafile, datafile2d

    monkeypatch.setattr(datafile, "MAX_ROWS", 30)  # the 1-D cap: the readers share it
    datafile2d._cached.cache_clear()
    X, labels = points()
    if name == "d.csv":
        (tmp_path / name).write_text(csv_text(X, labels))
    elif name == "d.npy":
        np.save(tmp_path / name, np.column_stack([X, labels]))
    else:
        np.savez(tmp_path / name, x1=X[:, 0], x2=X[:, 1], label=labels)
    columns = [0, 1, 2] if name == "d.npy" else ["x1", "x2", "label"]
    with pytest.raises(datafile.DataFileError, match="30"):
        datafile2d.read(tmp_path / name, columns)
    monkeypatch.setattr(datafile, "MAX_CSV_BYTES", 100)
    if name == "d.csv":
        with pytest.raises(datafile.DataFileError, match="bytes; .csv data files are limited"):
            datafile2d.read(tmp_path / name, columns)
