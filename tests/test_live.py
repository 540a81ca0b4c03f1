"""--live: the training callback, the throttle, the no-display fallback, and a real window under Xvfb."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from polyanim import config, live, style
from polyanim.cli import main
from polyanim.history import load
from polyanim.recording import Snapshot

from conftest import make_history, run_python

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--set", "train.steps=40", "--set", "train.record_every=10", "--set", "data.points=100",
        "--set", "render.size=[160,120]", "--set", "render.hold=0", "--quiet"]
UNIX_DESKTOP = not sys.platform.startswith(("win32", "cygwin", "darwin"))


def small_config(**train):
    return config.from_dict({"name": "t", "data": {"points": 100},
                             "train": {"steps": 40, "record_every": 10, "log_every": 0, **train},
                             "render": {"size": [160, 120], "fps": 10}})


class FakeWindow:
    """Stands in for live.Window: draws into the scene's own Agg canvas and records what it showed."""

    def __init__(self, clock=None, draw_seconds=0.0):
        self.closed = False
        self.shown = []  # (position, redraw)
        self.clock, self.draw_seconds = clock, draw_seconds

    def attach(self, scene):
        self.scene = scene

    def show(self, scene, position, *, redraw=False):
        (scene.full_frame if redraw else scene.frame)(position)
        self.shown.append((position, redraw))
        if self.clock is not None:
            self.clock.now += self.draw_seconds

    def close(self):
        self.closed = True


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def snapshots(n, points=100, first_loss=1e5):
    """Snapshots whose loss falls by a decade every few steps and whose prediction creeps toward sin."""
    x = np.linspace(-np.pi, np.pi, points)
    for k in range(n):
        w = k / max(n - 1, 1)
        yield Snapshot(step=10 * k, loss=first_loss * 10 ** (-5 * w), pred=((1 - w) * 3 * x + w * np.sin(x)).astype(np.float32),
                       params=None, lr=1e-6)


def view_for(cfg, window, clock, points=100):
    x = np.linspace(-np.pi, np.pi, points)
    return live.TrainingView(window, cfg, x=x, y=np.sin(x), clock=clock)


# --- the training callback -------------------------------------------------------------------


@pytest.mark.parametrize("train_options", [{}, {"record": "log", "frames": 6}])
def test_callback_sees_every_recorded_snapshot_and_changes_nothing(train_options):
    from polyanim.train import train

    cfg = small_config(**train_options)
    seen = []
    plain = train(cfg, quiet=True)
    watched = train(cfg, quiet=True, on_snapshot=seen.append)
    assert [s.step for s in seen] == list(watched.steps)  # once per snapshot, in order, the final one included
    assert [s.loss for s in seen] == list(watched.loss)
    np.testing.assert_array_equal(np.stack([s.pred for s in seen]), watched.pred)
    for key in ("steps", "loss", "x", "y", "pred", "params", "lr", "data_x", "data_y"):
        a, b = getattr(plain, key), getattr(watched, key)
        assert (a is None and b is None) or np.array_equal(a, b), key
    strip = lambda meta: {k: v for k, v in meta.items() if k != "train_seconds"}  # noqa: E731
    assert strip(plain.meta) == strip(watched.meta)


def test_training_view_leaves_the_history_alone_and_shows_the_final_frame():
    from polyanim.train import drawing_inputs, train

    cfg = config.from_dict({"name": "t", "data": {"points": 100, "noise": 0.1, "sampling": "uniform", "samples": 50},
                            "model": {"kind": "legendre"}, "train": {"steps": 40, "record_every": 10, "log_every": 0},
                            "render": {"size": [160, 120], "fps": 10, "panels": ["fit", "loss", "params"]}})
    plain = train(cfg, quiet=True)
    window = FakeWindow()
    view = live.TrainingView(window, cfg, **drawing_inputs(cfg))  # the same training samples as the History
    hist = train(cfg, quiet=True, on_snapshot=view)
    view.finish(hist)
    np.testing.assert_array_equal(plain.pred, hist.pred)
    np.testing.assert_array_equal(plain.data_x, hist.data_x)
    np.testing.assert_array_equal(plain.params, hist.params)
    np.testing.assert_array_equal(view.data_y, hist.data_y)
    assert view.meta["param_names"] == hist.meta["param_names"] == ["P0", "P1", "P2", "P3"]
    assert view.snapshots == len(hist) and window.shown[0] == (0.0, False)
    assert window.shown[-1] == (float(len(hist) - 1), True)  # finish: the History's last frame


