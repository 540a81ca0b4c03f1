"""Registries: every part is one class plus one table line, and config and docs read the tables.

Each extension test registers a dummy entry at run time (monkeypatch) and shows
that config validation accepts its name and the code that builds parts uses it,
with no other edit.
"""

import dataclasses
import runpy
import sys

import numpy as np
import pytest
import torch

from conftest import ROOT, run_python
from polyanim import config, models
from polyanim.panels.registry import PANELS, PanelSpec
from polyanim.registry import Entry, load
from polyanim.registry.formats import FORMATS, FormatSpec
from polyanim.registry.models import MODELS, ModelSpec
from polyanim.registry.optimizers import OPTIMIZERS, SCHEDULES, OptimizerSpec
from polyanim.renderer import render
from polyanim.train import train
from polyanim.writers import Writer, writer_for

HERE = __name__  # this module, importable by the tables' "module:name" paths


def tiny(**sections):
    base = {"data": {"points": 50}, "train": {"steps": 6, "record_every": 2, "log_every": 0}}
    for key, values in sections.items():
        base[key] = {**base.get(key, {}), **values}
    return config.from_dict(base)


def test_config_choices_are_the_tables_and_import_neither_torch_nor_matplotlib(tmp_path):
    assert config.MODEL_KINDS == tuple(MODELS) and config.OPTIMIZERS == tuple(OPTIMIZERS)
    assert config.SCHEDULES == tuple(SCHEDULES) and config.PANELS == tuple(PANELS)
    assert set(config.ACTIVATIONS) == set(models.ACTIVATIONS)
    done = run_python("import sys, polyanim.config as c; c.from_dict({'model': {'kind': 'mlp'}, "
                      "'train': {'optimizer': 'adam', 'schedule': 'cosine'}}); "
                      "print(sorted({'torch', 'matplotlib', 'polyanim.writers'} & set(sys.modules)))", tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


def test_every_entry_loads_and_follows_its_protocol():
    for spec in FORMATS.values():
        assert issubclass(load(spec.path), Writer)
    for spec in MODELS.values():
        assert spec.inputs and set(spec.inputs) <= {1, 2}
        assert 1 not in spec.inputs or callable(load(spec.path).from_config)
        assert 2 not in spec.inputs or callable(spec.field_class().from_field)
    for spec in OPTIMIZERS.values():
        assert callable(load(spec.path))
    for spec in SCHEDULES.values():
        assert spec.path is None or all(callable(getattr(load(spec.path), m)) for m in ("torch", "next_lr"))


def test_docs_config_md_is_what_the_script_generates():
    make = runpy.run_path(str(ROOT / "docs" / "make_config.py"))
    text = (ROOT / "docs" / "config.md").read_text(encoding="utf-8")
    assert make["render_page"](text) == text, "docs/config.md is stale: run python docs/make_config.py"
    for table in (FORMATS, MODELS, OPTIMIZERS, SCHEDULES, PANELS):
        assert all(f"| `{name}` |" in text for name in table)


def test_readme_format_table_is_what_the_script_generates_from_the_registry():
    # generated, so a new format is its module and its registry line, then one rerun of the script
    make = runpy.run_path(str(ROOT / "docs" / "make_config.py"))
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert make["render_readme"](text) == text, "README.md's format table is stale: run python docs/make_config.py"
    table = text.split("| suffix | what you get |", 1)[1].split("<!-- end generated -->", 1)[0]
    assert [row.split("`")[1] for row in table.strip().splitlines()[1:]] == list(FORMATS)


def test_gallery_shows_images_before_videos_and_links_pages():
    from polyanim.gallery import _media

    assert _media(["a.mp4", "a.webp", "a.html"], "a").startswith('<img src="a.webp"')
    assert _media(["a.html", "a.webm"], "a").startswith('<video src="a.webm"')
    assert _media(["a.html"], "a") == ""


# --- one registration line each ------------------------------------------------------------------

class RawWriter(Writer):
    """A dummy format: the RGBA frames back to back."""

    def open(self, target) -> None:
        super().open(target)
        self.fh = open(target, "wb")

    def write(self, frame) -> None:
        self.fh.write(bytes(frame))

    def close(self) -> None:
        self.fh.close()

    def abort(self) -> None:
        self.fh.close()


def test_a_registered_format_is_accepted_and_written(monkeypatch, tmp_path, history, small_render):
    from polyanim.writers import UnsupportedFormat

    with pytest.raises(UnsupportedFormat):
        writer_for("a.raw")
    monkeypatch.setitem(FORMATS, ".raw", FormatSpec(f"{HERE}:RawWriter", "raw RGBA frames", alpha=False))
    assert writer_for("a.raw") is RawWriter
    out = render(history, tmp_path / "a.raw", small_render, quiet=True)
    w, h = small_render.size
    assert out.stat().st_size % (w * h * 4) == 0 and out.stat().st_size >= len(history) * w * h * 4
    transparent = dataclasses.replace(small_render, theme="transparent")
    with pytest.raises(UnsupportedFormat, match=r"b\.raw: render\.theme transparent.*\.raw has none"):
        render(history, tmp_path / "b.raw", transparent, quiet=True)


class Constant(torch.nn.Module):
    """A dummy model: one number for every x."""

    def __init__(self):
        super().__init__()
        self.c = torch.nn.Parameter(torch.zeros(()))

    @classmethod
    def from_config(cls, m, domain):
        return cls()

    def forward(self, x):
        return self.c * torch.ones_like(x)

    def string(self):
        return f"y = {self.c.item()}"


def test_a_registered_model_is_accepted_and_trained(monkeypatch):
    with pytest.raises(config.ConfigError, match="model.kind: must be one of"):
        tiny(model={"kind": "constant"})
    monkeypatch.setitem(MODELS, "constant", ModelSpec(f"{HERE}:Constant", "one number", params=lambda m: 1))
    h = train(tiny(model={"kind": "constant"}, train={"lr": 0.01}), quiet=True)
    assert np.ptp(h.pred[-1]) == 0 and h.pred[-1][0] != 0  # flat, and moved from 0


def frozen(t, params, decay):
    """A dummy optimizer that never moves anything."""
    return torch.optim.SGD(params, lr=0.0)


def test_a_registered_optimizer_is_accepted_and_used(monkeypatch):
    with pytest.raises(config.ConfigError, match="train.optimizer: must be one of"):
        tiny(train={"optimizer": "frozen"})
    monkeypatch.setitem(OPTIMIZERS, "frozen", OptimizerSpec(f"{HERE}:frozen", "never moves", decay=None))
    with pytest.raises(config.ConfigError, match="weight_decay: frozen has no weight decay"):
        tiny(train={"optimizer": "frozen", "weight_decay": 0.1})
    h = train(tiny(train={"optimizer": "frozen", "lr": 0.01}), quiet=True)
    np.testing.assert_array_equal(h.pred[0], h.pred[-1])


class Halving:
    """A dummy schedule: the lr halves every step."""

    def __init__(self, t):
        pass

    def torch(self, optimizer):
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=0.5)

    def next_lr(self, lr, e, base):
        return lr * 0.5


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])  # the hand-written SGD's recurrence, and torch's
def test_a_registered_schedule_is_accepted_and_used(monkeypatch, optimizer):
    with pytest.raises(config.ConfigError, match="train.schedule: must be one of"):
        tiny(train={"schedule": "halving"})
    monkeypatch.setitem(SCHEDULES, "halving", Entry(f"{HERE}:Halving", "halves the lr every step"))
    h = train(tiny(train={"optimizer": optimizer, "schedule": "halving", "lr": 0.01}), quiet=True)
    np.testing.assert_allclose(h.lr[:3], [0.01 * 0.5 ** s for s in h.steps[:3]])


def test_a_registered_panel_is_accepted_by_config(monkeypatch):
    with pytest.raises(config.ConfigError, match="render.panels"):
        config.from_dict({"render": {"panels": ["fit", "grad"]}})
    monkeypatch.setitem(PANELS, "grad", PanelSpec("polyanim.panels.loss:LossPanel", "the gradient norm"))
    assert config.from_dict({"render": {"panels": ["fit", "grad"]}}).render.panels == ("fit", "grad")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))


@pytest.mark.parametrize("name", ["adagrad", "adadelta", "adamax", "nadam", "radam"])
def test_the_torch_optimizers_a_race_names_train_a_curve_too(name):
    # one train.optimizer, one update, whether the run is a race (numpy) or a fit (torch.optim)
    h = train(tiny(train={"optimizer": name, "lr": 1.0 if name == "adadelta" else 0.01, "loss": "mse_mean"}), quiet=True)
    assert np.isfinite(h.loss).all() and h.loss[-1] < h.loss[0]
