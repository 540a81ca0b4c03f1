"""The .html player: self-contained, escaped, small, and working in a real browser."""

from __future__ import annotations

import base64
import json
import re
import shutil

import numpy as np
import pytest

from polyanim.history import History
from polyanim.html import player_script, write_html
from polyanim.player_data import MAX_POINTS, MISSING, pack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
EVIL = '</script><script>alert("x")</script> & <b>bold</b>'


def cubic_history(frames=30, n=500, target="sin(x)") -> History:
    """A cubic creeping from a poor guess toward the least-squares fit of sin on [-pi, pi]."""
    x = np.linspace(-np.pi, np.pi, n)
    y = np.sin(x)
    best = np.polyfit(x, y, 3)
    start = np.array([0.3, -0.5, 0.8, 0.2])
    weights = 1 - np.exp(-np.linspace(0, 5, frames))
    params = np.array([(1 - w) * start + w * best for w in weights])
    pred = np.array([np.polyval(p, x) for p in params], dtype=np.float32)
    loss = ((pred - y) ** 2).sum(axis=1)
    config = {"name": "test", "data": {"target": target},
              "render": {"title": "test", "fps": 10, "size": [320, 240]}}
    return History(np.arange(frames) * 100, loss, x, y, pred, params, {"config": config})


def embedded_data(text: str) -> dict:
    blob = re.search(r'<script type="application/json" id="polyanim-data">(.*?)</script>', text, re.S).group(1)
    return json.loads(blob)


def panel(data: dict, name: str) -> dict:
    """The payload of panel ``name``."""
    return next(p for p in data["panels"] if p["name"] == name)


def items(p: dict, kind: str, **match) -> list:
    """The draw items of type ``kind`` of panel payload ``p`` whose keys equal ``match``."""
    return [it for it in p.get("draw", []) if it["type"] == kind and all(it.get(k) == v for k, v in match.items())]


def decoded(s) -> np.ndarray:
    """A packed series of a draw item, decoded."""
    return _unpack(s["b64"], s["lo"], s["hi"])


def test_self_contained_and_escaped(tmp_path):
    out = tmp_path / "run.html"
    write_html(cubic_history(target=EVIL), out, title=EVIL, fps=10, size=(320, 240))
    text = out.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text
    assert not re.search(r"<script[^>]*\ssrc\s*=", text, re.I)
    assert not re.search(r"<(link|img|iframe|object|embed)\b", text, re.I)
    # the title appears only escaped; the only script elements are our two
    assert EVIL not in text
    escaped = "&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    assert f"<title>{escaped}</title>" in text and f"<h1>{escaped}</h1>" in text
    assert len(re.findall(r"<script\b", text, re.I)) == 2
    legend = [item["text"] for item in panel(embedded_data(text), "fit")["legend"]["items"]]
    assert legend == [f"target: {EVIL}", "prediction"]  # survives the JSON escaping intact
    assert [p.name for p in tmp_path.iterdir()] == ["run.html"]  # no temporary file left behind


def test_downsampled_and_quantised_faithfully(tmp_path):
    h = cubic_history(frames=3, n=2001)
    out = tmp_path / "run.html"
    write_html(h, out, title="t", fps=10, size=(640, 480))
    data = embedded_data(out.read_text(encoding="utf-8"))
    assert data["steps"] == [0, 100, 200]
    fit = panel(data, "fit")
    (run,) = [it for it in items(fit, "lines") if it.get("row")]  # the prediction, one row per snapshot
    n, band = run["n"], (run["y"]["lo"], run["y"]["hi"])
    assert n == MAX_POINTS
    pred = decoded(run["y"])[: 3 * n].reshape(3, -1)
    x = decoded(fit["series"]["x"])[:n]
    cols = np.rint(np.linspace(0, 2000, MAX_POINTS)).astype(int)
    np.testing.assert_allclose(x, h.x[cols], atol=(2 * np.pi) / 4094)
    view = fit["axes"]["ylim"][1] - fit["axes"]["ylim"][0]
    inside = (h.pred[:, cols] > band[0]) & (h.pred[:, cols] < band[1])
    np.testing.assert_allclose(pred[inside], h.pred[:, cols][inside], atol=view / 2000)