def test_a_view_from_a_partial_history_draws_its_grid_and_names():
    h = make_history(frames=3)
    h.meta["param_names"] = ["a", "b", "c", "d"]
    cfg = config.from_dict({"render": {"size": [160, 120], "fps": 10, "panels": ["fit", "params"]}})
    window = FakeWindow()
    view = live.TrainingView.for_history(window, cfg, h)
    assert view.meta["param_names"] == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(view.x, h.x)
    for k in range(len(h)):
        view(Snapshot(step=int(h.steps[k]), loss=float(h.loss[k]), pred=h.pred[k], params=h.params[k], lr=0.1))
    assert window.shown[0] == (0.0, False) and view.draws >= 1
    texts = [t.get_text() for t in window.scene.axes["params"].get_legend().get_texts()]
    assert texts[:4] == ["a", "b", "c", "d"]  # then the Taylor reference of the config's sin(x)


# --- throttling ------------------------------------------------------------------------------


def test_throttle_counts_from_the_end_of_the_last_draw():
    clock = FakeClock()
    t = live.Throttle(0.5, clock)
    assert t.due()
    t.done()
    clock.now = 0.25
    assert not t.due()
    clock.now = 0.5
    assert t.due()


def test_snapshots_faster_than_fps_skip_draws_never_history():
    cfg = config.from_dict({"render": {"size": [160, 120], "fps": 1}, "train": {"steps": 490, "record_every": 10}})
    clock = FakeClock()
    window = FakeWindow()
    view = view_for(cfg, window, clock)
    for snap in snapshots(50):  # 4 snapshots a second, 1 fps
        view(snap)
        clock.now += 0.25
    assert view.snapshots == 50
    assert [int(p) for p, _ in window.shown] == list(range(0, 50, 4))  # one draw per second of wall time
    assert view.draws == 13


def test_slow_draws_leave_the_interval_to_training():
    cfg = config.from_dict({"render": {"size": [160, 120], "fps": 2}, "train": {"steps": 190, "record_every": 10}})
    clock = FakeClock()
    window = FakeWindow(clock, draw_seconds=1.0)  # a draw twice as slow as the interval
    view = view_for(cfg, window, clock)
    for snap in snapshots(20):
        view(snap)
        clock.now += 0.125
    # draw (1 s), then 0.5 s of training (4 snapshots) before the next one: never a draw per snapshot
    assert [int(p) for p, _ in window.shown] == list(range(0, 20, 4))


def test_limits_widen_from_the_first_snapshot_and_never_shrink():
    cfg = config.from_dict({"render": {"size": [160, 120], "fps": 1}, "train": {"steps": 490, "record_every": 10}})
    clock = FakeClock()
    window = FakeWindow()
    view = view_for(cfg, window, clock)
    fit_limits, loss_limits = [], []
    for snap in snapshots(50):
        view(snap)
        clock.now += 1.0  # every snapshot drawn
        fit_limits.append(view.scene.axes["fit"].get_ylim())
        loss_limits.append(view.scene.axes["loss"].get_ylim())
    loss_ax = view.scene.axes["loss"]
    assert loss_ax.get_xlim() == (0.0, 490.0) and loss_ax.get_yscale() == "log"
    assert loss_limits[-1][0] <= 1.0 <= 1e5 <= loss_limits[-1][1]
    for seq in (fit_limits, loss_limits):
        assert all(b[0] <= a[0] and b[1] >= a[1] for a, b in zip(seq, seq[1:]))
    redraws = sum(redraw for _, redraw in window.shown)
    assert 1 <= redraws <= 4  # the loss falls 5 decades: widened a decade or more at a time, not per frame


def test_a_loss_falling_two_decades_labels_only_its_decades():
    # grow() starts the axis exactly on a decade, which matplotlib counted one decade short: it labelled
    # every minor tick (2, 3, 4, 6 x 10^k), crowding the axis out of a two-input window's small loss panel
    import dataclasses

    cfg = config.from_dict({"render": {"size": [320, 240], "fps": 1}, "train": {"steps": 490, "record_every": 10}})
    clock, window = FakeClock(), FakeWindow()
    view = view_for(cfg, window, clock)
    for k, snap in enumerate(snapshots(50)):
        view(dataclasses.replace(snap, loss=0.7 * 10 ** (-1.6 * k / 49)))
        clock.now += 1.0
    ax = view.scene.axes["loss"]
    assert ax.get_ylim()[0] == pytest.approx(0.01) and sum(redraw for _, redraw in window.shown) >= 1
    assert [t.get_text() for t in ax.get_yticklabels(minor=True) if t.get_text()] == []
    assert len([t for t in ax.get_yticklabels() if t.get_text()]) >= 2


