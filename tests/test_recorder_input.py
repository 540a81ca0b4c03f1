"""The Recorder with the inputs a real loop hands it: x in any order, odd steps, complex numbers, the last step.

Issue 16, items 1, 2, 3 and 5: each bad input is one line naming the argument;
each good one draws what the loop did.
"""

import math

import numpy as np
import pytest

import polyanim


def refused(name: str, call, *args, **kwargs) -> str:
    """Run ``call``; it must raise InputError with a one-line message naming ``name``."""
    with pytest.raises(polyanim.InputError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and f"{name}:" in message, message
    return message


# --- item 1: x in any order ----------------------------------------------------------------------

def test_unsorted_x_is_drawn_over_the_sorted_grid_with_target_and_every_pred_carried_along():
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, 40)  # the training points, as they come
    rec = polyanim.Recorder(x, target=np.sin(x), every=1)
    for t in range(3):
        rec.add(t, loss=1.0 / (t + 1), pred=(t + 1) * x)  # an array in x's order
    rec.add(3, loss=0.1, pred=lambda: 4 * x, final=True)  # a function, in x's order too
    h = rec.history()
    assert (np.diff(h.x) > 0).all() and np.array_equal(h.x, np.sort(x))
    assert np.allclose(h.y, np.sin(h.x))
    for t in range(4):
        assert np.allclose(h.pred[t], (t + 1) * h.x)


def test_the_issues_reversed_x_gives_the_whole_axis():
    x = np.array([3.0, -3.0, 0.0, 1.0, -1.0])
    rec = polyanim.Recorder(x, target="x**2", every=1)
    rec.add(0, loss=1.0, pred=2 * x)
    h = rec.history()
    assert list(h.x) == [-3.0, -1.0, 0.0, 1.0, 3.0] and np.allclose(h.y, h.x ** 2) and np.allclose(h.pred[0], 2 * h.x)


def test_duplicated_x_is_kept_in_a_stable_order_so_the_curve_steps_at_the_repeat():
    x = np.array([2.0, 1.0, 0.0, 1.0])  # 1.0 twice: first with pred 10, then with pred 30
    rec = polyanim.Recorder(x, target=np.array([4.0, 1.0, 0.0, 1.5]), every=1)
    rec.add(0, loss=1.0, pred=np.array([20.0, 10.0, 0.0, 30.0]))
    h = rec.history()
    assert list(h.x) == [0.0, 1.0, 1.0, 2.0]
    assert list(h.pred[0]) == [0.0, 10.0, 30.0, 20.0] and list(h.y) == [0.0, 1.0, 1.5, 4.0]


def test_sorted_x_is_kept_as_given():
    x = np.linspace(-1, 1, 7)
    rec = polyanim.Recorder(x, every=1)
    assert rec.order is None and np.array_equal(rec.x, x)


@pytest.mark.parametrize("x", [np.ones(5), [2.0, 2.0]])
def test_x_without_extent_is_refused(x):
    assert "all equal" in refused("x", polyanim.Recorder, x)


def test_a_sorted_grid_renders_unsorted_input_like_the_same_run_given_sorted():
    rng = np.random.default_rng(1)
    x = np.linspace(-2, 2, 30)
    shuffle = rng.permutation(30)
    made = []
    for grid in (x, x[shuffle]):
        rec = polyanim.Recorder(grid, target=np.sin(grid), every=1)
        for t in range(2):
            rec.add(t, loss=1.0 + t, pred=np.cos(grid) * t)
        made.append(rec.history())
    options = dict(size=(160, 120), hold=0, panels=["fit"])
    for a, b in zip(polyanim.frames(made[0], **options), polyanim.frames(made[1], **options)):
        assert np.array_equal(a, b)


# --- item 2: complex numbers ---------------------------------------------------------------------

@pytest.mark.parametrize("where", ["pred", "loss", "params", "lr"])
def test_complex_values_given_to_add_are_refused(where):
    x = np.linspace(0, 1, 4)
    values = {"loss": 1.0, "pred": x, "params": [1.0, 2.0], "lr": 0.1}
    values[where] = np.asarray(values[where]) * (1 + 1j)
    if where == "loss":
        values[where] = values[where].item()
    rec = polyanim.Recorder(x, every=1)
    assert "complex" in refused(where, rec.add, 0, **values)


@pytest.mark.parametrize("where", ["x", "target", "samples[1]"])
def test_complex_arrays_given_to_the_recorder_are_refused(where):
    x = np.linspace(0, 1, 4)
    args = {"x": x, "target": np.sin(x), "samples": (x, np.cos(x))}
    if where == "samples[1]":
        args["samples"] = (x, np.cos(x) * 1j)
    else:
        args[where] = args[where] + 1j
    assert "complex" in refused(where, polyanim.Recorder, args.pop("x"), **args)


# --- item 3: the last step added is the last frame -----------------------------------------------

