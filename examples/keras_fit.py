"""Animate a Keras 3 ``model.fit`` on the torch backend (no TensorFlow): ``PolyanimCallback`` in ``callbacks=``.

    pip install -e ".[keras]"               # after the CPU torch
    python examples/keras_fit.py            # writes outputs/keras_fit.gif and outputs/keras_fit.history.npz

Importing ``polyanim.integrations.keras`` sets ``KERAS_BACKEND=torch`` when it
is unset, so import it before ``keras`` (or set the variable yourself).
"""

import argparse
from pathlib import Path

import numpy as np

from polyanim.integrations.keras import PolyanimCallback  # first: it picks the torch backend

import keras  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400, help="epochs of one full batch each")
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--out-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    xs = rng.uniform(-3, 3, (64, 1)).astype("float32")
    ys = (np.sin(xs) + 0.1 * rng.standard_normal(xs.shape)).astype("float32")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(32, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    callback = PolyanimCallback(np.linspace(-3, 3, 300), target="sin(x)", samples=(xs, ys), every=args.every,
                                out=args.out_dir / "keras_fit.gif",
                                render=dict(size=tuple(args.size), title="Keras (torch backend) fits sin(x)"))
    model.fit(xs, ys, batch_size=len(xs), epochs=args.steps, verbose=0, callbacks=[callback])
    history = callback.history()
    print(args.out_dir / "keras_fit.gif")
    print(f"{len(history)} frames on {keras.backend.backend()}, loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
