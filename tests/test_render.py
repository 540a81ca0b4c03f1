import re
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image
from matplotlib.text import Text

from polyanim import config
from polyanim.registry.formats import FORMATS
from polyanim.renderer import TimingError, motion, plan, render
from polyanim.scene import Scene
from polyanim.style import y_limits
from polyanim.writers import GifWriter, Mp4Writer, UnsupportedFormat, Writer, WriterError, writer_for

from conftest import make_history


def ffmpeg_info(path):
    """(width, height, pixel format, codec) of the first video stream, read by ffmpeg."""
    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                          capture_output=True, text=True)
    line = next(l for l in proc.stderr.splitlines() if "Video:" in l)
    w, h = map(int, re.search(r", (\d+)x(\d+)", line).groups())
    codec = re.search(r"Video: (\w+)", line).group(1)
    pix = re.search(r"Video: [^,]+, (\w+)", line).group(1)
    return w, h, pix, codec


class CountingWriter(Writer):
    """A writer that keeps nothing: it counts frames and checks each is one whole frame."""

    frames = 0
    nbytes = set()

    def write(self, frame):
        type(self).frames += 1
        type(self).nbytes.add(memoryview(frame).nbytes)

    def close(self):
        self.target.write_text(str(self.frames))


@pytest.mark.parametrize("i", [0, 3, 5])
def test_blitted_frame_equals_full_redraw(history, i):
    render_cfg = config.from_dict({"render": {"size": [320, 240], "title": "blit check"}}).render
    blitted = np.array(Scene(history, render_cfg).frame(i))
    scene = Scene(history, render_cfg)
    for j in (1, 4, i):  # the blitting path after other frames, not only the first
        frame = np.array(scene.frame(j))
    np.testing.assert_array_equal(frame, blitted)
    np.testing.assert_array_equal(blitted, Scene(history, render_cfg).full_frame(i))


def test_scene_follows_funcanimation_contract(history, small_render):
    scene = Scene(history, small_render)
    artists = scene.init()
    assert artists and all(a.figure is scene.fig for a in artists)
    scene.update(4)
    np.testing.assert_array_equal(scene.panels["fit"].lines[0].get_ydata(), history.pred[4])
    assert scene.panels["fit"].labels[0].get_text() == f"t={history.steps[4]}, Loss={history.loss[4]:.4f}"


def test_axis_limits_are_fixed_from_the_whole_history(history, small_render):
    scene = Scene(history, small_render)
    fit, loss = scene.axes["fit"], scene.axes["loss"]
    before = fit.get_ylim(), fit.get_xlim(), loss.get_ylim()
    for i in range(len(history)):
        scene.frame(i)
    assert (fit.get_ylim(), fit.get_xlim(), loss.get_ylim()) == before
    lo, hi = fit.get_ylim()
    assert lo < history.y.min() and hi > history.y.max()


def test_wild_predictions_do_not_flatten_the_target():
    h = make_history()
    h.pred[0] *= 1e6
    lo, hi = y_limits(h.y, h.pred)
    assert hi - lo < 4 * (h.y.max() - h.y.min())


def test_gif_frames_delay_loop(tmp_path, history, small_render):
    out = render(history, tmp_path / "a.gif", small_render, quiet=True)
    with Image.open(out) as im:
        assert im.size == (160, 120)
        assert im.n_frames == len(history) + 2  # 0.2 s hold at 10 fps
        assert im.info["loop"] == 0  # loops forever
        delays = []
        for k in range(im.n_frames):
            im.seek(k)
            delays.append(im.info["duration"])
    assert set(delays) == {100}


def test_gif_fps_snaps_to_whole_centiseconds(tmp_path, history, capsys):
    r = config.from_dict({"render": {"size": [160, 120], "fps": 30, "hold": 0}}).render
    out = render(history, tmp_path / "a.gif", r)
    err = capsys.readouterr().err
    assert "30" in err and "33.33 fps (3 cs per frame)" in err
    with Image.open(out) as im:
        im.seek(1)
        assert im.info["duration"] == 30
    assert GifWriter.frame_rate(100)[0] == 50  # never below 2 cs


