"""The exact loss slice of a linear model, checked against evaluating the loss point by point."""

from types import SimpleNamespace
import numpy as np
import pytest

from polyanim import InputError
from polyanim.landscape import loss_slice, model_slice, path_indices
from polyanim.optimum import design_matrix, reduce


def seed_samples(n=2000):
    # the post's setup: 2000 float32 points on [-pi, pi], y = sin(x), as the trainer widens them
    x = np.linspace(-np.pi, np.pi, n, dtype=np.float32).astype(np.float64)
    return x, np.sin(x).astype(np.float32).astype(np.float64)


def brute_force(a, y, base, i, j, ci, cj, loss):
    out = np.empty((len(cj), len(ci)))
    for row, vj in enumerate(cj):
        for col, vi in enumerate(ci):
            c = base.copy()
            c[i], c[j] = vi, vj
            out[row, col] = reduce(a @ c - y, loss)
    return out


@pytest.mark.parametrize("kind, degree, i, j, loss", [
    ("polynomial", 3, 1, 3, "mse_sum"),     # the seed's long narrow valley
    ("polynomial", 3, 0, 2, "mse_mean"),
    ("polynomial", 5, 4, 1, "mse_sum"),
    ("legendre", 3, 1, 3, "mse_sum"),
    ("chebyshev", 4, 0, 4, "mse_mean"),
])
def test_the_slice_equals_the_loss_evaluated_point_by_point(kind, degree, i, j, loss):
    x, y = seed_samples()
    domain = (-np.pi, np.pi)
    a = design_matrix(SimpleNamespace(kind=kind, degree=degree), domain, x)
    best = np.linalg.lstsq(a, y, rcond=None)[0]
    base = best + np.random.default_rng(degree).normal(0, 0.05, best.size)  # a final point near the optimum
    s = model_slice(kind, degree, domain, x, y, base, i, j, loss)
    # a grid around the point, wide along both axes and through the valley floor
    ci = base[i] + np.linspace(-1.5, 1.0, 23)
    cj = base[j] + np.linspace(-0.2, 0.3, 19)
    want = brute_force(a, y, base, i, j, ci, cj, loss)
    got = s.grid(ci, cj)
    assert got.shape == (19, 23)
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert s.constant == pytest.approx(reduce(a @ base - y, loss), rel=1e-12)


def test_the_slice_is_exact_near_an_almost_exact_fit():
    # a cubic target: the loss on the slice is far below the squares of its terms
    x, _ = seed_samples()
    y = 0.5 * x ** 3 - x + 0.2 + 1e-3 * np.sin(7 * x)
    a = design_matrix(SimpleNamespace(kind="polynomial", degree=3), None, x)
    base = np.linalg.lstsq(a, y, rcond=None)[0]
    ci, cj = base[1] + np.linspace(-1e-3, 1e-3, 13), base[3] + np.linspace(-1e-4, 1e-4, 11)
    want = brute_force(a, y, base, 1, 3, ci, cj, "mse_sum")
    np.testing.assert_allclose(loss_slice(a, y, base, 1, 3).grid(ci, cj), want, rtol=1e-9)


def test_the_quadratics_coefficients_and_minimum_are_the_losss():
    x, y = seed_samples(500)
    a = design_matrix(SimpleNamespace(kind="polynomial", degree=3), None, x)
    base = np.array([0.1, 0.8, -0.05, -0.09])
    s = loss_slice(a, y, base, 1, 3)
    ai, aj = a[:, 1], a[:, 3]
    r0 = a @ base - y
    np.testing.assert_allclose(s.hessian, 2 * np.array([[ai @ ai, ai @ aj], [ai @ aj, aj @ aj]]), rtol=1e-12)
    np.testing.assert_allclose(s.gradient, 2 * np.array([ai @ r0, aj @ r0]), rtol=1e-10)
    (ci, cj), value = s.minimum()
    c = base.copy()
    c[1], c[3] = ci, cj
    # the slice's minimum is where the loss is stationary in (c1, c3), and no grid point is lower
    np.testing.assert_allclose([ai @ (a @ c - y), aj @ (a @ c - y)], 0, atol=1e-8)
    assert value == pytest.approx(reduce(a @ c - y, "mse_sum"), rel=1e-12)
    assert s.grid(ci + np.linspace(-0.1, 0.1, 11), cj + np.linspace(-0.01, 0.01, 11)).min() >= value


