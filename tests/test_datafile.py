"""data.file: fitting your own points from a CSV, .npy or .npz file."""

import importlib.util
import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from polyanim import config
from polyanim.cli import main
from polyanim.config import ConfigError
from polyanim.history import load as load_history
from polyanim.scene import Scene

from conftest import ROOT
from test_html import browser, open_page  # noqa: F401 (browser is a fixture)

TINY = "seed: 0\nmodel: {{degree: 1}}\ntrain: {{steps: 3, record_every: 1, lr: 1.0e-3, log_every: 0}}\n" \
       "render: {{size: [160, 120], fps: 10, hold: 0.2}}\ndata:\n  file: {file}\n  points: 50\n{extra}"


def setup(tmp_path, name, content, extra=""):
    """A data file ``name`` with ``content`` (text or bytes) and a config next to it that points to it."""
    data = tmp_path / name
    if isinstance(content, bytes):
        data.write_bytes(content)
    else:
        data.write_text(content)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY.format(file=name, extra=extra))
    return cfg, data


def csv_points(n=20, header=True):
    x = np.linspace(0.5, 4.0, n)
    y = np.cos(x)
    return ("x,y\n" if header else "") + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)), x, y


def cli_error(capsys, *argv):
    code = main([*map(str, argv), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("polyanim: error: ") and "Traceback" not in err
    return err.strip()


# --- bad files: exit 2, one line, the file and the row/column named, before any training ----------------


@pytest.mark.parametrize("name, content, fragments", [
    ("d.csv", "x,y\n1,2\n3,abc\n", ["row 3, column 2", "expected a number", "'abc'"]),
    ("d.csv", "x,y\n1,2\n,4\n", ["row 3, column 1", "expected a number", "''"]),
    ("d.csv", "x,y\n1,2\n2,nan\n3,4\n", ["row 3", "y is nan", "finite"]),
    ("d.csv", "1,2\n2,3\ninf,4\n", ["row 3", "x is inf"]),
    ("d.csv", "x,y\n1,2\n", ["1 data row(s)", "at least 2"]),
    ("d.csv", "x,y\n", ["0 data row(s)", "at least 2"]),
    ("d.csv", "x,y\n1,2\n2,3,4\n5,6\n", ["row 3", "expected 2 columns (x,y), got 3"]),
    ("d.csv", "x,y\n1,2\n2\n", ["row 3", "expected 2 columns (x,y), got 1"]),
    ("d.csv", "", ["empty file"]),
    ("d.csv", "\n\n  \n", ["empty file"]),
    ("d.csv", "time,volts\n1,2\n2,3\n", ["row 1", "header must be x,y", "'time,volts'"]),
    ("d.csv", "x,y\n2,1\n2,3\n", ["every x is 2", "two different x values"]),
    ("d.csv", b"x,y\n1,2\n\xff\xfe,3\n", ["not UTF-8 text"]),
    ("d.npy", None, ["expected shape [N, 2]", "[3, 3]"]),
    ("d.npz", None, ["expected arrays x and y", "found a, b"]),
])
def test_bad_file_is_one_line_and_exit_2(tmp_path, capsys, name, content, fragments):
    path = tmp_path / name
    if name == "d.npy":
        np.save(path, np.ones((3, 3)))
    elif name == "d.npz":
        np.savez(path, a=np.ones(3), b=np.ones(3))
    cfg, data = setup(tmp_path, name, content if content is not None else path.read_bytes())
    err = cli_error(capsys, cfg, "--out", tmp_path / "out" / "run.gif")
    assert f"{cfg}: data.file: {data}: " in err  # the config, the key and the data file
    for fragment in fragments:
        assert fragment in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())  # nothing trained or written


@pytest.mark.parametrize("make, fragments", [
    (lambda p: np.save(p, np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 0.0]])), ["row 1 (counting from 0)", "y is nan"]),
    (lambda p: np.save(p, np.array([[0.0, 1.0]])), ["1 data row(s)"]),
    (lambda p: np.save(p, np.array(["a", "b"])), ["holds <U1 values", "real numbers"]),
    (lambda p: np.save(p, np.array([{"x": 1}], dtype=object)), ["not a .npy array numpy can read without pickle"]),
    (lambda p: p.write_bytes(b"not numpy at all"), ["not a .npy array"]),
])
def test_bad_npy(tmp_path, capsys, make, fragments):
    make(tmp_path / "d.npy")
    cfg, _ = setup(tmp_path, "d.npy", (tmp_path / "d.npy").read_bytes())
    err = cli_error(capsys, cfg, "--out", tmp_path / "run.gif")
    assert str(tmp_path / "d.npy") in err
    for fragment in fragments:
        assert fragment in err


