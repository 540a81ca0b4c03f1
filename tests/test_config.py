import math

import pytest
from hypothesis import given, settings, strategies as st

from polyanim import config, targets
from polyanim.config import ConfigError


def write(tmp_path, text, name="c.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def error(fn, *a, **kw):
    with pytest.raises(ConfigError) as info:
        fn(*a, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_defaults_are_the_post():
    c = config.from_dict({})
    assert c.data.target == "sin(x)" and c.data.points == 2000
    assert c.data.domain == (-math.pi, math.pi)
    assert (c.train.steps, c.train.lr, c.train.optimizer, c.train.loss) == (2000, 1e-6, "sgd", "mse_sum")
    assert c.model.degree == 3 and c.train.record_every == 100


def test_shipped_configs_load():
    seed = config.load("configs/seed.yaml")
    sin = config.load("configs/sin.yaml")
    assert seed.name == "seed" and seed.train.record_every == 100 and seed.seed == 0
    assert sin.train.steps == seed.train.steps and sin.train.lr == seed.train.lr
    frames = sin.train.steps // sin.train.record_every + 1
    assert 5 <= frames / sin.render.fps + sin.render.hold <= 10


def test_name_defaults_to_file_stem(tmp_path):
    assert config.load(write(tmp_path, "seed: 1\n", "my_run.yaml")).name == "my_run"


def test_scientific_notation_and_constant_expressions(tmp_path):
    c = config.load(write(tmp_path, "train: {lr: 1e-6}\ndata: {domain: [-2*pi, pi/2]}\n"))
    assert c.train.lr == 1e-6 and c.data.domain == (-2 * math.pi, math.pi / 2)


@pytest.mark.parametrize("text, key, fragment", [
    ("train: {steps: 0}", "train.steps", "> 0"),
    ("train: {lr: 0}", "train.lr", "> 0"),
    ("train: {lr: -1e-3}", "train.lr", "> 0"),
    ("train: {steps: 10, record_every: 20}", "train.record_every", "<= train.steps"),
    ("data: {points: 1}", "data.points", "between 2 and 200000"),
    ("data: {points: 1000000000}", "data.points", "between 2 and 200000"),
    ("seed: -1", "seed", "between 0 and"),
    ("seed: 100000000000000000000000", "seed", "between 0 and"),
    ("render: {size: [32, 32]}", "render.size", "between 64 and 7680"),
    ("render: {fps: 1000}", "render.fps", "between 0.1 and 120"),
    ("render: {duration: 2, hold: 1.5, hold_start: 0.5}", "render.duration", "leaves no time for motion"),
    ("data: {target: 'x * 10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000'}", "data.target", "too large for a float"),
    ("render: {fps: 0}", "render.fps", "between 0.1 and 120"),
    ("data: {domain: [1, -1]}", "data.domain", "low must be < high"),
    ("data: {domain: [1, 1]}", "data.domain", "low must be < high"),
    ("train: {optimizer: adabelief}", "train.optimizer", "sgd, adam"),
    ("train: {loss: l1}", "train.loss", "mse_sum, mse_mean"),
    ("train: {steps: ten}", "train.steps", "whole number"),
    ("train: {steps: 1.5}", "train.steps", "whole number"),
    ("train: {lr: fast}", "train.lr", "expected a number"),
    ("render: {size: [640]}", "render.size", "2 values"),
    ("render: {panels: [fit, fit]}", "render.panels", "at most once"),
    ("data: {target: 'log(x)'}", "data.target", "not finite on the domain"),
    ("train: 5", "train", "expected a section"),
    ("model: {kind: spline}", "model.kind", "polynomial, legendre, chebyshev, mlp"),
    ("model: {degree: -1}", "model.degree", ">= 0"),
    ("model: {hidden: []}", "model.hidden", "one or more layer widths"),
    ("model: {hidden: [32, 0]}", "model.hidden", "between 1 and 4096"),
    ("model: {hidden: 32}", "model.hidden", "expected a list"),
    ("model: {activation: swish}", "model.activation", "tanh, relu, gelu, sin"),
    ("train: {optimizer: adabelief}", "train.optimizer", "sgd, adam, adamw, rmsprop, adagrad, adadelta, adamax, nadam, radam, lbfgs"),
    ("train: {momentum: -0.1}", "train.momentum", ">= 0"),
    ("train: {nesterov: 1}", "train.nesterov", "true or false"),
    ("train: {nesterov: true}", "train.nesterov", "needs train.momentum > 0"),
    ("train: {weight_decay: -1}", "train.weight_decay", ">= 0"),
    ("train: {optimizer: lbfgs, weight_decay: 0.1}", "train.weight_decay", "lbfgs has no weight decay"),
    ("train: {schedule: linear}", "train.schedule", "none, step, cosine, exponential"),
    ("train: {step_size: 0}", "train.step_size", "> 0"),
    ("train: {gamma: 0}", "train.gamma", "> 0"),
    ("train: {lr_min: -1}", "train.lr_min", ">= 0"),
    ("train: {schedule: cosine, lr: 0.01, lr_min: 0.1}", "train.lr_min", "<= train.lr"),
    ("train: {record: sometimes}", "train.record", "every, log, adaptive"),
    ("train: {frames: 1}", "train.frames", ">= 2"),
    ("train: {record_threshold: 0}", "train.record_threshold", "> 0"),
    ("train: {max_frames: 1}", "train.max_frames", ">= 2"),
    ("data: {samples: 1}", "data.samples", ">= 2"),
    ("data: {sampling: random}", "data.sampling", "grid, uniform"),
    ("data: {train_domain: [1, -1]}", "data.train_domain", "low must be < high"),
    ("data: {train_domain: [0, 9]}", "data.train_domain", "inside data.domain"),
    ("data: {points: 10, train_domain: [0, 0.1]}", "data.train_domain", "holds 0 of the 10 grid points"),
])
def test_bad_values_name_file_key_and_rule(tmp_path, text, key, fragment):
    p = write(tmp_path, text + "\n")
    msg = error(config.load, p)
    assert msg.startswith(f"{p}: {key}: ")
    assert fragment in msg


def test_unknown_key_suggests_closest(tmp_path):
    p = write(tmp_path, "train:\n  lrr: 0.1\n")
    msg = error(config.load, p)
    assert f"{p}: train.lrr: unknown key; did you mean 'train.lr'?" in msg
    assert "record_every" in msg  # lists what is allowed
    assert "did you mean 'render'" in error(config.load, write(tmp_path, "rendr: {}\n"))


def test_missing_and_malformed_files(tmp_path):
    assert "no such config file" in error(config.load, tmp_path / "nope.yaml")
    msg = error(config.load, write(tmp_path, "train: [1, 2\n"))
    assert "malformed YAML at line" in msg
    assert "expected a mapping" in error(config.load, write(tmp_path, "- 1\n- 2\n"))


def test_empty_file_is_all_defaults(tmp_path):
    assert config.load(write(tmp_path, "", "empty.yaml")) == config.from_dict({"name": "empty"})


def test_set_overrides_go_through_validation(tmp_path):
    p = write(tmp_path, "train: {lr: 1.0e-6}\n")
    c = config.load(p, ["train.lr=1e-5", "render.fps=20", "render.size=[320, 240]", "seed=null"])
    assert (c.train.lr, c.render.fps, c.render.size, c.seed) == (1e-5, 20.0, (320, 240), None)
    assert error(config.load, p, ["train.lr=-1"]) == "--set: train.lr: must be > 0"
    assert "did you mean 'train.lr'" in error(config.load, p, ["train.lrr=1"])
    assert "expected KEY=VALUE" in error(config.load, p, ["train.lr"])
    assert "unknown key" in error(config.load, p, ["nosuch.key=1"])


def test_precedence_defaults_file_command_line(tmp_path):
    p = write(tmp_path, "train: {steps: 500}\n")
    assert config.load(p).train.steps == 500
    assert config.load(p, ["train.steps=700"]).train.steps == 700
    assert config.load(p).train.lr == 1e-6  # default survives


def test_round_trip_through_dict():
    c = config.load("configs/sin.yaml")
    assert config.from_dict(c.to_dict()) == c


def test_reference_covers_every_key():
    keys = {k for k, _, doc in config.reference() if doc}
    assert {"data.target", "train.lr", "render.fps", "render.hold", "seed"} <= keys
    assert len(keys) == len(config.reference())


@pytest.mark.parametrize("text", [
    "__import__('os').system('touch /tmp/polyanim-pwned')",
    "x.__class__", "(lambda: 1)()", "open('/etc/passwd')", "[x for x in ()]", "x if x else 1",
    "sin(x, x)", "sin(x=1)", "y", "'text'", "x; 1", "globals()", "e.real",
])
def test_target_parser_rejects_code(tmp_path, text):
    with pytest.raises(targets.ExpressionError):
        targets.parse(text)
    p = write(tmp_path, "data:\n  target: " + repr(text).replace("\\\\", "") + "\n")
    assert ": data.target: " in error(config.load, p)


def test_target_parser_values():
    import numpy as np

    x = np.linspace(-2, 2, 9)
    assert np.allclose(targets.parse("x**2 - 1")(x), x**2 - 1)
    assert np.allclose(targets.parse("sin(x) + 0.5*cos(2*x) - exp(-x**2)/pi")(x),
                       np.sin(x) + 0.5 * np.cos(2 * x) - np.exp(-(x**2)) / np.pi)
    assert np.allclose(targets.parse("abs(x) ** 0.5 + tanh(x) * e")(x), np.abs(x) ** 0.5 + np.tanh(x) * np.e)
    assert targets.constant("-pi") == -math.pi
    assert math.isinf(targets.parse("10**10**10")(x)[0])  # no hang, no exception


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="x()+-*/.,_ 0123456789sincoexplgtabqrdiumport'\"", max_size=40))
def test_target_parser_never_raises_anything_else(text):
    import numpy as np

    try:
        f = targets.parse(text)
    except targets.ExpressionError:
        return
    f(np.linspace(-1, 1, 5))  # whatever parses, evaluates without raising


