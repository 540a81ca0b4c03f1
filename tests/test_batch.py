"""``polyanim batch``: grid expansion and names, failures that stay local, resume, a killed worker,
a Dask LocalCluster that gives the local batch's bytes, and the gallery page in a real browser."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import polyanim
from polyanim import batching as batch_mod
from polyanim.batching import BatchError, Result, parse_formats, parse_grid, plan
from polyanim.batching.command import _Progress
from polyanim.cli import main
from polyanim.gallery import write_index
from polyanim.registry.formats import FORMATS

from conftest import ROOT, make_history, run_python
from test_html import browser, open_page  # noqa: F401  (the module's Chromium fixture)

TINY = """name: {name}
seed: 0
data: {{points: 80}}
model: {{degree: 3}}
train: {{steps: {steps}, record_every: 10, log_every: 0, lr: 1.0e-6}}
render: {{size: [320, 240], hold: 0, fps: 10}}
"""
SWEEP = TINY + "sweep: {{key: train.lr, values: [1.0e-6, 2.0e-6]}}\n"


def tiny(folder, name, steps=30, text=TINY):
    path = folder / f"{name}.yaml"
    path.write_text(text.format(name=name, steps=steps))
    return path


def gif_frames(path) -> int:
    with Image.open(path) as im:
        assert im.size == (320, 240)
        return im.n_frames


def table(out: str) -> dict:
    """The summary table's rows by unit name: [status, run (now or kept), final loss, seconds, error...]."""
    rows = {}
    for line in out.splitlines()[1:-1]:
        name, *rest = line.split()
        rows[name] = rest
    return rows


# --- planning ------------------------------------------------------------------------------------


def test_grid_expands_to_the_cartesian_product_with_safe_names(tmp_path):
    cfg = tiny(tmp_path, "sin")
    units = plan([cfg], ("gif",), ["train.lr=1e-6,3e-6", "model.degree=3,5", "render.size=[320,240],[160,120]"])
    assert len(units) == 8
    names = [u.name for u in units]
    assert names[0] == "sin__train.lr=1e-06__model.degree=3__render.size=320x240"
    assert "sin__train.lr=3e-06__model.degree=5__render.size=160x120" in names
    assert len(set(names)) == 8 and all(re.fullmatch(r"[A-Za-z0-9._=+-]+", n) for n in names)
    last = units[-1]
    assert (last.config["train"]["lr"], last.config["model"]["degree"], last.config["render"]["size"]) == \
        (3e-6, 5, [160, 120])
    assert last.label == "sin  train.lr=3e-06, model.degree=5, render.size=160x120"
    assert len({u.digest for u in units}) == 8  # every point is its own resumable unit
    # a grid is also a mapping of values; the same point gives the same digest
    again = plan([cfg], ("gif",), {"train.lr": [1e-6], "model.degree": [3], "render.size": [[320, 240]]})
    assert again[0].name == names[0] and again[0].digest == units[0].digest
    assert plan([cfg], ("gif", "png"), ["train.lr=1e-6"])[0].digest != plan([cfg], ("gif",), ["train.lr=1e-6"])[0].digest


def test_folders_histories_and_bad_configs_become_units(tmp_path):
    tiny(tmp_path, "b")
    tiny(tmp_path, "a")
    (tmp_path / "bad.yaml").write_text("train: {lr: -1}\n")
    (tmp_path / "notes.txt").write_text("ignored")
    make_history(name="h").save(tmp_path / "h.history.npz")
    items = plan([tmp_path], ("gif",), ["train.lr=1e-6,2e-6", "render.fps=5,10"], ["train.steps=20"])
    kinds = [(i.name, i.status if isinstance(i, Result) else i.kind) for i in items]
    assert kinds[:4] == [(f"a__train.lr={lr}__render.fps={fps}", "config")
                         for lr in ("1e-06", "2e-06") for fps in (5, 10)]
    assert [k for k in kinds if k[0].startswith("bad")][0][1] == "failed"
    # a History cannot be retrained: only the render.* keys of --grid and --set reach it
    assert [k for k in kinds if k[0].startswith("h")] == [("h__render.fps=5", "history"), ("h__render.fps=10", "history")]
    bad = next(i for i in items if i.name.startswith("bad"))
    assert "bad.yaml: train.lr: must be > 0" in bad.error
    assert items[0].config["train"]["steps"] == 20


