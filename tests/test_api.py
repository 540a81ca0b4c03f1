"""The public library: polyanim.render / frames / animation, the Recorder, and the examples."""

import base64
import dataclasses
import io
import re
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from PIL import Image

import polyanim
from polyanim import config
from polyanim.config import ConfigError, Render
from polyanim.recording import planned_steps
from polyanim.style import target_name
from polyanim.train import train

from conftest import ROOT, make_history, make_runset, run_python
from post import post_problem

SMALL = dict(size=(160, 120), hold=0)


def n_frames(path) -> int:
    with Image.open(path) as image:
        return image.n_frames


def rgba(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.array(image.convert("RGBA"))


def test_public_names_are_exactly_the_documented_ones():
    assert sorted(polyanim.__all__) == sorted(["Recorder", "render", "frames", "animation", "show", "batch",
                                               "load", "History", "RunSet", "InputError", "__version__"])
    for name in polyanim.__all__:
        assert getattr(polyanim, name) is not None
    assert issubclass(polyanim.InputError, ValueError)


# --- render -------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["history", "runset", "path"])
def test_render_takes_a_history_a_runset_or_a_path(tmp_path, kind):
    source = {"history": make_history(), "runset": make_runset()}.get(kind)
    if kind == "path":
        source = make_history().save(tmp_path / "h.history.npz")
    out = polyanim.render(source, tmp_path / "sub" / "a.gif", **SMALL)
    assert out == tmp_path / "sub" / "a.gif"
    assert n_frames(out) == len(polyanim.frames(source, **SMALL))


@pytest.mark.parametrize("options, message", [
    (dict(fps=0), "polyanim.render: fps: must be between 0.1 and 120"),
    (dict(fps=-1), "polyanim.render: fps: must be between 0.1 and 120"),
    (dict(theme="blue"), "polyanim.render: theme: must be one of light, dark, transparent, got 'blue'"),
    (dict(size=(10, 10)), "polyanim.render: size: width and height must be between 64 and 7680 pixels"),
    (dict(fsp=20), "polyanim.render: fsp: unknown key; did you mean 'fps'?"),
    (dict(duration=1, hold=2), "polyanim.render: duration: 1 s leaves no time for motion"),
])
def test_bad_options_raise_one_line_and_write_nothing(tmp_path, options, message):
    out = tmp_path / "a.gif"
    out.write_bytes(b"old")
    with pytest.raises(polyanim.InputError) as err:
        polyanim.render(make_history(), out, **options)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)
    assert out.read_bytes() == b"old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.gif"]


def test_bad_sources_and_outputs_are_input_errors(tmp_path):
    with pytest.raises(polyanim.InputError, match="no such history file"):
        polyanim.render(tmp_path / "missing.history.npz", tmp_path / "a.gif")
    with pytest.raises(polyanim.InputError, match="source: expected a History"):
        polyanim.frames([1, 2, 3])
    with pytest.raises(polyanim.InputError, match=r"\.avi"):
        polyanim.render(make_history(), tmp_path / "a.avi")
    with pytest.raises(polyanim.InputError, match="is a folder"):
        polyanim.render(make_history(), tmp_path)


def test_settings_precedence_defaults_then_history_then_options():
    h = make_history()
    assert polyanim.frames(h).fps == Render().fps == 10
    h.meta["config"]["render"] = {**h.meta["config"]["render"], "fps": 20, "theme": "dark"}
    saved = polyanim.frames(h)
    assert saved.fps == 20 and saved.settings.theme == "dark"
    chosen = polyanim.frames(h, fps=5)
    assert chosen.fps == 5 and chosen.settings.theme == "dark"


def test_bad_saved_settings_name_the_history(tmp_path):
    h = make_history()
    h.meta["config"]["render"]["fps"] = 0
    path = h.save(tmp_path / "bad.history.npz")
    with pytest.raises(polyanim.InputError, match=r"bad.history.npz \(meta.config\): render.fps: must be"):
        polyanim.render(path, tmp_path / "a.gif")


def test_a_failed_render_keeps_the_old_file(tmp_path, monkeypatch):
    from polyanim.scene import Scene

    out = tmp_path / "a.mp4"
    out.write_bytes(b"old")
    calls = []

    def broken(self, i):
        calls.append(i)
        if len(calls) > 2:
            raise RuntimeError("boom")
        return original(self, i)

    original = Scene.frame
    monkeypatch.setattr(Scene, "frame", broken)
    with pytest.raises(RuntimeError, match="boom"):
        polyanim.render(make_history(), out, **SMALL)
    assert out.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


