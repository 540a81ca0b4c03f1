"""The boundary panel against a careful matplotlib user, its per-frame cost against the fit panel, and memory.

    python benchmarks/field_bench.py           # short: 60 frames
    python benchmarks/field_bench.py --full    # the issue's sizes: 200 frames, 640x480, 120x120 mesh, 400 points
    python benchmarks/field_bench.py --full --rounds 3   # medians of 3 alternating rounds (a shared machine)
    python benchmarks/field_bench.py --full --per-frame  # only the boundary frame against the fit frame

Every figure is a whole process (``python -c`` / this script with ``--baseline``), timed from outside, so
imports and start-up count for both. The baseline draws the points once and, per frame, removes the last
``contourf`` of the probability and draws a new one, saving with ``FuncAnimation.save`` and ``PillowWriter``
(GIF) or ``FFMpegWriter`` (MP4, the ffmpeg imageio-ffmpeg ships). Ratios are printed; nothing is asserted.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# this checkout's polyanim, in this process and in the children: run as a script, sys.path[0] is
# benchmarks/, and an installed polyanim (another checkout's, editable) would be measured instead
sys.path.insert(0, ROOT)


def make(path, frames, mesh=120, points=400, seed=0):
    """A two-class field History whose boundary sharpens and bends over ``frames`` snapshots."""
    from polyanim.history import History

    rng = np.random.default_rng(seed)
    x, x2 = np.linspace(-2, 2, mesh), np.linspace(-1.5, 1.5, mesh)
    g1, g2 = np.meshgrid(x, x2)
    pts = rng.uniform([-2, -1.5], [2, 1.5], (points, 2))
    labels = (pts[:, 1] > 0.8 * np.sin(2 * pts[:, 0])).astype(float)
    t = np.linspace(0, 1, frames)[:, None, None]
    pred = (1 / (1 + np.exp(-(0.3 + 6 * t) * (g2 - 0.8 * np.sin(2 * g1) * t)))).astype(np.float32)
    History(steps=np.arange(frames) * 10, loss=np.geomspace(1, 0.05, frames), x=x, y=np.full((mesh, mesh), np.nan),
            pred=pred, meta={"kind": "field", "task": "classify", "classes": 2}, data_x=pts, data_y=labels,
            x2=x2).save(path)


def baseline(history, out, fps):
    """The careful matplotlib user (see the module)."""
    import imageio_ffmpeg
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
    import matplotlib.pyplot as plt
    from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter

    with np.load(history) as h:
        x, x2, pred, steps, loss, pts, labels = (h[k] for k in ("x", "x2", "pred", "steps", "loss", "data_x", "data_y"))
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    ax.scatter(pts[:, 0], pts[:, 1], c=labels, cmap="coolwarm", s=12, edgecolors="white", linewidths=0.5, zorder=3)
    label = ax.text(0.02, 0.95, "", transform=ax.transAxes, color="red", zorder=4)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(x2[0], x2[-1])
    fig.tight_layout()
    levels = np.linspace(0, 1, 11)
    held = []

    def update(i):
        for c in held:
            c.remove()
        held[:] = [ax.contourf(x, x2, pred[i], levels=levels, cmap="coolwarm", alpha=0.6, zorder=1)]
        label.set_text(f"t={steps[i]}, Loss={loss[i]:.4f}")

    anim = FuncAnimation(fig, update, frames=len(steps))
    writer = (FFMpegWriter(fps=fps, codec="libx264", extra_args=["-preset", "medium", "-crf", "20", "-pix_fmt",
                                                                 "yuv420p"])
              if out.endswith(".mp4") else PillowWriter(fps=fps))
    anim.save(out, writer=writer)


def timed(args) -> float:
    """Wall seconds of a child process."""
    start = time.perf_counter()
    subprocess.run(args, check=True, cwd=ROOT)  # ``python -c`` imports the polyanim of its folder
    return time.perf_counter() - start


def polyanim_cmd(history, out):
    return [sys.executable, "-c", "import sys, polyanim; polyanim.render(sys.argv[1], sys.argv[2], size=(640, 480), "
            "fps=25, hold=0, panels=['boundary'])", history, out]


def per_frame(history, frames, chunk=10) -> tuple[float, float]:
    """Median seconds a frame for the boundary panel alone and for the fit panel of a 1-D History of as many
    frames, drawn in alternating chunks of ``chunk`` frames (on a shared machine a load spike then hits both)."""
    from polyanim import config, history as hist
    from polyanim.scene import Scene

    x = np.linspace(-3, 3, 400)
    curve = hist.History(steps=np.arange(frames) * 10, loss=np.geomspace(1, 0.05, frames), x=x, y=np.sin(x),
                         pred=(np.sin(x)[None] * np.linspace(0, 1, frames)[:, None]).astype(np.float32),
                         meta={"config": {}})
    scenes = [Scene(h, config.render_settings({"size": [640, 480], "panels": [panel]}))
              for h, panel in ((hist.load(history), "boundary"), (curve, "fit"))]
    times = [[], []]
    for scene in scenes:
        scene.frame(0)
    for start in range(1, frames, chunk):
        for scene, out in zip(scenes, times):
            t = time.perf_counter()
            for i in range(start, min(start + chunk, frames)):
                scene.frame(i)
            out.append((time.perf_counter() - t) / (min(start + chunk, frames) - start))
    return statistics.median(times[0]), statistics.median(times[1])


def whole_processes(path, tmp, frames, rounds) -> None:
    """GIF and MP4: polyanim against the baseline, whole processes, alternating rounds, medians."""
    for suffix, goal in ((".gif", 10), (".mp4", 8)):
        # alternating, so a load spike on the shared machine hits both sides of the ratio alike
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(timed(polyanim_cmd(path, os.path.join(tmp, "ours" + suffix))))
            theirs.append(timed([sys.executable, __file__, "--baseline", path, os.path.join(tmp, "base" + suffix),
                                 "25"]))
        ours, theirs = statistics.median(ours), statistics.median(theirs)
        print(f"{suffix[1:]}: polyanim {ours:.2f} s, careful matplotlib {theirs:.2f} s: {theirs / ours:.1f}x "
              f"(goal >= {goal}x), {frames} frames, medians of {rounds}", flush=True)


def memory(tmp, counts) -> None:
    """Peak memory of a render of each History of ``counts`` snapshots, and the ratio of the last to the first."""
    peaks = []
    for n in counts:
        many = os.path.join(tmp, f"m{n}.history.npz")
        make(many, n)
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork and exec, so a child reported this
        # script's own peak (it has just built the 2,000 snapshots) instead of its own
        cmd = [sys.executable, "-c", "import sys, polyanim; polyanim.render(sys.argv[1], sys.argv[2], "
               "size=(320, 240), duration='4s', hold=0, panels=['boundary']); "
               "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')))",
               many, os.path.join(tmp, f"m{n}.gif")]
        peaks.append(int(subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout.split()[-1]))
    print(f"peak memory: {peaks[0] / 1024:.0f} MB vs {peaks[1] / 1024:.0f} MB for 10x the snapshots: "
          f"{peaks[1] / peaks[0]:.2f}x (goal <= 1.2x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="200 frames (and 2,000 for memory)")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds of the whole-process timings")
    parser.add_argument("--per-frame", action="store_true", help="only the per-frame comparison (a few seconds)")
    parser.add_argument("--baseline", nargs=3, metavar=("HISTORY", "OUT", "FPS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        return baseline(args.baseline[0], args.baseline[1], float(args.baseline[2]))
    frames = 200 if args.full else 60
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "f.history.npz")
        make(path, frames)
        if not args.per_frame:
            whole_processes(path, tmp, frames, args.rounds)
        boundary, fit = per_frame(path, frames)
        print(f"per frame: boundary {boundary * 1e3:.2f} ms, fit {fit * 1e3:.2f} ms: {boundary / fit:.2f}x "
              "(goal <= 2x)", flush=True)
        if not args.per_frame:
            memory(tmp, (200, 2000) if args.full else (60, 600))


if __name__ == "__main__":
    main()