def test_gif_pixels_match_the_rendered_frames(tmp_path, history):
    r = config.from_dict({"render": {"size": [320, 240], "hold": 0}}).render
    out = render(history, tmp_path / "a.gif", r, quiet=True)
    scene = Scene(history, r)
    with Image.open(out) as im:
        for k in (0, len(history) - 1):
            im.seek(k)
            decoded = np.asarray(im.convert("RGB"), dtype=float)
            want = np.asarray(scene.frame(k))[..., :3].astype(float)
            assert np.abs(decoded - want).mean() < 2.0


def test_mp4_is_h264_yuv420p_with_even_size(tmp_path, history):
    r = config.from_dict({"render": {"size": [161, 121], "fps": 10, "hold": 0}}).render
    out = render(history, tmp_path / "a.mp4", r, quiet=True)
    assert ffmpeg_info(out) == (162, 122, "yuv420p", "h264")
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(out))
    assert frames == len(history)


def test_webm_is_vp9(tmp_path, history, small_render):
    out = render(history, tmp_path / "a.webm", small_render, quiet=True)
    w, h, pix, codec = ffmpeg_info(out)
    assert (w, h, pix, codec) == (160, 120, "yuv420p", "vp9")
    assert imageio_ffmpeg.count_frames_and_secs(str(out))[0] == len(history) + 2


def test_png_poster_is_the_last_frame(tmp_path, history, small_render):
    out = render(history, tmp_path / "p.png", small_render, quiet=True)
    with Image.open(out) as im:
        poster = np.asarray(im.convert("RGB"))
    last = np.asarray(Scene(history, small_render).frame(len(history) - 1))[..., :3]
    np.testing.assert_array_equal(poster, last)


def test_frames_are_streamed_one_at_a_time(tmp_path, history, small_render):
    CountingWriter.frames, CountingWriter.nbytes = 0, set()
    render(history, tmp_path / "count.gif", small_render, quiet=True, writer=CountingWriter)
    assert CountingWriter.frames == len(plan(len(history), small_render, CountingWriter.frame_rate)[0])
    assert CountingWriter.nbytes == {160 * 120 * 4}
    assert (tmp_path / "count.gif").read_text() == str(CountingWriter.frames)


def test_scene_reuses_one_frame_buffer(history, small_render):
    scene = Scene(history, small_render)
    a, b = scene.frame(1), scene.frame(2)
    assert np.shares_memory(np.asarray(a), np.asarray(b))  # nothing per frame is kept


class FailingWriter(Mp4Writer):
    def write(self, frame):
        super().write(frame)
        if self.proc and getattr(self, "_n", 0) >= 2:
            raise RuntimeError("forced failure mid-render")
        self._n = getattr(self, "_n", 0) + 1


@pytest.mark.parametrize("writer", [FailingWriter, "bad-codec"])
def test_failed_render_leaves_existing_file_untouched(tmp_path, history, small_render, monkeypatch, writer):
    dest = tmp_path / "keep.mp4"
    dest.write_bytes(b"an older, good file")
    if writer == "bad-codec":
        monkeypatch.setattr(Mp4Writer, "output_args", lambda self: ["-c:v", "no-such-codec", "-f", "mp4"])
        writer, error = Mp4Writer, WriterError
    else:
        error = RuntimeError
    with pytest.raises(error):
        render(history, dest, small_render, quiet=True, writer=writer)
    assert dest.read_bytes() == b"an older, good file"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.mp4"]


def test_unknown_suffix_lists_supported():
    with pytest.raises(UnsupportedFormat, match=re.escape(", ".join(FORMATS))):
        writer_for("out.avi")


def test_divergence_is_shown_on_the_last_frame(small_render):
    h = make_history(stopped={"step": 57, "reason": "loss became nan"})
    scene = Scene(h, small_render)
    scene.update(len(h) - 1)
    assert "stopped at step 57" in scene.panels["fit"].labels[0].get_text()
    scene.update(0)
    assert "stopped" not in scene.panels["fit"].labels[0].get_text()


