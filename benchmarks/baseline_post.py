"""The usual way, as a baseline: the post's drawing inside FuncAnimation, saved by PillowWriter.

``python benchmarks/baseline_post.py HISTORY OUT.gif FPS`` redraws every frame
with ``cla()`` + ``text`` + ``plot`` (the original post's loop body) on a
640x480 pyplot figure and saves it the way most tutorials do. It reads the
History with plain NumPy, so it draws the very snapshots polyanim draws.
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (a baseline script may use pyplot; the package never does)
import numpy as np  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402


def main(history, out, fps):
    with np.load(history) as h:
        x, y, pred, steps, loss = h["x"], h["y"], h["pred"], h["steps"], h["loss"]
    fig = plt.figure(figsize=(6.4, 4.8), dpi=100)

    def update(i):
        plt.cla()
        plt.text(-3, 1, "t=%d, Loss=%.4f" % (steps[i], loss[i]), fontdict={"size": 10, "color": "red"})
        plt.plot(x, y, x, pred[i])

    anim = FuncAnimation(fig, update, frames=len(steps))
    anim.save(out, writer=PillowWriter(fps=fps))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
