"""A panel added from outside the package (this module) is drawn by every output: the frames (a GIF),
the HTML player in Chromium, and the live window, with no change to polyanim itself.

``ResidualPanel`` is what docs/extending.md walks a newcomer through: one class and one registration.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from conftest import make_history, make_runset
from test_html import browser, embedded_data, open_page, panel, pixels, real  # noqa: F401 (browser: a fixture)
from polyanim import config, live
from polyanim.panels.base import grow, set_limits
from polyanim.panels.registry import PANELS, PanelSpec, register
from polyanim.player_kit import image, legend, series, stroke
from polyanim.renderer import render
from polyanim.style import THEMES, RUN_COLORS, panel_cells

HERE = __name__  # this module, importable by the registry's "module:Class" path


def residual_limits(residuals: np.ndarray) -> tuple[float, float]:
    finite = residuals[np.isfinite(residuals)]
    top = float(np.abs(finite).max()) if finite.size else 1.0
    return -1.1 * top, 1.1 * top


class ResidualPanel:
    """Each run's prediction minus the target over x, the zero line faint: where the fit is still wrong."""

    def setup(self, axes: list, runs: list, view) -> list:
        self.ax = ax = axes[0]
        ax.axhline(0.0, color=view.theme["faint"], linewidth=1)
        self.lines = [ax.plot(run.x, run.pred[0] - run.y, color=color, linewidth=2, zorder=6)[0]
                      for run, color in zip(runs, view.colors)]
        ax.set_xlim(float(runs[0].x[0]), float(runs[0].x[-1]))
        ax.set_ylim(*residual_limits(np.concatenate([run.pred - run.y for run in runs])))
        ax.set_xlabel("x")
        ax.set_ylabel("residual")
        return self.lines

    def update(self, states: list) -> list:
        for line, state in zip(self.lines, states):
            line.set_ydata(state.pred - state.run.y)
            line.set_alpha(state.alpha)
        return self.lines

    def live_limits(self, history, steps: int) -> bool:
        # x is the grid from the start; y widens to the latest residual
        return set_limits(self.ax, None, grow(self.ax.get_ylim(), history.pred[-1] - history.y, log=False))

    @classmethod
    def player(cls, ctx) -> dict:
        runs = ctx.timeline.runs
        x = runs[0].x
        lo, hi = residual_limits(np.concatenate([run.pred - run.y for run in runs]))
        draw = [{"type": "hline", "y": 0.0, **stroke(ctx.ink["faint"], 1)}]
        for k, (run, color) in enumerate(zip(runs, ctx.colors)):
            draw.append({"type": "lines", "run": k, "x": "x", "n": len(x), "y": series(run.pred - run.y, lo, hi),
                         "row": stroke(color, 2, fade=True)})
        return {"axes": ctx.axes((x[0], x[-1]), (lo, hi), xlabel="x", ylabel="residual"),
                "series": {"x": series(x, float(x[0]), float(x[-1]))}, "draw": draw,
                "legend": legend([{"color": ctx.ink["faint"], "text": "zero", "dash": False}], "upper right")}


class NoPlayerPanel(ResidualPanel):
    """A panel that has not written its player hook yet: the page says so instead of breaking."""

    player = None


class SignPanel:
    """Where the prediction lies above the target, as a raster over (x, step): the image draw type."""

    def setup(self, axes: list, runs: list, view) -> list:
        ax = axes[0]
        ax.imshow(self.raster(runs[0]), extent=self.extent(runs[0]), aspect="auto", interpolation="nearest")
        return []

    def update(self, states: list) -> list:
        return []

    @staticmethod
    def raster(run) -> np.ndarray:
        above = (run.pred > run.y)[::-1]  # the last snapshot on top
        rgba = np.zeros(above.shape + (4,), np.uint8)
        rgba[above] = (214, 39, 40, 255)  # tab red
        rgba[~above] = (255, 255, 255, 0)
        return rgba

    @staticmethod
    def extent(run) -> list:
        return [float(run.x[0]), float(run.x[-1]), float(run.steps[0]), float(run.steps[-1])]

    @classmethod
    def player(cls, ctx) -> dict:
        run = ctx.timeline.runs[0]
        extent = cls.extent(run)
        return {"axes": ctx.axes(extent[:2], extent[2:], xlabel="x", ylabel="step"),
                "draw": [image(cls.raster(run), extent)]}


@pytest.fixture
def residual():
    """The residual panel registered for one test (and removed after it)."""
    register("residual", PanelSpec(f"{HERE}:ResidualPanel", "the prediction minus the target over x"))
    register("unplayed", PanelSpec(f"{HERE}:NoPlayerPanel", "a panel without a player hook"))
    register("sign", PanelSpec(f"{HERE}:SignPanel", "where the prediction is above the target", one_run="is one run's"))
    yield "residual"
    del PANELS["residual"], PANELS["unplayed"], PANELS["sign"]


def render_cfg(**options):
    return config.from_dict({"render": {"size": [320, 240], "hold": 0, "fps": 10, **options}}).render


def near(image: np.ndarray, color: str, cell, tol: int = 40) -> int:
    """Pixels of ``image`` (H, W, 3+) near ``color`` inside ``cell`` (left, top, width, height fractions)."""
    h, w = image.shape[:2]
    part = image[int(cell[1] * h): int((cell[1] + cell[3]) * h), int(cell[0] * w): int((cell[0] + cell[2]) * w), :3]
    rgb = np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)])
    return int((np.abs(part.astype(int) - rgb).max(axis=-1) <= tol).sum())


