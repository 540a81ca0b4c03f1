"""Six optimizers x 5,000 steps on Rosenbrock: numpy (polyanim.npoptim) vs torch.optim with autograd (not run by CI).

Both sides run in this process after their imports and a warm-up (torch's
first optimizer builds ``torch._dynamo``), so the times are the steps alone.
The torch side is what a careful user writes: float64 parameters, one
``backward`` per step, ``torch.optim`` on its default CPU path. The issue's
goal is numpy under 1 s for all six. Best of ``--repeat``.

The paths agree to rounding until a run turns chaotic: RMSprop and Adam
bouncing on the valley floor at a large lr amplify a last-bit difference
(torch's ``add_(alpha=)``, ``addcmul_`` are fused multiply-adds, numpy's are
not) tenfold every few steps, as torch does against itself when the gradient
is rounded differently; the last line says for how many steps they agree.

    python benchmarks/paths_bench.py [--steps 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from polyanim import npoptim  # noqa: E402

RACE = [("sgd", 2e-4, {}), ("momentum", 1e-4, {}), ("nesterov", 1e-4, {}), ("adagrad", 0.1, {}),
        ("rmsprop", 1e-2, {}), ("adam", 0.05, {})]
TORCH = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "nesterov": torch.optim.SGD,
         "adagrad": torch.optim.Adagrad, "rmsprop": torch.optim.RMSprop, "adam": torch.optim.Adam}
EXTRA = {"momentum": {"momentum": 0.9}, "nesterov": {"momentum": 0.9, "nesterov": True}}


def torch_race(name: str, lr: float, steps: int) -> np.ndarray:
    p = torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True)
    opt = TORCH[name]([p], lr=lr, **EXTRA.get(name, {}))
    path = np.empty((steps + 1, 2))
    for t in range(steps + 1):
        path[t] = p.detach().numpy()
        if t < steps:
            opt.zero_grad()
            loss = (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2
            loss.backward()
            opt.step()
    return path


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch_race("adam", 0.05, 3), npoptim.run("rosenbrock", "adam", 0.05, None, 3)  # warm-up
    paths = {}

    def numpy_all():
        for name, lr, hyper in RACE:
            paths[name] = npoptim.run("rosenbrock", name, lr, None, args.steps, **hyper)[0]

    def torch_all():
        for name, lr, _ in RACE:
            paths["torch " + name] = torch_race(name, lr, args.steps)

    t_numpy, t_torch = best(numpy_all, args.repeat), best(torch_all, args.repeat)
    agree = {n: _agree(paths[n], paths["torch " + n]) for n, _, _ in RACE}
    print(f"{len(RACE)} optimizers x {args.steps} steps on rosenbrock (best of {args.repeat})")
    print(f"numpy (polyanim.npoptim): {t_numpy:.3f} s   goal < 1 s: {'met' if t_numpy < 1 else 'MISSED'}")
    print(f"torch.optim + autograd:   {t_torch:.3f} s")
    print(f"ratio torch / numpy:      {t_torch / t_numpy:.1f}x")
    print("steps for which the paths agree to 1e-9: "
          + ", ".join(f"{n} {'all' if k == args.steps + 1 else k}" for n, k in agree.items()))


def _agree(a: np.ndarray, b: np.ndarray) -> int:
    """How many leading points of two paths agree to 1e-9 (a chaotic run amplifies a last-bit difference)."""
    off = np.abs(a - b).max(axis=1) > 1e-9 * (1 + np.abs(b).max(axis=1))
    return int(np.argmax(off)) if off.any() else len(a)


if __name__ == "__main__":
    main()
