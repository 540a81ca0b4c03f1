"""Inputs that are not regular files (a FIFO, /dev/zero, a folder) or are far too big: one line, never a hang."""

import os
import resource
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import polyanim
from polyanim import batching, config, datafile

from conftest import ROOT

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")


def _cli(*argv, cwd):
    """``render.py ARGV`` in a subprocess that cannot hang the suite nor eat the machine if the check is missing."""
    def cap_memory():  # before the fix /dev/zero is read until memory runs out: keep that small
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    try:
        return subprocess.run([sys.executable, str(ROOT / "render.py"), *argv], capture_output=True, text=True,
                              cwd=cwd, timeout=60, preexec_fn=cap_memory,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    except subprocess.TimeoutExpired:
        pytest.fail(f"render.py {' '.join(argv)} still running after 60 s")


def _fifo(path):
    """A FIFO at ``path`` whose writer, if a reader opens it within 5 s, closes at once (the reader sees EOF).

    A reader that blocks on it is released rather than hanging the suite; a reader that never opens it
    leaves nothing behind after 5 s.
    """
    os.mkfifo(path)

    def release():
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # ENXIO until a reader has it open
                return
            except OSError:
                time.sleep(0.05)

    threading.Thread(target=release, daemon=True).start()
    return path


def _refused(done, path, fragment):
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(path) in done.stderr and fragment in done.stderr, done.stderr
    assert done.stdout == ""


def test_a_fifo_config_with_no_writer_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    _refused(_cli(str(fifo), "--out", str(tmp_path / "x.gif"), cwd=tmp_path), fifo, "FIFO")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.yaml"]  # nothing trained, nothing written


def test_a_fifo_history_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "run.history.npz"
    os.mkfifo(fifo)
    _refused(_cli(str(fifo), "--out", str(tmp_path / "x.gif"), cwd=tmp_path), fifo, "FIFO")


def test_dev_zero_is_refused_before_a_byte_is_read(tmp_path):
    _refused(_cli("/dev/zero", "--out", str(tmp_path / "x.gif"), cwd=tmp_path), "/dev/zero", "character device")


def test_a_config_over_a_megabyte_is_not_a_config(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("name: big\n" + "# padding\n" * ((2 << 20) // 10))
    assert big.stat().st_size > 2_000_000
    with pytest.raises(polyanim.InputError) as err:
        config.load(big)
    message = str(err.value)
    assert "\n" not in message and str(big) in message and "at most 1 MB" in message
    big.write_text("name: fine\n" + "# padding\n" * 1000)  # a long but plausible config still loads
    assert config.load(big).name == "fine"


def test_a_folder_is_refused_as_a_config_and_as_a_history(tmp_path):
    folder = tmp_path / "configs.yaml"
    folder.mkdir()
    with pytest.raises(polyanim.InputError, match="is a directory") as err:
        config.load(folder)
    assert str(folder) in str(err.value)
    folder = tmp_path / "run.npz"
    folder.mkdir()
    with pytest.raises(polyanim.InputError, match="is a directory") as err:
        polyanim.load(folder)
    assert str(folder) in str(err.value) and "\n" not in str(err.value)


def test_a_batch_refuses_a_fifo_input_without_opening_it_for_good(tmp_path):
    fifo = _fifo(tmp_path / "run.history.npz")
    with pytest.raises(batching.BatchError, match="FIFO") as err:
        batching.input_files([fifo])  # before, _file_hash would then block on it
    assert str(fifo) in str(err.value)


def test_the_data_file_reader_opens_only_regular_files(tmp_path):
    # read() stats first; the open itself must refuse a FIFO swapped in after that (the readers' own check)
    for name in ("points.csv", "points.npz"):
        fifo = _fifo(tmp_path / name)
        with pytest.raises(datafile.DataFileError, match="FIFO"):
            datafile._cached(str(fifo), 0, 0)
    good = tmp_path / "points.npy"
    np.save(good, np.c_[np.linspace(0, 1, 5), np.arange(5.0)])
    x, y = datafile.read(good)
    assert list(y) == [0, 1, 2, 3, 4]


def test_the_two_input_reader_opens_only_regular_files(tmp_path):
    from polyanim import datafile2d

    for name in ("points.csv", "points.npy", "points.npz"):
        fifo = _fifo(tmp_path / name)
        with pytest.raises(datafile.DataFileError, match="FIFO"):
            datafile2d._cached(str(fifo), 0, 0, (0, 1, 2), None)
        with pytest.raises(datafile.DataFileError, match="not a file"):  # and read() refuses it from its stat
            datafile2d.read(fifo, (0, 1, 2))


def test_read_regular_refuses_a_file_that_outgrows_its_cap(tmp_path):
    from polyanim.fileio import read_regular

    path = tmp_path / "f"
    path.write_bytes(b"x" * 10)
    assert read_regular(path, 10) == b"x" * 10
    with pytest.raises(polyanim.InputError, match="f: 10 bytes; a file is at most 9 bytes"):
        read_regular(path, 9)