@pytest.mark.parametrize("call, fragment", [
    (lambda p: plan([p / "none.yaml"]), "none.yaml: no such file or folder"),
    (lambda p: plan([p / "x.txt"]), "x.txt: not a config (.yaml, .yml) or a history"),
    (lambda p: plan([p], grid=["train.lrr=1,2"]), "--grid: train.lrr: not a config value; did you mean 'train.lr'?"),
    (lambda p: plan([p], grid=["train.lr"]), "--grid train.lr: expected KEY=V1,V2"),
    (lambda p: plan([p], grid=["train.lr=1", "train.lr=2"]), "train.lr is given twice"),
    (lambda p: plan([p], sets=["render.fsp=3"]), "--set: render.fsp: not a config value; did you mean 'render.fps'?"),
    (lambda p: parse_formats("gif,avi"),
     "--format avi: unknown format; allowed: " + ", ".join(s.lstrip(".") for s in FORMATS)),
])
def test_bad_usage_is_one_line(tmp_path, call, fragment):
    tiny(tmp_path, "a")
    (tmp_path / "x.txt").write_text("")
    with pytest.raises(BatchError) as info:
        call(tmp_path)
    assert fragment in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("argv, fragment", [
    (["batch", "{a}"], "the following arguments are required: --out-dir"),
    (["batch", "{a}", "--out-dir", "{out}", "--workers", "0"], "--workers: must be auto or a whole number >= 1"),
    (["batch", "{a}", "--out-dir", "{a}"], "is a file; give a folder"),
    (["batch", "{a}", "--out-dir", "{out}", "--format", "jpg"], "--format jpg: unknown format"),
])
def test_cli_usage_errors_exit_2_with_one_line(tmp_path, capsys, argv, fragment):
    a = tiny(tmp_path, "a")
    argv = [s.format(a=a, out=tmp_path / "out") for s in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err and "Traceback" not in err, err


def test_entry_points_and_a_file_named_batch(tmp_path):
    for cmd in ([sys.executable, "-m", "polyanim", "batch", "--help"], [sys.executable, "render.py", "batch", "--help"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
        assert proc.returncode == 0 and "usage: polyanim batch" in proc.stdout, proc.stderr
    (tmp_path / "batch").write_text("x")
    proc = run_python("from polyanim.cli import main; import sys; sys.exit(main(['./batch']))", tmp_path)
    # the single-run program read it as a config, not the batch program
    assert proc.returncode == 2 and proc.stderr.startswith("polyanim: error: batch: expected a mapping"), proc.stderr


def test_parse_grid_splits_outside_brackets():
    assert parse_grid(["render.size=[320,240],[160, 120]", "train.lr=1e-6, 2e-6"]) == [
        ("render.size", ["[320,240]", "[160, 120]"]), ("train.lr", ["1e-6", "2e-6"])]


# --- running ---------------------------------------------------------------------------------------


def test_mixed_batch_fails_locally_then_resumes(tmp_path, capsys):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    good, runs = tiny(src, "good"), tiny(src, "runs", text=SWEEP)
    (src / "bad.yaml").write_text("train: {steps: 30, lr: -1}\n")
    make_history(frames=4, points=80, name="saved").save(src / "saved.history.npz")
    argv = ["batch", str(src), "--out-dir", str(out), "--workers", "1", "--quiet", "--set", "render.size=[320,240]", "--set", "render.hold=0"]
    assert main(argv) == 1
    printed = capsys.readouterr().out
    rows = table(printed)
    assert printed.splitlines()[-1].startswith("4 units: 3 ok, 0 diverged, 1 failed (0 up to date, kept)")
    assert rows["bad"][0] == "failed" and "bad.yaml: train.lr: must be > 0" in " ".join(rows["bad"])
    assert {rows[n][0] for n in ("good", "runs", "saved")} == {"ok"}
    assert gif_frames(out / "good.gif") == 4 and gif_frames(out / "saved.gif") == 4
    assert polyanim.load(out / "runs.history.npz").labels == ["lr=1e-06", "lr=2e-06"]
    assert not (out / "saved.history.npz").exists()  # a History input is only rendered
    assert not list(out.glob(".*.tmp*")) and (out / "index.html").is_file()
    state = json.loads((out / ".polyanim-batch/good.json").read_text())
    assert state["status"] == "ok" and set(state["outputs"]) == {"good.history.npz", "good.gif"}

    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.is_file() and p.name != "index.html"}
    assert main(argv) == 1  # bad.yaml still fails; nothing else runs again
    rows = table(capsys.readouterr().out)
    assert [rows[n][:2] for n in ("good", "runs", "saved", "bad")] == [["ok", "kept"]] * 3 + [["failed", "now"]]
    assert stamps == {n: (out / n).stat().st_mtime_ns for n in stamps}

    tiny(src, "good", steps=40)  # a changed config runs again; the others are still up to date
    (out / "saved.gif").write_bytes(b"GIF89a")  # an output changed since it was made: made again
    (src / "bad.yaml").unlink()
    assert main(argv) == 0
    rows = table(capsys.readouterr().out)
    assert [rows[n][:2] for n in ("good", "runs", "saved")] == [["ok", "now"], ["ok", "kept"], ["ok", "now"]]
    assert gif_frames(out / "good.gif") == 5 and gif_frames(out / "saved.gif") == 4
    assert (out / "good.gif").stat().st_mtime_ns != stamps["good.gif"]
    assert (out / "runs.gif").stat().st_mtime_ns == stamps["runs.gif"]


def test_a_killed_worker_is_reported_and_the_others_finish(tmp_path, monkeypatch):
    for name in ("a", "b", "c"):  # History units: workers that need no torch start faster
        make_history(frames=3, points=50, name=name).save(tmp_path / f"{name}.history.npz")
    monkeypatch.setenv(batch_mod.CRASH_HOOK, "b")
    results = polyanim.batch(tmp_path, tmp_path / "out", formats="png", workers=2, sets={"render.size": [160, 120]})
    by_name = {r.name: r for r in results}
    assert [r.name for r in results] == ["a", "b", "c"]
    assert (by_name["a"].status, by_name["c"].status) == ("ok", "ok")
    assert by_name["b"].status == "failed" and "worker process died" in by_name["b"].error
    assert (tmp_path / "out/a.png").is_file() and (tmp_path / "out/c.png").is_file()
    assert not (tmp_path / "out/b.png").exists() and not (tmp_path / "out/.polyanim-batch/b.json").exists()


def test_a_history_unit_never_imports_torch(tmp_path):
    make_history(frames=3, points=50, name="h").save(tmp_path / "h.history.npz")
    code = ("import sys; sys.modules['torch'] = None\n"
            "from polyanim.batching import plan, execute\n"
            "unit, = plan(['h.history.npz'], ('png',), sets=['render.size=[160,120]', 'train.lr=1'])\n"
            "r = execute(unit, ('png',), '.')\n"
            "assert r['status'] == 'ok', r\n"
            "assert 'torch' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n")
    proc = run_python(code, tmp_path)
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "h.png") as im:
        assert im.size == (160, 120)


def test_dask_missing_is_one_line(tmp_path):
    tiny(tmp_path, "a")
    code = ("import sys; sys.modules['distributed'] = None\n"
            "from polyanim.cli import main\n"
            "sys.exit(main(['batch', 'a.yaml', '--out-dir', 'out', '--scheduler', 'tcp://127.0.0.1:1']))\n")
    proc = run_python(code, tmp_path)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert 'pip install -e ".[dask]"' in proc.stderr


def test_local_cluster_gives_the_local_batch_bytes(tmp_path):
    distributed = pytest.importorskip("distributed", reason='dask is not installed (pip install -e ".[dask]")')
    tiny(tmp_path, "a")  # one config, one History: one of the workers pays for import torch
    make_history(frames=4, points=80, name="h").save(tmp_path / "h.history.npz")
    options = dict(formats=("gif", "png"), quiet=True)
    local = polyanim.batch(tmp_path, tmp_path / "local", workers=1, **options)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None,
                                  host="127.0.0.1") as cluster:
        remote = polyanim.batch(tmp_path, tmp_path / "remote", scheduler=cluster.scheduler_address, **options)
        shared = polyanim.batch(tmp_path, tmp_path / "shared", scheduler=cluster.scheduler_address, shared=True,
                                formats=("png",), quiet=True)
    assert [r.status for r in local] == [r.status for r in remote] == ["ok"] * 2
    assert [r.status for r in shared] == ["ok"] * 2 and (tmp_path / "shared/a.png").is_file()
    files = sorted(p.name for p in (tmp_path / "local").iterdir() if p.is_file())
    assert files == sorted(p.name for p in (tmp_path / "remote").iterdir() if p.is_file())
    for name in files:
        a, b = (tmp_path / "local" / name).read_bytes(), (tmp_path / "remote" / name).read_bytes()
        if name.endswith((".gif", ".png")):
            assert a == b, name
        elif name.endswith(".npz"):  # zip entries carry the time of writing, meta the training time
            ha, hb = polyanim.load(tmp_path / "local" / name), polyanim.load(tmp_path / "remote" / name)
            assert np.array_equal(ha.pred, hb.pred) and np.array_equal(ha.loss, hb.loss)
            assert ha.config == hb.config


