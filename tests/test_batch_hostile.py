"""Issue 16's batch items: bad arguments from Python (8), a bad resume record (10), a SIGKILLed parent (15),
a Dask batch that loses its last worker (16), diverged units and the counts (17), outputs checked by hash
(18) and a grid too large to start without a word (19)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import polyanim
from polyanim.batching import BatchError, plan
from polyanim.batching import command as command_mod
from polyanim.cli import main

from conftest import ROOT, make_history
from test_batch import table, tiny
from test_robust import gone, wait_for, worker_pids


def refused(fragment: str, call, *args, **kwargs) -> str:
    with pytest.raises(BatchError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert fragment in message and "\n" not in message, message
    return message


# --- item 8: polyanim.batch's arguments from Python ----------------------------------------------

@pytest.mark.parametrize("kwargs, fragment", [
    (dict(grid={"train.lr": "1e-6"}), "--grid train.lr: expected a list of values"),
    (dict(grid={"train.lr": []}), "--grid train.lr: give at least one value"),
    (dict(grid={"train.lr": None}), "--grid train.lr: expected a list of values"),
    (dict(grid=5), "--grid: expected"),
    (dict(grid=[3]), "--grid: expected 'KEY=V1,V2' text or a (key, values) pair"),
    (dict(grid={1: [2]}), "--grid: keys are dotted text"),
    (dict(sets=5), "--set: expected"),
    (dict(sets=[("train.lr", 1)]), "--set: expected"),
    (dict(formats=None), "--format: expected format names"),
    (dict(formats=42), "--format: expected format names"),
    (dict(formats=[42]), "--format: expected format names"),
    (dict(inputs=None), "inputs: expected a path or a list of paths"),
    (dict(inputs=[3]), "inputs: expected a path or a list of paths"),
    (dict(out_dir=None), "--out-dir: expected a folder path"),
    (dict(max_units=0), "--max-units: must be a whole number >= 1"),
])
def test_bad_batch_arguments_from_python_are_one_line_before_any_unit(tmp_path, kwargs, fragment):
    args = dict(inputs=tiny(tmp_path, "a"), out_dir=tmp_path / "out") | kwargs
    refused(fragment, polyanim.batch, **args)
    assert not (tmp_path / "out" / "index.html").exists()


def test_a_key_value_pair_list_is_a_grid_as_its_mapping_is(tmp_path):
    path = tiny(tmp_path, "a")
    pairs = [u.name for u in plan([path], grid=[("train.lr", [1e-6, 2e-6])])]
    assert pairs == [u.name for u in plan([path], grid={"train.lr": [1e-6, 2e-6]})] == \
        ["a__train.lr=1e-06", "a__train.lr=2e-06"]


# --- item 19: a grid too large is refused before it is expanded; a large one is announced --------

def test_a_ten_thousand_unit_grid_is_refused_at_once_naming_the_cap(tmp_path):
    path = tiny(tmp_path, "a")
    started = time.perf_counter()
    refused("10,000 units", plan, [path], grid={"train.lr": list(range(1, 101)), "train.steps": list(range(1, 101))})
    assert time.perf_counter() - started < 1.0  # counted, not expanded: no config was read 10,000 times
    refused("give --max-units 3", plan, [path], grid={"train.lr": [1, 2, 3]}, max_units=2)
    assert len(plan([path], grid={"train.lr": [1, 2, 3]}, max_units=3)) == 3


def test_a_large_batch_says_how_many_units_and_how_long_before_it_starts(tmp_path, capsys, monkeypatch):
    make_history(frames=3, points=50, name="h").save(tmp_path / "h.history.npz")
    monkeypatch.setattr(command_mod, "ANNOUNCE_UNITS", 1)
    assert main(["batch", str(tmp_path / "h.history.npz"), "--out-dir", str(tmp_path / "out"), "-f", "png",
                 "-j", "1", "--set", "render.size=[160,120]"]) == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("polyanim batch: 1 units to run, about ") and first.endswith("on 1 worker(s)"), first


# --- items 17, 18 and 10: statuses, counts, hashes and records -----------------------------------

DIVERGES = "model: {degree: 3}\ntrain: {steps: 40, record_every: 10, log_every: 0, lr: 5.0}\n" \
           "render: {size: [320, 240], hold: 0, fps: 10}\ndata: {points: 80}\nname: boom\n"


def test_a_diverged_unit_is_a_warning_and_keeps_its_status_when_kept(tmp_path, capsys):
    (tmp_path / "boom.yaml").write_text(DIVERGES)
    argv = ["batch", str(tmp_path / "boom.yaml"), "--out-dir", str(tmp_path / "out"), "-j", "1", "--quiet"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert table(captured.out)["boom"][:2] == ["diverged", "now"]
    assert captured.err.startswith("polyanim batch: warning: boom: ") and captured.err.count("\n") == 1
    assert (tmp_path / "out/boom.gif").is_file()
    assert main(argv) == 0  # kept, and still counted as what it is
    out = capsys.readouterr().out
    assert table(out)["boom"][:2] == ["diverged", "kept"]
    assert "1 units: 0 ok, 1 diverged, 0 failed (1 up to date, kept)" in out.splitlines()[-1]
    widths = {len(line.split("  diverged")[0]) for line in out.splitlines()[1:-1]}
    assert len(widths) == 1  # the columns line up


def history_batch(tmp_path, capsys):
    make_history(frames=3, points=50, name="h").save(tmp_path / "h.history.npz")
    assert main(["batch", str(tmp_path / "h.history.npz"), "--out-dir", str(tmp_path / "out"), "-f", "png", "-j", "1",
                 "--quiet", "--set", "render.size=[160,120]"]) == 0
    return table(capsys.readouterr().out)["h"][:2]


def test_an_output_overwritten_with_zeros_of_its_size_is_made_again(tmp_path, capsys):
    assert history_batch(tmp_path, capsys) == ["ok", "now"]
    assert history_batch(tmp_path, capsys) == ["ok", "kept"]
    png = tmp_path / "out/h.png"
    good = png.read_bytes()
    png.write_bytes(bytes(len(good)))
    assert history_batch(tmp_path, capsys) == ["ok", "now"]
    assert png.read_bytes() == good


@pytest.mark.parametrize("field, value", [("final_loss", "abc"), ("final_loss", [1]), ("seconds", None),
                                          ("status", "kept"), ("outputs", {"../h.png": {"bytes": 1, "sha256": ""}}),
                                          ("outputs", {"h.png": 12})])
def test_a_record_with_the_right_digest_but_a_bad_field_is_redone(tmp_path, capsys, field, value):
    history_batch(tmp_path, capsys)
    record = tmp_path / "out/.polyanim-batch/h.json"
    state = json.loads(record.read_text())
    record.write_text(json.dumps(state | {field: value}))
    assert history_batch(tmp_path, capsys) == ["ok", "now"]
    assert json.loads(record.read_text())["final_loss"] == state["final_loss"]
    assert "h.png" in (tmp_path / "out/index.html").read_text()


# --- item 15: SIGKILL of the batch parent ---------------------------------------------------------

def test_a_killed_batch_parent_takes_its_workers_and_resource_tracker_with_it(tmp_path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(f"name: {name}\ndata: {{points: 50}}\n"
                                               "train: {steps: 50000000, record_every: 10000000, log_every: 0}\n")
    proc = subprocess.Popen([sys.executable, "-m", "polyanim", "batch", str(tmp_path / "a.yaml"),
                             str(tmp_path / "b.yaml"), "--out-dir", str(tmp_path / "out"), "-j", "2", "--quiet"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers = wait_for(lambda: len(worker_pids(proc.pid)) >= 2 and worker_pids(proc.pid), 60, "two workers")
        time.sleep(1.0)  # into their warm-up or their unit
    finally:
        proc.send_signal(signal.SIGKILL)
    # EOF on both pipes: the workers and the resource tracker, which share them, have all exited
    out, err = proc.communicate(timeout=20)
    wait_for(lambda: all(gone(pid) for pid in workers), 5, "the workers to exit")
    assert (out, err) == ("", "")


# --- item 16: a Dask batch whose last worker dies ---------------------------------------------------

def test_a_dask_batch_that_loses_its_last_worker_fails_its_units_within_the_timeout(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed", reason='dask is not installed (pip install -e ".[dask]")')
    from polyanim.batching import cluster

    monkeypatch.setattr(cluster, "NO_WORKER_SECONDS", 3.0)
    make_history(frames=3, points=50, name="b").save(tmp_path / "b.history.npz")
    with distributed.LocalCluster(n_workers=0, dashboard_address=None, host="127.0.0.1") as local:
        # one worker without a nanny (nothing restarts it), which dies as if killed when it takes unit b
        worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", local.scheduler_address,
                                   "--no-nanny", "--nthreads", "1", "--no-dashboard"],
                                  env=dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), *sys.path[1:]]),
                                           POLYANIM_BATCH_CRASH="b"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = time.monotonic()
            results = polyanim.batch(tmp_path / "b.history.npz", tmp_path / "out", formats="png",
                                     scheduler=local.scheduler_address)
            took = time.monotonic() - started
            assert worker.wait(10) == 70  # it did die on the unit
        finally:
            worker.kill()
            worker.wait()
    assert [(r.name, r.status) for r in results] == [("b", "failed")]
    assert results[0].error.startswith("no Dask worker for 3 s") and took < 60
    assert (tmp_path / "out/index.html").is_file()
