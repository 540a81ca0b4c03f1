"""Animated WebP and APNG: GIF's timing and looping, lossless full colour, transparency."""

import numpy as np
import pytest
from PIL import Image

from polyanim import config
from polyanim.renderer import plan, render
from polyanim.scene import Scene
from polyanim.writers import GifWriter, writer_for


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
