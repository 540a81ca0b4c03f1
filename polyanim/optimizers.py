"""Optimizers and lr schedules (torch), built by name from :mod:`polyanim.registry.optimizers`.

An optimizer is a function ``(train_section, params, weight_decay)``; a
schedule is a class built from the train section with ``torch(optimizer)``
and ``next_lr(lr, step, base_lr)``, the same recurrence written out for
:class:`HandSGD`, which has no ``torch.optim`` machinery to attach to.
"""

from __future__ import annotations

import math

import torch

from .registry import load
from .registry.optimizers import LBFGS_MAX_ITER, OPTIMIZERS, SCHEDULES


class HandSGD:
    """SGD done by hand under ``torch.no_grad()``, as the original post does it.

    The update is ``torch.optim.SGD``'s own single-tensor CPU path, operation for
    operation (weight decay, momentum buffer, nesterov), so the float32 results
    are identical (tested). Constructing any ``torch.optim`` optimizer imports
    ``torch._dynamo``, which costs about as much as importing torch itself;
    this class keeps that off the default path. ``param_groups`` and
    ``defaults`` mirror the optimizer's, for the lr readout and the schedules.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0):
        self.params = list(params)
        self.defaults = {"lr": lr, "momentum": momentum, "nesterov": nesterov, "weight_decay": weight_decay,
                         "dampening": 0}
        self.param_groups = [{"lr": lr}]
        self._buffers: list[torch.Tensor | None] = [None] * len(self.params)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        lr, d = self.param_groups[0]["lr"], self.defaults
        for i, param in enumerate(self.params):
            if param.grad is None:
                continue
            grad = param.grad
            if d["weight_decay"] != 0:
                grad = grad.add(param, alpha=d["weight_decay"])
            if d["momentum"] != 0:
                buf = self._buffers[i]
                if buf is None:
                    buf = self._buffers[i] = grad.detach().clone()
                else:
                    buf.mul_(d["momentum"]).add_(grad, alpha=1)
                grad = grad.add(buf, alpha=d["momentum"]) if d["nesterov"] else buf
            param.add_(grad, alpha=-lr)


def sgd(t, params, decay: float):
    return HandSGD(params, lr=t.lr, momentum=t.momentum, nesterov=t.nesterov, weight_decay=decay)


def _plain(name: str):
    """A builder of ``torch.optim.<name>`` with ``train.lr`` and the weight decay, its other options torch's
    defaults: the optimizers that take nothing else from the train section."""

    def build(t, params, decay: float):
        return getattr(torch.optim, name)(params, lr=t.lr, weight_decay=decay)

    build.__name__ = name.lower()
    return build


adam, adamw, adagrad, adadelta, adamax, nadam, radam = map(
    _plain, ("Adam", "AdamW", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam"))


def rmsprop(t, params, decay: float):
    return torch.optim.RMSprop(params, lr=t.lr, momentum=t.momentum, weight_decay=decay)


def lbfgs(t, params, decay):
    return torch.optim.LBFGS(params, lr=t.lr, max_iter=LBFGS_MAX_ITER, line_search_fn="strong_wolfe")


def make_optimizer(train_config, params):
    """The optimizer a ``train`` section describes (options that do not apply to it are ignored)."""
    t = train_config
    spec = OPTIMIZERS[t.optimizer]
    decay = t.weight_decay if t.weight_decay is not None else spec.decay
    return load(spec.path)(t, params, decay)


class StepSchedule:
    """torch's StepLR: the lr times ``train.gamma`` (null: 0.5) every ``train.step_size`` steps."""

    def __init__(self, t):
        self.t, self.gamma = t, t.gamma if t.gamma is not None else 0.5

    def torch(self, optimizer):
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=self.t.step_size, gamma=self.gamma)

    def next_lr(self, lr: float, e: int, base: float) -> float:
        return lr * self.gamma if e % self.t.step_size == 0 else lr


class ExponentialSchedule:
    """torch's ExponentialLR: the lr times ``train.gamma`` every step (null: 100-fold down over the run)."""

    def __init__(self, t):
        self.gamma = t.gamma if t.gamma is not None else 0.01 ** (1 / t.steps)

    def torch(self, optimizer):
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=self.gamma)

    def next_lr(self, lr: float, e: int, base: float) -> float:
        return lr * self.gamma


class CosineSchedule:
    """torch's CosineAnnealingLR with ``T_max = train.steps`` and ``eta_min = train.lr_min``."""

    def __init__(self, t):
        self.t = t

    def torch(self, optimizer):
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=self.t.steps, eta_min=self.t.lr_min)

    def next_lr(self, lr: float, e: int, base: float) -> float:
        n, lo = self.t.steps, self.t.lr_min
        if (e - 1 - n) % (2 * n) == 0:  # torch's recursive form, float for float
            return lr + (base - lo) * (1 - math.cos(math.pi / n)) / 2
        return (1 + math.cos(math.pi * e / n)) / (1 + math.cos(math.pi * (e - 1) / n)) * (lr - lo) + lo


class FormulaSchedule:
    """A schedule's recurrence stepping :class:`HandSGD`'s lr: torch's, float for float (tested equal),
    without building a ``torch.optim`` optimizer."""

    def __init__(self, rule, optimizer: HandSGD):
        self.rule, self.group, self.epoch = rule, optimizer.param_groups[0], 0
        self.base = self.group["lr"]

    def step(self) -> None:
        self.epoch += 1
        self.group["lr"] = self.rule.next_lr(self.group["lr"], self.epoch, self.base)


def make_scheduler(train_config, optimizer):
    """The lr schedule for ``train.schedule``, stepped once per step (None for a constant lr)."""
    path = SCHEDULES[train_config.schedule].path
    if path is None:
        return None
    rule = load(path)(train_config)
    return FormulaSchedule(rule, optimizer) if isinstance(optimizer, HandSGD) else rule.torch(optimizer)
