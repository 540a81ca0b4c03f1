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
config, the formats and polyanim's version: a unit whose sidecar matches and
whose outputs are all there is skipped, so re-running a command resumes it.
Finally ``DIR/index.html`` shows every unit of the batch (see
:mod:`polyanim.gallery`). Details: docs/batch.md.

The package, by concern: :mod:`.plan` (units, ``--grid``, formats, resume
records), :mod:`.worker` (one unit in a worker process), :mod:`.local` (the
process pool), :mod:`.cluster` (Dask) and :mod:`.command` (the command line,
progress and summary). Every name is importable from here.
"""

# re-exports: every name of the former single module still imports from here
from .cluster import _connect, _run_dask  # noqa: F401
from .command import _out_dir, _parse_workers, _Parser, _Progress, batch, build_parser, main, run, summary  # noqa: F401
from .local import _fill, _run_local, _terminate, workers_for  # noqa: F401
from .plan import (  # noqa: F401
    CONFIG_SUFFIXES, FORMATS, FRAME_SECONDS, HISTORY_SUFFIX, STATE_DIR, WORKER_START_SECONDS, BatchError,
    Result, Unit, _checked_key, _config_units, _digest, _estimate, _file_hash, _finish, _history_units, _kind,
    _points, _sets, _short, _split_top, _state_path, _text, input_files, label, parse_formats, parse_grid,
    plan, unit_name, up_to_date)
from .worker import (  # noqa: F401
    CRASH_HOOK, _died, _final_loss, _history_for, _init_worker, _one_torch_thread, _warm_up, execute)
