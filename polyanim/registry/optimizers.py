"""The optimizers and lr schedules: ``train.optimizer`` / ``train.schedule`` -> what builds them. No torch here.

An optimizer's path names a function ``(train_section, params, weight_decay)``
returning the optimizer; a schedule's names a class built from the train
section, with ``torch(optimizer)`` (a ``torch.optim.lr_scheduler``) and
``next_lr(lr, step, base_lr)`` (the same recurrence for the hand-written SGD).
Adding one is that function or class and one line here.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import Entry


@dataclass(frozen=True)
class OptimizerSpec(Entry):
    """An optimizer: ``decay`` its ``train.weight_decay`` when null (None: it takes no weight decay);
    ``closure``: its ``step`` takes a closure that re-evaluates the loss (L-BFGS)."""

    decay: float | None = 0.0
    closure: bool = False


LBFGS_MAX_ITER = 5  # one lbfgs "step" is one optimizer.step(closure) of at most this many iterations, in both trainers


OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec("polyanim.optimizers:sgd", "plain SGD by hand, as in the post (`train.momentum`, "
                                                    "`train.nesterov`)"),
    "adam": OptimizerSpec("polyanim.optimizers:adam", "`torch.optim.Adam`"),
    "adamw": OptimizerSpec("polyanim.optimizers:adamw", "`torch.optim.AdamW`, decoupled weight decay", decay=0.01),
    "rmsprop": OptimizerSpec("polyanim.optimizers:rmsprop", "`torch.optim.RMSprop` (`train.momentum`)"),
    "adagrad": OptimizerSpec("polyanim.optimizers:adagrad", "`torch.optim.Adagrad`"),
    "adadelta": OptimizerSpec("polyanim.optimizers:adadelta", "`torch.optim.Adadelta` (`train.lr` 1 is torch's)"),
    "adamax": OptimizerSpec("polyanim.optimizers:adamax", "`torch.optim.Adamax`"),
    "nadam": OptimizerSpec("polyanim.optimizers:nadam", "`torch.optim.NAdam`"),
    "radam": OptimizerSpec("polyanim.optimizers:radam", "`torch.optim.RAdam`"),
    "lbfgs": OptimizerSpec("polyanim.optimizers:lbfgs", "`torch.optim.LBFGS` with a strong Wolfe line search, "
                           f"{LBFGS_MAX_ITER} iterations per step",
                           decay=None, closure=True),
}

SCHEDULES: dict[str, Entry] = {
    "none": Entry(None, "a constant learning rate"),
    "step": Entry("polyanim.optimizers:StepSchedule", "multiply the lr by `train.gamma` every `train.step_size` steps"),
    "cosine": Entry("polyanim.optimizers:CosineSchedule", "cosine annealing from `train.lr` to `train.lr_min`"),
    "exponential": Entry("polyanim.optimizers:ExponentialSchedule", "multiply the lr by `train.gamma` every step"),
}
