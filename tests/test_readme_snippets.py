"""Every Python snippet in the README runs as written, in a fresh interpreter, from a clean folder."""

import re

import pytest

from conftest import ROOT, make_history, make_runset, run_python
from polyanim.registry.formats import FORMATS

# the README's, and those in the guide and the History format page (meant to be copied)
SNIPPETS = [code for page in ("README.md", "docs/guide.md", "docs/history-format.md")
            for code in re.findall(r"```python\n(.*?)```", (ROOT / page).read_text(encoding="utf-8"), re.S)]


def test_the_readme_has_python_snippets():
    assert any("polyanim.Recorder(" in s for s in SNIPPETS)


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{k}" for k in range(len(SNIPPETS))])
def test_readme_snippet_runs(tmp_path, code):
    # what a reader has after the README's first command: a demo history in outputs/
    make_history(frames=4).save(tmp_path / "outputs" / "sin.history.npz")
    make_runset().save(tmp_path / "outputs" / "lr_sweep.history.npz")
    _field_history().save(tmp_path / "outputs" / "moons.history.npz")  # what configs/moons.yaml writes
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    for name in re.findall(r'"(outputs/[\w.]+(?:' + "|".join(map(re.escape, FORMATS)) + '))"', code):
        assert (tmp_path / name).stat().st_size > 0


def _field_history():
    """A small two-input History, as ``polyanim configs/moons.yaml`` would write it (without training)."""
    import numpy as np

    import polyanim
    from polyanim import datasets

    X, labels = datasets.make("moons", 40, 0.1, 0)
    rec = polyanim.Recorder(X, labels, resolution=8, every=1)
    for step in range(3):
        rec.add(step, loss=1.0 / (step + 1), pred=np.full(64, 0.5), acc=0.5 + 0.1 * step, final=step == 2)
    return rec.history()