# --- the gallery page ------------------------------------------------------------------------------


def gallery(tmp_path):
    """Three rendered units with different losses, a failed one and a label that must be escaped."""
    from polyanim.config import from_dict
    from polyanim.renderer import render

    cfg = from_dict({"render": {"size": [320, 240], "hold": 0}}).render
    results = []
    for name, scale in (("mid", 2.0), ("best", 0.5), ("worst", 9.0)):
        h = make_history(frames=4, points=80)
        h.loss = h.loss * scale
        render(h, tmp_path / f"{name}.gif", cfg, quiet=True)
        results.append(Result(name, f"{name} <b>&</b>", "ok", float(h.loss[-1]), 1.0, outputs=[f"{name}.gif"]))
    results.insert(1, Result("bad", "bad", "failed", error="bad.yaml: train.lr: must be > 0"))
    return write_index(tmp_path / "index.html", results), results


def test_gallery_is_self_contained_and_escaped(tmp_path):
    page, _ = gallery(tmp_path)
    text = page.read_text(encoding="utf-8")
    assert "http://" not in text and "https://" not in text and "<b>&</b>" not in text
    assert "best &lt;b&gt;&amp;&lt;/b&gt;" in text
    assert not re.search(r"<(script|link)[^>]*\s(src|href)\s*=", text, re.I)
    assert sorted(re.findall(r'<img src="([^"]+)"', text)) == ["best.gif", "mid.gif", "worst.gif"]


