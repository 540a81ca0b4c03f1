"""What the recorded losses say: a rise or a stall, reported on the console and on the last frame.

Kept apart from :mod:`polyanim.recording` (which re-exports these names) so the
Recorder stays one readable module; no torch, so it is easy to test.
"""

from __future__ import annotations

STALL_REL = 1e-4        # an "improvement" lowers the best loss by more than this fraction
STALL_SNAPSHOTS = 10    # … and none for this many snapshots (up to the end) is a stall
RISE_SNAPSHOTS = 10     # the loss rising at this many consecutive snapshots is reported


def loss_warnings(steps, losses, converged_below: float | None = None, bar: str = "") -> list[dict]:
    """Stalls and rises in the recorded losses (empty when all is well).

    Each is ``{"message": one line for the console, "note": a few words for the
    last frame}``:

    - the loss rose at ``RISE_SNAPSHOTS`` or more consecutive snapshots
      (reported once, for the first such run): the learning rate is often too
      large;
    - the best loss improved by less than ``STALL_REL`` (relative) over the
      last ``STALL_SNAPSHOTS`` or more snapshots, and the final loss is above
      ``converged_below`` (the loss of a converged run, :func:`polyanim.optimum.converged_below`,
      described by ``bar``): the run has stalled short of the best fit. A flat
      loss at or below it is a run that converged, which is no warning. With
      ``converged_below`` None every flat end is reported.
    """
    steps = [int(s) for s in steps]
    losses = [float(v) for v in losses]
    out = []
    run = 0
    for i in range(1, len(losses)):
        run = run + 1 if losses[i] > losses[i - 1] else 0
        if run == RISE_SNAPSHOTS:
            j = i
            while j + 1 < len(losses) and losses[j + 1] > losses[j]:
                j += 1
            out.append({"message": f"loss rose at {j - i + RISE_SNAPSHOTS} consecutive snapshots "
                                   f"(steps {steps[i - RISE_SNAPSHOTS]}-{steps[j]}); train.lr may be too large",
                        "note": f"loss rose over steps {steps[i - RISE_SNAPSHOTS]}-{steps[j]}"})
            break
    if len(losses) > STALL_SNAPSHOTS:
        best, last = losses[0], 0
        for i, value in enumerate(losses):
            if value < best - STALL_REL * abs(best):
                best, last = value, i
        idle = len(losses) - 1 - last
        converged = converged_below is not None and losses[-1] <= converged_below
        if idle >= STALL_SNAPSHOTS and not converged:
            above = f" at {losses[-1]:.4g}, above {bar}," if bar else ":"
            out.append({"message": f"loss stalled{above} no improvement beyond {STALL_REL:g} (relative) after step "
                                   f"{steps[last]} ({idle} snapshots, to step {steps[-1]}); later frames change "
                                   "little (fewer train.steps, or a larger train.lr)",
                        "note": f"loss flat after step {steps[last]}"})
    return out
