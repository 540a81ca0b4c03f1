import os
import subprocess
import sys

import pytest
from PIL import Image

from polyanim.cli import main
from polyanim.registry.formats import FORMATS

from conftest import ROOT, run_python
FAST = ["--set", "train.steps=40", "--set", "train.record_every=10", "--set", "data.points=100",
        "--set", "render.size=[160,120]", "--set", "render.hold=0", "--quiet"]


def one_line_error(capsys, argv, fragment):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert fragment in err, err
    return err


def test_config_to_gif_and_history(tmp_path, capsys):
    out = tmp_path / "sin.gif"
    assert main([str(ROOT / "configs/sin.yaml"), "--out", str(out), *FAST]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "sin.history.npz"), str(out)]
    with Image.open(out) as im:
        assert im.n_frames == 5 and im.size == (160, 120)


def test_default_output_is_outputs_name_gif(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "demo.yaml"
    cfg.write_text("train: {steps: 20, record_every: 10}\ndata: {points: 50}\nrender: {size: [96, 72], hold: 0}\n")
    assert main([str(cfg), "-q"]) == 0
    assert capsys.readouterr().out.split() == ["outputs/demo.history.npz", "outputs/demo.gif"]
    assert (tmp_path / "outputs/demo.gif").stat().st_size > 0


def run_without_torch(args, cwd):
    """Run the CLI in a fresh interpreter in which ``import torch`` fails; it must not load pyplot either."""
    code = ("import sys; sys.modules['torch'] = None\n"
            "from polyanim.cli import main\n"
            f"rc = main({args!r})\n"
            "assert 'torch' not in [m.split('.')[0] for m in sys.modules if sys.modules[m] is not None]\n"
            "assert 'matplotlib.pyplot' not in sys.modules  # no pyplot global state in the package\n"
            "sys.exit(rc)\n")
    return run_python(code, cwd)


def test_replay_without_torch_in_every_format(tmp_path):
    hist = tmp_path / "sin.history.npz"
    assert main([str(ROOT / "configs/sin.yaml"), "--out", str(tmp_path / "sin.gif"), *FAST]) == 0
    for suffix in (".mp4", ".png", ".gif", ".webm", ".html"):  # one of each kind: video, still, GIF, page
        out = tmp_path / f"again{suffix}"
        proc = run_without_torch([str(hist), "--out", str(out), "-q", "--set", "render.fps=20"], tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == str(out) and out.stat().st_size > 0


def test_replay_only_accepts_render_overrides(tmp_path, capsys):
    assert main([str(ROOT / "configs/sin.yaml"), "--out", str(tmp_path / "s.png"), *FAST]) == 0
    capsys.readouterr()
    one_line_error(capsys, [str(tmp_path / "s.history.npz"), "--set", "train.lr=1"], "only render.* keys")
    one_line_error(capsys, [str(tmp_path / "s.history.npz"), "--set", "render.fps=-1"], "render.fps: must be between 0.1 and 120")


@pytest.mark.parametrize("text, fragment", [
    ("train: {lrr: 1}", "train.lrr: unknown key; did you mean 'train.lr'?"),
    ("train: [1, 2", "malformed YAML"),
    ("train: {steps: 0}", "train.steps: must be > 0"),
    ("data: {target: \"__import__('os').system('touch pwned')\"}", "data.target:"),
])
def test_bad_configs_exit_2(tmp_path, capsys, text, fragment):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text + "\n")
    err = one_line_error(capsys, [str(cfg), "--out", str(tmp_path / "x.gif")], fragment)
    assert str(cfg) in err
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "x.gif").exists()


def test_usage_errors_exit_2(tmp_path, capsys):
    one_line_error(capsys, [str(tmp_path / "missing.yaml")], "no such config file")
    one_line_error(capsys, [str(tmp_path / "missing.npz")], "no such history file")
    one_line_error(capsys, [str(ROOT / "configs/sin.yaml"), "--out", str(tmp_path / "x.avi")],
                   "supported: " + ", ".join(FORMATS))
    assert not list(tmp_path.iterdir())  # nothing trained, nothing written
    one_line_error(capsys, [str(ROOT / "configs/sin.yaml"), "--set", "train.lr"], "expected KEY=VALUE")
    blocker = tmp_path / "file"
    blocker.write_text("")
    one_line_error(capsys, [str(ROOT / "configs/sin.yaml"), "--out", str(blocker / "x.gif")],
                   "cannot write files in the output folder")
    one_line_error(capsys, [str(ROOT / "configs/sin.yaml"), "--out", str(tmp_path)], "is a folder")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 truncated")
    one_line_error(capsys, [str(junk)], "not a readable .npz")


def test_diverging_run_still_renders(tmp_path, capsys):
    out = tmp_path / "div.png"
    assert main([str(ROOT / "configs/seed.yaml"), "--out", str(out), "--set", "train.lr=1e-3", "-q",
                 "--set", "render.size=[160,120]"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: loss became") and err.count("\n") == 1
    assert out.stat().st_size > 0


def test_render_script_and_console_script_are_the_same_program(tmp_path):
    for cmd in ([sys.executable, str(ROOT / "render.py")], [sys.executable, "-m", "polyanim"]):
        proc = subprocess.run([*cmd, "--help"], capture_output=True, text=True, cwd=tmp_path,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert proc.returncode == 0 and "CONFIG_OR_HISTORY" in proc.stdout


def test_sigterm_unwinds_like_ctrl_c(tmp_path):
    """`timeout` and `kill` send SIGTERM: the render stops, leaving no temporary file behind."""
    import signal
    import time

    hist = tmp_path / "h.history.npz"
    assert main([str(ROOT / "configs/sin.yaml"), "--out", str(tmp_path / "h.png"), *FAST]) == 0
    (tmp_path / "h.png").unlink()
    code = ("import sys\nfrom polyanim.cli import main\n"
            f"sys.exit(main([{str(hist)!r}, '--out', {str(tmp_path / 'slow.gif')!r}, '-q', "
            "'--set', 'render.interpolate=16', '--set', 'render.hold=20']))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))
    deadline = time.monotonic() + 20
    while not any(p.name.startswith(".slow.") for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["h.history.npz"]
