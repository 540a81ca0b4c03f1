import io

import numpy as np
import pytest
import torch

from polyanim import config
from polyanim.train import TrainingError, train

from post import post_problem


def post_script_losses(seed=0):
    """The original post's training loop, re-typed (no plotting): the losses it prints."""
    x, y, model, criterion, optimizer = post_problem(seed)
    printed = []
    for t in range(2000):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if t % 100 == 0:
            printed.append((t, loss.item()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return printed, [model.d.item(), model.c.item(), model.b.item(), model.a.item()]


def run(cfg, **kw):
    out, err = io.StringIO(), io.StringIO()
    h = train(cfg, out=out, err=err, **kw)
    return h, out.getvalue(), err.getvalue()


def test_seed_config_reproduces_the_post():
    printed, final = post_script_losses(seed=0)
    h, out, _ = run(config.load("configs/seed.yaml"))
    steps, losses = zip(*printed)
    assert list(h.steps[:20]) == list(steps)
    np.testing.assert_allclose(h.loss[:20], losses, rtol=1e-4)
    # the console shows the post's lines: "t loss" every 100 steps, then "Result: y = ..."
    lines = out.splitlines()
    assert [int(line.split()[0]) for line in lines[:20]] == list(steps)
    assert lines[-1].startswith("Result: y = ")
    # one extra snapshot of the trained model after the last step
    assert h.steps[-1] == 2000 and len(h) == 21
    np.testing.assert_allclose(h.params[-1], final, rtol=1e-4)


def test_closed_form_least_squares_matches_a_long_adam_run():
    cfg = config.from_dict({"data": {"points": 200}, "train": {
        "optimizer": "adam", "lr": 0.02, "loss": "mse_mean", "steps": 3000, "record_every": 1000, "log_every": 0}})
    h, _, _ = run(cfg, quiet=True)
    x = h.x
    design = np.vander(x, 4, increasing=True)
    exact, *_ = np.linalg.lstsq(design, h.y, rcond=None)
    np.testing.assert_allclose(h.params[-1], exact, atol=2e-3)
    best = np.mean((design @ exact - h.y) ** 2)
    assert h.loss[-1] == pytest.approx(best, rel=1e-3)


def test_divergence_stops_with_one_warning_and_keeps_finite_snapshots():
    cfg = config.load("configs/seed.yaml", ["train.lr=1e-3"])
    h, _, err = run(cfg)
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("warning: loss became") and "at step" in err
    assert h.meta["stopped"]["step"] > 0
    assert np.isfinite(h.loss).all() and np.isfinite(h.pred).all()
    assert h.steps[-1] < h.meta["stopped"]["step"]


def test_history_records_config_seed_and_versions():
    cfg = config.from_dict({"train": {"steps": 20, "record_every": 5, "log_every": 0}, "data": {"points": 50}})
    h, out, _ = run(cfg, quiet=True)
    assert out == ""
    assert list(h.steps) == [0, 5, 10, 15, 20]
    assert h.pred.shape == (5, 50) and h.pred.dtype == np.float32
    assert h.params.shape == (5, 4)
    assert config.from_dict(h.config) == cfg
    assert h.meta["versions"]["torch"] == torch.__version__ and h.meta["stopped"] is None
    np.testing.assert_allclose(h.y, np.sin(h.x), atol=1e-12)


def test_noise_is_seeded_and_leaves_the_drawn_target_clean():
    cfg = config.from_dict({"data": {"points": 50, "noise": 0.3},
                            "train": {"steps": 10, "record_every": 5, "log_every": 0}})
    a, _, _ = run(cfg, quiet=True)
    b, _, _ = run(cfg, quiet=True)
    clean, _, _ = run(config.from_dict(dict(cfg.to_dict(), data=dict(cfg.to_dict()["data"], noise=0.0))), quiet=True)
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.loss[0] != clean.loss[0]
    np.testing.assert_array_equal(a.y, clean.y)


def test_no_finite_snapshot_is_an_error():
    cfg = config.from_dict({"data": {"domain": [1e30, 2e30], "points": 4},
                            "train": {"steps": 5, "record_every": 1, "log_every": 0}})
    with pytest.raises(TrainingError, match="no finite snapshot"):
        run(cfg, quiet=True)


def test_training_leaves_the_callers_random_stream_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    run(config.from_dict({"seed": 7, "data": {"points": 20}, "train": {"steps": 3, "record_every": 1}}), quiet=True)
    assert torch.equal(torch.rand(3), expected)
