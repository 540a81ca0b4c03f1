"""Animated WebP and APNG: GIF's timing and looping, lossless full colour, transparency."""

import numpy as np
import pytest
from PIL import Image

from polyanim import config
from polyanim.renderer import plan, render
from polyanim.scene import Scene
from polyanim.writers import GifWriter, writer_for

from conftest import make_history, run_python


def small(**options):
    return config.from_dict({"render": {"size": [160, 120], "fps": 10, "hold": 0.3, **options}}).render


def decode(path):
    """(frames as RGBA arrays, delays in ms, loop count) as Pillow reads the file."""
    frames, delays = [], []
    with Image.open(path) as im:
        loop = im.info.get("loop")
        for k in range(im.n_frames):
            im.seek(k)
            im.load()  # WebP fills in the frame's duration when it is decoded
            delays.append(im.info["duration"])
            frames.append(np.asarray(im.convert("RGBA")))
    return frames, delays, loop


@pytest.mark.parametrize("suffix", [".webp", ".apng"])
@pytest.mark.parametrize("options", [{}, {"theme": "transparent", "loop": False}, {"quality": "small", "fps": 30}])
def test_timing_loop_and_pixels(tmp_path, history, suffix, options, capsys):
    r = small(**options)
    out = render(history, tmp_path / f"a{suffix}", r)
    frames, delays, loop = decode(out)
    want, rate, _ = plan(len(history), r, writer_for(out).frame_rate)
    assert rate == float(GifWriter.frame_rate(r.fps)[0])  # GIF's rule: 30 fps plays as 3 cs frames
    delay = round(1000 / float(rate))
    if options.get("fps") == 30:
        assert "frame delays (as in GIF)" in capsys.readouterr().err
    # an encoder may merge identical frames (the hold) into one longer frame; time is kept exactly
    assert sum(delays) == len(want) * delay and all(d % delay == 0 for d in delays)
    assert len(frames) == (len(want) if suffix == ".apng" else len(history))
    assert loop == (0 if r.loop else 1)  # 0: forever; 1: played once
    scene = Scene(history, r)
    for k in (0, len(history) - 1):
        drawn = np.asarray(scene.frame(float(k)))
        if r.quality == "small":  # in the GIF palette: close, not exact
            assert np.abs(frames[k][..., :3].astype(int) - drawn[..., :3]).mean() < 3
        elif r.theme == "transparent":
            np.testing.assert_array_equal(frames[k][..., 3], drawn[..., 3])
            opaque = drawn[..., 3] == 255
            np.testing.assert_array_equal(frames[k][opaque], drawn[opaque])
        else:
            np.testing.assert_array_equal(frames[k], drawn)  # lossless
    assert (frames[0][0, 0, 3] == 0) == (r.theme == "transparent")


# --- frame memory: sizes the encoders cannot stream are refused before drawing (docs/limits.md) ----

@pytest.mark.parametrize("suffix", [".gif", ".mp4", ".webm", ".webp", ".apng"])
def test_an_animation_too_big_to_stream_is_refused_at_once(tmp_path, history, suffix):
    import time

    import polyanim

    started = time.perf_counter()
    with pytest.raises(polyanim.InputError) as info:
        polyanim.render(history, tmp_path / f"huge{suffix}", size=(7680, 7680))
    assert time.perf_counter() - started < 5
    message = str(info.value)
    assert message.startswith("render.size: 7680x7680") and "\n" not in message
    assert list(tmp_path.iterdir()) == []


def test_a_frame_size_no_format_streams_is_refused_before_matplotlib_is_imported(tmp_path):
    """The replay and the library refuse it from the settings alone: matplotlib's import was 3 s of a loaded
    machine's 5 s to the refusal (issue 16 item 13)."""
    make_history(frames=3, points=30).save(tmp_path / "h.history.npz")
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "import polyanim\n"
            "from polyanim.cli import main\n"
            "try:\n"
            "    polyanim.render(polyanim.load('h.history.npz'), 'x.mp4', size=[7680, 7680])\n"
            "except polyanim.InputError as exc:\n"
            "    print(exc)\n"
            "sys.exit(main(['h.history.npz', '--out', 'x.gif', '--set', 'render.size=[7680,7680]']))\n")
    done = run_python(code, tmp_path)
    assert done.returncode == 2 and done.stdout.startswith("render.size: 7680x7680"), (done.stdout, done.stderr)
    assert done.stderr.startswith("polyanim: error: render.size: 7680x7680") and done.stderr.count("\n") == 1


def test_the_biggest_png_poster_is_allowed_but_not_a_filmstrip_sheet_beyond_it(history):
    import polyanim
    from polyanim.writers import MAX_SHEET_PIXELS, PngWriter

    PngWriter.check((7680, 7680), small())  # a poster of render.size's own limit
    with pytest.raises(polyanim.InputError, match=r"^render\.filmstrip: 16 frames of 3840x2160 make a "):
        PngWriter.check((3840, 2160), small(filmstrip=16))
    assert PngWriter.grid((160, 120), 16)[2:] == (4 * 160 + 3 * PngWriter.gap, 4 * 120 + 3 * PngWriter.gap)
    assert MAX_SHEET_PIXELS == 7680 * 7680


def test_a_filmstrip_is_pasted_as_the_frames_come(tmp_path, history):
    out = render(history, tmp_path / "strip.png", small(filmstrip=5), quiet=True)
    sheet = np.asarray(Image.open(out))
    scene = Scene(history, small(filmstrip=5))
    first = np.asarray(scene.frame(0.0))[..., :3]
    assert sheet.shape == (2 * 120 + 8, 3 * 160 + 2 * 8, 3)  # 5 cells: 3 columns, 2 rows, 8 px gaps
    np.testing.assert_array_equal(sheet[:120, :160], first)
    assert (sheet[-120:, -160:] == first[0, 0]).all()  # the sixth cell is background


def test_the_pipe_into_ffmpeg_never_pins_more_than_16_mib():
    import fcntl
    import subprocess

    from polyanim.writers import MAX_PIPE_BYTES, _grow_pipe

    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, bufsize=0)
    try:
        _grow_pipe(proc.stdin, 7680 * 7680 * 4)
        assert fcntl.fcntl(proc.stdin.fileno(), fcntl.F_GETPIPE_SZ) <= MAX_PIPE_BYTES
    finally:
        proc.stdin.close()
        proc.wait()


@pytest.mark.parametrize("suffix,options", [(".png", {}), (".png", {"theme": "transparent"}), (".gif", {})])
def test_the_writers_call_no_pillow_api_deprecated_in_the_supported_range(tmp_path, history, monkeypatch, suffix,
                                                                           options):
    # Pillow 11.3 deprecates Image.fromarray's mode argument (a DeprecationWarning: an error under -W error);
    # this Pillow may be older or newer, so the 11.3 behaviour is what the stand-in does
    real = Image.fromarray

    def fromarray(obj, *args, **kwargs):
        if args or kwargs:
            raise DeprecationWarning("'mode' parameter is deprecated and will be removed in Pillow 13")
        return real(obj)

    monkeypatch.setattr(Image, "fromarray", fromarray)
    out = render(history, tmp_path / f"a{suffix}", small(**options))
    with Image.open(out) as im:
        assert im.mode == {".gif": "P", ".png": "RGBA" if options else "RGB"}[suffix]