def test_nan_inf_and_bad_arguments(tmp_path):
    h = cubic_history(frames=5, n=50)
    h.pred[3, 10:20] = np.nan
    h.pred[4, :] = np.inf
    h.loss[4] = np.inf
    out = tmp_path / "run.html"
    write_html(h, out, title="diverged", fps=10, size=(320, 240), theme="dark")
    data = embedded_data(out.read_text(encoding="utf-8"))
    fit = panel(data, "fit")
    assert items(panel(data, "loss"), "lines", run=0)[0]["y"][4] == "inf" and np.isfinite(fit["axes"]["ylim"]).all()
    assert items(fit, "text")[0]["texts"][4] == "t=400, Loss=inf" == data["aria"][4]  # the label is Python's
    (run,) = [it for it in items(fit, "lines") if it.get("row")]
    assert np.isnan(decoded(run["y"])[3 * 50 + 10 : 3 * 50 + 20]).all()
    before = out.read_bytes()
    for bad in ({"theme": "blue"}, {"fps": 0}, {"size": (10, 10)}, {"panels": ["fit", "nope"]}, {"panels": []},
                {"layout": "stack"}):
        kwargs = dict(title="t", fps=10, size=(320, 240)) | bad
        with pytest.raises(ValueError):
            write_html(h, out, **kwargs)
    assert out.read_bytes() == before  # a failed write leaves the old file alone