def test_a_closed_window_stops_drawing_but_not_recording():
    cfg = small_config()
    window = FakeWindow()
    clock = FakeClock()
    view = view_for(cfg, window, clock)
    for k, snap in enumerate(snapshots(10)):
        if k == 3:
            window.close()
        view(snap)
        clock.now += 1.0
    assert view.snapshots == 10 and len(window.shown) == 3


# --- no display: one line, then the usual files ------------------------------------------


@pytest.mark.skipif(not UNIX_DESKTOP, reason="Windows and macOS need no DISPLAY")
def test_without_a_display_live_falls_back_to_the_files(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    out = tmp_path / "sin.gif"
    assert main([str(ROOT / "configs/sin.yaml"), "--out", str(out), "--live", *FAST]) == 0
    captured = capsys.readouterr()
    assert captured.err == f"polyanim: --live needs a display (none found); rendering {out} instead\n"
    assert captured.out.split() == [str(tmp_path / "sin.history.npz"), str(out)]
    assert out.stat().st_size > 0 and len(load(tmp_path / "sin.history.npz")) == 5
    # a saved history: the same fallback, the file is rendered
    again = tmp_path / "again.png"
    assert main([str(tmp_path / "sin.history.npz"), "--out", str(again), "--live", "-q"]) == 0
    assert capsys.readouterr().err.count("\n") == 1 and again.stat().st_size > 0


def test_display_problem():
    assert live.display_problem({}, "linux") == "needs a display (none found)"
    assert live.display_problem({"DISPLAY": ":0"}, "linux") is None
    assert live.display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert live.display_problem({}, "darwin") is None and live.display_problem({}, "win32") is None


@pytest.mark.skipif(not UNIX_DESKTOP, reason="X11 displays are a Unix desktop thing")
def test_an_unreachable_display_falls_back_too(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DISPLAY", "/nonexistent/socket:7")  # Tk fails to connect, at once
    make_history().save(tmp_path / "h.history.npz")
    out = tmp_path / "h.png"
    assert main([str(tmp_path / "h.history.npz"), "--out", str(out), "--live", "-q"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("polyanim: --live ") and err.endswith(f"; rendering {out} instead\n"), err
    assert err.count("\n") == 1 and out.stat().st_size > 0


def test_tkinter_is_imported_only_with_live(tmp_path):
    make_history().save(tmp_path / "h.history.npz")
    code = ("import sys\nfrom polyanim.cli import main\n"
            f"rc = main([{str(tmp_path / 'h.history.npz')!r}, '--out', {str(tmp_path / 'h.png')!r}, '-q'])\n"
            "assert rc == 0, rc\n"
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('tkinter', '_tkinter') or m == 'polyanim.live']\n"
            "assert not loaded, loaded\n")
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr


# --- a real window, on a virtual X server ------------------------------------------------


@pytest.fixture(scope="module")
def xvfb():
    """A private Xvfb server on a free display number (Xvfb picks it: -displayfd)."""
    exe = shutil.which("Xvfb")
    if not exe:
        pytest.skip("Xvfb not found (apt-get install xvfb): the real-window tests need a virtual X server")
    try:
        import tkinter  # noqa: F401
    except ImportError:
        pytest.skip("tkinter is not available in this Python (apt-get install python3-tk)")
    read, write = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 10)
        number = os.read(read, 64).decode().strip() if ready else ""
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        os.close(read)
        proc.terminate()
        proc.wait(10)


def near(image, color, tolerance=60):
    """Pixels of ``image`` (RGB or RGBA) within ``tolerance`` (sum of channel differences) of ``color``."""
    rgb = np.asarray(image)[..., :3].astype(int)
    return int((np.abs(rgb - np.array(color)).sum(axis=-1) < tolerance).sum())


def screen_grabber():
    """PIL's grab of an X display (``grab(xdisplay=...)``), or None when this PIL cannot read one."""
    try:
        from PIL import ImageGrab, features
        return ImageGrab.grab if features.check("xcb") else None
    except ImportError:
        return None


ORANGE = (0xFF, 0x7F, 0x0E)  # the light theme's prediction curve


def test_live_window_draws_while_training(xvfb, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    shown, canvases, screens = [], [], []
    real_show = live.Window.show

    def spy(self, scene, position, *, redraw=False):
        real_show(self, scene, position, redraw=redraw)
        shown.append(position)
        canvases.append(np.array(scene.canvas.buffer_rgba()))  # what was sent to the window
        if grab is not None:
            screens.append(grab(xdisplay=xvfb))  # what the X server shows

    grab = screen_grabber()
    monkeypatch.setattr(live.Window, "show", spy)
    out = tmp_path / "sin.png"
    args = [str(ROOT / "configs/sin.yaml"), "--out", str(out), "--live", *FAST,
            "--set", "render.fps=50", "--set", "render.size=[320,240]"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.err == "", captured.err
    assert captured.out.split() == [str(tmp_path / "sin.history.npz"), str(out)]
    assert len(shown) >= 2 and shown[0] == 0.0 and shown[-1] == 4.0  # the first frame, ..., the final one
    assert near(canvases[-1], ORANGE) > 100
    if screens:
        assert near(screens[-1], ORANGE) > 100
    assert out.stat().st_size > 0


def test_live_replays_a_history(xvfb, tmp_path, capsys, monkeypatch):
    assert main([str(ROOT / "configs/sin.yaml"), "--out", str(tmp_path / "sin.gif"), *FAST]) == 0
    capsys.readouterr()
    monkeypatch.setenv("DISPLAY", xvfb)
    shown = []
    real_show = live.Window.show
    monkeypatch.setattr(live.Window, "show",
                        lambda self, scene, pos, **kw: (shown.append(pos), real_show(self, scene, pos, **kw)))
    started = time.monotonic()
    assert main([str(tmp_path / "sin.history.npz"), "--out", str(tmp_path / "again.png"), "--live", "-q",
                 "--set", "render.fps=20"]) == 0
    assert capsys.readouterr().err == ""
    assert shown == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert time.monotonic() - started >= 4 / 20  # played at render.fps, not as fast as it could


def test_live_window_plays_an_optimizer_race(xvfb, tmp_path, capsys, monkeypatch):
    # a problem: config trains in numpy at once, then plays in the window on the files' timeline
    import json

    from polyanim import style
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    shown, canvases = [], []
    real_show = live.Window.show

    def spy(self, scene, position, *, redraw=False):
        real_show(self, scene, position, redraw=redraw)
        shown.append(position)
        canvases.append(np.array(scene.canvas.buffer_rgba()))

    monkeypatch.setattr(live.Window, "show", spy)
    race = {"name": "race", "problem": {"function": "rosenbrock", "steps": 200}, "train": {"frames": 10, "lr": 2e-4},
            "render": {"size": [320, 240], "fps": 50, "hold": 0},
            "runs": [{"label": "SGD"}, {"label": "Adam", "train": {"optimizer": "adam", "lr": 0.05}},
                     {"label": "too fast", "train": {"lr": 4e-3}}]}
    cfg = tmp_path / "race.yaml"
    cfg.write_text(json.dumps(race))
    out = tmp_path / "race.gif"
    assert main([str(cfg), "--out", str(out), "--live", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "", captured.err
    assert captured.out.split() == [str(tmp_path / "race.history.npz"), str(out)]
    h = load(tmp_path / "race.history.npz")
    assert shown[0] == 0.0 and shown[-1] == len(h.steps) - 1
    for color in style.RUN_COLORS["light"][:3]:  # every run's path in its colour in the window's last frame
        assert near(canvases[-1], [int(color[k:k + 2], 16) for k in (1, 3, 5)], 30) > 10, color
    assert out.stat().st_size > 0


def test_a_training_views_paths_grow_and_end_on_the_files_slice():
    # render.path_params while training: the panel is set up from the first snapshot, then its paths grow,
    # the slice is taken again once a path leaves it, and the last view is the file's (slice through the end)
    from matplotlib.ticker import LogLocator

    from polyanim.landscape import history_slice
    from polyanim.scene import Scene
    from polyanim.train import drawing_inputs, train
    cfg = config.from_dict({"seed": 0, "data": {"points": 300}, "model": {"degree": 3},
                            "train": {"steps": 200, "optimizer": "adam", "lr": 0.05, "record_every": 20,
                                      "log_every": 0},
                            "render": {"size": [320, 240], "panels": ["paths", "loss"], "path_params": ["c1", "c3"]}})
    window, clock = FakeWindow(), FakeClock()
    view = live.TrainingView(window, cfg, clock=clock, **drawing_inputs(cfg))
    view.throttle.due = lambda: True  # draw every snapshot
    h = train(cfg, quiet=True, on_snapshot=view)
    view.finish(h)
    panel = view.scene.panels["paths"]
    np.testing.assert_allclose(np.column_stack(panel.lines[0].get_data()), h.params[:, [1, 3]])
    assert all(panel.surface.inside(p) for p in h.params[:, [1, 3]])
    c1, c3 = h.params[-1, [1, 3]]
    assert panel.surface.loss((c1, c3)) == pytest.approx(history_slice(h, 1, 3).loss(c1, c3))
    assert panel.surface.domain == Scene(h, cfg.render).panels["paths"].surface.domain
    loss_axis = view.scene.axes["loss"].yaxis
    assert isinstance(loss_axis.get_major_locator(), LogLocator)  # grown past a decade: matplotlib's ticks again


FIELD_FAST = ["--set", "data.samples=100", "--set", "data.mesh=30", "--set", "train.steps=200",
              "--set", "train.record_every=10", "--set", "render.size=[320,240]", "--set", "render.fps=50",
              "--set", "render.hold=0", "--quiet"]


@pytest.mark.parametrize("name", ["moons", "surface"])
def test_live_window_draws_two_inputs_while_training(xvfb, tmp_path, capsys, monkeypatch, name):
    # a field config draws in the window from the trainer's snapshots, as a curve does: the first frame
    # holds one snapshot, later ones more, the last the whole History; the field's colours are on screen
    from polyanim.panels import field

    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    shown, sizes, canvases, screens = [], [], [], []
    real_show = live.Window.show
    grab = screen_grabber()

    def spy(self, scene, position, *, redraw=False):
        real_show(self, scene, position, redraw=redraw)
        shown.append(position)
        sizes.append(len(scene.history))
        canvases.append(np.array(scene.canvas.buffer_rgba()))
        if grab is not None:
            screens.append(grab(xdisplay=xvfb))

    monkeypatch.setattr(live.Window, "show", spy)
    out = tmp_path / f"{name}.gif"
    assert main([str(ROOT / f"configs/{name}.yaml"), "--out", str(out), "--live", *FIELD_FAST]) == 0
    captured = capsys.readouterr()
    assert captured.err == "", captured.err
    assert captured.out.split() == [str(tmp_path / f"{name}.history.npz"), str(out)]
    h = load(tmp_path / f"{name}.history.npz")
    assert h.kind == "field" and len(h) == 21
    assert shown[0] == 0.0 and shown[-1] == 20.0 and len(shown) >= 3
    assert sizes[0] == 1 and sizes[-1] == 21 and sizes == sorted(sizes)  # drawn as it trained, not replayed
    if name == "moons":  # both classes' regions, at full confidence over the page
        colors = field.palette_pins("light", style.CLASS_COLORS["light"][:2])[2:4]
    else:  # the colour map's two ends (the target's range)
        colors = [field.CMAP[0], field.CMAP[-1]]
    for color in colors:
        rgb = [int(color[k:k + 2], 16) for k in (1, 3, 5)]
        assert near(canvases[-1], rgb, 30) > 100, color
        if screens:
            assert near(screens[-1], rgb, 30) > 100, color
    assert out.stat().st_size > 0


def test_live_window_plays_a_grid_of_two_input_runs(xvfb, tmp_path, capsys, monkeypatch):
    # runs: train back to back (or in other processes), then play in the window, one cell per run
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    shown = []
    real_show = live.Window.show

    def spy(self, scene, position, *, redraw=False):
        real_show(self, scene, position, redraw=redraw)
        shown.append((position, len(scene.panels["boundary"].cells)))

    monkeypatch.setattr(live.Window, "show", spy)
    import json
    widths = {"name": "widths", "seed": 0, "data": {"dataset": "moons"}, "model": {"kind": "mlp"},
              "train": {"optimizer": "adam", "lr": 0.02}, "render": {"layout": "grid"},
              "runs": [{"label": "1 unit", "model": {"hidden": [1]}}, {"label": "4 units", "model": {"hidden": [4]}}]}
    cfg = tmp_path / "widths.yaml"
    cfg.write_text(json.dumps(widths))
    out = tmp_path / "widths.gif"
    assert main([str(cfg), "--out", str(out), "--live", *FIELD_FAST]) == 0
    assert capsys.readouterr().err == ""
    assert shown[0] == (0.0, 2) and shown[-1] == (20.0, 2)
    assert out.stat().st_size > 0