def test_docs_document_every_key():
    with open("docs/config.md", encoding="utf-8") as fh:
        reference = fh.read()
    missing = [k for k, _, _ in config.reference() if f"| `{k}` |" not in reference]
    assert not missing, f"docs/config.md lacks {missing}"


def test_training_breadth_keys_accept_good_values_and_round_trip(tmp_path):
    p = write(tmp_path, "model: {kind: mlp, hidden: [16, 8], activation: sin}\n"
                        "data: {samples: 50, sampling: uniform, train_domain: [-1, 1]}\n"
                        "train: {optimizer: sgd, momentum: 0.9, nesterov: true, schedule: cosine, lr_min: 1e-8,\n"
                        "        record: log, frames: 40, steps: 10}\n")
    c = config.load(p)
    assert c.model.hidden == (16, 8) and c.data.train_domain == (-1.0, 1.0) and c.train.frames == 40
    assert config.from_dict(c.to_dict(), source=str(p)) == c
    # record_every only has to fit in train.steps when it is used
    assert config.from_dict({"train": {"steps": 10, "record": "log"}}).train.record_every == 100
    assert config.from_dict({"train": {"steps": 10, "frames": 5}}).train.frames == 5
    assert "--set: train.nesterov: needs" in error(config.load, p, ["train.momentum=0"])
    assert config.from_dict({"data": {"samples": None}}).data.samples is None


