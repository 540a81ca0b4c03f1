"""Rewrite the golden pictures (tests/golden/*.png) from the current code, on purpose.

Usage, from the repository root: ``python tests/golden/regenerate.py [NAME ...]`` (default: all).
Look at every picture it writes before committing, and say in the commit why they changed.
"""

import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]  # this checkout's polyanim, and conftest's helpers
os.environ.setdefault("MPLBACKEND", "Agg")

from golden.scenes import HERE, draw, save, scenes  # noqa: E402


def main(names: list[str]) -> None:
    for name in names or list(scenes()):
        path = HERE / f"{name}.png"
        save(path, draw(name))
        print(f"{path} {path.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])
