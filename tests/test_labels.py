"""render.labels and render.colors (issue 16 item 20): checked like other keys, drawn by the frames and the player."""

from __future__ import annotations

import numpy as np
import pytest

import polyanim
from polyanim.config import ConfigError, from_dict, render_settings
from polyanim.history import RunSet
from polyanim.html import html_page
from polyanim.scene import Scene

from test_html import EVIL, cubic_history, embedded_data, panel

LABELS = {"x": "input x", "y": "output $y$", "target": "truth", "prediction": "model", "loss": "MSE"}


def _texts(scene) -> dict:
    fit, loss = scene.fig.axes[:2]
    legend = [t.get_text() for t in fit.get_legend().get_texts()]
    return {"x": fit.get_xlabel(), "y": fit.get_ylabel(), "legend": legend, "loss": loss.get_ylabel()}


def test_labels_reach_the_frames():
    h = cubic_history(frames=4)
    scene = Scene(h, render_settings({"labels": LABELS, "size": (320, 240)}))
    assert _texts(scene) == {"x": "input x", "y": "output $y$", "legend": ["truth: sin(x)", "model"], "loss": "MSE"}
    default = Scene(h, render_settings({"size": (320, 240)}))
    assert _texts(default) == {"x": "x", "y": "", "legend": ["target: sin(x)", "prediction"], "loss": "loss"}


def test_colors_reach_the_frames(tmp_path):
    h = cubic_history(frames=4)
    picture = next(iter(polyanim.frames(h, size=(320, 240), colors={"target": "#00ff00", "prediction": "#ff00ff"})))
    rgb = picture[..., :3].reshape(-1, 3).astype(int)
    assert ((rgb == [0, 255, 0]).all(axis=1)).sum() > 20 and ((rgb == [255, 0, 255]).all(axis=1)).sum() > 20
    plain = next(iter(polyanim.frames(h, size=(320, 240))))[..., :3].reshape(-1, 3).astype(int)
    assert not (plain == [0, 255, 0]).all(axis=1).any()


def test_the_player_follows_them_and_escapes_them():
    page = html_page(cubic_history(frames=4), size=(320, 240), labels={**LABELS, "x": EVIL},
                     colors={"target": "#00ff00", "prediction": "#ff00ff", "runs": []})
    assert EVIL not in page and "<script>alert" not in page  # the JSON blob escapes < > &
    data = embedded_data(page)
    fit = panel(data, "fit")
    assert fit["axes"]["xlabel"] == EVIL and fit["axes"]["ylabel"] == "output y"
    assert [(i["text"], i["color"]) for i in fit["legend"]["items"]] == [("truth: sin(x)", "#00ff00"),
                                                                        ("model", "#ff00ff")]
    assert panel(data, "loss")["axes"]["ylabel"] == "MSE"
    assert data["runs"][0]["color"] == "#ff00ff" and data["colors"]["target"] == "#00ff00"


def test_runs_palette_in_frames_and_player():
    a, b = cubic_history(frames=4), cubic_history(frames=4)
    runs = RunSet([("a", a), ("b", b)])
    settings = render_settings({"colors": {"runs": ["#123456", "#abcdef"]}, "size": (320, 240)})
    scene = Scene(runs, settings)
    data = embedded_data(html_page(runs, size=(320, 240), colors={"runs": ["#123456"]}))
    assert [r["color"] for r in data["runs"]] == ["#123456", "#123456"]  # fewer colours than runs repeat
    assert scene._view.colors == ["#123456", "#abcdef"]


@pytest.mark.parametrize("options, key", [
    ({"colors": {"target": "rgb(1,2,3)"}}, "colors.target"),
    ({"colors": {"runs": ["#12345"]}}, "colors.runs"),
    ({"colors": {"runs": ["red"] * 9}}, "colors.runs"),
    ({"labels": {"x": "a" * 81}}, "labels.x"),
    ({"labels": {"loss": "$\\frac{$"}}, "labels.loss"),
    ({"labels": {"z": "q"}}, "labels.z"),
    ({"labels": {"x": 3}}, "labels.x"),
])
def test_bad_values_are_one_line_naming_the_key(options, key):
    with pytest.raises(ConfigError) as info:
        render_settings(options)
    assert "\n" not in str(info.value) and key in str(info.value)


def test_set_and_the_flat_alias_message(tmp_path):
    config = from_dict({}, overrides=["render.labels.x=input x", "render.colors.runs=['#ff0000', blue]"])
    assert config.render.labels.x == "input x" and config.render.colors.runs == ("#ff0000", "blue")
    with pytest.raises(polyanim.InputError, match=r"render\.labels\.x") as info:
        polyanim.render(cubic_history(frames=3), tmp_path / "x.png", xlabel="input x")
    assert "\n" not in str(info.value) and not list(tmp_path.iterdir())


def test_saved_labels_are_kept_when_one_is_given():
    saved = {"labels": {"x": "input x", "loss": "MSE"}}
    merged = render_settings({"labels": {"x": "u"}}, saved=saved)
    assert (merged.labels.x, merged.labels.loss) == ("u", "MSE")


def test_a_replay_takes_a_dotted_label_key_as_a_config_does(tmp_path, capsys):
    # --set render.labels.x=... on a saved History: the key docs/config.md lists, merged with the saved labels
    from polyanim.api import resolve_sets
    from polyanim.cli import main

    h = cubic_history(frames=3)
    h.meta["config"] = {"render": {"labels": {"loss": "MSE"}}}
    _, settings = resolve_sets(h, ["render.labels.x=input x", "render.fps=12"])
    assert (settings.labels.x, settings.labels.loss, settings.fps) == ("input x", "MSE", 12)
    path = tmp_path / "h.history.npz"
    h.save(path)
    assert main([str(path), "--out", str(tmp_path / "a.png"), "--quiet", "--set", "render.labels.x=input x"]) == 0
    assert main([str(path), "--out", str(tmp_path / "b.png"), "--quiet", "--set", "render.labels.z=q"]) == 2
    err = capsys.readouterr().err.strip()
    assert "render.labels.z: unknown key" in err and "\n" not in err and not (tmp_path / "b.png").exists()