def test_new_target_samples_are_checked_for_finiteness(tmp_path):
    p = write(tmp_path, "data: {target: 'log(x)', domain: [0.5, 2], points: 4, samples: 5}\n")
    assert config.load(p).data.samples == 5
    p = write(tmp_path, "data: {target: '1/(x - 1.25)', domain: [0.5, 2], points: 4, samples: 5}\n")
    assert "not finite on the domain" in error(config.load, p)


def test_duplicate_keys_are_an_error_not_last_wins(tmp_path):
    msg = error(config.load, write(tmp_path, "train:\n  lr: 1.0e-6\n  lr: 2.0e-6\n"))
    assert "line 3" in msg and "'lr' appears twice" in msg


def test_set_takes_text_keys_verbatim(tmp_path):
    p = write(tmp_path, "")
    assert config.load(p, ["render.title=Fit: sin(x)"]).render.title == "Fit: sin(x)"
    assert config.load(p, ["render.title=#1 run"]).render.title == "#1 run"
    assert config.load(p, ["data.target=x**2"]).data.target == "x**2"


def test_unknown_top_level_key_suggests_sweep(tmp_path):
    msg = error(config.load, write(tmp_path, "swep: {}\n"))
    assert "did you mean 'sweep'?" in msg and "runs, sweep)" in msg