def test_gallery_in_browser_sorts_by_loss(browser, tmp_path):
    page_path, results = gallery(tmp_path)
    page, problems = open_page(browser, page_path)  # console errors and any request but file:
    page.wait_for_function("Array.from(document.images).every(i => i.complete && i.naturalWidth === 320)")
    order = "Array.from(document.querySelectorAll('#cards figure')).map(f => f.dataset.name)"
    assert page.evaluate(order) == ["best", "mid", "worst", "bad"]  # lowest loss first; failed last
    page.select_option("#sort", "loss-desc")
    assert page.evaluate(order) == ["worst", "mid", "best", "bad"]
    page.select_option("#sort", "name")
    assert page.evaluate(order) == [r.name for r in results]
    assert "bad.yaml: train.lr: must be &gt; 0" in page.inner_html("figure[data-name=bad]")
    assert page.inner_text("#count") == "4 animations, 1 failed"
    page.screenshot(path=str(tmp_path / "gallery.png"))
    assert not problems, problems


def test_progress_is_one_bar_on_a_terminal_and_lines_otherwise():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    results = [Result("a", "a", "ok", 1.0, 0.5), Result("b", "b", "failed", error="boom")]
    for stream, quiet in ((Terminal(), False), (io.StringIO(), False), (Terminal(), True)):
        progress = _Progress(3, 1, quiet, stream)
        for r in results:
            progress.add(r)
        progress.close()
        text = stream.getvalue()
        if quiet:
            assert text == ""
        elif isinstance(stream, Terminal):  # the bar: units done of all, failures, and the failed one's line
            assert "3/3" in text and "1 failed" in text and "[3/3] b: failed (0.0 s): boom" in text
            assert "[2/3] a" not in text
        else:
            assert text.splitlines() == ["[2/3] a: ok (0.5 s)", "[3/3] b: failed (0.0 s): boom"]


def test_auto_workers_from_cores_and_estimated_work():
    unit = lambda seconds: batch_mod.Unit("u", "u", "u.yaml", "config", estimate=seconds)  # noqa: E731
    assert batch_mod.workers_for([unit(0.3)] * 4, cores=8) == 1  # 1.2 s of work: one worker's start is dearer
    assert batch_mod.workers_for([unit(0.3)] * 24, cores=8) == 3
    assert batch_mod.workers_for([unit(5.0)] * 24, cores=8) == 8
    assert batch_mod.workers_for([unit(5.0)] * 3, cores=8) == 3  # never more workers than units
    assert batch_mod.workers_for([unit(5.0)] * 24, cores=1) == 1