def gif_timing(path):
    """(frame delays in ms, loop count or None when the GIF plays once) of a GIF file."""
    with Image.open(path) as im:
        delays = []
        for k in range(im.n_frames):
            im.seek(k)
            delays.append(im.info["duration"])
        return delays, im.info.get("loop")


def timing(**render):
    return config.from_dict({"render": {"size": [160, 120], **render}}).render


def test_holds_and_loop_once(tmp_path, history):
    out = render(history, tmp_path / "once.gif", timing(fps=20, hold=0.5, hold_start=0.25, loop=False), quiet=True)
    delays, loop = gif_timing(out)
    assert loop is None  # no NETSCAPE extension: plays once (loop=1 would play twice)
    assert len(delays) == 5 + len(history) + 10 and set(delays) == {50}
    with Image.open(out) as im:
        first = [np.asarray(im.convert("RGB")).copy()]
        for k in (5, 6):  # 5 held frames, then the motion from snapshot 0
            im.seek(k)
            first.append(np.asarray(im.convert("RGB")).copy())
    np.testing.assert_array_equal(first[0], first[1])  # held first frame
    assert not np.array_equal(first[1], first[2])  # motion starts after the hold


def test_duration_picks_the_fps(tmp_path):
    h = make_history(frames=41)
    out = render(h, tmp_path / "d.gif", timing(duration="5s", hold=1), quiet=True)
    delays, loop = gif_timing(out)
    assert loop == 0
    assert abs(sum(delays) / 1000 - 5.0) <= 0.25
    assert len(delays) >= 41 and set(delays) == {100}  # 41 frames in 4 s: 10 fps


def test_duration_drops_snapshots_above_50_fps():
    frames, rate, _ = plan(500, timing(duration=3, hold=1), lambda fps: (fps, None))
    assert rate <= 50 and len(frames) == 100 + round(rate)
    assert frames[0] == 0 and frames[99] == 499  # first and last snapshot kept
    with pytest.raises(config.ConfigError, match="render.duration: 1 s leaves no time"):
        timing(duration=1, hold=1)


def test_interpolation_draws_in_between_frames(history):
    assert motion(3, 1) == [0.0, 0.5, 1.0, 1.5, 2.0]
    scene = Scene(history, timing(interpolate=1))
    state = scene.timeline.states(1.5)[0]
    pred, step, loss = state.pred, state.step, state.loss
    np.testing.assert_allclose(pred, (history.pred[1] + history.pred[2]) / 2, rtol=1e-6)
    assert step == (history.steps[1] + history.steps[2]) / 2
    assert loss == pytest.approx(np.sqrt(history.loss[1] * history.loss[2]))
    a, b, c = (np.array(scene.frame(p)) for p in (1.0, 1.5, 2.0))
    assert not np.array_equal(a, b) and not np.array_equal(b, c)


def test_poster_and_filmstrip(tmp_path, history):
    first = render(history, tmp_path / "first.png", timing(poster=0), quiet=True)
    with Image.open(first) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")),
                                      np.asarray(Scene(history, timing()).frame(0))[..., :3])
    strip = render(history, tmp_path / "strip.png", timing(filmstrip=4), quiet=True)
    with Image.open(strip) as im:
        assert im.size == (2 * 160 + 8, 2 * 120 + 8)
    with pytest.raises(TimingError, match="render.poster: snapshot 99 does not exist"):
        render(history, tmp_path / "bad.png", timing(poster=99), quiet=True)
    assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize("size", [(320, 240), (640, 480), (1920, 1080)])
