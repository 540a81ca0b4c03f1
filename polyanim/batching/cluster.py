"""Units as tasks on a Dask cluster (``--scheduler``): the same :func:`~polyanim.batching.worker.execute`."""

from __future__ import annotations

from pathlib import Path

from ..errors import one_line
from ..fileio import read_regular
from ..history_io import MAX_FILE_BYTES
from .plan import BatchError
from .worker import _died, execute


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
    """Units as tasks on a Dask cluster: the same :func:`execute`, results back as bytes unless ``shared``."""
    from distributed import as_completed

    dest = str(out_dir.resolve()) if shared else None
    with client:
        futures = {}
        for unit in units:
            # no shared file system: a History input travels with its task
            payload = read_regular(unit.source, MAX_FILE_BYTES, BatchError, "history file") if unit.kind == "history" and not shared else None
            futures[client.submit(execute, unit, tuple(formats), dest, payload, pure=False)] = unit
        for fut in as_completed(futures):
            unit = futures.pop(fut)
            try:
                raw = fut.result()
            except Exception as exc:  # KilledWorker after the scheduler's retries, a lost connection, ...
                raw = _died(unit, one_line(exc))
            fut.release()
            finish(unit, raw)
