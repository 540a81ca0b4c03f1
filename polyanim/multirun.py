"""Several runs of one config (``runs`` or ``sweep``): trained one after another or in worker processes.

Each run is an ordinary single-run :func:`polyanim.train.train` call on its
own resolved :class:`~polyanim.config.Config`, so it seeds torch the same way,
keeps its own recording schedule and stops on its own when its loss stops
being finite. The runs share the data (``data.*`` cannot differ between runs),
so their Histories have the same grid and samples and form a
:class:`~polyanim.history.RunSet`.

``train.workers`` picks the processes: ``1`` trains in this process, one run
after another; ``N`` uses N worker processes (a ``spawn`` context: no forked
torch state); ``auto`` uses one per core when that is faster (see
:func:`workers_for`). A worker trains exactly what this process would: same
seed, same config, and one intra-op thread for small models in both cases,
so the Histories are identical (a test checks it). Torch is imported by the
workers, not by this process, when the runs train in parallel.

Console output is the single-run output with each line prefixed by the run's
label (``[Adam] 100 0.53``), and warnings name the run
(``warning: [lr=0.01] loss became inf at step 31; …``). Worker output is
printed in run order as the runs finish.
"""

from __future__ import annotations

import io
import os
import sys
import time

from .costs import PARALLEL_SECONDS, STEP_SECONDS, WORK_SECONDS
from .history import RunSet
from .workload import ONE_THREAD_WORK, work


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def estimated_seconds(config) -> float:
    """A rough estimate of one run's training time on one core (see the constants above)."""
    return config.train.steps * (STEP_SECONDS + WORK_SECONDS * work(config))


def workers_for(config, cores: int | None = None) -> int:
    """How many processes train ``config``'s runs: ``train.workers``, with ``auto`` resolved.

    ``auto`` trains side by side, one run per core, when there are two or more
    runs and cores, every run is small enough to train on one thread (larger
    ones already use every core), and the runs would take more than
    :data:`PARALLEL_SECONDS` one after another (below that, starting workers
    costs more than it saves). A number is used as given, capped at the number
    of runs.
    """
    runs = [run.config for run in config.runs] or [config]
    wanted = config.train.workers
    if wanted != "auto":
        return max(1, min(int(wanted), len(runs)))
    cores = usable_cores() if cores is None else cores
    if len(runs) < 2 or cores < 2:
        return 1
    if any(work(c) >= ONE_THREAD_WORK for c in runs):
        return 1
    if sum(estimated_seconds(c) for c in runs) < PARALLEL_SECONDS:
        return 1
    return min(len(runs), cores)


