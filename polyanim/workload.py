"""How much work one run's training is, from its config alone: read by the trainer and by multirun.

Both the trainer (how many torch threads a run gets) and :mod:`polyanim.multirun`
(whether runs train side by side) decide from it, so it lives below both.
"""

from __future__ import annotations

from .registry.models import MODELS

# Below this many parameters x samples a training step is a few hundred microseconds of tiny tensor
# ops: one thread is as fast as several on an idle machine, and intra-op threads that wait for a busy
# core make it 10-20x slower on a loaded one (a 1153-parameter MLP on 2000 points: 2 s vs 35 s on two
# busy cores). Above it a run already uses every core, so runs side by side would only compete.
ONE_THREAD_WORK = 10_000_000


def work(config) -> int:
    """Parameters x max(samples, grid points) of one run, from its config alone (no torch needed).

    Training sizes its torch threads by it, and ``train.workers: auto`` decides from it whether runs
    may train side by side.
    """
    d = config.data
    samples = d.samples if d.samples is not None else d.points
    return MODELS[config.model.kind].params(config.model) * max(samples, d.points)
