"""Units on this machine: a pool of spawned worker processes that live across units.

``import torch`` and matplotlib are paid once per worker, not once per unit;
``--workers auto`` starts a worker per core only while each has
:data:`~polyanim.batching.plan.WORKER_START_SECONDS` of work.
"""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path

from ..errors import one_line
from .plan import WORKER_START_SECONDS
from .worker import _died, _init_worker, execute


def workers_for(units, cores: int | None = None) -> int:
    """``--workers auto``: one worker per core, but only as many as have WORKER_START_SECONDS of work each."""
    from ..multirun import usable_cores

    cores = usable_cores() if cores is None else cores
    total = sum(u.estimate for u in units)
    return max(1, min(cores, len(units), int(total // WORKER_START_SECONDS)))


def _run_local(units, formats, out_dir: Path, workers: int, finish) -> None:
    """Units in a pool of spawned processes that live across units.

    A worker that dies (killed, out of memory, a crash in native code) breaks
    the whole pool, and the units it was running cannot tell which of them
    killed it: the pool is made anew and those units run again, one at a
    time; one that breaks the pool when running alone is reported as failed.
    """
    import concurrent.futures as cf
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    from ..multirun import _quiet_tracker

    # a race (problem.function) trains with numpy only: a batch of them warms up without torch
    needs_torch = any(u.kind == "config" and not (u.config.get("problem") or {}).get("function") for u in units)
    _quiet_tracker()  # should this process be killed, the tracker it leaves prints nothing after it

    def start():
        return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_init_worker, initargs=(needs_torch, os.getpid()))

    waiting = deque((u, False) for u in units)  # (unit, alone): alone = suspected of killing a worker
    running = {}
    pool = start()
    try:
        while waiting or running:
            _fill(pool, waiting, running, workers, (tuple(formats), str(out_dir)))
            if not running:  # nothing could be submitted: the pool broke with no unit left to blame
                pool.shutdown(wait=True)
                pool = start()
                continue
            done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
            broken = any(isinstance(f.exception(), BrokenProcessPool) for f in done)
            if broken:  # every unit still in the pool fails the same way
                done = cf.wait(running)[0]
            suspects = []
            for fut in done:
                unit, alone = running.pop(fut)
                exc = fut.exception()
                if isinstance(exc, BrokenProcessPool):
                    if alone:
                        finish(unit, _died(unit, "the worker process died running this unit (killed, out of "
                                                 "memory or crashed)"))
                    else:
                        suspects.append((unit, True))
                else:
                    finish(unit, _died(unit, one_line(exc)) if exc else fut.result())
            if broken:
                pool.shutdown(wait=True)
                pool = start()
                waiting.extendleft(reversed(suspects))
    except BaseException:
        _terminate(pool)
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _fill(pool, waiting, running, workers: int, args) -> None:
    """Hand waiting units to free workers; a suspect runs only by itself."""
    while waiting and len(running) < workers:
        unit, alone = waiting[0]
        if running and (alone or any(a for _, a in running.values())):
            return
        from concurrent.futures.process import BrokenProcessPool

        try:
            future = pool.submit(execute, unit, *args)
        except BrokenProcessPool:  # a worker died since the last wait: its unit's future tells the loop
            return
        waiting.popleft()
        running[future] = (unit, alone)


def _terminate(pool) -> None:
    """Stop the workers now (Ctrl-C, SIGTERM): each unwinds its unit, so no temporary file stays behind."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        try:
            process.terminate()
        except (OSError, ValueError, AttributeError):
            pass
    for process in processes:
        process.join(5)
