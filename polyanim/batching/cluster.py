"""Units as tasks on a Dask cluster (``--scheduler``): the same :func:`~polyanim.batching.worker.execute`."""

from __future__ import annotations

import time
from pathlib import Path

from ..errors import one_line
from ..fileio import read_regular
from ..history_io import MAX_FILE_BYTES
from .plan import BatchError
from .worker import _died, execute

# With no worker connected for this long, the units not done fail with one line and the batch ends
# (docs/batch.md): the scheduler itself would wait for ever for a worker that will not come.
NO_WORKER_SECONDS = 60.0
POLL_SECONDS = 1.0  # how often the batch asks the scheduler about its workers while units run


def _connect(address: str):
    """A ``dask.distributed.Client`` for ``address``; a BatchError (exit 2) without Dask or a scheduler."""
    try:
        from distributed import Client
    except ImportError:
        raise BatchError('--scheduler needs Dask: pip install -e ".[dask]" (or pip install "dask[distributed]")') \
            from None
    try:
        return Client(address, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise BatchError(f"--scheduler {address}: cannot connect ({one_line(exc)})") from None


def _run_dask(units, formats, out_dir: Path, client, shared: bool, finish) -> None:
    """Units as tasks on a Dask cluster: the same :func:`execute`, results back as bytes unless ``shared``.

    The scheduler waits for a worker for ever; this side does not: with no
    worker for :data:`NO_WORKER_SECONDS` every unit not yet done fails with
    that line, and the batch ends (summary and gallery written) instead of
    hanging.
    """
    from distributed import wait

    dest = str(out_dir.resolve()) if shared else None
    with client:
        futures = {}
        for unit in units:
            # no shared file system: a History input travels with its task
            payload = read_regular(unit.source, MAX_FILE_BYTES, BatchError, "history file") if unit.kind == "history" and not shared else None
            futures[client.submit(execute, unit, tuple(formats), dest, payload, pure=False)] = unit
        pending, alone_since = set(futures), None
        while pending:
            try:
                done, pending = wait(list(pending), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED")
            except TimeoutError:
                done = set()
            for fut in done:
                _collect(fut, futures.pop(fut), finish)
            alone_since = None if not pending or _has_workers(client) else alone_since or time.monotonic()
            if alone_since is not None and time.monotonic() - alone_since >= NO_WORKER_SECONDS:
                why = (f"no Dask worker for {NO_WORKER_SECONDS:g} s (the scheduler has none left); "
                       "the unit did not run: start workers and run the same command again")
                for fut in pending:
                    fut.cancel()
                    unit = futures.pop(fut)
                    finish(unit, _died(unit, why))
                return


def _collect(fut, unit, finish) -> None:
    try:
        raw = fut.result()
    except Exception as exc:  # KilledWorker after the scheduler's retries, a lost connection, ...
        raw = _died(unit, one_line(exc))
    fut.release()
    finish(unit, raw)


def _has_workers(client) -> bool:
    try:
        return bool(client.nthreads())
    except Exception:  # the scheduler is gone too: no worker will come from it
        return False
