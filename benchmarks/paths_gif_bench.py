"""A 6-optimizer Rosenbrock race as a 200-frame 640x480 GIF: polyanim vs a careful matplotlib user (not run by CI).

Both sides are timed as whole processes (imports, training, drawing, encoding),
best of ``--repeat``, in this one invocation. The careful user writes what the
well-known race scripts do, done well: the six paths computed with numpy
(polyanim's own exact updates, so training is no handicap), ``contourf`` (log
levels) and the minimum drawn once, a line and a head dot per optimizer
moved with ``set_data`` per frame, a loss panel on a log scale updated the
same way, ``FuncAnimation(blit=True).save`` with ``PillowWriter``. polyanim
is ``python render.py CONFIG --out race.gif`` with the same six runs and
frame budget. The issue's goal is >= 10x.

    python benchmarks/paths_gif_bench.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RACE = [("SGD", "sgd", 2e-4, {}), ("momentum", "momentum", 1e-4, {}), ("Nesterov", "nesterov", 1e-4, {}),
        ("RMSprop", "rmsprop", 1e-3, {}), ("Adam", "adam", 0.02, {}),
        ("L-BFGS", "lbfgs", 1.0, {"max_iter": 5, "line_search_fn": "strong_wolfe"})]  # train.optimizer lbfgs's
STEPS, FRAMES = 2000, 200

CONFIG = f"""name: race
problem: {{function: rosenbrock, start: [-1.5, 2.0], steps: {STEPS}}}
train: {{frames: {FRAMES}, lr: 2.0e-4}}
runs:
  - label: SGD
  - {{label: momentum, train: {{momentum: 0.9, lr: 1.0e-4}}}}
  - {{label: Nesterov, train: {{momentum: 0.9, nesterov: true, lr: 1.0e-4}}}}
  - {{label: RMSprop, train: {{optimizer: rmsprop, lr: 1.0e-3}}}}
  - {{label: Adam, train: {{optimizer: adam, lr: 0.02}}}}
  - {{label: L-BFGS, train: {{optimizer: lbfgs, lr: 1.0}}}}
render: {{size: [640, 480], fps: 25, hold: 0, panels: [paths, loss]}}
"""

MATPLOTLIB = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter
from matplotlib.colors import LogNorm
from polyanim import npoptim
from polyanim.surfaces import FUNCTIONS

f = FUNCTIONS["rosenbrock"]
runs = [npoptim.run(f, name, lr, None, {STEPS}, **hyper) for _, name, lr, hyper in {RACE!r}]
keep = np.arange(0, {STEPS} + 1, {STEPS // FRAMES})  # the snapshots polyanim keeps for train.frames
fig, (ax, lax) = plt.subplots(2, 1, figsize=(6.4, 4.8), dpi=100, height_ratios=[2, 1])
xs, ys, zs = f.mesh(160)
levels = np.geomspace(max(np.nanmin(zs), 1e-3), np.nanmax(zs), 14)
ax.contourf(xs, ys, zs, levels=levels, norm=LogNorm(), cmap="Greys", alpha=0.6)
ax.contour(xs, ys, zs, levels=levels, colors="k", linewidths=0.4, alpha=0.3)
ax.plot([1], [1], "*", color="red", markersize=12)
lines, dots, curves = [], [], []
for (label, *_), (params, loss) in zip({RACE!r}, runs):
    (line,) = ax.plot([], [], linewidth=1.8, label=label)
    (dot,) = ax.plot([], [], "o", color=line.get_color())
    (curve,) = lax.plot([], [], color=line.get_color())
    lines.append(line), dots.append(dot), curves.append(curve)
ax.set_xlim(-2, 2); ax.set_ylim(-1, 3); ax.legend(loc="upper right", fontsize="x-small")
lax.set_yscale("log"); lax.set_xlim(0, {STEPS}); lax.set_ylim(1e-12, 1e3); lax.set_xlabel("step")
fig.tight_layout()

def update(i):
    k = keep[i]
    for line, dot, curve, (params, loss) in zip(lines, dots, curves, runs):
        j = min(k, len(loss) - 1)
        line.set_data(params[:j + 1, 0], params[:j + 1, 1])
        dot.set_data([params[j, 0]], [params[j, 1]])
        curve.set_data(np.arange(j + 1), loss[:j + 1])
    return lines + dots + curves

FuncAnimation(fig, update, frames=len(keep), blit=True).save(sys.argv[1], writer=PillowWriter(fps=25))
"""


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg, script = Path(tmp) / "race.yaml", Path(tmp) / "careful.py"
        cfg.write_text(CONFIG)
        script.write_text(MATPLOTLIB)
        ours = [timed([sys.executable, "render.py", str(cfg), "--out", f"{tmp}/race.gif", "--quiet"])
                for _ in range(args.repeat)]
        theirs = [timed([sys.executable, str(script), f"{tmp}/careful.gif"]) for _ in range(args.repeat)]
        from PIL import Image
        frames = [Image.open(p).n_frames for p in (f"{tmp}/race.gif", f"{tmp}/careful.gif")]
        print(f"polyanim          {min(ours):6.2f} s  ({frames[0]} frames)")
        print(f"careful matplotlib {min(theirs):6.2f} s  ({frames[1]} frames)")
        print(f"ratio             {min(theirs) / min(ours):6.1f}x  (goal >= 10x)")


if __name__ == "__main__":
    main()