@pytest.mark.parametrize("arrays, fragments", [
    ({"x": np.arange(3.0), "y": np.arange(4.0)}, ["same length", "[3] and [4]"]),
    ({"x": np.ones((2, 2)), "y": np.ones(4)}, ["1-D arrays"]),
    ({"x": np.arange(3.0), "y": np.array([0, np.inf, 1])}, ["index 1", "y is inf"]),
    ({"x": np.arange(3.0)}, ["expected arrays x and y, found x"]),
])
def test_bad_npz(tmp_path, capsys, arrays, fragments):
    np.savez(tmp_path / "d.npz", **arrays)
    cfg, _ = setup(tmp_path, "d.npz", (tmp_path / "d.npz").read_bytes())
    err = cli_error(capsys, cfg, "--out", tmp_path / "run.gif")
    for fragment in [str(tmp_path / "d.npz"), *fragments]:
        assert fragment in err


def test_missing_file_names_the_resolved_path(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(TINY.format(file="nowhere/d.csv", extra=""))
    err = cli_error(capsys, cfg)
    assert f"data.file: {tmp_path / 'nowhere' / 'd.csv'}: no such file" in err


@pytest.mark.parametrize("extra, fragments", [
    ("  noise: 0.1\n", ["data.noise: does not apply with data.file", "remove data.noise"]),
    ("  samples: 10\n", ["data.samples: does not apply with data.file"]),
    ("  sampling: uniform\n", ["data.sampling: does not apply with data.file"]),
    ("  train_domain: [0, 9]\n", ["data.train_domain: must lie inside the x range of data.file [0.5, 4]"]),
    ("  train_domain: [0.55, 0.6]\n", ["data.train_domain: holds 0 of the 20 points of data.file"]),
    ("  target: log(x - 1)\n", ["data.target: 'log(x - 1)' is not finite on the domain"]),
])
def test_keys_that_conflict_with_a_file(tmp_path, capsys, extra, fragments):
    cfg, _ = setup(tmp_path, "d.csv", csv_points()[0], extra)
    err = cli_error(capsys, cfg)
    for fragment in fragments:
        assert fragment in err


def test_unsupported_suffix(tmp_path, capsys):
    cfg, _ = setup(tmp_path, "d.txt", "1,2\n3,4\n")
    assert f"data.file: must name a .csv, .npy or .npz file, got '{tmp_path / 'd.txt'}'" in cli_error(capsys, cfg)


# --- formats --------------------------------------------------------------------------------------------


def test_formats_read_the_same_points(tmp_path):
    text, x, y = csv_points()
    flipped = "y,x\n" + "".join(f"{float(b)!r},{float(a)!r}\n" for a, b in zip(x, y))
    np.save(tmp_path / "d.npy", np.stack([x, y], axis=1))
    np.savez(tmp_path / "d.npz", x=x, y=y.astype(np.float32).astype(np.float64), extra=np.zeros(2))
    cases = {"h.csv": text, "n.csv": csv_points(header=False)[0], "f.csv": flipped,
             "crlf.csv": text.replace("\n", "\r\n") + "\r\n\r\n", "d.npy": None, "d.npz": None}
    for name, content in cases.items():
        if content is not None:
            (tmp_path / name).write_text(content, newline="")
        data = config.from_dict({"data": {"file": str(tmp_path / name)}}).data
        px, py = data.points_xy()
        np.testing.assert_allclose(px, x, rtol=0, atol=0)
        np.testing.assert_allclose(py, y, rtol=1e-7 if name == "d.npz" else 0, atol=0)


def test_relative_path_resolves_against_the_config_folder(tmp_path, monkeypatch):
    sub = tmp_path / "project" / "configs"
    sub.mkdir(parents=True)
    (tmp_path / "project" / "d.csv").write_text(csv_points()[0])
    (sub / "c.yaml").write_text(TINY.format(file="../d.csv", extra=""))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    c = config.load(sub / "c.yaml")
    assert c.data.file == str(tmp_path / "project" / "d.csv")  # resolved: the saved config works from anywhere
    assert c.to_dict()["data"]["file"] == c.data.file
    # on the command line a relative path is relative to where you are
    (elsewhere / "e.csv").write_text(csv_points(5)[0])
    assert config.load(sub / "c.yaml", ["data.file=e.csv"]).data.file == str(elsewhere / "e.csv")


def test_defaults_without_a_file_are_unchanged_and_a_file_decides_them():
    plain = config.from_dict({})
    assert plain.data.target == "sin(x)" and plain.data.domain == (-math.pi, math.pi)
    assert config.from_dict(plain.to_dict()) == plain
    data = str(ROOT / "examples" / "data" / "measurements.csv")
    # a target and domain left out stay "not given" through --set, so the file's range is used, no target drawn
    d = config.from_dict({"name": "x"}, overrides=[f"data.file={data}"]).data
    assert d.target is None and d.domain is None and d.span() == pytest.approx((0.0028, 6.0))
    given = config.from_dict({"data": {"target": "cos(x)"}}, overrides=[f"data.file={data}"]).data
    assert given.target == "cos(x)"
    assert config.from_dict({"data": {"file": data}}, overrides=["data.file=null"]).data.target == "sin(x)"
    assert config.from_dict({}, overrides=["data.target=2"]).data.target == "2"  # still text through --set


# --- training and drawing -------------------------------------------------------------------------------


def train_file(tmp_path, extra="", points=20):
    from polyanim.train import train

    cfg, _ = setup(tmp_path, "d.csv", csv_points(points)[0], extra)
    return train(config.load(cfg), quiet=True)


def test_grid_spans_the_data_or_data_domain(tmp_path):
    text, x, y = csv_points()
    h = train_file(tmp_path)
    assert (h.x[0], h.x[-1], len(h.x)) == (pytest.approx(0.5), pytest.approx(4.0), 50)
    np.testing.assert_array_equal(h.data_x, x.astype(np.float32))  # the samples are the file's, float32
    np.testing.assert_array_equal(h.data_y, y.astype(np.float32))
    assert np.isnan(h.y).all() and h.y.shape == h.x.shape  # no target: an all-NaN curve, shape kept
    # the loss is against the file's y: recompute it from the first snapshot's coefficients
    c0, c1 = h.params[0]
    assert h.loss[0] == pytest.approx(((c0 + c1 * h.data_x - h.data_y) ** 2).sum(), rel=1e-5)
    wide = train_file(tmp_path, "  domain: [-1, 6]\n")
    assert (wide.x[0], wide.x[-1]) == (-1.0, pytest.approx(6.0))
    np.testing.assert_array_equal(wide.data_x, h.data_x)


def test_train_domain_selects_a_subset_of_the_points(tmp_path):
    h = train_file(tmp_path, "  train_domain: [1, 3]\n")
    assert h.data_x.min() >= 1 and h.data_x.max() <= 3 and 0 < len(h.data_x) < 20
    assert (h.x[0], h.x[-1]) == (pytest.approx(0.5), pytest.approx(4.0))


def fit_axes_content(h):
    r = config.from_dict({"render": {"size": [320, 240], "hold": 0.2}}).render
    scene = Scene(h, r)
    scene.frame(len(h) - 1)
    ax = scene.axes["fit"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    lines = {line.get_label(): line for line in ax.get_lines()}
    return scene, ax, legend, lines


def test_points_are_the_target_unless_data_target_is_given(tmp_path):
    h = train_file(tmp_path)
    scene, ax, legend, lines = fit_axes_content(h)
    assert legend == ["data (20 points)", "prediction"]
    assert not [name for name in lines if name.startswith("target")]
    (points,) = ax.collections
    np.testing.assert_allclose(points.get_offsets(), np.stack([h.data_x, h.data_y], axis=1))
    lo, hi = ax.get_ylim()  # from the points and predictions, not a [-1, 1] fallback for a missing target
    assert lo < h.data_y.min() and hi > h.data_y.max() and hi - lo < 10 * np.ptp(h.data_y)
    # the points are drawn in the target's blue (the prediction and the loss panel have none)
    points_only = blue_pixels(scene.frame(len(h) - 1))
    assert points_only > 10

    (tmp_path / "t").mkdir()
    with_target = train_file(tmp_path / "t", "  target: cos(x)\n")
    scene, ax, legend, lines = fit_axes_content(with_target)
    assert legend == ["data (20 points)", "target: cos(x)", "prediction"]
    np.testing.assert_allclose(lines["target: cos(x)"].get_ydata(), np.cos(with_target.x))
    # on pixels: a blue curve across the panel (the points are grey now), far more blue than 20 dots
    assert blue_pixels(scene.frame(len(with_target) - 1)) > 5 * points_only


def blue_pixels(frame) -> int:
    r, g, b = np.asarray(frame)[..., :3].reshape(-1, 3).astype(int).T
    return int(np.count_nonzero((b > r + 60) & (b > g + 20)))


def test_html_player_draws_the_points_and_no_target(tmp_path):
    from polyanim.html import write_html

    h = train_file(tmp_path)
    write_html(h, tmp_path / "p.html", title="", fps=10, size=(320, 240))
    blob = re.search(r'id="polyanim-data">(.*?)</script>', (tmp_path / "p.html").read_text(), re.S).group(1)
    data = json.loads(blob)
    fit = next(p for p in data["panels"] if p["name"] == "fit")
    kinds = [it["type"] for it in fit["draw"]]
    (points,) = [it for it in fit["draw"] if it["type"] == "points"]
    assert [it for it in fit["draw"] if it["type"] == "lines" and "whole" in it] == []  # no target line
    assert kinds.count("lines") == 1 and points["color"] == "#1f77b4"  # the points in the target's colour
    assert len(points["y"]["b64"]) == 40  # 20 points: 10 pairs of 12-bit codes in 3 bytes, base64
    assert fit["legend"]["items"][0] == {"color": "#1f77b4", "dot": True, "text": "data (20 points)"}
    assert fit["axes"]["ylim"][0] < h.data_y.min() and fit["axes"]["ylim"][1] > h.data_y.max()


def test_adaptive_recording_scales_by_the_points_without_a_target(tmp_path):
    from polyanim.train import train

    cfg, _ = setup(tmp_path, "d.csv", csv_points()[0])
    c = config.load(cfg, ["train.record=adaptive", "train.steps=40", "train.lr=0.01"])
    h = train(c, quiet=True)
    assert 2 < len(h) <= 41 and np.isfinite(h.pred).all()


def test_replay_without_the_data_file(tmp_path, capsys):
    cfg, data = setup(tmp_path, "d.csv", csv_points()[0])
    assert main([str(cfg), "--out", str(tmp_path / "run.gif"), "--quiet"]) == 0
    data.unlink()
    hist = tmp_path / "run.history.npz"
    assert load_history(hist).config["data"]["file"] == str(data)
    capsys.readouterr()
    for out in ("again.png", "again.html"):
        assert main([str(hist), "--out", str(tmp_path / out), "--quiet"]) == 0, capsys.readouterr().err
        assert (tmp_path / out).stat().st_size > 0
    # retraining needs the file, and says so
    assert f"data.file: {data}: no such file" in cli_error(capsys, cfg)


# --- anything in a CSV either loads or is a ConfigError --------------------------------------------------

CSV_TEXT = st.lists(st.one_of(
    st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.sampled_from(["x", "y", "", " 1 ", "1e999", "-0", "nan", "0x1", "1_0", "\"3\"", "'4'",
                                        "a\"b", "\x00", "é", "1;2", "\t"]),
                       st.text(max_size=4)), min_size=0, max_size=4).map(",".join),
    st.sampled_from(["x,y", "y,x", "X, Y", "", "\r", "\"1,2\",3"])), max_size=8).map("\n".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=CSV_TEXT, raw=st.binary(max_size=40), use_raw=st.booleans())