def test_every_panel_present_and_nothing_clipped(size):
    h = make_history(frames=8)
    h.meta["param_names"] = ["c0", "c1", "c2", "c3"]
    r = config.from_dict({"render": {"size": list(size), "panels": ["fit", "loss", "params"], "trail": 3,
                                     "title": "A long title for a polynomial fit, step by step"}}).render
    scene = Scene(h, r)
    image = scene.full_frame(len(h) - 1)
    assert image.shape == (size[1], size[0], 4)
    assert set(scene.axes) == {"fit", "loss", "params"} and len(scene.fig.axes) == 3
    renderer = scene.canvas.get_renderer()
    figure = scene.fig.bbox
    # what is drawn: each axes with its ticks, labels and legend, the title, and the moving texts
    parts = {f"{name} panel": ax.get_tightbbox(renderer) for name, ax in scene.axes.items()}
    (title,) = [t for t in scene.fig.findobj(Text) if t.get_text() == r.title]
    parts["title"] = title.get_window_extent(renderer)
    parts["label"] = scene.panels["fit"].labels[0].get_window_extent(renderer)
    (equation,) = scene.captions  # the params panel's, under the fit panel's label
    assert equation.axes is scene.axes["fit"]
    parts["equation"] = equation.get_window_extent(renderer)
    assert scene.panels["fit"].labels[0].get_text() and equation.get_text().startswith("y = ")
    for name, box in parts.items():
        assert (box.x0 >= -1 and box.y0 >= -1 and box.x1 <= figure.x1 + 1 and box.y1 <= figure.y1 + 1), \
            f"{name} is clipped at {size}: {box}"
    boxes = [ax.get_window_extent(renderer) for ax in scene.fig.axes]
    for a in range(3):
        for b in range(a + 1, 3):
            assert not boxes[a].overlaps(boxes[b])


def test_params_panel_shows_coefficients_equation_and_taylor(history, small_render):
    h = make_history()
    h.meta["param_names"] = ["c0", "c1", "c2", "c3"]
    r = config.from_dict({"render": {"size": [320, 240], "panels": ["fit", "params"]}}).render
    scene = Scene(h, r)
    scene.update(2)
    assert len(scene.panels["params"].lines) == 4
    np.testing.assert_array_equal(scene.panels["params"].lines[1].get_ydata(), [*h.params[:3, 1], h.params[2, 1]])
    assert scene.captions[0].get_text() == "y = {:.3f} {} {:.3f}x {} {:.3f}x² {} {:.3f}x³".format(
        h.params[2, 0], *[v for c in h.params[2, 1:] for v in ("-" if c < 0 else "+", abs(c))])
    dashed = [l for l in scene.axes["params"].lines if l.get_linestyle() not in ("-", "None")]
    levels = sorted(round(float(l.get_ydata()[0]), 4) for l in dashed if len(l.get_ydata()))
    assert levels == [-0.1667, 0.0, 0.0, 1.0]  # sin's Taylor coefficients


def test_trail_draws_fading_earlier_predictions(history):
    r = config.from_dict({"render": {"size": [160, 120], "trail": 2}}).render
    scene = Scene(history, r)
    scene.update(4)
    np.testing.assert_array_equal(scene.panels["fit"].trails[0][0].get_ydata(), history.pred[3])
    np.testing.assert_array_equal(scene.panels["fit"].trails[0][1].get_ydata(), history.pred[2])
    assert scene.panels["fit"].trails[0][0].get_alpha() > scene.panels["fit"].trails[0][1].get_alpha()


def test_transparent_theme(tmp_path, history):
    r = config.from_dict({"render": {"size": [160, 120], "theme": "transparent", "hold": 0}}).render
    with Image.open(render(history, tmp_path / "t.png", r, quiet=True)) as im:
        rgba = np.asarray(im)
    assert rgba.shape[2] == 4 and rgba[0, 0, 3] == 0 and (rgba[..., 3] == 255).any()
    webm = render(history, tmp_path / "t.webm", r, quiet=True)
    probe = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(webm)],
                           capture_output=True, text=True).stderr
    assert re.search(r"alpha_mode\s*:\s*1", probe)  # VP9 keeps alpha in a side stream the tag announces
    with pytest.raises(UnsupportedFormat, match="transparent"):
        render(history, tmp_path / "t.mp4", r, quiet=True)
