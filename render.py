#!/usr/bin/env python
"""Render a training run as an animation: ``python render.py configs/sin.yaml``.

Same program as the ``polyanim`` console script; see ``--help`` and README.md.
"""

import sys

from polyanim.cli import main

if __name__ == "__main__":
    sys.exit(main())
