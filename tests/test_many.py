"""Draw once, write many: several outputs from one pass over the frames."""

import os
from pathlib import Path

import pytest

from polyanim import config
from polyanim.cli import main
from polyanim.renderer import drawing_workers, plan, render, stills
from polyanim.scene import Scene
from polyanim.writers import GifWriter, Mp4Writer, PngWriter, UnsupportedFormat, WriterError


def small(**options):
    return config.from_dict({"render": {"size": [160, 120], "fps": 10, "hold": 0.2, **options}}).render


@pytest.mark.parametrize("options", [
    {},
    # GIF plays 30 fps as 33.3 (3 cs): its hold has more frames than the MP4's, a different timeline
    {"fps": 30, "hold": 0.3, "hold_start": 0.1, "filmstrip": 4},
    # odd size: the MP4 is drawn at 162x122, the others at 161x121 (two scenes)
    {"size": [161, 121], "poster": 2, "interpolate": 1},
])
def test_each_output_is_byte_identical_to_writing_it_alone(tmp_path, history, options):
    r = small(**options)
    names = ["a.gif", "a.mp4", "a.png", "a.html"]
    (tmp_path / "many").mkdir()
    together = render(history, [tmp_path / "many" / n for n in names], r, quiet=True)
    assert together == [tmp_path / "many" / n for n in names]
    (tmp_path / "alone").mkdir()
    for name in names:
        alone = render(history, tmp_path / "alone" / name, r, quiet=True)
        assert (tmp_path / "many" / name).read_bytes() == alone.read_bytes(), name
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == sorted(names)  # no temporary left


def test_frames_are_drawn_once_for_all_outputs(tmp_path, history, monkeypatch):
    r = small(fps=30, hold=0.3)
    drawn = []
    update = Scene.update
    monkeypatch.setattr(Scene, "update", lambda self, i: drawn.append(i) or update(self, i))
    render(history, [tmp_path / "a.gif", tmp_path / "a.mp4", tmp_path / "a.png"], r, quiet=True)
    gif, mp4 = plan(len(history), r, GifWriter.frame_rate)[0], plan(len(history), r, Mp4Writer.frame_rate)[0]
    assert len(gif) != len(mp4)  # the two timelines differ; each position is still drawn once
    positions = set(gif) | set(mp4) | set(stills(len(history), r))
    palette = GifWriter.palette_samples  # the GIF palette's sample frames are drawn first, as alone
    assert len(drawn) <= len(positions) + palette
    assert sorted(set(drawn[-len(positions):])) == sorted(positions)


class LateFailingPng(PngWriter):
    def close(self):
        raise WriterError(f"forced failure writing {self.path}")


@pytest.mark.parametrize("failure", ["bad-codec", "png-close", "drawing"])
def test_a_failure_in_one_output_writes_none_and_keeps_old_files(tmp_path, history, monkeypatch, failure):
    old = {n: f"older {n}".encode() for n in ("a.gif", "a.mp4", "a.png")}
    for name, data in old.items():
        (tmp_path / name).write_bytes(data)
    if failure == "bad-codec":
        monkeypatch.setattr(Mp4Writer, "output_args", lambda self: ["-c:v", "no-such-codec", "-f", "mp4"])
    elif failure == "png-close":
        monkeypatch.setattr(PngWriter, "close", LateFailingPng.close)
    else:
        calls = []
        frame = Scene.frame

        def failing(self, i):
            calls.append(i)
            if len(calls) == 9:  # after the palette samples, while streaming
                raise RuntimeError("forced failure while drawing")
            return frame(self, i)

        monkeypatch.setattr(Scene, "frame", failing)
    with pytest.raises((WriterError, RuntimeError)) as info:
        render(history, [tmp_path / n for n in (*old, "new.html")], small(), quiet=True)
    if failure != "drawing":  # the message names the user's file, not a temporary one
        assert str(tmp_path / ("a.mp4" if failure == "bad-codec" else "a.png")) in str(info.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old  # nothing new, nothing damaged


def test_same_file_twice_is_refused(tmp_path, history):
    with pytest.raises(UnsupportedFormat, match="given twice"):
        render(history, [tmp_path / "a.gif", tmp_path / "." / "a.gif"], small(), quiet=True)


def test_cli_out_is_repeatable(tmp_path, capsys):
    hist = Path(__file__).parent / "data" / "v1_single.history.npz"
    outs = [tmp_path / n for n in ("r.gif", "r.png")]
    assert main([str(hist), "--out", str(outs[0]), "--out", str(outs[1]), "-q"]) == 0
    assert capsys.readouterr().out.split() == [str(o) for o in outs]
    assert all(o.stat().st_size > 0 for o in outs)
    assert main([str(hist), "--out", str(outs[0]), "--out", str(tmp_path / "x" / ".." / "r.gif")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "the same file as --out" in err


@pytest.mark.parametrize("suffix", [".gif", ".mp4"])
def test_parallel_drawing_writes_the_serial_bytes(tmp_path, history, suffix):
    serial = render(history, tmp_path / f"serial{suffix}", small(workers=1, fps=20, hold=0.5), quiet=True)
    parallel = render(history, tmp_path / f"parallel{suffix}", small(workers=3, fps=20, hold=0.5), quiet=True)
    assert parallel.read_bytes() == serial.read_bytes()


def test_a_failing_drawing_worker_leaves_nothing(tmp_path, history, monkeypatch):
    dest = tmp_path / "keep.gif"
    dest.write_bytes(b"older")
    frame = Scene.frame

    def failing(self, i):  # inherited by the forked workers
        if i == 3.0 and os.getpid() != parent:
            raise RuntimeError("forced failure in a worker")
        return frame(self, i)

    parent = os.getpid()
    monkeypatch.setattr(Scene, "frame", failing)
    with pytest.raises(RuntimeError, match="forced failure in a worker"):
        render(history, dest, small(workers=2), quiet=True)
    assert [p.name for p in tmp_path.iterdir()] == ["keep.gif"] and dest.read_bytes() == b"older"


def test_auto_draws_in_parallel_only_when_the_costs_say_so():
    big = small(size=[1920, 1080])
    assert drawing_workers(big, Mp4Writer, 2001, (1920, 1080), cores=2) == 1  # encoder and drawing fill 2 cores
    assert drawing_workers(big, GifWriter, 2001, (1920, 1080), cores=16) == 1  # GIF's encoder is the bottleneck
    assert drawing_workers(big, Mp4Writer, 2001, (1920, 1080), cores=16) > 2
    assert drawing_workers(small(), Mp4Writer, 10, (160, 120), cores=16) == 1  # start-up exceeds the saving
    assert drawing_workers(small(workers=3), PngWriter, 10, (160, 120)) == 1  # a still
