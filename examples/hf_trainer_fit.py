"""Animate a Hugging Face ``Trainer.train()``: ``PolyanimCallback`` in ``Trainer(callbacks=[...])``.

    pip install -e ".[hf]"                  # after the CPU torch
    python examples/hf_trainer_fit.py       # writes outputs/hf_trainer_fit.gif and its .history.npz

The model is a small regression ``nn.Module`` that returns its loss when
given ``labels``, as ``Trainer`` expects; no weights are downloaded.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from transformers import Trainer, TrainingArguments

from polyanim.integrations.hf import PolyanimCallback


class Regressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.Tanh(), torch.nn.Linear(32, 1))

    def forward(self, x, labels=None):
        y = self.net(x)
        return {"logits": y} if labels is None else {"loss": torch.nn.functional.mse_loss(y, labels), "logits": y}


class Points(torch.utils.data.Dataset):
    def __init__(self, xs, ys):
        self.xs, self.ys = xs, ys

    def __len__(self):
        return len(self.xs)

    def __getitem__(self, i):
        return {"x": self.xs[i], "labels": self.ys[i]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--out-dir", type=Path, default=Path("outputs"))
    parser.add_argument("--size", type=int, nargs=2, default=(640, 480), metavar=("W", "H"))
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    xs = torch.rand(64, 1) * 6 - 3
    ys = torch.sin(xs) + 0.1 * torch.randn(64, 1)
    callback = PolyanimCallback(torch.linspace(-3, 3, 300), target="sin(x)", samples=(xs, ys), every=args.every,
                                out=args.out_dir / "hf_trainer_fit.gif",
                                render=dict(size=tuple(args.size), title="A transformers Trainer fits sin(x)"))
    with tempfile.TemporaryDirectory() as scratch:  # the Trainer wants an output_dir; nothing is saved there
        training = TrainingArguments(output_dir=scratch, max_steps=args.steps, per_device_train_batch_size=len(xs),
                                     learning_rate=0.01, lr_scheduler_type="constant", logging_steps=args.steps,
                                     save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True)
        Trainer(model=Regressor(), args=training, train_dataset=Points(xs, ys), callbacks=[callback]).train()
    history = callback.history()
    print(args.out_dir / "hf_trainer_fit.gif")
    print(f"{len(history)} frames, loss {history.loss[0]:.4f} -> {history.loss[-1]:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
