"""A new output format, added from outside the package at run time (docs/extending.md, "A new format").

The writer below is all a newcomer writes: a :class:`polyanim.writer.Writer`
subclass and one ``register`` call. It keeps its frames in this process, as
most simple writers would, so it also checks that ``render.workers`` never
hands its frames to forked drawers it cannot hear from.
"""

from pathlib import Path

import numpy as np
import pytest

import polyanim
from polyanim.cli import main
from polyanim.registry.formats import FORMATS, register
from polyanim.writer import Writer

HISTORY = Path(__file__).parent / "data" / "v1_single.history.npz"
OPTIONS = {"size": (96, 64), "fps": 10, "hold": 0.3}


class NpyWriter(Writer):
    """Every frame, stacked into one ``(frames, height, width, 4)`` uint8 array saved with numpy."""

    def open(self, target):
        super().open(target)
        self.frames = []  # kept here, in this process: it cannot take frames from forked drawers

    def write(self, frame):
        self.frames.append(np.array(frame, copy=True))

    def close(self):
        with open(self.target, "wb") as fh:  # np.save would add ".npy" to a temporary name without one
            np.save(fh, np.stack(self.frames) if self.frames else np.zeros((0, *self.size[::-1], 4), np.uint8))


@pytest.fixture
def npy():
    assert ".npy" not in FORMATS
    register(".npy", NpyWriter, "every frame as one numpy array", alpha=False, embed=None)
    yield
    del FORMATS[".npy"]


def expected(**options):
    return np.stack(list(polyanim.frames(HISTORY, **{**OPTIONS, **options})))


def test_a_registered_format_is_written_by_polyanim_render(npy, tmp_path):
    out = polyanim.render(HISTORY, tmp_path / "run.npy", **OPTIONS)
    np.testing.assert_array_equal(np.load(out), expected())
    assert [p.name for p in tmp_path.iterdir()] == ["run.npy"]  # staged by the renderer, nothing left over


def test_a_registered_format_is_written_by_the_cli(npy, tmp_path, capsys):
    out = tmp_path / "cli.npy"
    assert main([str(HISTORY), "--out", str(out), "-q", "--set", "render.size=[96,64]", "--set", "render.fps=10",
                 "--set", "render.hold=0.3"]) == 0
    assert capsys.readouterr().out.split() == [str(out)]
    np.testing.assert_array_equal(np.load(out), expected())


def test_a_registered_format_renders_beside_the_built_in_ones(npy, tmp_path):
    outs = polyanim.render(HISTORY, [tmp_path / "a.npy", tmp_path / "a.gif"], **OPTIONS)
    np.testing.assert_array_equal(np.load(outs[0]), expected())
    assert outs[1].read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize("workers", [2, 3])
def test_an_in_process_writer_gets_every_frame_whatever_render_workers_says(npy, tmp_path, workers):
    out = polyanim.render(HISTORY, tmp_path / "w.npy", workers=workers, interpolate=3, **OPTIONS)
    want = expected(interpolate=3)
    assert len(set(map(bytes, want))) > 8  # enough distinct frames for several drawers to get a chunk each
    np.testing.assert_array_equal(np.load(out), want)


def test_forked_drawing_is_kept_for_writers_that_accept_it(npy):
    from polyanim.renderer import drawing_workers
    from polyanim.writers import Mp4Writer

    settings = polyanim.api.resolve(HISTORY, {**OPTIONS, "workers": 2})[1]
    assert drawing_workers(settings, Mp4Writer, 40, (96, 64)) == 2
    assert drawing_workers(settings, NpyWriter, 40, (96, 64)) == 1


def test_register_refuses_a_taken_or_malformed_suffix(npy):
    with pytest.raises(polyanim.InputError, match=r"register: suffix: \.gif is already a format"):
        register(".gif", NpyWriter, "x")
    with pytest.raises(polyanim.InputError, match="register: suffix: expected a lower-case file suffix"):
        register("npz", NpyWriter, "x")