def test_config_accepts_it_and_refuses_it_once_gone(residual):
    assert config.from_dict({"render": {"panels": ["fit", "residual"]}}).render.panels == ("fit", "residual")
    del PANELS["residual"]
    with pytest.raises(config.ConfigError, match="render.panels"):
        config.from_dict({"render": {"panels": ["fit", "residual"]}})
    register("residual", PanelSpec(f"{HERE}:ResidualPanel", "again"))  # for the fixture's clean-up
    with pytest.raises(ValueError, match="panel name"):
        register("no such", PanelSpec(f"{HERE}:ResidualPanel", "a name with a space"))


def test_it_is_drawn_in_a_gif(residual, tmp_path):
    panels = ["fit", "residual"]
    out = tmp_path / "run.gif"
    render(make_history(frames=4), out, render_cfg(panels=panels, workers=1), quiet=True)
    with Image.open(out) as gif:
        gif.seek(gif.n_frames - 1)
        frame = np.asarray(gif.convert("RGB"))
    cell = panel_cells(panels, False)["residual"]
    assert near(frame, THEMES["light"]["pred"], cell) > 100  # the residual curve, in the prediction's colour
    without = tmp_path / "fit.gif"
    render(make_history(frames=4), without, render_cfg(panels=["fit"], workers=1), quiet=True)
    with Image.open(without) as gif:
        assert near(np.asarray(gif.convert("RGB")), THEMES["light"]["pred"], cell) < near(frame, THEMES["light"]["pred"], cell)


def test_the_player_draws_it_with_no_console_error(residual, browser, tmp_path):

    runs = make_runset()
    panels = ["fit", "residual", "loss"]
    out = tmp_path / "runs.html"
    render(runs, out, render_cfg(panels=panels), quiet=True)
    data = embedded_data(out.read_text(encoding="utf-8"))
    p = panel(data, "residual")
    assert p["axes"]["ylabel"] == "residual" and len([it for it in p["draw"] if it.get("row")]) == len(runs.histories)
    cell = p["cell"]
    page, errors = open_page(browser, out)
    page.locator("#slider").fill("4")
    image = pixels(page)
    seen = [near(image, color, cell, tol=12) for color in RUN_COLORS["light"][:len(runs.histories)]]
    assert seen[-1] > 30 and sum(seen) > 60, seen  # the runs' residuals in their colours (the last on top)
    assert near(image, RUN_COLORS["light"][2], (0, 0, 1, 0.6), tol=12) > 30  # and the fit panel still drawn
    assert real(errors) == []
    out = tmp_path / "unplayed.html"
    render(make_history(frames=4), out, render_cfg(panels=["fit", "unplayed"]), quiet=True)
    assert panel(embedded_data(out.read_text(encoding="utf-8")), "unplayed")["empty"]  # said, not broken
    page, errors = open_page(browser, out)
    assert real(errors) == []


def test_an_image_item_is_drawn_by_the_player(residual, browser, tmp_path):
    h = make_history(frames=6)
    out = tmp_path / "sign.html"
    render(h, out, render_cfg(panels=["sign"]), quiet=True)
    page, errors = open_page(browser, out)
    red = near(pixels(page), "#d62728", (0, 0, 1, 1), tol=6)
    above = float((h.pred > h.y).mean())
    assert 0.05 < above < 0.95 and red > 0.3 * above * 320 * 240  # the raster fills its share of the axes
    assert real(errors) == []


def test_it_is_drawn_in_the_live_window_on_its_own_axes(residual):
    from test_live import FakeClock, FakeWindow, snapshots

    cfg = config.from_dict({"render": {"size": [240, 180], "fps": 1, "panels": ["fit", "loss", "residual"]},
                            "train": {"steps": 490, "record_every": 10}})
    clock, window = FakeClock(), FakeWindow()
    x = np.linspace(-np.pi, np.pi, 100)
    view = live.TrainingView(window, cfg, x=x, y=np.sin(x), clock=clock)
    spans = []
    for snap in snapshots(20):
        view(snap)
        clock.now += 1.0
        spans.append(view.scene.axes["residual"].get_ylim())
    ax = view.scene.axes["residual"]
    assert ax.get_xlim() == pytest.approx((-np.pi, np.pi))  # its own x axis, not the steps (0 to 490)
    assert view.scene.axes["loss"].get_xlim() == (0.0, 490.0)
    first = next(iter(snapshots(1)))
    assert spans[-1][0] <= float((first.pred - np.sin(x)).min()) and spans[-1][1] >= 0.0
    assert all(b[0] <= a[0] and b[1] >= a[1] for a, b in zip(spans, spans[1:]))  # only ever widens
    line = view.scene.panels["residual"].lines[0]
    last = np.asarray(line.get_ydata())
    np.testing.assert_allclose(last, view.scene.history.pred[-1] - np.sin(x), atol=1e-6)
    assert view.draws == 20 and window.shown[-1][0] == 19.0


def test_one_run_and_main_are_declared_capabilities(residual):
    """What the built-in panels declare a new one may declare too: one run only refuses several runs
    everywhere with the same words."""
    from polyanim.html import html_page
    from polyanim.scene import Scene

    register("residual", PanelSpec(f"{HERE}:ResidualPanel", "one run's residual", one_run="shows one run's residual"))
    runs = make_runset()
    words = "the residual panel shows one run's residual and is not available"
    with pytest.raises(ValueError, match=words):
        Scene(runs, render_cfg(panels=["fit", "residual"]))
    with pytest.raises(ValueError, match=words):
        html_page(runs, panels=["fit", "residual"])
    with pytest.raises(config.ConfigError, match=words):
        config.from_dict({"runs": [{"label": "a"}, {"label": "b"}], "render": {"panels": ["fit", "residual"]}})
