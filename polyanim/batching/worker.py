"""One unit, in whichever process runs it: a local pool's worker or a Dask worker.

A worker rebuilds the config from the unit's resolved dict, so a Dask worker
needs no access to the config files. Pool workers are spawned and find
:func:`execute` and :func:`_init_worker` here by module path.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from pathlib import Path

from .. import config, history as history_mod
from ..errors import one_line
from ..version import __version__
from .plan import Unit

CRASH_HOOK = "POLYANIM_BATCH_CRASH"  # tests: a worker given the unit of this name dies as if killed


def _init_worker(needs_torch: bool, parent: int | None = None) -> None:
    """Pool initializer: pay the imports once per worker, leave Ctrl-C to the parent, one torch thread,
    and end with the parent (``parent``: its pid), even when it is killed outright."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the pool
    if parent is not None:  # a SIGKILLed parent runs no cleanup: without this its workers train on as orphans
        from ..multirun import _die_with_parent

        _die_with_parent(parent)

    def stop(signum, frame):  # terminate() from the parent: unwind a unit, so no temporary file is left
        if _busy:
            raise KeyboardInterrupt
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    _warm_up(needs_torch)


def _warm_up(needs_torch: bool) -> None:
    """Train and draw a tiny run once: torch imports much of itself lazily at the first optimizer step
    (seconds of imports, measured), and matplotlib loads its fonts at the first draw; a worker pays that
    here, once, instead of in its first unit."""
    from ..renderer import render

    with tempfile.TemporaryDirectory(prefix="polyanim-warm-") as tmp:
        tiny = config.from_dict({"data": {"points": 8}, "train": {"steps": 2, "record_every": 1, "log_every": 0},
                                 "render": {"size": [64, 64]}})
        if needs_torch:
            _one_torch_thread()
            from ..train import train

            hist = train(tiny, quiet=True, out=io.StringIO(), err=io.StringIO())
        else:
            import numpy as np

            x = np.linspace(-1, 1, 8)
            hist = history_mod.History([0, 1], [1.0, 0.5], x, x, np.stack([0 * x, x]), meta={"config": tiny.to_dict()})
        render(hist, Path(tmp) / "warm.png", tiny.render, quiet=True)


def _one_torch_thread() -> None:
    """Units run side by side, one per core: torch's own threads would only compete with the others."""
    import torch  # noqa: F401  (imported here so a worker pays it before its first unit)

    from .. import train  # noqa: F401

    if torch.get_num_threads() != 1:
        torch.set_num_threads(1)


_busy = False  # a unit is running in this process (a worker's SIGTERM handler unwinds it)


def execute(unit: Unit, formats, out_dir: str | None = None, payload: bytes | None = None) -> dict:
    """Run one unit; never raises. Returns its status, final loss, seconds and error line.

    With ``out_dir`` the files are written there (atomically); without it
    they are rendered into a temporary folder and returned as bytes under
    ``"files"`` (a Dask worker without the client's file system). A History
    unit may come as ``payload``, the file's bytes, for the same reason. A
    History unit never imports torch.
    """
    global _busy
    started = time.perf_counter()
    if os.environ.get(CRASH_HOOK) == unit.name:
        os._exit(70)
    _busy = True
    out = {"version": __version__, "status": "failed", "final_loss": None, "error": "", "outputs": []}
    try:
        with tempfile.TemporaryDirectory(prefix="polyanim-batch-") as tmp:
            hist, settings, note = _history_for(unit, Path(tmp), payload)
            where = Path(out_dir) if out_dir else Path(tmp)
            written = [hist.save(where / f"{unit.name}.history.npz")] if unit.kind == "config" else []
            from ..renderer import render

            for fmt in formats:
                written.append(render(hist, where / f"{unit.name}.{fmt}", settings, quiet=True, err=io.StringIO()))
            out["outputs"] = [p.name for p in written]
            if not out_dir:
                out["files"] = {p.name: p.read_bytes() for p in written}
        out.update(status="diverged" if note else "ok", error=note, final_loss=_final_loss(hist))
    except Exception as exc:  # the unit's failure is its result; the batch goes on
        out["error"] = one_line(exc)
    finally:
        _busy = False
    out["seconds"] = round(time.perf_counter() - started, 3)
    return out


def _history_for(unit: Unit, tmp: Path, payload: bytes | None):
    """The unit's History, its render settings and a divergence note ("" if none).

    A History is replayed through the library's own path (:func:`polyanim.api.resolve_sets`), so it
    draws what ``polyanim.render`` draws: its saved config is read, never rebuilt nor written back.
    """
    if unit.kind == "history":
        path = Path(unit.source)
        if payload is not None:
            path = tmp / "input.history.npz"
            path.write_bytes(payload)
        from ..api import resolve_sets

        hist, settings = resolve_sets(history_mod.load(path), unit.sets, caller=f"{unit.source}: --set")
        return hist, settings, ""
    cfg = config.from_dict(unit.config, source=unit.source)
    if not cfg.problem.given:  # a race is numpy only: no torch to import
        _one_torch_thread()
    quiet = dict(quiet=True, out=io.StringIO(), err=io.StringIO())
    if cfg.problem.given:  # optimizers on a test function: numpy only
        from ..train_paths import train as race

        hist = race(cfg)
    elif cfg.multi:
        from ..multirun import train_runs

        hist = train_runs(cfg, workers=1, **quiet)  # this process is already one of the batch's workers
    else:
        from ..train import train

        hist = train(cfg, **quiet)
    runs = [(lbl, h.meta.get("stopped")) for lbl, h in hist] if cfg.multi else [("", hist.meta.get("stopped"))]
    notes = [f"{f'[{lbl}] ' if lbl else ''}{s['reason']} at step {s['step']}" for lbl, s in runs if s]
    return hist, cfg.render, "; ".join(notes)


def _final_loss(hist) -> float:
    """The last recorded loss; of several runs, the best one's."""
    if isinstance(hist, history_mod.RunSet):
        return min(float(h.loss[-1]) for h in hist.histories)
    return float(hist.loss[-1])


def _died(unit: Unit, why: str) -> dict:
    return {"version": __version__, "status": "failed", "final_loss": None, "outputs": [], "seconds": 0.0,
            "error": why}