@pytest.mark.parametrize("progress", [False, True])
def test_timing_compromises_are_warnings(tmp_path, capsys, progress):
    with pytest.warns(polyanim.api.RenderWarning, match="fps"):
        polyanim.render(make_history(frames=3), tmp_path / "t.gif", fps=30, progress=progress, **SMALL)
    assert "warning" not in capsys.readouterr().err  # a Python warning, not a printed line


def test_replay_through_the_library_imports_neither_torch_nor_pyplot(tmp_path):
    path = make_history().save(tmp_path / "h.history.npz")
    code = ("import sys; sys.modules['torch'] = None\n"
            "import polyanim\n"
            f"polyanim.render({str(path)!r}, {str(tmp_path / 'a.gif')!r}, size=(160, 120))\n"
            f"frames = list(polyanim.frames({str(path)!r}, size=(160, 120)))\n"
            f"anim = polyanim.animation({str(path)!r}, size=(160, 120))\n"
            "assert 'torch' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n"
            "assert 'matplotlib.pyplot' not in sys.modules\n")
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "a.gif").stat().st_size > 0


# --- frames and animation -----------------------------------------------------------------------

def test_frames_are_the_rgba_frames_of_the_video(tmp_path):
    h = make_history(frames=5)
    frames = polyanim.frames(h, size=(160, 120), hold=0.2)
    arrays = list(frames)
    assert len(arrays) == len(frames) == 5 + 2  # five snapshots, then the hold at 10 fps
    assert all(a.shape == (120, 160, 4) and a.dtype == np.uint8 for a in arrays)
    assert not np.array_equal(arrays[0], arrays[4]) and np.array_equal(arrays[4], arrays[6])
    arrays[0][:] = 0  # the caller's own copy: the next iteration draws afresh
    assert np.array_equal(next(iter(frames)), list(frames)[0]) and next(iter(frames)).any()
    png = polyanim.render(h, tmp_path / "last.png", size=(160, 120))
    assert np.array_equal(rgba(png), arrays[-1])


def test_animation_draws_the_same_pictures_as_render():
    h = make_history(frames=4)
    anim = polyanim.animation(h, **SMALL)
    assert type(anim).__name__ == "FuncAnimation"
    html = anim.to_jshtml()
    pngs = re.findall(r'data:image/png;base64,([^"]+)"', html)
    drawn = [np.array(Image.open(io.BytesIO(base64.b64decode(p))).convert("RGBA")) for p in pngs]
    expected = list(polyanim.frames(h, **SMALL))
    assert len(drawn) == len(expected) == 4
    for a, b in zip(drawn, expected):
        assert np.array_equal(a, b)


# --- Render cannot be built invalid -------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [dict(fps=0), dict(fps=-1), dict(theme="blue"), dict(size=(10, 10)),
                                    dict(panels=()), dict(size=(640,)), dict(loop="yes"), dict(trail=99)])
def test_render_settings_check_themselves(kwargs):
    with pytest.raises(ConfigError):
        Render(**kwargs)
    with pytest.raises(ConfigError):
        dataclasses.replace(Render(), **kwargs)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from([f.name for f in dataclasses.fields(Render)]),
                       st.one_of(st.integers(-10, 10_000), st.floats(allow_nan=True), st.text(max_size=8),
                                 st.booleans(), st.none(), st.lists(st.integers(-5, 9000), max_size=3)),
                       max_size=4))
def test_any_render_either_validates_or_raises_config_error(kwargs):
    try:
        r = Render(**kwargs)
    except ConfigError:
        return
    assert 0.1 <= r.fps <= 120 and r.theme in ("light", "dark", "transparent")
    assert len(r.size) == 2 and all(64 <= v <= 7680 for v in r.size) and r.hold >= 0
    assert r == config.render_settings(dataclasses.asdict(r))  # what it holds reads back as itself


# --- Recorder -----------------------------------------------------------------------------------