def test_dependent_columns_have_no_single_minimum():
    a = np.column_stack([np.ones(5), 2 * np.ones(5)])
    s = loss_slice(a, np.arange(5.0), [0.0, 0.0], 0, 1)
    assert s.minimum() is None
    assert np.isfinite(s.grid([0, 1], [0, 1])).all()


@pytest.mark.parametrize("call, message", [
    (lambda: model_slice("mlp", 3, (0, 1), [0.0, 1.0], [0.0, 1.0], [0, 0], 0, 1),
     "render.path_params: an exact loss slice needs a model linear in its parameters"),
    (lambda: path_indices(["c1", "c9"], ["c0", "c1", "c2", "c3"]),
     "render.path_params: the model has no coefficient 'c9'; allowed: c0, c1, c2, c3"),
    (lambda: path_indices(["c1"], ["c0", "c1"]), "render.path_params: expected two coefficient names"),
    (lambda: path_indices("c1", ["c0", "c1"]), "render.path_params: expected two coefficient names"),
    (lambda: path_indices(["c1", 1], ["c0", "c1"]), "render.path_params: needs two different coefficients"),
])
def test_bad_path_params_name_their_key(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_path_indices_take_names_or_indices():
    assert path_indices(["c3", "c1"], ["c0", "c1", "c2", "c3"]) == (3, 1)
    assert path_indices([0, "P2"], ["P0", "P1", "P2"]) == (0, 2)


@pytest.mark.parametrize("kind, loss", [("polynomial", "mse_sum"), ("legendre", "mse_mean")])
def test_the_slice_through_a_recorded_point_is_the_trainers_loss(kind, loss):
    # the trainer's loss (float32 torch, its reduction) at every snapshot is the slice's value there
    from polyanim import config
    from polyanim.train import make_samples, train
    cfg = config.from_dict({"seed": 3, "data": {"points": 60}, "model": {"kind": kind, "degree": 3},
                            "train": {"steps": 30, "record_every": 10, "log_every": 0, "loss": loss,
                                      "lr": 1e-5 if loss == "mse_sum" else 0.1}})
    h = train(cfg, quiet=True)
    s = make_samples(cfg)
    x, y = s.x.double().numpy(), s.y.double().numpy()
    assert len(h.params) >= 3
    for params, recorded in zip(h.params, h.loss):
        sl = model_slice(kind, 3, cfg.data.span(), x, y, params, 1, 3, loss)
        assert sl.constant == pytest.approx(recorded, rel=1e-5)
        assert sl.loss(params[1], params[3]) == pytest.approx(recorded, rel=1e-5)


def test_a_historys_slice_uses_its_own_model_samples_and_loss():
    from polyanim import config
    from polyanim.landscape import history_slice, slice_surface
    from polyanim.train import train
    cfg = config.from_dict({"seed": 1, "data": {"points": 80, "noise": 0.1}, "model": {"degree": 3},
                            "train": {"steps": 40, "record_every": 10, "log_every": 0, "lr": 1e-5}})
    h = train(cfg, quiet=True)
    assert h.data_x is not None  # noisy: the samples are stored, and they are what the slice uses
    s = history_slice(h, 1, 3)
    assert s.loss(h.params[-1][1], h.params[-1][3]) == pytest.approx(h.loss[-1], rel=1e-5)
    surface = slice_surface(s, [h.params[:, [1, 3]]])
    for point in h.params[:, [1, 3]]:
        assert surface.inside(point)
    assert surface.inside(surface.minima[0]) and surface.minimum == pytest.approx(s.minimum()[1])
    # the surface's gradient is the slice's: zero at its minimum
    np.testing.assert_allclose(surface.grad(surface.minima[0]), 0, atol=1e-6 * np.abs(s.hessian).max())
    h.params = None
    with pytest.raises(InputError, match="^render.path_params: this run kept no coefficients"):
        history_slice(h, 1, 3)