def test_any_csv_loads_or_is_a_config_error(tmp_path, text, raw, use_raw):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(raw if use_raw else text.encode("utf-8", "surrogatepass"))
    cfg = config.from_dict({"data": {"file": str(path), "points": 10}})
    try:
        cfg.data.check_file()
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    x, y = cfg.data.points_xy()
    assert len(x) == len(y) >= 2 and np.isfinite(x).all() and np.isfinite(y).all() and np.ptp(x) > 0


# --- the shipped example ----------------------------------------------------------------------------------


def test_example_data_is_what_its_script_writes():
    spec = importlib.util.spec_from_file_location("make_measurements", ROOT / "examples/data/make_measurements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, y = module.measurements()
    shipped = config.from_dict({"data": {"file": str(ROOT / "examples/data/measurements.csv")}}).data
    px, py = shipped.points_xy()
    assert 200 <= len(px) <= 500
    np.testing.assert_array_equal(px, x)
    np.testing.assert_array_equal(py, y)


def test_example_config_fits_its_points():
    from polyanim.train import train

    c = config.load(ROOT / "configs" / "measurements.yaml", ["render.size=[160,120]"])
    assert c.data.file == str(ROOT / "examples" / "data" / "measurements.csv") and c.data.target is None
    h = train(c, quiet=True)
    # the points scatter by their noise (std 0.06) around the curve: the fit ends within 10% of that variance
    assert h.loss[-1] < 1.1 * 0.06**2 and h.loss[0] > 100 * h.loss[-1]
    assert not h.meta["warnings"] and not h.meta["stopped"]


def test_runs_share_the_points_and_the_missing_target(tmp_path, capsys):
    cfg, _ = setup(tmp_path, "d.csv", csv_points()[0], "sweep: {key: model.degree, values: [1, 2]}\n")
    assert main([str(cfg), "--out", str(tmp_path / "runs.png"), "--quiet", "--set", "train.workers=1"]) == 0, \
        capsys.readouterr().err
    runs = load_history(tmp_path / "runs.history.npz")
    assert [label for label, _ in runs.runs] == ["degree=1", "degree=2"]
    assert np.isnan(runs.y).all() and len(runs.data_x) == 20


def test_html_player_shows_the_points_in_a_browser(tmp_path, browser):
    from polyanim.html import write_html

    h = train_file(tmp_path)
    write_html(h, tmp_path / "p.html", title="", fps=10, size=(320, 240))
    page, errors = open_page(browser, tmp_path / "p.html")
    rgba = np.array(page.evaluate("Array.from(document.getElementById('plot').getContext('2d')"
                                  ".getImageData(0, 0, 320, 240).data)")).reshape(-1, 4)
    assert not errors
    r, g, b = rgba[:, 0], rgba[:, 1], rgba[:, 2]
    assert np.count_nonzero((b > r + 60) & (b > g + 20)) > 10  # the points, in the target's blue: nothing else is
