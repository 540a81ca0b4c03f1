"""The player lays its panels out as the frames do (issue 16 item 23): stacked axes share their left edge."""

from __future__ import annotations

import json

import numpy as np

import pytest

from polyanim.config import render_settings
from polyanim.html import write_html
from polyanim.scene import Scene

from test_html import browser, cubic_history, embedded_data, open_page  # noqa: F401  (browser: the shared fixture)


@pytest.mark.parametrize("panels", [("fit", "loss"), ("fit", "loss", "params")])
def test_stacked_axes_share_the_left_edge_as_in_the_frames(browser, tmp_path, panels):  # noqa: F811
    size = (480, 360)
    out = tmp_path / "run.html"
    write_html(cubic_history(frames=5), out, title="", fps=10, size=size, panels=panels)
    page, errors = open_page(browser, out)
    boxes = {b["name"]: b["box"] for b in json.loads(page.locator("#plot").get_attribute("data-boxes"))}
    frame = Scene(cubic_history(frames=5), render_settings({"size": size, "panels": list(panels)}))
    frame.frame(0)
    frame_left = {name: ax.get_position().x0 * size[0] for name, ax in zip(panels, frame.fig.axes)}
    cells = {p["name"]: p["cell"][0] for p in embedded_data(out.read_text(encoding="utf-8"))["panels"]}
    columns = [[p for p in panels if cells[p] == x] for x in set(cells.values())]
    stacked = [col for col in columns if len(col) > 1]
    assert stacked  # the case the issue measured: a panel under another
    for col in stacked:
        # the frames: a column's axes start at one x (constrained layout aligns them), and so must the player's
        assert max(frame_left[p] for p in col) - min(frame_left[p] for p in col) < 1
        assert max(boxes[p]["x"] for p in col) - min(boxes[p]["x"] for p in col) < 1
    assert errors == []


def _params_legend(history, size=(480, 360)):
    """The params legend's corner in the frames and in the player, and how many of the coefficients' path points
    fall under the frame's legend box."""

    from polyanim.html import html_page
    from test_html import embedded_data, panel

    scene = Scene(history, render_settings({"size": size, "panels": ["fit", "params"]}))
    scene.frame(len(history) - 1)
    ax = scene.fig.axes[1]
    box = ax.get_legend().get_window_extent(scene.canvas.get_renderer())
    inside = 0
    for k in range(history.params.shape[1]):
        xy = ax.transData.transform(np.stack([history.steps, history.params[:, k]], axis=1))
        under = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
        inside += int(np.count_nonzero(under))
    player = panel(embedded_data(html_page(history, size=size, panels=["fit", "params"])), "params")
    codes = {v: k for k, v in __import__("matplotlib").legend.Legend.codes.items()}
    return codes[ax.get_legend()._loc], player["legend"]["place"], inside


def test_params_legend_sits_in_the_quiet_corner():
    h = cubic_history(frames=30)
    h.params[:, 0] = np.linspace(0.0, 1.0, len(h))  # the first coefficient climbs into the upper right
    h.params[:, 1:] = -1.0
    frames_corner, player_corner, inside = _params_legend(h)
    assert frames_corner == player_corner != "upper right"
    assert inside == 0


@pytest.mark.parametrize("span, labelled", [((0.6, 0.09), [0.1, 0.2, 0.5])])
def test_a_log_loss_axis_under_a_decade_is_not_crowded(span, labelled):
    from polyanim.html import html_page
    from test_html import panel

    h = cubic_history(frames=10)
    h.loss[:] = np.geomspace(*span, len(h))
    scene = Scene(h, render_settings({"size": (480, 360)}))
    scene.frame(0)
    ax = scene.fig.axes[1]
    lo, hi = ax.get_ylim()
    major, minor = ax.yaxis.get_major_formatter(), ax.yaxis.get_minor_formatter()
    shown = [v for v in ax.yaxis.get_majorticklocs() if lo <= v <= hi and major(v)]
    shown += [v for v in ax.yaxis.get_minorticklocs() if lo <= v <= hi and minor(v)]
    assert 2 <= len(shown) <= 4  # matplotlib's default labelled each of 1.2, 1.3, ... 1.7 x 10^-1
    player = [t["v"] for t in panel(embedded_data(html_page(h, size=(480, 360))), "loss")["axes"]["yticks"]]
    if labelled:
        assert sorted(shown) == pytest.approx(labelled) and player == pytest.approx(labelled)
    else:
        assert 2 <= len(player) <= 4
