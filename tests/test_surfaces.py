"""The test functions, their gradients and the numpy optimizers, checked against torch autograd and torch.optim."""

import inspect
import math

import numpy as np
import pytest
import torch

from polyanim import InputError, derivative, npoptim, surfaces, targets
from polyanim.surfaces import FUNCTIONS, surface

# the same functions written independently in torch, for autograd
TORCH = {
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
    "beale": lambda x, y: ((1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2
                           + (2.625 - x + x * y ** 3) ** 2),
    "himmelblau": lambda x, y: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2,
    "rastrigin": lambda x, y: (20 + x ** 2 - 10 * torch.cos(2 * math.pi * x)
                               + y ** 2 - 10 * torch.cos(2 * math.pi * y)),
    "booth": lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
    "saddle": lambda x, y: x ** 2 - y ** 2,
}
TORCH_NAMES = {"arcsin": torch.asin, "arccos": torch.acos, "arctan": torch.atan, "pi": math.pi, "e": math.e}


def torch_expression(text):
    names = {name: TORCH_NAMES.get(name, getattr(torch, name, None)) for name in targets.FUNCTIONS}
    names.update(pi=math.pi, e=math.e)
    return lambda x, y: eval(text, {"__builtins__": {}}, {**names, "x": x, "y": y})  # trusted test strings


def autograd(fn, x, y):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    yt = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    value = fn(xt, yt)
    value.sum().backward()
    return value.detach().numpy(), xt.grad.numpy(), yt.grad.numpy()


def random_points(f, n=50, seed=0):
    (x0, x1), (y0, y1) = f.domain
    rng = np.random.default_rng(seed)
    return rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_values_and_gradients_match_torch_autograd_on_a_mesh(name):
    f = FUNCTIONS[name]
    x, y = random_points(f)
    value, gx, gy = autograd(TORCH[name], x, y)
    mine_gx, mine_gy = f.gradient(x, y)
    scale = np.abs(value).max() + 1
    np.testing.assert_allclose(f.value(x, y), value, rtol=1e-13, atol=1e-13 * scale)
    np.testing.assert_allclose(mine_gx, gx, rtol=1e-12, atol=1e-12 * np.abs(gx).max())
    np.testing.assert_allclose(mine_gy, gy, rtol=1e-12, atol=1e-12 * np.abs(gy).max())
    # and the scalar path the optimizers use
    np.testing.assert_allclose(f.grad((x[0], y[0])), [gx[0], gy[0]], rtol=1e-12)


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if FUNCTIONS[n].minima])
def test_the_documented_minima_are_minima(name):
    f = FUNCTIONS[name]
    (x0, x1), (y0, y1) = f.domain
    for mx, my in f.minima:
        assert f.inside((mx, my))
        assert np.hypot(*f.gradient(mx, my)) < 1e-10
        assert abs(f.loss((mx, my)) - f.minimum) < 1e-12
    xs, ys, zs = f.mesh(101)  # nothing on a mesh of the domain is lower
    assert np.nanmin(zs) >= f.minimum - 1e-12
    assert f.inside(f.start) and f.loss(f.start) > f.minimum + 1


def test_the_saddle_has_its_saddle_and_no_minimum():
    f = FUNCTIONS["saddle"]
    assert f.minima == () and f.minimum is None and f.saddles == ((0.0, 0.0),)
    assert f.gradient(0.0, 0.0) == (0.0, -0.0)


EXPRESSIONS = ["sin(x) * cos(y) + 0.1 * (x**2 + y**2)", "x**2 + 3*y**2 - x*y", "exp(-(x**2 + y**2)) * tanh(x - y)",
               "sqrt(x**2 + y**2 + 1) + log(2 + cos(x*y))", "x**y", "arctan(x / (1 + y**2)) - sinh(y/3) + cosh(x/4)",
               "(x - 1)**3 / (y**2 + 2) + abs(x) % 2 + sinc(y)", "log2(x**2 + 1) + log10(y**2 + 1) + tan(x/3)",
               "arcsin(x / 4) + arccos(y / 4) + 2**x", "floor(x) + ceil(y) + sign(x) + pi * e * x"]


