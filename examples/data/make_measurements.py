"""Writes examples/data/measurements.csv: a made-up but real-looking measurement to fit.

A damped oscillation, as a plucked spring or an RLC circuit gives: a displacement
y (cm) against time x (s), sampled at slightly irregular times (a logger whose clock
jitters), with Gaussian measurement noise, rounded to the logger's resolution.
Deterministic (seeded): running it again writes the same bytes.

Usage: python examples/data/make_measurements.py   (from the repository root)
"""

from pathlib import Path

import numpy as np

ROWS = 300
DURATION = 6.0   # seconds
NOISE = 0.06     # cm, standard deviation of the measurement noise


def measurements(seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """Times and displacements of the example: y = 1.5 e^(-0.4 x) cos(2.1 x + 0.3) + noise."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0.0, DURATION, ROWS) + rng.uniform(-0.4, 0.4, ROWS) * DURATION / ROWS
    x = np.clip(np.sort(x), 0.0, DURATION)
    y = 1.5 * np.exp(-0.4 * x) * np.cos(2.1 * x + 0.3) + rng.normal(0.0, NOISE, ROWS)
    return np.round(x, 4), np.round(y, 3)


def main() -> None:
    """Write the CSV next to this script, with an ``x,y`` header."""
    out = Path(__file__).with_name("measurements.csv")
    x, y = measurements()
    out.write_text("x,y\n" + "".join(f"{a:.4f},{b:.3f}\n" for a, b in zip(x, y)), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
