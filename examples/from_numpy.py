"""Animate a training loop written in plain numpy: no torch anywhere.

    python examples/from_numpy.py      # writes outputs/from_numpy.gif and outputs/from_numpy.mp4

The same sine-wave model as ``own_loop.py``, y = a sin(b x + c) + d, fitted to
noisy samples by gradient descent with the gradients written out by hand.
"""

import argparse
from pathlib import Path

import numpy as np

import polyanim


def truth(x):
    return 1.5 * np.sin(2.0 * x + 0.5) + 0.3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--out-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    xs = rng.uniform(-3, 3, 80)
    ys = truth(xs) + 0.2 * rng.normal(size=80)
    x = np.linspace(-3, 3, 400)
    p = {"a": 0.5, "b": 1.5, "c": 0.0, "d": 0.0}
    lr = 0.05

    def model(t):
        return p["a"] * np.sin(p["b"] * t + p["c"]) + p["d"]

    rec = polyanim.Recorder(x, target=truth, label="1.5 sin(2x + 0.5) + 0.3", samples=(xs, ys), every=10)
    for step in range(args.steps + 1):
        err = model(xs) - ys
        loss = np.mean(err ** 2)
        # pred is a function: evaluated only at the steps the recorder keeps
        rec.add(step, loss=loss, pred=lambda: model(x), params=dict(p), final=step == args.steps)
        phase = p["b"] * xs + p["c"]
        grad = 2 * np.array([np.mean(err * np.sin(phase)),
                             np.mean(err * p["a"] * xs * np.cos(phase)),
                             np.mean(err * p["a"] * np.cos(phase)),
                             np.mean(err)])
        for key, g in zip("abcd", grad):
            p[key] -= lr * g

    history = rec.history()
    for suffix in (".gif", ".mp4"):
        print(polyanim.render(history, args.out_dir / f"from_numpy{suffix}", size=tuple(args.size),
                              panels=["fit", "loss", "params"], title="Gradient descent in numpy"))
    print(f"final loss {history.loss[-1]:.4f}; " + " ".join(f"{k}={v:.3f}" for k, v in p.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
