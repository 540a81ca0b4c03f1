"""Training breadth: model kinds, optimizers, lr schedules, sampling, recording schedules, stalls."""

import io
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from numpy.polynomial import chebyshev, legendre

from polyanim import config
from polyanim.history import History, load
from polyanim.recording import (RISE_SNAPSHOTS, STALL_SNAPSHOTS, for_train, log_steps, loss_warnings,
                                planned_steps)
from polyanim.scene import Scene
from polyanim.train import make_optimizer, make_scheduler, train

FAST = {"data": {"points": 100}, "train": {"log_every": 0, "loss": "mse_mean"}}


def cfg(**sections):
    """A small config: FAST, updated section by section with ``sections``."""
    tree = {k: dict(v) for k, v in FAST.items()}
    for name, values in sections.items():
        tree.setdefault(name, {}).update(values)
    return config.from_dict(tree)


def run(c):
    out, err = io.StringIO(), io.StringIO()
    h = train(c, quiet=True, out=out, err=err)
    return h, err.getvalue()


def unit(x, domain=(-math.pi, math.pi)):
    lo, hi = domain
    return (2 * x - (lo + hi)) / (hi - lo)


# --- models -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, lr", [("polynomial", 0.01), ("legendre", 0.05), ("chebyshev", 0.05), ("mlp", 0.01)])
def test_each_model_kind_trains_and_reduces_the_loss(kind, lr):
    threads = torch.get_num_threads()
    c = cfg(model={"kind": kind, "degree": 3, "hidden": [16]},
            train={"optimizer": "adam", "lr": lr, "steps": 200, "record_every": 50})
    h, _ = run(c)
    assert list(h.steps) == [0, 50, 100, 150, 200]
    assert h.loss[-1] < 0.2 * h.loss[0]
    if kind == "mlp":
        assert h.params is None and h.meta["param_names"] == []
    else:
        assert h.params.shape == (5, 4)
        prefix = {"polynomial": "c", "legendre": "P", "chebyshev": "T"}[kind]
        assert h.meta["param_names"] == [f"{prefix}{k}" for k in range(4)]
    assert config.from_dict(h.config) == c  # replayable
    assert torch.get_num_threads() == threads  # small models train on one thread, then it is restored


@pytest.mark.parametrize("activation", ["tanh", "relu", "gelu", "sin"])
def test_mlp_activations(activation):
    c = cfg(model={"kind": "mlp", "hidden": [8, 8], "activation": activation}, data={"points": 50},
            train={"optimizer": "adam", "lr": 0.02, "steps": 30, "record_every": 15})
    h, _ = run(c)
    assert np.isfinite(h.pred).all() and h.loss[-1] < h.loss[0]


