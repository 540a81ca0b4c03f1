"""Watch your own PyTorch classifier's decision boundary form, trained in your own loop.

    python examples/own_classifier.py   # writes outputs/own_classifier.gif and outputs/own_classifier.mp4

The model is a plain ``torch.nn.Module`` (a small MLP with two inputs) trained
with Adam on two moons, 20% of them held out. Nothing in the loop is
polyanim's except ``rec.add``: the Recorder hands out the mesh to predict on
(``rec.mesh``) and asks for the prediction only at the steps it keeps.
"""

import argparse
import math
from pathlib import Path

import torch

import polyanim
from polyanim import datasets


class Classifier(torch.nn.Module):
    """Two inputs, two hidden tanh layers, one logit: P(class 1) = sigmoid(logit)."""

    def __init__(self, width: int = 16):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(2, width), torch.nn.Tanh(),
                                       torch.nn.Linear(width, width), torch.nn.Tanh(), torch.nn.Linear(width, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


def accuracy(model, X, y) -> float:
    with torch.no_grad():
        return ((model(X) > 0).long() == y).float().mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--points", type=int, default=300)
    parser.add_argument("--resolution", type=int, default=120, help="mesh points a side")
    parser.add_argument("--out-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    X, labels = datasets.make("moons", args.points, noise=0.2, seed=0)
    X_train, y_train, X_test, y_test = datasets.split(X, labels, test=0.2, seed=0)
    X_train, X_test = (torch.tensor(a, dtype=torch.float32) for a in (X_train, X_test))
    y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    bce = torch.nn.BCEWithLogitsLoss()

    rec = polyanim.Recorder(X_train, y_train, test=(X_test, y_test), resolution=args.resolution,
                            every=max(1, args.steps // 100))
    mesh = torch.from_numpy(rec.mesh)  # [G2*G1, 2]: where the boundary is drawn

    def record(step, loss, final=False):
        rec.add(step, loss=loss, pred=lambda: torch.sigmoid(model(mesh)), final=final,
                acc=accuracy(model, X_train, y_train), test_acc=accuracy(model, X_test, y_test))

    for step in range(args.steps):
        loss = bce(model(X_train), y_train.float())
        if rec.wants(step):
            with torch.no_grad():
                record(step, loss)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        record(args.steps, bce(model(X_train), y_train.float()), final=True)

    history = rec.history()
    history.save(args.out_dir / "own_classifier.history.npz")
    for suffix in (".gif", ".mp4"):
        print(polyanim.render(history, args.out_dir / f"own_classifier{suffix}", size=tuple(args.size),
                              title="Your classifier, your loop"))
    print(f"final loss {history.loss[-1]:.4f}, train accuracy {history.acc[-1]:.1%}, "
          f"test accuracy {history.test_acc[-1]:.1%}")
    return 0 if math.isfinite(history.loss[-1]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