def train_runs(config, *, quiet: bool = False, out=None, err=None, workers: int | None = None) -> RunSet:
    """Train every run of a multi-run ``config`` and return their :class:`RunSet`.

    ``workers`` overrides ``train.workers`` (a number of processes; 1 trains
    here, one run after another). The result does not depend on it.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    runs = list(config.runs)
    if not runs:
        raise ValueError("train_runs needs a config with runs or sweep; use polyanim.train.train for one run")
    n = workers if workers is not None else workers_for(config)
    n = max(1, min(int(n), len(runs)))
    started = time.perf_counter()
    jobs = [(run.label, run.config, quiet) for run in runs]
    histories = []
    if n == 1:
        for job in jobs:
            histories.append(_train_one(job, out=_Labelled(out, job[0]), err=_Warnings(err, job[0])))
    else:
        import multiprocessing

        threads = max(1, usable_cores() // n)
        ctx = multiprocessing.get_context("spawn")
        bar = _bar(len(jobs), f"training {len(jobs)} runs in {n} processes", err, quiet)
        _quiet_tracker()
        with bar, ctx.Pool(processes=n, initializer=_init_worker, initargs=(threads, os.getpid())) as pool:
            for history, out_text, err_text in pool.imap(_train_captured, jobs):
                if out_text:
                    bar.write(out_text.rstrip("\n"), file=out)
                if err_text:
                    bar.write(err_text.rstrip("\n"), file=err)
                histories.append(history)
                bar.update(1)
    first = histories[0]
    meta = {"config": config.to_dict(), "seed": config.seed, "workers": n,
            "train_seconds": round(time.perf_counter() - started, 3),
            "versions": first.meta.get("versions")}
    return RunSet([(run.label, h) for run, h in zip(runs, histories)], meta=meta)


def _train_one(job, *, out, err):
    from .train import train  # torch: here, in whichever process trains

    label, run_config, quiet = job
    return train(run_config, quiet=quiet, out=out, err=err)


def _train_captured(job):
    """Worker side: train one run, capturing its console output to be printed by the parent."""
    out, err = io.StringIO(), io.StringIO()
    history = _train_one(job, out=_Labelled(out, job[0]), err=_Warnings(err, job[0]))
    return history, out.getvalue(), err.getvalue()


def _init_worker(threads: int, parent: int) -> None:
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it terminates the pool)
    _die_with_parent(parent)
    from tqdm import tqdm

    # tqdm's default lock is a named semaphore in a spawned process; the pool ends its workers with
    # SIGTERM, so it was never unlinked and the resource tracker warned of a leak. Output is captured
    # here and printed by the parent, so a thread lock is all a worker needs.
    tqdm.set_lock(threading.RLock())
    import torch

    torch.set_num_threads(threads)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with_parent(parent: int) -> None:
    """End this worker when its parent dies, even by SIGKILL, instead of training on as an orphan.

    Linux sends SIGTERM on the parent's death (``prctl(PR_SET_PDEATHSIG)``);
    elsewhere, and should the parent have died before the call, a daemon
    thread notices the parent's pid change within half a second.
    """
    import signal
    import threading

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)  # quietly: nothing may print after the parent's last line

    threading.Thread(target=watch, name="polyanim-parent-watch", daemon=True).start()


def _quiet_tracker() -> None:
    """Start multiprocessing's resource tracker with its leak warnings off.

    When this process is killed outright its pool's semaphores are never
    unregistered; the tracker then unlinks them (good) and warns on the
    terminal after polyanim has gone (not good: nothing may print after its
    last line). The tracker takes its warning filters from this process's
    ``-W`` options when it starts; if it is running already it is left alone.
    """
    from multiprocessing import resource_tracker

    flag = "ignore:resource_tracker:UserWarning"
    sys.warnoptions.append(flag)
    try:
        resource_tracker.ensure_running()
    finally:
        sys.warnoptions.remove(flag)


class _Wrapped(io.TextIOBase):
    """A text stream writing to another one, which it stands for (terminal or not, encoding, fileno)."""

    def __init__(self, stream):
        self.stream = stream

    def flush(self):
        self.stream.flush()

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self):
        return getattr(self.stream, "encoding", None)


class _Labelled(_Wrapped):
    """A text stream that starts every line with ``[label] ``."""

    def __init__(self, stream, label: str):
        super().__init__(stream)
        self.prefix, self._bol = f"[{label}] ", True

    def write(self, s: str) -> int:
        parts = []
        for piece in s.splitlines(keepends=True):
            if self._bol and piece != "\n":
                parts.append(self.prefix)
            parts.append(piece)
            self._bol = piece.endswith("\n")
        self.stream.write("".join(parts))
        return len(s)


class _Warnings(_Wrapped):
    """Passes text through (progress bars included), naming the run in ``warning: …`` lines."""

    def __init__(self, stream, label: str):
        super().__init__(stream)
        self.label = label

    def write(self, s: str) -> int:
        if s.startswith("warning: "):
            s = f"warning: [{self.label}] {s[len('warning: '):]}"
        self.stream.write(s)
        return len(s)


def _bar(total: int, desc: str, file, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", file=file, leave=False, disable=True if quiet else None,
                mininterval=0.2)