def test_a_1000_step_loop_every_25_ends_on_step_999_evaluating_pred_once_more():
    x = np.linspace(-1, 1, 10)
    rec = polyanim.Recorder(x, every=25)
    calls = []

    def pred():
        calls.append(1)
        return np.full(10, float(len(calls)))

    for step in range(1000):
        rec.add(step, loss=1.0 / (step + 1), pred=pred)
    assert len(calls) == 40  # 0, 25, ..., 975: the schedule's steps only
    h = rec.history()
    assert h.steps[-2] == 975 and h.steps[-1] == 999 and h.loss[-1] == pytest.approx(1e-3)
    assert len(calls) == 41 and len(rec.snapshots) == 40  # read once, by history(), and not kept
    assert list(rec.history().steps) == list(h.steps)  # history() changes nothing


def test_final_true_still_ends_on_its_own_step():
    rec = polyanim.Recorder(np.linspace(0, 1, 4), every=25)
    for step in range(100):
        rec.add(step, loss=1.0, pred=np.zeros(4))
    assert rec.add(100, loss=0.5, pred=np.ones(4), final=True)
    h = rec.history()
    assert list(h.steps) == [0, 25, 50, 75, 100] and h.pred[-1][0] == 1.0
    assert not rec.add(101, loss=1.0, pred=np.zeros(4))  # closed: ignored, but a bad step is still a bug
    refused("step", rec.add, "102", loss=1.0, pred=np.zeros(4))


def test_a_history_taken_mid_loop_shows_the_latest_step_and_later_steps_go_on():
    rec = polyanim.Recorder(np.linspace(0, 1, 4), every=10)
    for step in range(15):
        rec.add(step, loss=1.0, pred=np.full(4, float(step)))
    preview = rec.history()
    assert list(preview.steps) == [0, 10, 14] and preview.pred[-1][0] == 14.0
    for step in range(15, 21):
        rec.add(step, loss=1.0, pred=np.full(4, float(step)))
    assert list(rec.history().steps) == [0, 10, 20]


def test_the_latest_step_is_dropped_after_a_stop_and_marks_a_non_finite_loss():
    rec = polyanim.Recorder(np.linspace(0, 1, 4), every=10)
    for step in range(8):
        rec.add(step, loss=1.0, pred=np.zeros(4))
    rec.stop(5, "cut short")
    h = rec.history()
    assert list(h.steps) == [0] and h.meta["stopped"] == {"step": 5, "reason": "cut short"}
    rec = polyanim.Recorder(np.linspace(0, 1, 4), every=10)
    for step in range(8):
        rec.add(step, loss=1.0 if step < 6 else math.inf, pred=np.zeros(4))
    h = rec.history()
    assert list(h.steps) == [0] and h.meta["stopped"] == {"step": 7, "reason": "loss became inf"}


def test_adaptive_ends_on_the_latest_prediction_it_already_read():
    rec = polyanim.Recorder(np.linspace(0, 1, 4), target=np.ones(4), schedule="adaptive", threshold=0.5)
    calls = []

    def pred(value):
        calls.append(value)
        return np.full(4, value)

    for step in range(6):
        rec.add(step, loss=1.0, pred=lambda: pred(0.01 * step))
    h = rec.history()
    assert list(h.steps) == [0, 5] and h.pred[-1][0] == pytest.approx(0.05) and len(calls) == 6


# --- item 5: steps --------------------------------------------------------------------------------

@pytest.mark.parametrize("step", ["3", None, -1, 2 ** 70, 2.5, float("nan"), math.inf, True, np.float32(1.5)])
def test_a_bad_step_is_one_line_naming_step(step):
    rec = polyanim.Recorder(np.linspace(0, 1, 4), every=1)
    refused("step", rec.add, step, loss=1.0, pred=np.zeros(4))
    refused("step", rec.add, step, loss=1.0, pred=np.zeros(4), final=True)
    refused("step", rec.wants, step)
    refused("step", rec.stop, step, "reason")
    assert not rec.snapshots and rec.stopped is None


@pytest.mark.parametrize("step", [3.0, np.int64(3), np.uint8(3), np.float64(3.0), 2 ** 63 - 1])
def test_whole_steps_of_any_numeric_type_are_steps(step):
    rec = polyanim.Recorder(np.linspace(0, 1, 4), every=1)
    assert rec.add(step, loss=1.0, pred=np.zeros(4), final=True)
    h = rec.history()
    assert h.steps.dtype == np.int64 and h.steps[0] == int(step)


def test_steps_must_increase_at_every_offered_step_and_a_stop_cannot_go_back():
    rec = polyanim.Recorder(np.linspace(0, 1, 4), every=10)
    rec.add(10, loss=1.0, pred=np.zeros(4))
    assert "after 10" in refused("step", rec.add, 3, loss=1.0, pred=np.zeros(4))  # not kept either way
    assert "before its last kept step 10" in refused("step", rec.stop, 4, "late")
