"""The training loop: a Config in, a History out. The only module that needs torch."""

from __future__ import annotations

import math
import platform
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from . import __version__, targets
from .history import History
from .models import Polynomial, build

MAX_PARAMS = 64  # above this the History keeps no parameter trajectories


class TrainingError(RuntimeError):
    """Training produced nothing to draw (e.g. the very first loss is not finite)."""


def make_data(config) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """The grid ``x``, the training targets (with noise) and the noise-free target on the grid.

    ``x`` comes from ``torch.linspace`` in float32 like the post; the target is
    evaluated in float64 by the safe expression parser and rounded to float32.
    """
    lo, hi = config.data.domain
    x = torch.linspace(lo, hi, config.data.points)
    y_clean = targets.parse(config.data.target)(x.double().numpy()).astype(np.float64)
    y = torch.as_tensor(y_clean, dtype=torch.float32)
    if config.data.noise > 0:
        gen = torch.Generator().manual_seed(config.seed if config.seed is not None else 0)
        y = y + config.data.noise * torch.randn(y.shape, generator=gen)
    return x, y, y_clean


def _optimizer(config, params):
    t = config.train
    if t.optimizer == "sgd":
        return torch.optim.SGD(params, lr=t.lr, momentum=t.momentum)
    return torch.optim.Adam(params, lr=t.lr)


def train(config, *, quiet: bool = False, out=None, err=None) -> History:
    """Train the model a :class:`~polyanim.config.Config` describes and record its History.

    Follows the original post's loop step for step (forward, loss, log, zero_grad,
    backward, step) and takes a snapshot before the update at every step that is
    a multiple of ``train.record_every``, plus one of the final model after the
    last update. Prints ``step loss`` every ``train.log_every`` steps and the
    post's ``Result: y = …`` line to ``out`` unless ``quiet``. If the loss stops
    being finite, training stops there with one warning line on ``err``; the
    finite snapshots are kept and ``meta["stopped"]`` says where and why.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    if config.seed is not None:
        torch.manual_seed(config.seed)
    model = build(config.model)
    x, y, y_clean = make_data(config)
    criterion = torch.nn.MSELoss(reduction="sum" if config.train.loss == "mse_sum" else "mean")
    optimizer = _optimizer(config, model.parameters())
    n_params = sum(p.numel() for p in model.parameters())
    keep_params = isinstance(model, Polynomial) and n_params <= MAX_PARAMS

    steps, losses, preds, params = [], [], [], []
    stopped = None
    t_cfg = config.train

    def record(step, loss_value, y_pred):
        steps.append(step)
        losses.append(loss_value)
        preds.append(y_pred.detach().numpy().astype(np.float32, copy=True))
        if keep_params:
            params.append([c.item() for c in model.coefficients()])

    bar = tqdm(total=t_cfg.steps, desc="training", unit="step", file=err, leave=False,
               disable=True if quiet else None, mininterval=0.2)
    started = time.perf_counter()
    with bar:
        for t in range(t_cfg.steps):
            y_pred = model(x)
            loss = criterion(y_pred, y)
            value = loss.item()
            if not math.isfinite(value):
                stopped = {"step": t, "reason": f"loss became {value}"}
                break
            if t % t_cfg.record_every == 0:
                record(t, value, y_pred)
            if t_cfg.log_every and t % t_cfg.log_every == 0 and not quiet:
                bar.write(f"{t} {value}", file=out)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            bar.update(1)
        else:
            with torch.no_grad():
                y_pred = model(x)
                value = criterion(y_pred, y).item()
            if math.isfinite(value):
                record(t_cfg.steps, value, y_pred)
            else:
                stopped = {"step": t_cfg.steps, "reason": f"loss became {value}"}
    if stopped:
        print(f"warning: {stopped['reason']} at step {stopped['step']}; training stopped there, "
              f"keeping {len(steps)} snapshot(s) (try a smaller train.lr)", file=err)
    if not steps:
        raise TrainingError(f"training produced no finite snapshot ({stopped['reason']} at step {stopped['step']})")
    if not quiet and isinstance(model, Polynomial) and not stopped:
        print(f"Result: {model.string()}", file=out)

    meta = {
        "config": config.to_dict(),
        "seed": config.seed,
        "stopped": stopped,
        "param_names": [f"c{k}" for k in range(n_params)] if keep_params else [],
        "train_seconds": round(time.perf_counter() - started, 3),
        "versions": {"polyanim": __version__, "torch": torch.__version__, "numpy": np.__version__,
                     "python": platform.python_version()},
    }
    return History(steps=steps, loss=losses, x=x.double().numpy(), y=y_clean, pred=np.stack(preds),
                   params=np.array(params) if keep_params else None, meta=meta)
