"""The careful matplotlib user, as a baseline: artists made once, ``set_data`` per frame.

``python benchmarks/baseline_careful.py HISTORY OUT.{gif,mp4} FPS`` draws what
polyanim's fit panel shows (target, prediction, the red ``t=…, Loss=…`` label,
a legend, a grid) on a 640x480 pyplot figure laid out once, with the axis
limits fixed from the whole run, updates only the prediction's data and the label's text per
frame, and saves with ``FuncAnimation.save`` through matplotlib's own writers:
``FFMpegWriter`` (H.264, yuv420p, the same CRF and preset as polyanim, the
ffmpeg binary imageio-ffmpeg ships) for MP4 and ``PillowWriter`` for GIF. It
reads the History with plain NumPy, so it draws the very snapshots polyanim draws.
"""

import sys

import imageio_ffmpeg
import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["animation.ffmpeg_path"] = imageio_ffmpeg.get_ffmpeg_exe()
import matplotlib.pyplot as plt  # noqa: E402  (a baseline script may use pyplot; the package never does)
import numpy as np  # noqa: E402
from matplotlib.animation import FFMpegWriter, FuncAnimation, PillowWriter  # noqa: E402


def main(history, out, fps):
    with np.load(history) as h:
        x, y, pred, steps, loss = h["x"], h["y"], h["pred"], h["steps"], h["loss"]
    fig, ax = plt.subplots(figsize=(6.4, 4.8), dpi=100)
    ax.plot(x, y, linewidth=2, label="target")
    (line,) = ax.plot(x, pred[0], linewidth=2, label="prediction")
    label = ax.text(0.02, 0.95, "", transform=ax.transAxes, color="red")
    span = y.max() - y.min()
    ax.set_xlim(x.min(), x.max())
    ax.set_ylim(max(pred.min(), y.min() - span), min(pred.max(), y.max() + span))  # fixed for the whole run
    ax.grid(True, alpha=0.4)
    ax.legend(loc="lower right")
    fig.tight_layout()  # once: a layout engine would be solved again at every saved frame

    def update(i):
        line.set_ydata(pred[i])
        label.set_text(f"t={steps[i]}, Loss={loss[i]:.4f}")
        return line, label

    anim = FuncAnimation(fig, update, frames=len(steps), blit=True)
    if out.endswith(".mp4"):
        writer = FFMpegWriter(fps=fps, codec="libx264",
                              extra_args=["-preset", "medium", "-crf", "20", "-tune", "animation", "-pix_fmt", "yuv420p"])
    else:
        writer = PillowWriter(fps=fps)
    anim.save(out, writer=writer)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]))
