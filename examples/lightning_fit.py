"""Animate a PyTorch Lightning fit: ``PolyanimCallback`` in ``Trainer(callbacks=[...])``.

    pip install -e ".[lightning]"           # after the CPU torch
    python examples/lightning_fit.py        # writes outputs/lightning_fit.gif and outputs/lightning_fit.history.npz

A small MLP (a LightningModule) fits noisy samples of sin(x); nothing in the
module is polyanim's: the callback reads the step, the loss and the learning
rate from the Trainer.
"""

import argparse
from pathlib import Path

import lightning as L
import torch

from polyanim.integrations.lightning import PolyanimCallback


class Curve(L.LightningModule):
    def __init__(self, lr=0.01):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))
        self.lr = lr

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.lr)


def samples(n=64, seed=0):
    """Noisy samples of sin(x) on [-3, 3], as ``[n, 1]`` inputs and targets."""
    g = torch.Generator().manual_seed(seed)
    xs = torch.rand(n, 1, generator=g) * 6 - 3
    return xs, torch.sin(xs) + 0.1 * torch.randn(n, 1, generator=g)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--out-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    xs, ys = samples()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(xs, ys), batch_size=len(xs))
    callback = PolyanimCallback(torch.linspace(-3, 3, 300), target="sin(x)", samples=(xs, ys), every=args.every,
                                out=args.out_dir / "lightning_fit.gif",
                                render=dict(size=tuple(args.size), title="A LightningModule fits sin(x)"))
    trainer = L.Trainer(max_steps=args.steps, callbacks=[callback], accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Curve(), loader)
    history = callback.history()
    print(args.out_dir / "lightning_fit.gif")
    print(f"{len(history)} frames, loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