def test_far_smaller_than_to_jshtml(tmp_path):
    from matplotlib.animation import FuncAnimation
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    h = cubic_history(frames=30, n=500)
    out = tmp_path / "run.html"
    write_html(h, out, title="t", fps=10, size=(320, 240))
    fig = Figure(figsize=(3.2, 2.4), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.plot(h.x, h.y)
    (line,) = ax.plot(h.x, h.pred[0])
    label = ax.text(-3, 1, "", color="red")
    ax.set_ylim(-2, 2)

    def update(i):
        line.set_ydata(h.pred[i])
        label.set_text(f"t={h.steps[i]}, Loss={h.loss[i]:.4f}")
        return line, label

    theirs = len(FuncAnimation(fig, update, frames=len(h), interval=100).to_jshtml().encode())
    ours = out.stat().st_size
    assert ours * 10 <= theirs, f"ours {ours} B vs to_jshtml {theirs} B (1/{theirs / ours:.1f})"


def _unpack(b64: str, lo: float, hi: float) -> np.ndarray:
    """Independent decoder for the 12-bit packing (two codes in three bytes)."""
    raw = np.frombuffer(base64.b64decode(b64), dtype=np.uint8).reshape(-1, 3).astype(np.int64)
    codes = np.stack([raw[:, 0] | (raw[:, 1] & 15) << 8, raw[:, 1] >> 4 | raw[:, 2] << 4], axis=1).ravel()
    return np.where(codes == 4095, np.nan, lo + codes * (hi - lo) / 4094)


# --- in a real browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} not found (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 800, "height": 600})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"request {r.url}") if not r.url.startswith("file:") else None)
    page.goto(path.as_uri())
    return page, errors


def test_player_in_browser(browser, tmp_path):
    out = tmp_path / "run.html"
    # 30 snapshots at 10 fps x 2: 1.5 s of playback, so the run cannot end (and stop
    # itself) between "the slider moved" and the pause click below, even on a busy machine
    write_html(cubic_history(frames=30), out, title=EVIL, fps=10, size=(480, 360))
    page, errors = open_page(browser, out)
    slider, canvas = page.locator("#slider"), "document.getElementById('plot').toDataURL()"
    assert page.title() == EVIL  # shown as text, not interpreted
    assert slider.input_value() == "0" and page.locator("#plot").is_visible()
    before = page.evaluate(canvas)

    page.select_option("#speed", "2")
    page.click("#play")
    page.wait_for_function("() => Number(document.getElementById('slider').value) >= 3", timeout=5000)
    page.click("#play")  # pause
    assert page.locator("#play").inner_text() == "Play"
    assert 3 <= int(slider.input_value()) < 29
    assert page.evaluate(canvas) != before

    slider.fill("10")
    page.locator("#plot").click()  # focus leaves the slider: the page's own keys must work anywhere
    page.keyboard.press("ArrowRight")
    assert slider.input_value() == "11"
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert slider.input_value() == "9"
    page.keyboard.press("Space")
    assert page.locator("#play").inner_text() == "Pause"
    page.keyboard.press("Space")
    assert page.locator("#play").inner_text() == "Play"

    shot = tmp_path / "player.png"
    page.locator(".player").screenshot(path=str(shot))
    assert shot.stat().st_size > 5000
    assert errors == []


def test_dark_theme_and_divergence_in_browser(browser, tmp_path):
    h = cubic_history(frames=6, n=300)
    h.pred[4, 50:60] = np.nan
    h.pred[5] = np.inf
    h.loss[5] = np.inf
    h.meta["stopped"] = {"step": 500, "reason": "loss is not finite"}
    out = tmp_path / "dark.html"
    write_html(h, out, title="dark", fps=10, size=(640, 480), theme="dark")
    page, errors = open_page(browser, out)
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(22, 24, 29)"
    corner = page.evaluate("Array.from(document.getElementById('plot').getContext('2d').getImageData(1, 1, 1, 1).data)")
    assert corner[:3] == [22, 24, 29]
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    assert page.locator("#slider").input_value() == "5"
    assert "Loss=inf" in page.evaluate("document.getElementById('plot').getAttribute('aria-label')")
    page.locator(".player").screenshot(path=str(tmp_path / "dark.png"))
    assert errors == []


def test_js_decoder_matches_python(browser, tmp_path):
    values = np.array([-3.0, -1.0, 0.0, 0.5, np.nan, 1.0, 2.5, np.inf, -np.inf])
    lo, hi = -2.0, 2.0
    source = re.search(r"function unpack\(.*?\n}\n", player_script(), re.S).group(0)
    out = tmp_path / "blank.html"
    out.write_text("<!DOCTYPE html><title>blank</title>", encoding="utf-8")
    page, _ = open_page(browser, out)
    call = f"Array.from(unpack({json.dumps(pack(values, lo, hi))}, {lo}, {hi}))"
    decoded = page.evaluate(f"(() => {{ {source}; return {call}.map(v => Number.isNaN(v) ? null : v); }})()")
    expected = _unpack(pack(values, lo, hi), lo, hi)
    assert decoded[: len(values)] == [None if np.isnan(v) else pytest.approx(v) for v in expected[: len(values)]]
    np.testing.assert_allclose(expected[[1, 2, 3, 5]], [-1, 0, 0.5, 1], atol=4 / 4094)
    assert np.isnan(expected[[0, 4, 6, 7, 8]]).all()  # outside the band or not finite: a gap


def test_transparent_theme_clears_between_frames(browser, tmp_path):
    out = tmp_path / "clear.html"
    write_html(cubic_history(frames=8), out, title="t", fps=10, size=(320, 240), theme="transparent")
    canvas = "document.getElementById('plot').toDataURL()"
    stepped, errors = open_page(browser, out)
    for _ in range(7):  # frames 1..7 drawn one after another over frame 0
        stepped.keyboard.press("ArrowRight")
    jumped, _ = open_page(browser, out)
    jumped.locator("#slider").fill("7")  # frame 7 drawn straight after frame 0
    assert stepped.locator("#slider").input_value() == jumped.locator("#slider").input_value() == "7"
    assert stepped.evaluate(canvas) == jumped.evaluate(canvas)  # no trace of the frames in between
    assert errors == []


def test_values_far_outside_the_view_are_gaps_not_spikes():
    raw = base64.b64decode(pack(np.array([0.5, 1e17, -1e17, np.nan]), 0.0, 1.0))
    a = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.uint16)
    codes = np.stack([a[:, 0] | ((a[:, 1] & 0xF) << 8), (a[:, 1] >> 4) | (a[:, 2] << 4)], axis=1).ravel()
    assert codes[0] != MISSING and list(codes[1:]) == [MISSING] * 3


# --- the panels the frames draw, in the browser ----------------------------------------------------

def render_cfg(**options):
    from polyanim import config

    return config.from_dict({"render": {"size": [320, 240], **options}}).render


