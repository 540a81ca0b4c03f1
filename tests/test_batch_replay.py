"""A batch replays a History through the library's own path: the same pixels as ``polyanim.render``.

It used to rebuild a full default config from the History and write it back, so a Recorder History
of a cos target was drawn as "target: sin(x)", with a polynomial equation and Taylor lines.
"""

import numpy as np
import pytest
from PIL import Image

import polyanim

PANELS = ["fit", "loss", "params"]


def recorded_cos(path, target, label):
    """A Recorder History of a non-default target (cos), with two parameters per snapshot."""
    x = np.linspace(-2, 2, 60)
    rec = polyanim.Recorder(x, target(x) if callable(target) else target, every=1, label=label, name="cosfit")
    for step in range(4):
        rec.add(step, loss=1.0 / (step + 1), pred=0.25 * step * np.cos(x), params=[0.1 * step, 0.25 * step])
    rec.history().save(path)
    return path


@pytest.mark.parametrize("target, label", [(np.cos, None), ("cos(x)", "cosine wave")])
def test_a_batch_render_of_a_recorder_history_equals_polyanim_render(tmp_path, target, label):
    (tmp_path / "in").mkdir()
    src = recorded_cos(tmp_path / "in" / "cosfit.history.npz", target, label)
    direct = polyanim.render(src, tmp_path / "direct.png", size=(320, 240), panels=PANELS)
    results = polyanim.batch(tmp_path / "in", tmp_path / "out", formats="png", workers=1,
                             sets={"render.size": [320, 240], "render.panels": PANELS})
    assert [(r.name, r.status) for r in results] == [("cosfit", "ok")]
    batch = tmp_path / "out" / "cosfit.png"
    np.testing.assert_array_equal(np.asarray(Image.open(batch)), np.asarray(Image.open(direct)))
