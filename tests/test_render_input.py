"""render / frames / animation with hostile options, odd outputs and huge losses; one-line reprs.

Issue 16, items 6, 7, 9, 21 and 22: a bad option is one line naming it, refused
before anything is drawn; any finite loss draws; a History prints as one line.
"""

import time

import numpy as np
import pytest
from PIL import Image

import polyanim
from polyanim.history import History, RunSet
from polyanim.style import value_limits

from conftest import ROOT, make_history, make_runset


def refused(name: str, call, *args, **kwargs) -> str:
    """Run ``call``; it must raise InputError with a one-line message naming ``name``."""
    with pytest.raises(polyanim.InputError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and name in message, message
    return message


def recorded(losses, points=30) -> History:
    x = np.linspace(-2, 2, points)
    rec = polyanim.Recorder(x, target="sin(x)", every=1)
    for step, loss in enumerate(losses):
        rec.add(step, loss=loss, pred=np.sin(x) * step / max(len(losses) - 1, 1))
    return rec.history()


# --- item 6: options that would eat the machine, outputs that are not paths ---------------------

@pytest.mark.parametrize("option", [{"dpi": 1e5}, {"dpi": 0.001}, {"hold_start": 1e12}, {"hold": 1e12},
                                    {"duration": "1e12s"}, {"duration": 1e5}])
def test_runaway_render_options_are_one_line_before_any_drawing(tmp_path, option):
    h = make_history(frames=3, points=20)
    (key,) = option
    started = time.perf_counter()
    refused(f"{key}:", polyanim.render, h, tmp_path / "run.gif", **option)
    refused(f"{key}:", polyanim.frames, h, **option)
    assert time.perf_counter() - started < 5 and not list(tmp_path.iterdir())


def test_the_bounds_leave_ordinary_settings_alone(tmp_path):
    h = make_history(frames=3, points=20)
    frames = polyanim.frames(h, size=(80, 64), dpi=1000, hold=0, hold_start=0.5, fps=4)
    assert len(frames) == 3 + 2  # 3 snapshots, 0.5 s at 4 fps before them
    assert polyanim.render(h, tmp_path / "a.gif", size=(80, 64), duration="600s").stat().st_size > 0


@pytest.mark.parametrize("out", [None, 123, b"x.png", [None], ["ok.gif", 4.5]])
def test_an_output_that_is_not_a_path_is_one_line_naming_out(out):
    assert "got" in refused("out:", polyanim.render, make_history(frames=2, points=20), out)


def emptied(h: History) -> History:
    """``h`` with its snapshots removed after construction (History() itself refuses no snapshots)."""
    h.steps, h.loss, h.pred, h.params = h.steps[:0], h.loss[:0], h.pred[:0], None
    return h


@pytest.mark.parametrize("call", [polyanim.frames, polyanim.animation,
                                  lambda source: polyanim.render(source, "never.gif")])
def test_an_empty_history_or_runset_is_one_line(call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    refused("source:", call, emptied(make_history(frames=2, points=20)))
    runs = make_runset(frames=(2, 3), labels=("a", "b"), points=20)
    emptied(runs.histories[1])
    refused("source:", call, runs)
    assert not list(tmp_path.iterdir())


# --- item 9: a History whose name is not a file name, replayed without --out ----------------------

@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a\0b", ".."])
def test_a_history_named_like_a_path_is_exit_2_naming_name_when_replayed_without_out(tmp_path, capsys, name):
    from polyanim.cli import main

    h = make_history(frames=2, points=20)
    h.meta["config"] = dict(h.meta.get("config") or {}, name=name)
    h.save(tmp_path / "h.history.npz")
    assert main([str(tmp_path / "h.history.npz"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "h.history.npz: name: " in err and "give --out" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.history.npz"]
    assert main([str(tmp_path / "h.history.npz"), "--quiet", "--out", str(tmp_path / "ok.png")]) == 0


def test_an_empty_or_mismatched_runset_is_an_input_error():
    with pytest.raises(polyanim.InputError, match="runs: expected at least one"):
        RunSet([])
    with pytest.raises(polyanim.InputError, match="labels must differ"):
        RunSet([("a", make_history()), ("a", make_history())])


# --- item 7: huge finite losses ------------------------------------------------------------------

def test_a_loss_blowing_up_to_1e296_then_inf_renders_a_sane_png(tmp_path):
    h = recorded([1.0, 1e10, 1e200, 1.7e296, float("inf")])
    assert h.meta["stopped"]["step"] == 4 and h.loss[-1] == 1.7e296
    out = polyanim.render(h, tmp_path / "huge.png", size=(320, 240), panels=["fit", "loss"])
    image = np.asarray(Image.open(out).convert("RGB"))
    assert image.shape == (240, 320, 3)
    loss_panel = image[170:225, 40:310]  # below the fit panel: the loss curve climbs out through its top
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 20  # text, curves, ticks: not a blank frame
    orange = (loss_panel[..., 0] > 200) & (loss_panel[..., 1] > 100) & (loss_panel[..., 1] < 180) \
        & (loss_panel[..., 2] < 100)
    assert orange.sum() > 20


@pytest.mark.parametrize("losses", [[1.0, 1.7e308], [1e-320, 1.0], [-1.7e308, 1.7e308, 0.0], [1e305, 1e306]])
def test_any_finite_losses_draw(losses):
    frames = list(polyanim.frames(recorded(losses), size=(96, 72), panels=["fit", "loss"], hold=0))
    assert len(frames) == len(losses) and not np.array_equal(frames[0], frames[-1])


@pytest.mark.parametrize("values, log", [([1.0, 1e10, 1e200, 1.7e296], True), ([1e305, 1.7e308], True),
                                         ([1e-320, 1e-300], True), ([-1.7e308, 1.7e308], False),
                                         ([0.2, 0.5], True), ([-3.0, 2.0], False)])
def test_value_limits_are_finite_ordered_and_hold_what_can_be_shown(values, log):
    lo, hi = value_limits(np.array(values), log)
    assert np.isfinite([lo, hi]).all() and lo < hi and (lo > 0 or not log)
    shown = [v for v in values if 1e-100 <= abs(v) <= 1e100]
    assert all(lo < v < hi for v in shown)


# --- item 21: the frame limit names what a Recorder's History is recorded with --------------------

def test_the_frame_limit_names_the_recorders_arguments_for_a_recorder_history(tmp_path):
    h = recorded([1.0] * 1300, points=4)  # 1,300 snapshots x 17 with interpolate 16: over 20,000 frames
    for call in (lambda: polyanim.frames(h, interpolate=16),
                 lambda: polyanim.animation(h, interpolate=16),
                 lambda: polyanim.render(h, tmp_path / "long.gif", interpolate=16)):
        message = refused("every=", call)
        assert "render.duration" in message and "frames=" in message and "train.record_every" not in message
    assert not list(tmp_path.iterdir())


def test_the_frame_limit_still_names_train_keys_for_a_trained_history():
    h = make_history(frames=1300, points=4, params=False)
    message = refused("train.record_every", polyanim.frames, h, interpolate=16)
    assert "Recorder" not in message


def test_the_readme_says_what_samples_and_final_take():
    row = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
               if line.startswith("| `Recorder("))
    assert "samples=(xs, ys)" in row and "final=True" in row and "last step" in row
    doc = polyanim.Recorder.__doc__ + polyanim.Recorder.add.__doc__ + polyanim.Recorder.history.__doc__
    assert "samples=(xs, ys)" in doc and "final=True" in doc and "history()" in doc


# --- item 22: one-line reprs ---------------------------------------------------------------------

def test_a_history_and_a_runset_print_as_one_short_line():
    h = make_history(frames=6, points=200)
    text = repr(h)
    assert "\n" not in text and len(text) < 200, text
    for part in ("1 run", "6 snapshots", "steps 0-50", "200 grid points", f"final loss {h.loss[-1]:.4g}"):
        assert part in text, text
    runs = make_runset()
    text = repr(runs)
    assert "\n" not in text and len(text) < 300, text
    for part in ("3 runs", "'SGD'", "3-11 snapshots", "200 grid points"):
        assert part in text, text
    assert repr(RunSet([("a\nb", h)])).count("\n") == 0