def with_lr(h: History) -> History:
    """``h`` with a decaying learning rate recorded at each snapshot (two decades: a log lr panel)."""
    import dataclasses

    return dataclasses.replace(h, lr=0.1 * 0.01 ** np.linspace(0, 1, len(h)))


def pixels(page) -> np.ndarray:
    """The canvas as an (H, W, 4) array (the page's device pixel ratio is 1)."""
    size = page.evaluate("[document.getElementById('plot').width, document.getElementById('plot').height]")
    data = page.evaluate("(() => { const c = document.getElementById('plot');"
                         " return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); })()")
    return np.array(data, dtype=np.uint8).reshape(size[1], size[0], 4)


def real(errors: list) -> list:
    """The page's errors and warnings, without Chromium's advice about our own repeated pixel reads."""
    return [e for e in errors if "willReadFrequently" not in e]


def count(image: np.ndarray, color: str, cell=None, tol: int = 12) -> int:
    """Pixels of ``color`` (#rrggbb) in ``image``, within ``cell`` (left, top, width, height fractions) if given."""
    h, w = image.shape[:2]
    if cell is not None:
        image = image[int(cell[1] * h): int((cell[1] + cell[3]) * h), int(cell[0] * w): int((cell[0] + cell[2]) * w)]
    rgb = np.array([int(color[k:k + 2], 16) for k in (1, 3, 5)])
    return int(np.count_nonzero((np.abs(image[..., :3].astype(int) - rgb) <= tol).all(axis=-1)))


def rendered(tmp_path, history, name="p.html", **options):
    """Render ``history`` to HTML through the renderer (as a user does) and return (path, payload)."""
    from polyanim.renderer import render

    out = tmp_path / name
    render(history, out, render_cfg(**options), quiet=True)
    return out, embedded_data(out.read_text(encoding="utf-8"))


def test_the_panels_follow_render_panels(tmp_path):
    from polyanim.style import panel_cells

    h = with_lr(cubic_history(frames=8))
    for panels in (["fit"], ["loss", "fit"], ["fit", "loss", "params", "lr"], ["lr"], ["params", "loss"]):
        _, data = rendered(tmp_path, h, panels=panels)
        assert [p["name"] for p in data["panels"]] == panels
        assert [p["cell"] for p in data["panels"]] == [list(panel_cells(panels, False)[p]) for p in panels]
    _, wide = rendered(tmp_path, h, panels=["fit", "loss"], size=[640, 320])
    assert [p["cell"][2] for p in wide["panels"]] == [0.6, pytest.approx(0.4)]  # side by side, the fit at 60%


def test_params_panel_and_equation_in_browser(browser, tmp_path):
    from polyanim.style import PARAM_COLORS, equation

    h = cubic_history(frames=8)
    h.meta["config"]["model"] = {"kind": "polynomial", "degree": 3}
    out, data = rendered(tmp_path, h, panels=["fit", "loss", "params"], size=[480, 360])
    params = panel(data, "params")
    names = [it["text"] for it in params["legend"]["items"]]
    assert names == ["c₀", "c₁", "c₂", "c₃", "Taylor"] and params["axes"]["ylabel"] == "coefficient"
    (caption,) = items(params, "text")  # drawn under the main panel's label, not in the params panel
    assert caption["texts"][5] == equation(h.params[5]) and caption["host"] == "fit"
    assert len(items(params, "hline", dash=True)) == 4  # sin's Taylor coefficients, dashed
    page, errors = open_page(browser, out)
    page.locator("#slider").fill("5")
    image = pixels(page)
    for color in PARAM_COLORS[:4]:  # every coefficient's path in its colour, in the params cell
        assert count(image, color, params["cell"], tol=30) > 20
    assert count(image, PARAM_COLORS[0], panel(data, "fit")["cell"]) == 0
    no_params, _ = rendered(tmp_path, h, "q.html", panels=["fit", "loss"])
    page, _ = open_page(browser, no_params)
    assert count(pixels(page), PARAM_COLORS[0]) == 0  # not asked for: not drawn
    assert real(errors) == []


