"""Many animations at once: ``polyanim batch INPUT... --out-dir DIR``.

A *unit* is one config (or one point of its ``--grid``) or one History file:
config → train → ``NAME.history.npz`` → one file per format. Units are
independent, so they run side by side: locally in a pool of worker processes
that stay alive across units (``import torch`` and matplotlib are paid once
per worker, not once per unit), or on a Dask cluster with ``--scheduler``.
There is no scheduler here beyond handing units to those two.

The parent reads and validates every config (cheap: no torch, no
matplotlib), so a bad config fails at once as its own unit; a worker rebuilds
the config from its resolved dict, which is why a Dask worker needs no access
to the config files. After a unit's outputs are in place the parent writes a
small sidecar, ``DIR/.polyanim-batch/NAME.json``, with a hash of the resolved
config, the formats and polyanim's version and a SHA-256 of each output: a
unit whose sidecar matches and whose outputs are unchanged is skipped, so
re-running a command resumes it.
Finally ``DIR/index.html`` shows every unit of the batch (see
:mod:`polyanim.gallery`). Details: docs/batch.md.

The package, by concern: :mod:`.plan` (units, ``--grid``, formats),
:mod:`.resume` (resume records), :mod:`.worker` (one unit in a worker process), :mod:`.local` (the
process pool), :mod:`.cluster` (Dask) and :mod:`.command` (the command line,
progress and summary). Their public names are importable from here; private helpers stay in
their modules.
"""

from .command import batch, build_parser, main, run, summary
from .local import workers_for
from .plan import (CONFIG_SUFFIXES, FORMATS, FRAME_SECONDS, HISTORY_SUFFIX, MAX_UNITS, WORKER_START_SECONDS, BatchError,
                   Result, Unit, input_files, label, parse_formats, parse_grid, plan, unit_name)
from .resume import STATE_DIR, up_to_date
from .worker import CRASH_HOOK, execute

__all__ = ["CONFIG_SUFFIXES", "CRASH_HOOK", "FORMATS", "FRAME_SECONDS", "HISTORY_SUFFIX", "MAX_UNITS", "STATE_DIR",
           "WORKER_START_SECONDS", "BatchError", "Result", "Unit", "batch", "build_parser", "execute", "input_files",
           "label", "main", "parse_formats", "parse_grid", "plan", "run", "summary", "unit_name", "up_to_date",
           "workers_for"]
