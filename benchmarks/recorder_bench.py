"""What polyanim.Recorder costs inside a training loop: the post's problem, bare vs recorded.

    python benchmarks/recorder_bench.py [--rounds 9] [--steps 2000] [--every 10]

The loop is the original post's (a cubic fitted to sin(x) on 2,000 points
with torch.optim.SGD, 2,000 steps). The recorded variant adds one line,
``rec.add(t, loss=loss, pred=y_pred, params=...)``, at every step, keeping
every ``--every``-th one with the four coefficients. Both run alternately in
this process, one intra-op thread, after a warm-up; the script prints the
median time of each and their ratio. Target: recorded / bare <= 1.10 at
``--every 10``.
"""

import argparse
import math
import statistics
import time

import torch

import polyanim


class Polynomial3(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(()))
        self.b = torch.nn.Parameter(torch.randn(()))
        self.c = torch.nn.Parameter(torch.randn(()))
        self.d = torch.nn.Parameter(torch.randn(()))

    def forward(self, x):
        return self.d + self.c * x + self.b * x ** 2 + self.a * x ** 3


def loop(steps: int, every: int | None) -> float:
    """Seconds for one training run; recorded with a Recorder when ``every`` is given."""
    torch.manual_seed(0)
    x = torch.linspace(-math.pi, math.pi, 2000)
    y = torch.sin(x)
    model = Polynomial3()
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-6)
    rec = polyanim.Recorder(x, target=y, every=every) if every else None
    start = time.perf_counter()
    for t in range(steps):
        y_pred = model(x)
        loss = criterion(y_pred, y)
        if rec is not None:
            rec.add(t, loss=loss, pred=y_pred, params=lambda: dict(model.named_parameters()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    if rec is not None:
        with torch.no_grad():
            rec.add(steps, loss=criterion(model(x), y), pred=model(x), final=True,
                    params=dict(model.named_parameters()))
        history = rec.history()
        assert len(history) == len(range(0, steps, every)) + 1
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    loop(200, None), loop(200, args.every)  # warm-up: first calls allocate and load kernels
    bare, recorded = [], []
    for _ in range(args.rounds):  # alternate, so drifts in machine load hit both alike
        bare.append(loop(args.steps, None))
        recorded.append(loop(args.steps, args.every))
    b, r = statistics.median(bare), statistics.median(recorded)
    print(f"post's loop, {args.steps} steps, median of {args.rounds} alternating rounds, 1 thread")
    print(f"  bare loop              {b * 1e3:8.1f} ms  ({b / args.steps * 1e6:.1f} us/step)")
    print(f"  with Recorder every={args.every:<3} {r * 1e3:8.1f} ms  ({r / args.steps * 1e6:.1f} us/step)")
    print(f"  ratio recorded / bare  {r / b:8.3f}   (target <= 1.10)")


if __name__ == "__main__":
    main()