def test_recorder_keeps_the_schedule_and_calls_pred_only_when_kept():
    x = np.linspace(-1, 1, 20)
    rec = polyanim.Recorder(x, target=np.sin, every=10)
    calls = []

    def pred():
        calls.append(1)
        return np.zeros(20)

    kept = [rec.add(t, loss=1.0 / (t + 1), pred=pred) for t in range(35)]
    assert [t for t, k in enumerate(kept) if k] == [0, 10, 20, 30] and len(calls) == 4
    assert [rec.wants(t) for t in (40, 41)] == [True, False]
    h = rec.history()  # ends on the last step offered (34), its pred read now: one call more
    assert list(h.steps) == [0, 10, 20, 30, 34] and len(calls) == 5
    assert np.allclose(h.y, np.sin(x)) and h.params is None and h.loss[-1] == 1.0 / 35


@pytest.mark.parametrize("train_section", [
    {"steps": 300, "record_every": 40},
    {"steps": 300, "frames": 7},
    {"steps": 300, "record": "log", "frames": 12},
    {"steps": 300, "record": "log", "record_every": 50},
])
def test_recorder_schedules_are_the_config_schedules(train_section):
    t = config.from_dict({"train": train_section}).train
    kw = {"schedule": t.record, "every": t.record_every, "steps": t.steps, "frames": t.frames}
    rec = polyanim.Recorder(np.linspace(0, 1, 5), **kw)
    assert [s for s in range(301) if rec.wants(s)] == planned_steps(t)


def test_recorder_adaptive_and_budget_need_what_they_need():
    with pytest.raises(polyanim.InputError, match="steps: the log schedule needs the number of steps"):
        polyanim.Recorder(np.arange(3.0), schedule="log")
    with pytest.raises(polyanim.InputError, match="every: must be a whole number >= 1"):
        polyanim.Recorder(np.arange(3.0), every=0)
    rec = polyanim.Recorder(np.linspace(0, 1, 10), target=np.ones(10), schedule="adaptive", frames=5,
                            threshold=0.1)
    for t in range(200):
        rec.add(t, loss=1.0, pred=np.full(10, t / 10.0))
    rec.add(200, loss=1.0, pred=np.full(10, 20.0), final=True)
    h = rec.history()
    assert 2 <= len(h) <= 5 and h.steps[0] == 0 and h.steps[-1] == 200


def test_recorder_reads_torch_tensors_with_grad_in_any_shape_and_dtype():
    x = torch.linspace(-1, 1, 30, dtype=torch.float64)
    w = torch.tensor(2.0, requires_grad=True)
    rec = polyanim.Recorder(x, target=torch.sin(x), label="sin(x)", every=1,
                            samples=(x[::3].unsqueeze(1), torch.sin(x[::3]).unsqueeze(1)))
    for t in range(3):
        pred = (w * x).unsqueeze(1)  # a column, with grad
        loss = ((pred.squeeze(1) - torch.sin(x)) ** 2).sum()
        rec.add(t, loss=loss, pred=pred.to(torch.bfloat16), params={"w": w, "pair": torch.ones(2)},
                lr=torch.tensor(0.1))
    h = rec.history()
    assert h.pred.shape == (3, 30) and h.pred.dtype == np.float32
    assert h.meta["param_names"] == ["w", "pair[0]", "pair[1]"] and h.params.shape == (3, 3)
    assert np.allclose(h.lr, 0.1) and h.data_x.shape == (10,)
    assert target_name(h) == "sin(x)"


def test_recorder_marks_divergence_and_rejects_bad_input():
    rec = polyanim.Recorder(np.arange(4.0), every=1)
    assert rec.add(0, loss=3.0, pred=np.zeros(4))
    assert not rec.add(1, loss=float("nan"), pred=np.zeros(4))
    assert not rec.wants(2) and not rec.add(2, loss=1.0, pred=np.zeros(4))
    h = rec.history()
    assert len(h) == 1 and h.meta["stopped"] == {"step": 1, "reason": "loss became nan"}
    rec = polyanim.Recorder(np.arange(4.0), every=1)
    with pytest.raises(polyanim.InputError, match="pred: expected 4 values on the grid x, got shape"):
        rec.add(0, loss=1.0, pred=np.zeros(5))
    with pytest.raises(polyanim.InputError, match="nothing recorded yet"):
        rec.history()
    with pytest.raises(polyanim.InputError, match="target: expected 4 values"):
        polyanim.Recorder(np.arange(4.0), target=np.zeros(3))


def test_recorder_without_a_label_says_target_and_without_a_target_draws_none():
    rec = polyanim.Recorder(np.arange(4.0), target=np.zeros(4), every=1)
    rec.add(0, loss=1.0, pred=np.ones(4))
    assert target_name(rec.history()) is None
    assert target_name(make_history()) == "sin(x)"


