"""Animate your own PyTorch model, trained in your own loop, with ``polyanim.Recorder``.

    python examples/own_loop.py        # writes outputs/own_loop.gif and outputs/own_loop.mp4

The model is a plain ``torch.nn.Module`` of our own (a sine wave with four
learnable numbers), fitted with Adam to noisy samples. Nothing in the loop is
polyanim's except the two ``rec.add`` calls.
"""

import argparse
import math
from pathlib import Path

import torch

import polyanim


class Wave(torch.nn.Module):
    """y = a sin(b x + c) + d, four named parameters the params panel can show."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.5))
        self.b = torch.nn.Parameter(torch.tensor(1.5))
        self.c = torch.nn.Parameter(torch.tensor(0.0))
        self.d = torch.nn.Parameter(torch.tensor(0.0))

    def forward(self, x):
        return self.a * torch.sin(self.b * x + self.c) + self.d


def truth(x):
    return 1.5 * torch.sin(2.0 * x + 0.5) + 0.3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--out-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    xs = torch.rand(80) * 6 - 3                   # the training samples, noisy
    ys = truth(xs) + 0.2 * torch.randn(80)
    x = torch.linspace(-3, 3, 400)                # where the curves are drawn
    model = Wave()
    opt = torch.optim.Adam(model.parameters(), lr=0.03)

    rec = polyanim.Recorder(x, target=truth(x), label="1.5 sin(2x + 0.5) + 0.3", samples=(xs, ys),
                            every=5)
    for step in range(args.steps):
        loss = ((model(xs) - ys) ** 2).mean()
        if rec.wants(step):  # only every 5th step: skip drawing-side work on the others
            rec.add(step, loss=loss, pred=lambda: model(x), params=dict(model.named_parameters()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        loss = ((model(xs) - ys) ** 2).mean()
        rec.add(args.steps, loss=loss, pred=model(x), params=dict(model.named_parameters()), final=True)

    history = rec.history()
    history.save(args.out_dir / "own_loop.history.npz")
    for suffix in (".gif", ".mp4"):
        print(polyanim.render(history, args.out_dir / f"own_loop{suffix}", size=tuple(args.size),
                              panels=["fit", "loss", "params"], title="Your model, your loop"))
    print(f"final loss {history.loss[-1]:.4f} (noise floor {0.2 ** 2:.2f}); "
          f"a={model.a.item():.3f} b={model.b.item():.3f} c={model.c.item():.3f} d={model.d.item():.3f}")
    return 0 if math.isfinite(history.loss[-1]) else 1


if __name__ == "__main__":
    raise SystemExit(main())
