"""``python -m polyanim``: the same program as render.py and the console script."""

import sys

from .cli import main

sys.exit(main())
