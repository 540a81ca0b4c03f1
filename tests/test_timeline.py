"""The Timeline: what each run shows at a frame position, in plain numpy."""

import numpy as np
import pytest

from conftest import make_history, make_runset
from polyanim import style
from polyanim.history import History
from polyanim.timeline import Timeline, labels_of, runs_of


def with_lr(h: History, lr) -> History:
    return History(steps=h.steps, loss=h.loss, x=h.x, y=h.y, pred=h.pred, params=h.params, meta=h.meta,
                   lr=np.asarray(lr, dtype=np.float64))


def test_a_history_is_a_set_of_one_run():
    h, rs = make_history(), make_runset()
    assert runs_of(h) == [h] and labels_of(h) == ["prediction"]
    assert runs_of(rs) == rs.histories and labels_of(rs) == rs.labels
    assert Timeline(h).single and not Timeline(rs).single and len(Timeline(rs)) == len(rs.steps)


def test_snapshots_and_in_betweens_of_one_run():
    h = with_lr(make_history(), [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    timeline = Timeline(h)
    (s,) = timeline.states(2)
    assert (s.step, s.index, s.loss, s.lr) == (20, 2, h.loss[2], 0.01)
    np.testing.assert_array_equal(s.pred, h.pred[2])
    np.testing.assert_array_equal(s.params, h.params[2])
    (s,) = timeline.states(1.5)  # halfway: linear pred, step and params; geometric loss and lr
    assert s.step == 15 and s.index == 1
    np.testing.assert_allclose(s.pred, (h.pred[1] + h.pred[2]) / 2, rtol=1e-6)
    np.testing.assert_allclose(s.params, (h.params[1] + h.params[2]) / 2)
    assert s.loss == pytest.approx(np.sqrt(h.loss[1] * h.loss[2]))
    assert s.lr == pytest.approx(np.sqrt(0.1 * 0.01))


def test_notes_and_fades_come_at_the_end_of_a_stopped_run():
    h = make_history(stopped={"step": 57, "reason": "loss became nan"})
    timeline = Timeline(h)
    early, last = timeline.states(2)[0], timeline.states(len(h) - 1)[0]
    assert not early.ended and early.notes == () and early.alpha is None and not early.stopped
    assert last.ended and last.stopped and last.note == "stopped at step 57: loss became nan"
    assert last.alpha == style.FADED_ALPHA
    assert "stopped at step 57" in style.fit_label([last], ["prediction"], single=True)
    calm = Timeline(make_history()).states(5)[0]  # a run that finished: no fade, no note
    assert calm.ended and not calm.stopped and calm.alpha is None and calm.note is None


def test_each_run_holds_its_latest_snapshot_or_interpolates_by_step():
    rs = make_runset()  # steps: run 0 every 10, run 1 every 5, run 2 at 0 and 25 (then stopped)
    held = Timeline(rs).states(3)  # step 15
    assert [s.index for s in held] == [1, 3, 0] and {s.step for s in held} == {15}
    np.testing.assert_array_equal(held[0].pred, rs.histories[0].pred[1])
    smooth = Timeline(rs, interpolate=True).states(3)
    np.testing.assert_allclose(smooth[0].pred, (rs.histories[0].pred[1] + rs.histories[0].pred[2]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(smooth[1].pred, rs.histories[1].pred[3])  # recorded right there
    end = Timeline(rs).states(len(rs) - 1)
    assert [s.stopped for s in end] == [False, False, True] and end[2].alpha == style.FADED_ALPHA
    assert style.fit_label(end, rs.labels, single=False) == "t=50\nlr=0.1: stopped at step 53: loss became inf"


def test_trail_gives_earlier_predictions():
    h = make_history(frames=8)
    (s,) = Timeline(h, trail=2, trail_step=0.5).states(4)
    assert len(s.trail) == 2
    np.testing.assert_allclose(s.trail[0], (h.pred[3] + h.pred[4]) / 2, rtol=1e-6)
    np.testing.assert_array_equal(s.trail[1], h.pred[3])
    (first,) = Timeline(h, trail=2).states(0)  # never before the first snapshot
    np.testing.assert_array_equal(first.trail[1], h.pred[0])


def test_loss_scale_follows_the_runs_that_did_not_stop():
    rs = make_runset()
    rs.histories[2].loss[-1] = 1e30
    log, (lo, hi) = style.loss_scale(rs.histories)
    assert log and hi < 1e10
    log, (lo, hi) = style.loss_scale([rs.histories[2]])  # alone, a stopped run sets its own scale
    assert hi > 1e29