def test_lr_panel_in_browser(browser, tmp_path):
    from polyanim.panels.lr import lr_scale
    from polyanim.style import THEMES

    h = with_lr(cubic_history(frames=8))
    out, data = rendered(tmp_path, h, panels=["fit", "lr"])
    lr = panel(data, "lr")
    log, limits = lr_scale([h])
    axes = lr["axes"]
    assert axes["log"] is log is True and axes["ylim"] == pytest.approx(limits) and axes["ylabel"] == "learning rate"
    assert [t["s"] for t in axes["yticks"]] == ["10"] * 3 and [t["e"] for t in axes["yticks"]] == ["−3", "−2", "−1"]
    page, errors = open_page(browser, out)
    first = count(pixels(page), THEMES["light"]["pred"], lr["cell"])
    page.locator("#slider").fill("7")
    last = count(pixels(page), THEMES["light"]["pred"], lr["cell"])
    assert 0 <= first < 30 < last  # the rate so far, drawn bold in the prediction's colour
    assert count(pixels(page), THEMES["light"]["label"], lr["cell"]) > 5  # the current step's dot
    none, data = rendered(tmp_path, cubic_history(frames=8), "none.html", panels=["fit", "lr"])
    assert panel(data, "lr")["empty"].startswith("no learning rate recorded")
    page, more = open_page(browser, none)
    assert count(pixels(page), THEMES["light"]["pred"], panel(data, "lr")["cell"]) == 0
    assert real(errors) == real(more) == []


def test_grid_layout_in_browser(browser, tmp_path):
    from conftest import make_runset
    from polyanim.scene import Scene
    from polyanim.style import RUN_COLORS

    runs = make_runset()
    out, data = rendered(tmp_path, runs, layout="grid", panels=["fit", "loss"], size=[480, 360])
    fit = panel(data, "fit")
    scene = Scene(runs, render_cfg(layout="grid", panels=["fit", "loss"], size=[480, 360]))
    assert fit["grid"] == list(scene.axes["fit"].get_subplotspec().get_gridspec().get_geometry()) == [1, 3]
    j = data["runs"][0]["idx"][3]  # run 0's latest snapshot at the union's 4th step (15)
    assert items(fit, "text", cell=0)[0]["texts"][3] == f"t=15, Loss={runs.histories[0].loss[j]:.4f}"  # cell_label's
    assert panel(data, "loss")["legend"]  # the loss panel names the runs (each cell is titled)
    page, errors = open_page(browser, out)
    page.locator("#slider").fill("4")
    image = pixels(page)
    left, top, width, height = fit["cell"]
    for k, color in enumerate(RUN_COLORS["light"][:3]):  # run k in column k of the grid, and only there
        cols = [count(image, color, (left + c * width / 3, top, width / 3, height)) for c in range(3)]
        assert cols[k] > 50 and sum(cols) - cols[k] == 0, (k, cols)
    assert real(errors) == []


def test_sample_points_with_a_target_in_browser(browser, tmp_path):
    from polyanim.style import THEMES

    h = cubic_history(frames=5, n=200)
    dx = np.linspace(-3, 3, 25)
    samples = History(h.steps, h.loss, h.x, h.y, h.pred, h.params, h.meta, data_x=dx, data_y=np.sin(dx) + 0.3)
    seen = {}
    for name, history in (("with", samples), ("without", h)):
        out, data = rendered(tmp_path, history, f"{name}.html", panels=["fit"])
        page, errors = open_page(browser, out)
        seen[name] = count(pixels(page), THEMES["light"]["faint"], tol=40)
        assert real(errors) == []
    fit = panel(data, "fit")  # the last, without samples
    assert not items(fit, "points")
    fit = panel(rendered(tmp_path, samples, "again.html", panels=["fit"])[1], "fit")
    (points,) = items(fit, "points")
    assert len(decoded(points["x"])) == 26 and np.isnan(decoded(points["x"])[25])  # 25, padded to pairs
    assert points["color"] == THEMES["light"]["faint"]  # grey under a target, as the frames
    assert fit["legend"]["items"][0] == {"color": THEMES["light"]["faint"], "dot": True, "text": "samples"}
    assert seen["with"] > seen["without"] + 25  # a dot per sample, at least a pixel each
