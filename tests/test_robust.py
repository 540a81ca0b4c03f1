"""Faults from outside: processes killed outright, full disks, encoders killed, limits of the machine."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from polyanim import fileio
from polyanim.cli import main

from conftest import ROOT, make_history


def wait_for(condition, seconds=30.0, what="condition"):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def processes_using(text: str) -> list[int]:
    """Pids whose command line mentions ``text`` (Linux /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                pids.append(int(entry.name))
        except OSError:
            pass
    return pids


def test_a_killed_render_leaves_only_recognisable_leftovers_that_the_next_render_removes(tmp_path, small_render):
    hist = make_history(frames=300, points=200).save(tmp_path / "h.history.npz")
    out, scratch = tmp_path / "out", tmp_path / "scratch"
    out.mkdir()
    scratch.mkdir()
    proc = subprocess.Popen([sys.executable, "-m", "polyanim", str(hist), "--out", str(out / "x.gif"), "--quiet",
                             "--set", "render.size=[160,120]", "--set", "render.interpolate=8"],
                            cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT), TMPDIR=str(scratch)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        palette = wait_for(lambda: list(out.glob(".x.polyanim-*.tmp.gif.palette.png")), what="the GIF palette")
        wait_for(lambda: processes_using(str(palette[0])), what="the encoder")  # streaming has begun
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    wait_for(lambda: not processes_using(f".x.polyanim-{proc.pid}."), what="the orphaned encoder to finish")
    left = sorted(p.name for p in out.iterdir())
    assert len(left) == 2 and all(fileio.TEMPORARY.fullmatch(n) and f"-{proc.pid}." in n for n in left), left
    assert list(scratch.iterdir()) == []  # the palette is no longer in the temp dir
    planted = [out / f".x.polyanim-{os.getpid()}.abc123.tmp.gif",  # a live process's: kept
               out / ".x.k2j3h4.tmp.gif", out / "notes.tmp.gif"]  # not polyanim's pattern: kept
    for p in planted:
        p.write_bytes(b"")
    young = out / f".y.polyanim-{proc.pid}.zzz999.tmp.gif"  # a dead process's, but just written: kept
    old = time.time() - 60
    for p in [out / n for n in left] + planted:
        os.utime(p, (old, old))
    young.write_bytes(b"")
    from polyanim.renderer import render

    render(make_history(), out / "y.gif", small_render, quiet=True)
    assert sorted(p.name for p in out.iterdir()) == sorted([p.name for p in planted] + [young.name, "y.gif"])


def limited_run(args, cwd, file_size: int) -> subprocess.CompletedProcess:
    """``python -m polyanim ARGS`` with the file-size limit (RLIMIT_FSIZE) at ``file_size`` bytes."""
    import resource

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))

    return subprocess.run([sys.executable, "-m", "polyanim", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)), preexec_fn=limit, timeout=120)


