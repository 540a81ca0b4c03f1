"""Writes examples/data/petals.csv: made-up field notes of three flower species, for two-input `data.file`.

Each row is one flower: petal length and width (cm) and its species as a class
number (0, 1, 2), as a botanist's spreadsheet would have them. The species
overlap a little, so no boundary is perfect and the animation shows where a
classifier hesitates. Deterministic (seeded): running it again writes the same
bytes.

Usage: python examples/data/make_petals.py   (from the repository root)
"""

from pathlib import Path

import numpy as np

PER_SPECIES = 80
# mean (length, width), std (length, width) and the correlation of each species' petals
SPECIES = [((1.5, 0.3), (0.25, 0.12), 0.3), ((4.3, 1.3), (0.45, 0.2), 0.7), ((5.5, 2.0), (0.5, 0.27), 0.4)]


def petals(seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """``(X, species)``: petal length and width of each flower, rounded to the ruler's millimetre, and its class."""
    rng = np.random.default_rng(seed)
    parts = []
    for mean, std, r in SPECIES:
        cov = np.array([[std[0] ** 2, r * std[0] * std[1]], [r * std[0] * std[1], std[1] ** 2]])
        parts.append(np.clip(rng.multivariate_normal(mean, cov, PER_SPECIES), 0.1, None))
    return np.round(np.concatenate(parts), 1), np.repeat(np.arange(len(SPECIES)), PER_SPECIES)


def main() -> None:
    """Write the CSV next to this script, with a header naming the columns."""
    out = Path(__file__).with_name("petals.csv")
    X, species = petals()
    out.write_text("petal_length,petal_width,species\n"
                   + "".join(f"{a:.1f},{b:.1f},{c}\n" for (a, b), c in zip(X, species)), encoding="utf-8")
    print(out)


if __name__ == "__main__":
    main()