def post_loop_recorded(steps: int, every: int):
    """The original post's loop, as a user would write it, recorded with the public Recorder."""
    x, y, model, criterion, optimizer = post_problem()
    rec = polyanim.Recorder(x, target="sin(x)", every=every, steps=steps)
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        rec.add(t, loss=loss, pred=y_pred)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        y_pred = model(x)
        rec.add(steps, loss=criterion(y_pred, y), pred=y_pred, final=True)
    return rec.history()


def test_a_recorded_loop_renders_the_trainers_frames_pixel_for_pixel():
    mine = post_loop_recorded(steps=200, every=40)
    cfg = config.load(ROOT / "configs/seed.yaml", ["train.steps=200", "train.record_every=40"])
    theirs = train(cfg, quiet=True, out=io.StringIO(), err=io.StringIO())
    assert list(mine.steps) == list(theirs.steps)
    options = dict(size=(320, 240), panels=["fit", "loss"], hold=0)
    ours, reference = list(polyanim.frames(mine, **options)), list(polyanim.frames(theirs, **options))
    assert len(ours) == len(reference) == 6
    for a, b in zip(ours, reference):
        assert np.array_equal(a, b)


# --- examples -----------------------------------------------------------------------------------

def test_example_own_loop_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples/own_loop.py"), "--steps", "30", "--out-dir",
                           str(tmp_path), "--size", "160", "120"], capture_output=True, text=True, cwd=tmp_path,
                          env=_env())
    assert proc.returncode == 0, proc.stderr
    for name in ("own_loop.gif", "own_loop.mp4", "own_loop.history.npz"):
        assert (tmp_path / name).stat().st_size > 0
    assert n_frames(tmp_path / "own_loop.gif") >= 7  # 30 steps every 5, plus the final model
    assert polyanim.load(tmp_path / "own_loop.history.npz").meta["param_names"] == ["a", "b", "c", "d"]


def test_example_own_classifier_runs(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples/own_classifier.py"), "--steps", "30", "--points", "60",
                           "--resolution", "16", "--out-dir", str(tmp_path), "--size", "160", "120"],
                          capture_output=True, text=True, cwd=tmp_path, env=_env())
    assert proc.returncode == 0, proc.stderr
    for name in ("own_classifier.gif", "own_classifier.mp4"):
        assert (tmp_path / name).stat().st_size > 0
    h = polyanim.load(tmp_path / "own_classifier.history.npz")
    assert h.kind == "field" and h.meta["classes"] == 2 and h.pred.shape[1:] == (16, 16)
    assert h.steps.tolist() == list(range(31)) and n_frames(tmp_path / "own_classifier.gif") >= 8
    assert h.test_x.shape == (12, 2) and h.data_x.shape == (48, 2) and 0 <= h.acc.min() <= h.acc.max() <= 1


def test_example_from_numpy_runs_without_torch(tmp_path):
    code = ("import runpy, sys; sys.modules['torch'] = None\n"
            f"sys.argv = ['from_numpy.py', '--steps', '40', '--out-dir', {str(tmp_path)!r}, '--size', '160', '120']\n"
            f"runpy.run_path({str(ROOT / 'examples/from_numpy.py')!r}, run_name='__main__')\n")
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert n_frames(tmp_path / "from_numpy.gif") >= 5
    assert (tmp_path / "from_numpy.mp4").stat().st_size > 0


def _env():
    import os

    return dict(os.environ, PYTHONPATH=str(ROOT))


def test_render_takes_a_list_and_writes_each_as_alone(tmp_path):
    h = make_history(frames=4)
    outs = polyanim.render(h, [tmp_path / "a.gif", tmp_path / "a.png", tmp_path / "a.html"], **SMALL)
    assert outs == [tmp_path / "a.gif", tmp_path / "a.png", tmp_path / "a.html"]
    alone = polyanim.render(h, tmp_path / "b.gif", **SMALL)
    assert alone.read_bytes() == outs[0].read_bytes()
    with pytest.raises(polyanim.InputError, match="given twice"):
        polyanim.render(h, [tmp_path / "c.gif", tmp_path / "c.gif"])


def test_animation_plays_as_html5_video_with_the_bundled_ffmpeg():
    import matplotlib

    with matplotlib.rc_context():
        video = polyanim.animation(make_history(frames=3), **SMALL).to_html5_video()
    assert video.startswith("<video") and "base64" in video