@pytest.mark.parametrize("degree", [0, 1, 5])
def test_polynomial_any_degree_has_one_coefficient_per_power(degree):
    c = cfg(model={"degree": degree}, train={"optimizer": "adam", "lr": 0.01, "steps": 5, "record_every": 5})
    h, _ = run(c)
    assert h.params.shape == (2, degree + 1)
    x = h.x
    np.testing.assert_allclose(h.pred[-1], np.polynomial.polynomial.polyval(x, h.params[-1]), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("kind, vander", [("legendre", legendre.legvander), ("chebyshev", chebyshev.chebvander)])
def test_basis_params_are_coefficients_in_that_basis_on_the_mapped_domain(kind, vander):
    c = cfg(model={"kind": kind, "degree": 4}, data={"domain": [-1, 3]},
            train={"optimizer": "adam", "lr": 0.01, "steps": 4, "record_every": 2})
    h, _ = run(c)
    for i in range(len(h)):
        np.testing.assert_allclose(h.pred[i], vander(unit(h.x, (-1, 3)), 4) @ h.params[i], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kind, vander", [("legendre", legendre.legvander), ("chebyshev", chebyshev.chebvander)])
@pytest.mark.parametrize("optimizer, lr, steps", [("lbfgs", 1.0, 40), ("adam", 0.05, 1500)])
def test_basis_fit_equals_least_squares_in_that_basis(kind, vander, optimizer, lr, steps):
    c = cfg(model={"kind": kind, "degree": 5},
            data={"samples": 60, "sampling": "uniform", "noise": 0.1},
            train={"optimizer": optimizer, "lr": lr, "steps": steps, "record_every": steps})
    h, _ = run(c)
    design = vander(unit(h.data_x), 5)
    exact, *_ = np.linalg.lstsq(design, h.data_y, rcond=None)
    np.testing.assert_allclose(h.params[-1], exact, atol=2e-3)
    assert h.loss[-1] == pytest.approx(np.mean((design @ exact - h.data_y) ** 2), rel=1e-3)


def test_orthogonal_basis_beats_monomials_at_high_degree():
    """Same optimizer, lr and steps: the monomial basis is ill conditioned on [-pi, pi]."""
    base = {"train": {"optimizer": "adam", "lr": 0.02, "steps": 300, "record_every": 300}}
    mono, _ = run(cfg(model={"kind": "polynomial", "degree": 7}, **base))
    cheb, _ = run(cfg(model={"kind": "chebyshev", "degree": 7}, **base))
    assert cheb.loss[-1] < 0.01 * mono.loss[-1]


# --- optimizers and schedules ------------------------------------------------------------------

@pytest.mark.parametrize("optimizer, lr, extra", [
    ("sgd", 0.1, {}),
    ("sgd", 0.05, {"momentum": 0.9, "nesterov": True}),
    ("adam", 0.05, {"weight_decay": 1e-4}),
    ("adamw", 0.05, {}),
    ("rmsprop", 0.01, {"momentum": 0.5}),
    ("lbfgs", 1.0, {}),
])
def test_each_optimizer_runs_and_learns(optimizer, lr, extra):
    c = cfg(model={"kind": "legendre"}, train={"optimizer": optimizer, "lr": lr, "steps": 40, "record_every": 10,
                                                 **extra})
    h, err = run(c)
    assert h.meta["stopped"] is None and np.isfinite(h.loss).all()
    assert h.loss[-1] < 0.5 * h.loss[0]
    np.testing.assert_array_equal(h.lr, lr)  # no schedule: constant


def test_optimizer_options_reach_torch():
    params = [torch.nn.Parameter(torch.zeros(2))]
    sgd = make_optimizer(cfg(train={"momentum": 0.9, "nesterov": True, "weight_decay": 0.1}).train, params)
    assert (sgd.defaults["momentum"], sgd.defaults["nesterov"], sgd.defaults["weight_decay"]) == (0.9, True, 0.1)
    assert make_optimizer(cfg(train={"optimizer": "adamw"}).train, params).defaults["weight_decay"] == 0.01
    assert make_optimizer(cfg(train={"optimizer": "adam"}).train, params).defaults["weight_decay"] == 0.0
    lbfgs = make_optimizer(cfg(train={"optimizer": "lbfgs", "lr": 1}).train, params)
    assert lbfgs.defaults["line_search_fn"] == "strong_wolfe" and lbfgs.defaults["max_iter"] <= 10


@pytest.mark.parametrize("opts", [
    {}, {"momentum": 0.9}, {"momentum": 0.9, "nesterov": True, "weight_decay": 0.1},
    {"schedule": "step", "step_size": 7, "gamma": 0.3}, {"schedule": "exponential"},
    {"schedule": "cosine", "lr_min": 0.0001, "momentum": 0.5}, {"schedule": "cosine", "steps": 9}, {"schedule": "step", "steps": 9}])
def test_hand_sgd_and_its_schedules_equal_torch_optim(opts):
    """SGD by hand (no torch.optim optimizer, so no torch._dynamo import) gives torch.optim.SGD's
    float32 parameters and lr_scheduler's lrs exactly, step for step."""
    t = cfg(train={"optimizer": "sgd", "lr": 0.004, "steps": 40, "record_every": 1, **opts}).train
    x = torch.linspace(-1, 1, 50)
    y = torch.sin(3 * x)
    start = torch.randn(4, generator=torch.Generator().manual_seed(1))
    runs = []
    for hand in (True, False):
        w = torch.nn.Parameter(start.clone())
        opt = make_optimizer(t, [w]) if hand else torch.optim.SGD(
            [w], lr=t.lr, momentum=t.momentum, nesterov=t.nesterov, weight_decay=t.weight_decay or 0.0)
        sched = make_scheduler(t, opt)
        trace = []
        for _ in range(40):  # past T_max = train.steps = 9 in the last case: the cosine's restart branch
            loss = ((w[0] + w[1] * x + w[2] * x ** 2 + w[3] * x ** 3 - y) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            trace.append((w.detach().clone(), opt.param_groups[0]["lr"]))
        runs.append(trace)
    for (w_hand, lr_hand), (w_torch, lr_torch) in zip(*runs):
        assert torch.equal(w_hand, w_torch) and lr_hand == lr_torch


def test_default_training_never_builds_a_torch_optimizer():
    """torch.optim's optimizers import torch._dynamo (as long as importing torch again): not for SGD."""
    code = ("import sys; from polyanim import config; from polyanim.train import train; "
            "train(config.load('configs/sin.yaml', ['train.steps=20', 'train.schedule=cosine']), quiet=True); "
            "print('torch._dynamo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def schedule_run(**train_opts):
    c = cfg(model={"kind": "legendre"}, train={"optimizer": "sgd", "lr": 0.1, "steps": 40, "record_every": 1,
                                                 **train_opts})
    h, _ = run(c)
    assert list(h.steps) == list(range(41)) and h.lr.shape == (41,) and h.lr.dtype == np.float64
    return h


def test_cosine_schedule_ends_at_lr_min():
    h = schedule_run(schedule="cosine", lr_min=0.01)
    t = h.steps
    np.testing.assert_allclose(h.lr, 0.01 + 0.09 * (1 + np.cos(np.pi * t / 40)) / 2, rtol=1e-6)
    assert h.lr[0] == 0.1 and h.lr[-1] == pytest.approx(0.01)


def test_step_schedule_halves_at_step_size():
    h = schedule_run(schedule="step", step_size=10)
    np.testing.assert_allclose(h.lr, 0.1 * 0.5 ** (h.steps // 10))
    assert h.lr[9] == 0.1 and h.lr[10] == pytest.approx(0.05) and h.lr[20] == pytest.approx(0.025)


def test_exponential_schedule():
    h = schedule_run(schedule="exponential", gamma=0.9)
    np.testing.assert_allclose(h.lr, 0.1 * 0.9 ** h.steps, rtol=1e-6)
    default = schedule_run(schedule="exponential")  # null gamma: the lr falls 100-fold over the run
    assert default.lr[-1] == pytest.approx(0.001, rel=1e-6)


def test_lr_is_saved_and_loaded(tmp_path):
    h = schedule_run(schedule="step", step_size=10)
    back = load(h.save(tmp_path / "h.history.npz"))
    np.testing.assert_array_equal(back.lr, h.lr)
    with np.load(tmp_path / "h.history.npz") as npz:
        assert npz["lr"].dtype == np.float64
    with pytest.raises(ValueError, match="lr: expected shape"):
        History(steps=h.steps, loss=h.loss, x=h.x, y=h.y, pred=h.pred, lr=h.lr[:-1])


# --- data: samples, sampling, held-out range -----------------------------------------------------

def test_default_data_trains_on_the_grid_and_stores_no_samples():
    h, _ = run(cfg(train={"steps": 10, "record_every": 5}))
    assert h.data_x is None and h.data_y is None


def test_uniform_samples_in_a_held_out_range_are_stored_and_seeded(tmp_path):
    c = cfg(data={"samples": 40, "sampling": "uniform", "train_domain": [-1, 2], "noise": 0.05},
            train={"optimizer": "adam", "lr": 0.05, "steps": 20, "record_every": 10})
    h, _ = run(c)
    assert h.data_x.shape == h.data_y.shape == (40,)
    assert (h.data_x >= -1).all() and (h.data_x <= 2).all() and (np.diff(h.data_x) >= 0).all()
    assert 0 < np.abs(h.data_y - np.sin(h.data_x)).max() < 0.5  # noisy targets
    assert h.x[0] == pytest.approx(-math.pi) and h.x[-1] == pytest.approx(math.pi)  # drawn on the whole domain
    again, _ = run(c)
    np.testing.assert_array_equal(again.data_x, h.data_x)
    np.testing.assert_array_equal(again.data_y, h.data_y)
    back = load(h.save(tmp_path / "s.history.npz"))
    np.testing.assert_array_equal(back.data_x, h.data_x)


def test_grid_samples_and_grid_subsets():
    h, _ = run(cfg(data={"samples": 25}, train={"steps": 5, "record_every": 5}))
    np.testing.assert_allclose(h.data_x, np.linspace(-math.pi, math.pi, 25), atol=1e-6)
    h, _ = run(cfg(data={"train_domain": [0, 1]}, train={"steps": 5, "record_every": 5}))
    inside = h.x[(h.x >= 0) & (h.x <= 1)]
    np.testing.assert_allclose(h.data_x, inside, atol=1e-6)
    h, _ = run(cfg(data={"noise": 0.2}, train={"steps": 5, "record_every": 5}))  # noise alone: stored on the grid
    np.testing.assert_allclose(h.data_x, h.x, atol=1e-6)


def test_samples_are_drawn_as_a_scatter_and_held_out_range_shaded(small_render):
    c = cfg(data={"samples": 30, "sampling": "uniform", "train_domain": [-2, 1]},
            train={"optimizer": "adam", "lr": 0.05, "steps": 10, "record_every": 5})
    h, _ = run(c)
    scene = Scene(h, small_render)
    fit = scene.axes["fit"]
    assert len(fit.collections) == 1
    scatter = fit.collections[0]
    np.testing.assert_allclose(scatter.get_offsets()[:, 0], h.data_x)
    assert scatter.get_zorder() < scene.panels["fit"].lines[0].get_zorder()
    assert scatter not in scene.update(1)  # static: drawn once into the background
    spans = [p for p in fit.patches if p.get_x() < -2 or p.get_x() >= 1]
    assert len(spans) == 2
    plain, _ = run(cfg(train={"steps": 5, "record_every": 5}))
    assert not Scene(plain, small_render).axes["fit"].collections
    scene.frame(0), scene.frame(2)  # renders


# --- recording schedules -----------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(total=st.integers(1, 10**7), n=st.integers(2, 2000))
def test_log_steps_are_monotone_unique_and_dense_early(total, n):
    s = log_steps(total, n)
    assert s[0] == 0 and s[-1] == total
    assert all(b > a for a, b in zip(s, s[1:]))
    assert len(s) == min(n, total + 1)
    assert sum(v <= total / 2 for v in s) >= sum(v > total / 2 for v in s)
    if len(s) > 2:
        assert s[1] - s[0] <= s[-1] - s[-2]


def test_log_recording_in_training():
    h, _ = run(cfg(train={"steps": 500, "record": "log", "frames": 30, "optimizer": "adam", "lr": 0.01}))
    assert list(h.steps) == log_steps(500, 30)
    default, _ = run(cfg(train={"steps": 500, "record": "log", "record_every": 50}))
    assert len(default) == 11  # as many as "every" would take


@pytest.mark.parametrize("steps, frames", [(2000, 100), (1000, 7), (50, 50), (37, 10)])
def test_frames_budget(steps, frames):
    every = cfg(train={"steps": steps, "frames": frames}).train
    plan = planned_steps(every)
    assert plan[0] == 0 and plan[-1] == steps and plan[1] == math.ceil(steps / frames)
    assert frames - 2 <= len(plan) <= frames + 1
    log = cfg(train={"steps": steps, "frames": frames, "record": "log"}).train
    assert len(planned_steps(log)) == min(frames, steps + 1)


def feed(recorder, preds):
    """Offer one prediction per step, then the final one; return the recorded steps."""
    for t, p in enumerate(preds[:-1]):
        recorder.add(t, loss=0.0, pred=p)
    recorder.add(len(preds) - 1, loss=0.0, pred=preds[-1], final=True)
    return [s.step for s in recorder.snapshots]


@settings(max_examples=60, deadline=None)
@given(cap=st.integers(2, 40), steps=st.integers(2, 400), seed=st.integers(0, 2**16),
       threshold=st.floats(1e-4, 0.5))
def test_adaptive_respects_its_cap(cap, steps, seed, threshold):
    rng = np.random.default_rng(seed)
    preds = np.cumsum(rng.normal(size=(steps + 1, 20)) * rng.exponential(size=(steps + 1, 1)), axis=0)
    train_cfg = cfg(train={"steps": steps, "record": "adaptive", "max_frames": cap,
                           "record_threshold": threshold}).train
    recorded = feed(for_train(train_cfg, np.arange(20.0)), preds)
    assert 2 <= len(recorded) <= cap
    assert recorded[0] == 0 and recorded[-1] == steps
    assert all(b > a for a, b in zip(recorded, recorded[1:]))


@settings(max_examples=30, deadline=None)
@given(rate=st.floats(0.005, 0.05), cap=st.integers(10, 200))
def test_adaptive_records_more_early_when_the_curve_settles(rate, cap):
    steps = 400
    x = np.linspace(-1, 1, 50)
    preds = np.exp(-rate * np.arange(steps + 1))[:, None] * np.cos(3 * x)[None, :]
    train_cfg = cfg(train={"steps": steps, "record": "adaptive", "max_frames": cap,
                           "record_threshold": 0.01}).train
    recorded = np.array(feed(for_train(train_cfg, x), preds))
    early, late = (recorded < steps / 2).sum(), (recorded >= steps / 2).sum()
    assert early > late


def test_adaptive_recording_in_training():
    c = cfg(train={"optimizer": "adam", "lr": 0.05, "steps": 600, "record": "adaptive", "max_frames": 40,
                   "record_threshold": 0.005})
    h, _ = run(c)
    assert 10 <= len(h) <= 40 and h.steps[0] == 0 and h.steps[-1] == 600
    assert (h.steps < 300).sum() > (h.steps >= 300).sum()
    capped, _ = run(cfg(train={**c.to_dict()["train"], "frames": 12}))  # frames is the cap too
    assert len(capped) <= 12 and capped.steps[-1] == 600


# --- divergence and stalls ------------------------------------------------------------------------

def test_loss_warnings():
    steps = list(range(0, 300, 10))
    assert loss_warnings(steps, np.linspace(10, 1, 30)) == []
    rising = [1.0] * 5 + [1.0 + 0.1 * k for k in range(1, RISE_SNAPSHOTS + 4)] + [0.5] * 2
    (warning,) = [w for w in loss_warnings(steps[: len(rising)], rising) if "rose" in w["message"]]
    assert f"rose at {RISE_SNAPSHOTS + 3} consecutive snapshots" in warning["message"]
    assert "steps 40-" in warning["message"] and warning["note"].startswith("loss rose over steps 40-")
    flat = list(np.linspace(10, 1, 15)) + [1.0 - 1e-6 * k for k in range(STALL_SNAPSHOTS)]
    (warning,) = loss_warnings(steps[: len(flat)], flat)
    assert warning["message"].startswith("loss stalled") and "after step 140" in warning["message"]
    assert warning["note"] == "loss flat after step 140"
    assert loss_warnings(steps[:11], [1.0] * 11) and not loss_warnings(steps[:10], [1.0] * 10)


def test_stall_is_one_warning_line_and_training_goes_on():
    # a timid SGD on the monomial cubic: the loss barely moves, far above the least-squares fit
    c = cfg(train={"optimizer": "sgd", "lr": 1e-9, "steps": 30, "record_every": 1})
    h, err = run(c)
    assert err.count("\n") == 1 and err.startswith("warning: loss stalled at ")
    assert "above the least-squares optimum" in err
    assert [w["message"] for w in h.meta["warnings"]] == [err.strip().removeprefix("warning: ")]
    scene = Scene(h, config.from_dict({"render": {"size": [160, 120]}}).render)
    scene.update(len(h) - 1)
    assert scene.panels["fit"].labels[0].get_text().endswith("\n" + h.meta["warnings"][0]["note"])
    assert h.steps[-1] == 30 and h.meta["stopped"] is None
    healthy, err = run(cfg(train={"optimizer": "adam", "lr": 0.01, "steps": 50, "record_every": 10}))
    assert err == "" and healthy.meta["warnings"] == []