def test_failures_name_the_file_and_say_what_happened(tmp_path, history, capsys, monkeypatch):
    hist = make_history(frames=40).save(tmp_path / "h.history.npz")
    small = ["--quiet", "--set", "render.size=[160,120]"]
    gif = tmp_path / "x.gif"
    proc = limited_run([str(hist), "--out", str(gif), *small], tmp_path, 20_000)  # ffmpeg: SIGXFSZ
    assert proc.returncode == 1 and proc.stderr == (f"polyanim: error: {gif}: ffmpeg was killed by SIGXFSZ "
                                                    f"(file size limit exceeded)\n"), proc.stderr
    page = tmp_path / "x.html"
    proc = limited_run([str(hist), "--out", str(page), *small], tmp_path, 20_000)  # python: EFBIG
    assert proc.returncode == 1 and proc.stderr == f"polyanim: error: {page}: file too large\n", proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.history.npz"]

    def full(self, *args, **kwargs):
        import errno

        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    assert main([str(hist), "--out", str(page), *small]) == 1
    assert capsys.readouterr().err == f"polyanim: error: {page}: no space left on device\n"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_an_existing_folder_that_takes_no_files_is_called_that(tmp_path, capsys):
    hist = make_history().save(tmp_path / "h.history.npz")
    assert main([str(hist), "--out", "/proc/x.gif", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("polyanim: error: /proc: the folder exists but files cannot be created in it")
    assert err.count("\n") == 1


def worker_pids(parent: int) -> list[int]:
    return [pid for pid in processes_using("spawn_main") if _ppid(pid) == parent]


def _ppid(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_workers_die_with_their_parent_and_nothing_prints_after_it(tmp_path):
    cfg = tmp_path / "long.yaml"
    cfg.write_text("data: {points: 50}\ntrain: {steps: 50000000, record_every: 10000000, workers: 2}\n"
                   "runs: [{label: a}, {label: b, train: {lr: 2.0e-6}}]\n")
    proc = subprocess.Popen([sys.executable, "render.py", str(cfg), "--out", str(tmp_path / "x.gif"), "--quiet"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers = wait_for(lambda: len(worker_pids(proc.pid)) == 2 and worker_pids(proc.pid), 60, "two workers")
        time.sleep(1.0)  # into their initializer, or training
    finally:
        proc.send_signal(signal.SIGKILL)
    # EOF on both pipes: the workers and the resource tracker, which share them, have all exited
    out, err = proc.communicate(timeout=20)
    wait_for(lambda: all(gone(pid) for pid in workers), 5, "the workers to exit")
    assert (out, err) == ("", "")


def test_a_worker_takes_no_named_semaphore_for_its_progress_bars():
    """A named semaphore left by a worker the pool terminates was the 'leaked semaphore' warning."""
    import multiprocessing

    from polyanim.multirun import _init_worker

    expr = "[type(x).__module__ for x in [__import__('tqdm').tqdm.get_lock(), *getattr(__import__('tqdm').tqdm.get_lock(), 'locks', [])]]"
    with multiprocessing.get_context("spawn").Pool(1, initializer=_init_worker, initargs=(1, os.getpid())) as pool:
        modules = pool.apply(eval, (expr,))
    assert "multiprocessing.synchronize" not in modules, modules


def test_configs_that_would_exhaust_the_machine_are_refused_before_training(tmp_path, capsys, monkeypatch):
    import polyanim.train

    monkeypatch.setattr(polyanim.train, "train", lambda *a, **k: pytest.fail("trained"))
    cfg, out = str(ROOT / "configs/sin.yaml"), ["--out", str(tmp_path / "x.gif"), "--quiet"]
    every_step = ["--set", "data.points=200000", "--set", "train.steps=2000", "--set", "train.record_every=1"]
    sweep = ["--set", "sweep={key: train.lr, values: [1e-7, 2e-7, 3e-7, 4e-7, 5e-7, 6e-7, 7e-7, 8e-7]}"]
    for argv, fragments in [
        (every_step + sweep, ["train.record_every", "data.points", "runs", "about 11.9 GiB", "8 runs",
                              "limit is 1.0 GiB"]),
        (every_step, ["about 1.5 GiB (1 run x up to 2,001 snapshots x 200,000 points)"]),
        (["--set", "train.steps=2000", "--set", "train.record_every=1", "--set", "render.interpolate=16"],
         ["render.interpolate", "34,0", "frames from 2,001 snapshots", "limit is 20,000 frames"]),
        (["--set", "render.title=" + "t" * 201], ["render.title: 201 characters; at most 200"]),
    ]:
        assert main([cfg, *argv, *out]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith(f"polyanim: error: {cfg}: "), err
        for fragment in fragments:
            assert fragment in err, (fragment, err)
    assert list(tmp_path.iterdir()) == []


def test_a_replay_with_too_many_frames_or_too_long_a_title_is_refused(tmp_path, capsys):
    hist = make_history(frames=2001, points=20).save(tmp_path / "h.history.npz")
    for setting, fragment in [("render.interpolate=16", "frames from 2,001 snapshots (render.interpolate 16)"),
                              ("render.title=" + "t" * 201, "render.title: 201 characters")]:
        assert main([str(hist), "--out", str(tmp_path / "x.html" if "title" in setting else tmp_path / "x.gif"),
                     "--set", setting, "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and fragment in err, err


def test_estimates_follow_what_training_and_rendering_really_make(tmp_path):
    from polyanim import config, limits
    from polyanim.multirun import train_runs
    from polyanim.renderer import plan
    from polyanim.writers import GifWriter

    cfg = config.from_dict({"data": {"points": 3000, "noise": 0.1}, "train": {"steps": 300, "record_every": 7},
                            "sweep": {"key": "train.lr", "values": [1e-6, 5e-7]}})
    hist = train_runs(cfg, quiet=True, workers=1)
    with __import__("numpy").load(hist.save(tmp_path / "h.npz")) as npz:
        real = sum(npz[k].nbytes for k in npz.files if k != "meta")
    assert abs(limits.history_bytes(cfg) - real) < 0.02 * real, (limits.history_bytes(cfg), real)
    assert limits.timeline(cfg) == len(hist)
    for render in ({}, {"interpolate": 3, "hold": 2, "hold_start": 0.5}, {"fps": 25, "duration": 6},
                   {"duration": 200, "hold": 1}, {"fps": 50, "interpolate": 16}):
        r = config.from_dict({"render": render}).render
        for n in (2, 44, 1001):
            planned = len(plan(n, r, GifWriter.frame_rate)[0])  # GIF snaps the rate to whole centiseconds
            assert abs(limits.frames(n, r) - planned) <= max(2, 0.01 * planned), (render, n)
    big = config.from_dict({"data": {"points": 100_000}, "train": {"steps": 500, "record_every": 1}})
    [note] = limits.check_config(big)  # large but allowed: one line to print
    mib = float(note.split("about ")[1].split(" MiB")[0])
    assert 501 * 100_000 * 4 / 2**20 < mib < 1.02 * 501 * 100_000 * 4 / 2**20  # pred is most of it
    assert note.endswith("(1 run x up to 501 snapshots x 100,000 points)")
    warnings = plan(3000, config.from_dict({}).render, GifWriter.frame_rate)[2]
    assert any(w.startswith("3,010 frames from 3,000 snapshots") and "to render at 640x480" in w for w in warnings)