@pytest.mark.parametrize("text", EXPRESSIONS)
def test_expression_gradients_match_torch_autograd(text):
    f = surface("expression", expression=text)
    x, y = random_points(f, seed=1)
    if text == "x**y":
        x = np.abs(x) + 0.1  # a real power needs a positive base
    value, gx, gy = autograd(torch_expression(text), x, y)
    mine_gx, mine_gy = f.gradient(x, y)
    np.testing.assert_allclose(f.value(x, y), value, rtol=1e-12)
    np.testing.assert_allclose(mine_gx, gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(mine_gy, gy, rtol=1e-10, atol=1e-12)


def test_every_parser_function_has_a_derivative_rule():
    assert set(derivative.PRIMES) == set(targets.FUNCTIONS)
    # sinc's derivative is 0 at 0 (its limit), not NaN
    assert derivative.gradient("sinc(x) + y")(0.0, 1.0) == (0.0, 1.0)


def test_an_expression_surface_uses_the_defaults_and_overrides():
    f = surface("expression", expression="x**2 + y**2", domain=[[-1, 2], [-3, 1]], start=[1.5, -2],
                minima=[[0, 0]])
    assert f.domain == ((-1.0, 2.0), (-3.0, 1.0)) and f.start == (1.5, -2.0) and f.minima == ((0.0, 0.0),)
    assert surface("expression", expression="x*y").domain == surfaces.EXPRESSION_DOMAIN
    assert surface("rosenbrock", start=(0, 0)).start == (0.0, 0.0)


@pytest.mark.parametrize("kwargs, key", [
    ({"function": "banana"}, "problem.function: unknown function 'banana'; allowed: rosenbrock"),
    ({"function": "expression", "expression": "x + z"}, "problem.expression: 'z' is not allowed; allowed: numbers, x, y"),
    ({"function": "expression", "expression": "__import__('os')"}, "problem.expression: "),
    ({"function": "expression"}, "problem.expression: required"),
    ({"function": "beale", "expression": "x"}, "problem.expression: only with problem.function: expression"),
    ({"function": "rosenbrock", "start": [5, 0]}, "problem.start: [5.0, 0.0] is outside the domain"),
    ({"function": "rosenbrock", "domain": [[0, 1], [0, 1]]}, "problem.start: [-1.5, 2.0] is outside"),
    ({"function": "rosenbrock", "start": [1]}, "problem.start: expected [x, y]"),
    ({"function": "rosenbrock", "start": ["a", 1]}, "problem.start: expected a finite number"),
    ({"function": "booth", "domain": [[1, 0], [0, 1]]}, "problem.domain: each range needs lo < hi"),
    ({"function": "booth", "domain": [0, 1]}, "problem.domain: expected a list"),
    ({"function": "booth", "minima": [[0, math.inf]]}, "problem.minima: expected a finite number"),
])
def test_bad_problems_name_their_key_in_one_line(kwargs, key):
    with pytest.raises(InputError) as err:
        surface(**kwargs)
    assert str(err.value).startswith(key) and "\n" not in str(err.value)


# ---- the optimizers against torch.optim ----

def torch_optimizer(name, params, lr, hyper):
    kinds = {"sgd": torch.optim.SGD, "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop,
             "adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adadelta": torch.optim.Adadelta,
             "adamax": torch.optim.Adamax, "nadam": torch.optim.NAdam, "radam": torch.optim.RAdam,
             "lbfgs": torch.optim.LBFGS}
    if name in ("momentum", "nesterov"):
        hyper = {"momentum": 0.9, "nesterov": name == "nesterov", **hyper}
        name = "sgd"
    return kinds[name]([params], **({"lr": lr} if lr is not None else {}), **hyper)


def torch_run(function, name, lr, start, steps, **hyper):
    """What a careful torch user writes: float64 parameters, autograd, torch.optim."""
    fn = TORCH[function]
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch_optimizer(name, p, lr, hyper)
    path, losses = [], []

    def closure():
        opt.zero_grad()
        value = fn(p[0], p[1])
        value.backward()
        return value

    for t in range(steps + 1):
        with torch.no_grad():
            path.append(p.detach().numpy().copy())
            losses.append(fn(p[0], p[1]).item())
        if t < steps:
            opt.step(closure) if name == "lbfgs" else (closure(), opt.step())
    return np.array(path), np.array(losses)


CASES = [  # (optimizer, lr, hyperparameters): each with torch's defaults and with its options switched on
    ("sgd", 2e-4, {}), ("sgd", 1e-4, {"weight_decay": 0.1, "momentum": 0.5, "dampening": 0.1}),
    ("momentum", 1e-4, {}), ("nesterov", 1e-4, {}), ("nesterov", 1e-4, {"weight_decay": 0.01}),
    ("adagrad", 0.1, {}), ("adagrad", 0.1, {"lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("rmsprop", 1e-2, {}), ("rmsprop", 1e-3, {"momentum": 0.9, "centered": True, "weight_decay": 0.01}),
    ("adam", 0.05, {}), ("adam", 0.05, {"amsgrad": True, "weight_decay": 0.1, "betas": (0.8, 0.99)}),
    ("adamw", 0.05, {}), ("adamw", 0.05, {"amsgrad": True, "weight_decay": 0.5}),
    ("adadelta", None, {}), ("adadelta", 0.5, {"rho": 0.8, "weight_decay": 0.1}),
    ("adamax", 0.05, {}), ("adamax", 0.05, {"weight_decay": 0.1}),
    ("nadam", 0.05, {}), ("nadam", 0.05, {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("nadam", 0.05, {"weight_decay": 0.1}),
    ("radam", 1e-4, {}), ("radam", 1e-4, {"weight_decay": 0.1, "decoupled_weight_decay": True}),
    ("lbfgs", None, {}), ("lbfgs", 0.5, {"history_size": 3, "max_iter": 4}),
    ("lbfgs", None, {"line_search_fn": "strong_wolfe"}),
]


STARTS = {"rosenbrock": (-1.5, 2.0), "beale": (1.0, 1.5), "tiny": (1.0, 1.0)}
# gradients of about 1e-6, where it shows whether eps goes inside or outside a square root
TINY = "1e-6 * (x**2 + 3*y**2)"
TORCH["tiny"] = torch_expression(TINY)


# on the tiny surface the plain SGD family does not move (a step is lr times 1e-6) and L-BFGS stops at once
# (its loss changes by less than tolerance_change): the other surfaces test them
PAIRS = [pytest.param(function, *case, id=f"{function}-{case[0]}-{k}") for function in STARTS
         for k, case in enumerate(CASES)
         if function != "tiny" or case[0] not in ("sgd", "momentum", "nesterov", "lbfgs")]


@pytest.mark.parametrize("function, name, lr, hyper", PAIRS)
def test_the_numpy_optimizers_follow_torch_optim(function, name, lr, hyper):
    steps = 200 if name != "lbfgs" else 10
    if name == "lbfgs" and function == "rosenbrock" and "line_search_fn" not in hyper:
        # full steps of lr 1 without a line search are chaotic here: torch's add_(alpha=) is a fused
        # multiply-add, numpy's is not, and that last-bit difference grows tenfold every few iterations
        # (torch against itself with a gradient rounded differently drifts as much); one step is max_iter iterations
        steps = 1
    start = STARTS[function]
    problem = surface("expression", expression=TINY) if function == "tiny" else function
    mine_p, mine_l = npoptim.run(problem, name, lr, start, steps, **hyper)
    want_p, want_l = torch_run(function, name, lr, start, steps, **hyper)
    assert len(mine_p) == steps + 1 and np.isfinite(want_p).all()
    assert np.abs(mine_p[-1] - mine_p[0]).max() > 1e-4  # it moved: the comparison means something
    np.testing.assert_allclose(mine_p, want_p, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mine_l, want_l, rtol=1e-9, atol=1e-12)


def test_lbfgs_reaches_the_minimum_like_torch():
    p, loss = npoptim.run("rosenbrock", "lbfgs", None, None, 30, line_search_fn="strong_wolfe")
    assert np.allclose(p[-1], (1, 1), atol=1e-4) and loss[-1] < 1e-8


def test_a_diverging_run_stops_before_its_first_bad_point():
    p, loss = npoptim.run("rosenbrock", "sgd", 0.01, None, 100)
    assert 1 < len(p) < 101 and len(loss) == len(p)
    assert np.isfinite(p).all() and np.isfinite(loss).all() and np.abs(p).max() <= npoptim.MAX_ABS
    # the next step is the one that leaves: from the last kept point it is not finite or beyond the bound
    full_p, _ = npoptim.run("rosenbrock", "sgd", 0.01, None, len(p) - 1)
    np.testing.assert_array_equal(full_p, p)


def test_leaving_the_domain_does_not_stop_a_run():
    p, _ = npoptim.run("saddle", "sgd", 0.05, None, 200)
    assert len(p) == 201 and abs(p[-1, 1]) > 2  # far out along -y^2, still recorded


@pytest.mark.parametrize("call, message", [
    (lambda: npoptim.run("rosenbrock", "adamx", 0.1), "optimizer: unknown optimizer 'adamx'; allowed: sgd"),
    (lambda: npoptim.run("rosenbrock", "adam", 0.1, betas2=0.9), "optimizer adam: no option 'betas2'; allowed: lr"),
    (lambda: npoptim.run("rosenbrock", "adam", 0.1, start=(9, 9)), "problem.start: [9.0, 9.0] is outside"),
    (lambda: npoptim.run("banana", "adam", 0.1), "problem.function: unknown function 'banana'"),
])
def test_bad_runs_name_their_key(call, message):
    with pytest.raises(InputError) as err:
        call()
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_options_are_torchs_names_and_defaults():
    for name, cls in [("adam", torch.optim.Adam), ("rmsprop", torch.optim.RMSprop), ("adagrad", torch.optim.Adagrad),
                      ("adadelta", torch.optim.Adadelta), ("adamax", torch.optim.Adamax), ("nadam", torch.optim.NAdam),
                      ("radam", torch.optim.RAdam), ("adamw", torch.optim.AdamW), ("lbfgs", torch.optim.LBFGS),
                      ("sgd", torch.optim.SGD)]:
        theirs = inspect.signature(cls).parameters
        mine = inspect.signature(npoptim.OPTIMIZERS[name]).parameters
        for key, parameter in mine.items():
            assert key in theirs, (name, key)
            assert parameter.default == theirs[key].default, (name, key)


def test_the_surfaces_optimizers_slices_and_paths_panel_import_no_torch(tmp_path):
    from conftest import run_python
    done = run_python("import sys; sys.modules['torch'] = None\n"
                      "import polyanim.surfaces, polyanim.npoptim, polyanim.landscape, polyanim.panels.paths\n"
                      "p, loss = polyanim.npoptim.run('beale', 'lbfgs', None, None, 3)\n"
                      "print(len(loss), 'polyanim.train' in sys.modules)", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4", "False"]
