"""The History: everything a renderer needs, and nothing that needs torch.

A History is the only thing that passes from training to drawing. On disk it
is a plain ``.npz`` file that ``numpy.load`` reads without polyanim (no pickled
objects): arrays ``steps``, ``loss``, ``x``, ``y``, ``pred``, optionally
``params``, ``lr``, ``data_x`` and ``data_y``, and ``meta``, a JSON string
with the format name and version, the fully resolved config, the seed and
library versions.

Several runs drawn side by side (a config's ``runs`` or ``sweep``) are a
:class:`RunSet`: one History per run, sharing the grid, the target and the
training samples. Its file (format version 2) is the first run's file, so a
reader of single-run files still finds the first run where it always was,
plus ``run1_steps``, ``run1_loss``, ``run1_pred``, … for the others and
``meta["runs"]``, one entry per run (label, config, notes). Version-1 files
(single runs, before version 2) load unchanged.

Format version 3 adds a second kind of History, ``meta["kind"] == "field"``:
a problem with two inputs, predicted on a mesh ``x`` [G1] by ``x2`` [G2]
(``pred`` [F, G2, G1] or [F, G2, G1, C]), with training points ``data_x``
[N, 2] and optional held-out ``test_x``/``test_y`` and per-snapshot ``acc`` and
``test_acc``. A History without ``meta["kind"]`` is a ``"curve"`` (the 1-D kind).
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .fileio import atomic_path
from .history_io import (  # noqa: F401  (the reader's limits and errors are part of this module's names)
    DEFLATE_RATIO, EXPANSION, FINITE, KINDS, MAX_MEMBERS, MAX_META_BYTES, MAX_META_DEPTH, OPTIONAL, PER_RUN,
    REQUIRED, RUN_KEY, SHARED, HistoryError, _kind_problem, _meta_problem, _read_arrays, _real, _shape_problem,
    _short, _value_problem, _whole_steps)

FORMAT_NAME = "polyanim.history"
FORMAT_VERSION = 3
# 1: single runs only; 2: adds multi-run files (meta["runs"]); 3: adds the field kind (meta["kind"], x2, ...).
# A curve's layout is the same in all three.
READS = (1, 2, 3)
RUN_META = ("label", "config", "seed", "stopped", "warnings", "param_names", "train_seconds")
KIND_META = ("kind", "task", "classes", "class_names")  # the same for every run of a RunSet


@dataclass
class History:
    """Snapshots of one training run, recorded every few steps.

    ``steps[i]`` is the optimisation step at which snapshot ``i`` was taken,
    ``loss[i]`` the training loss there, ``pred[i]`` the model's prediction on
    the drawing grid ``x`` (float32, shape ``[F, N]``), ``y`` the noise-free
    target on that grid and ``params[i]`` the model's coefficients (constant
    term first, in the model's basis, named by ``meta["param_names"]``) when the
    model is small enough to show them (else ``None``). ``lr[i]`` is the learning
    rate at snapshot ``i`` (``None`` in files from before it was recorded).
    ``data_x``/``data_y`` are the training samples and their noisy targets when
    they differ from the grid or carry noise (else ``None``). ``meta`` holds the
    resolved config (``meta["config"]``), the seed, library versions and notes
    such as a divergence (``meta["stopped"]``) or a stall (``meta["warnings"]``).
    A race (``meta["kind"] == "paths"``) may add ``path`` ``[M, 2]``, its parameter pair at the steps
    ``path_steps`` ``[M]`` (every step, or at most ``MAX_PATH`` of them, each snapshot's among them).
    """

    steps: np.ndarray
    loss: np.ndarray
    x: np.ndarray
    y: np.ndarray
    pred: np.ndarray
    params: np.ndarray | None = None
    meta: dict = field(default_factory=dict)
    lr: np.ndarray | None = None
    data_x: np.ndarray | None = None
    data_y: np.ndarray | None = None
    x2: np.ndarray | None = None
    test_x: np.ndarray | None = None
    test_y: np.ndarray | None = None
    acc: np.ndarray | None = None
    test_acc: np.ndarray | None = None
    path: np.ndarray | None = None
    path_steps: np.ndarray | None = None

    def __post_init__(self):
        for key in REQUIRED[:-1] + OPTIONAL:
            if getattr(self, key) is not None or key in REQUIRED:
                setattr(self, key, _real(key, getattr(self, key)))
        self.steps = _whole_steps(self.steps)
        self.loss = self.loss.astype(np.float64, copy=False)
        self.x = self.x.astype(np.float64, copy=False)
        self.y = self.y.astype(np.float64, copy=False)
        self.pred = self.pred.astype(np.float32, copy=False)
        for key in OPTIONAL:
            if key != "path_steps" and getattr(self, key) is not None:  # steps stay whole numbers (below)
                setattr(self, key, getattr(self, key).astype(np.float64, copy=False))
        if self.path_steps is not None:
            self.path_steps = _whole_steps(self.path_steps, "path_steps")
        shapes = {k: None if getattr(self, k) is None else getattr(self, k).shape for k in REQUIRED[:-1] + OPTIONAL}
        problem = (_kind_problem(self) or _shape_problem(shapes)
                   or _meta_problem(self.meta) or _value_problem(self))
        if problem:
            raise InputError(problem)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"<History {_summary([self], self.x)}>"

    @property
    def kind(self) -> str:
        """What the History draws: ``"curve"`` (one input; files without a kind), ``"field"`` (two inputs)
        or ``"paths"`` (optimizers on a test function; see :func:`kind_of`)."""
        return kind_of(self)

    @property
    def config(self) -> dict:
        """The fully resolved config this run was trained with, as a plain dict."""
        return self.meta.get("config", {})

    def save(self, path: str | os.PathLike) -> Path:
        """Write the History to ``path`` atomically (temporary file, then rename)."""
        meta = dict(self.meta, format=FORMAT_NAME, version=FORMAT_VERSION)
        arrays = _arrays(self)
        arrays["meta"] = np.array(json.dumps(meta))
        return _write(path, arrays)


class RunSet:
    """Several runs on the same data, drawn side by side: ``(label, History)`` pairs.

    Every run's History has the same grid ``x``, target ``y`` and training
    samples (``data_x``/``data_y``); each has its own steps, losses,
    predictions and notes (``meta["stopped"]``, ``meta["config"]``…), so runs
    may record on different schedules. ``meta`` is the set's own: the
    multi-run config (``meta["config"]``, with its ``runs``) and the library
    versions.

    The animation walks :attr:`steps`, the union of the recorded steps, and
    shows each run's latest snapshot at or before the current step; ``len()``
    is the length of that timeline, as ``len()`` of a History is its number of
    snapshots.
    """

    def __init__(self, runs, meta: dict | None = None):
        self.runs = [(str(label), h) for label, h in runs]
        self.meta = dict(meta or {})
        if not self.runs:
            raise InputError("runs: expected at least one (label, History) pair")
        labels = [label for label, _ in self.runs]
        if len(set(labels)) != len(labels):
            raise InputError(f"runs: labels must differ, got {labels}")
        first = self.runs[0][1]
        for label, h in self.runs[1:]:
            kinds = [{k: r.meta.get(k) for k in KIND_META[:3]} for r in (first, h)]
            if kinds[0] != kinds[1]:
                raise InputError(f"run {label!r}: kind, task and classes must be the first run's, "
                                 f"got {kinds[1]} and {kinds[0]}")
            shared = [k for k in SHARED if getattr(first, k) is not None or getattr(h, k) is not None]
            # all NaN in y: a data file without a target
            if not all(getattr(h, k) is not None and getattr(first, k) is not None
                       and getattr(h, k).shape == getattr(first, k).shape
                       and np.array_equal(getattr(h, k), getattr(first, k), equal_nan=True) for k in shared):
                raise InputError(f"run {label!r}: {', '.join(shared)} must be the first run's (runs share data)")
        self.steps = np.unique(np.concatenate([h.steps for _, h in self.runs]))

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.runs)

    def __repr__(self) -> str:
        return f"<RunSet {_summary(self.histories, self.x, self.labels)}>"

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.runs]

    @property
    def histories(self) -> list[History]:
        return [h for _, h in self.runs]

    @property
    def config(self) -> dict:
        """The multi-run config (top-level keys and its ``runs``), as a plain dict."""
        return self.meta.get("config", {})

    # the shared data, for code written for a single History
    x = property(lambda self: self.runs[0][1].x)
    y = property(lambda self: self.runs[0][1].y)
    data_x = property(lambda self: self.runs[0][1].data_x)
    data_y = property(lambda self: self.runs[0][1].data_y)
    x2 = property(lambda self: self.runs[0][1].x2)
    test_x = property(lambda self: self.runs[0][1].test_x)
    test_y = property(lambda self: self.runs[0][1].test_y)
    kind = property(lambda self: self.runs[0][1].kind)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the runs to ``path`` atomically: the first run as a single-run file, the others prefixed."""
        first = self.runs[0][1]
        runs_meta = []
        for label, h in self.runs:
            runs_meta.append({"label": label, **{k: h.meta.get(k) for k in RUN_META[1:] if k in h.meta}})
        meta = dict(self.meta, format=FORMAT_NAME, version=FORMAT_VERSION, runs=runs_meta)
        for key in ("stopped", "warnings", "param_names", "seed") + KIND_META:  # where single-run readers look
            if key in first.meta:
                meta.setdefault(key, first.meta[key])
        arrays = _arrays(first)
        for k, (_, h) in enumerate(self.runs[1:], start=1):
            for key in PER_RUN:
                if getattr(h, key) is not None:
                    arrays[f"run{k}_{key}"] = getattr(h, key)
        arrays["meta"] = np.array(json.dumps(meta))
        return _write(path, arrays)


def _summary(runs: list, x: np.ndarray, labels=None) -> str:
    """One line about some runs, for a repr: how many, their snapshots and steps, the grid, the final losses."""
    names = "" if labels is None else " (" + _clipped(", ".join(repr(label) for label in labels), 80) + ")"
    counts = sorted({len(h) for h in runs})
    finals = ", ".join(f"{float(h.loss[-1]):.4g}" for h in runs[:8]) + (", ..." if len(runs) > 8 else "")
    return (f"{len(runs)} run{'s' * (len(runs) != 1)}{names}, "
            f"{counts[0] if len(counts) == 1 else f'{counts[0]}-{counts[-1]}'} snapshots, "
            f"steps {min(int(h.steps[0]) for h in runs)}-{max(int(h.steps[-1]) for h in runs)}, "
            f"{_where(runs[0])}, final loss {finals}")


def _where(h: History) -> str:
    """What the predictions are drawn on: the curve's grid, or a field's mesh with its task and points."""
    if h.kind != "field":
        return f"{h.x.size} grid points"
    task = h.meta["task"] + (f" {h.meta['classes']} classes" if h.meta["task"] == "classify" else "")
    test = "" if h.test_x is None else f" + {len(h.test_x)} test"
    return (f"field ({task}), mesh {h.x.size}x{h.x2.size}, "
            f"{0 if h.data_x is None else len(h.data_x)} points{test}")


def _clipped(text: str, most: int) -> str:
    return text if len(text) <= most else text[:most - 3] + "..."


def _arrays(h: History) -> dict:
    arrays = dict(steps=h.steps, loss=h.loss, x=h.x, y=h.y, pred=h.pred)
    for key in OPTIONAL:
        if getattr(h, key) is not None:
            arrays[key] = getattr(h, key)
    return arrays


def _write(path, arrays: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # like render: outputs/ need not exist yet
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def load(path: str | os.PathLike) -> History | RunSet:
    """Read a History file written by :meth:`History.save` (or :meth:`RunSet.save`).

    A single-run file gives a :class:`History`, a multi-run file a
    :class:`RunSet`. Raises :class:`HistoryError` with one line naming the
    file and what is wrong for a missing, truncated, malformed or foreign
    file, one written by an unknown format version, or one that would need
    more memory than its size warrants (see docs/limits.md): any failure to
    read the file is that one line, never another exception.
    """
    path = Path(path)
    if not path.exists():
        raise HistoryError(f"{path}: no such history file")
    try:
        return _load(path)
    except HistoryError:
        raise
    except Exception as exc:  # MemoryError, RecursionError, zlib and zipfile errors...: still a bad file
        raise HistoryError(f"{path}: not a readable .npz history file ({type(exc).__name__}: {_short(exc)})") from None


def _load(path: Path) -> History | RunSet:
    try:
        arrays = _read_arrays(path)
    except HistoryError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise HistoryError(f"{path}: not a readable .npz history file ({_short(exc)})") from None
    missing = [k for k in REQUIRED if k not in arrays]
    if missing:
        raise HistoryError(f"{path}: not a polyanim history (missing arrays: {', '.join(missing)})")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (TypeError, ValueError):
        raise HistoryError(f"{path}: meta: not a JSON string") from None
    except RecursionError:
        raise HistoryError(f"{path}: meta: nested deeper than {MAX_META_DEPTH} levels") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise HistoryError(f"{path}: meta.format: expected {FORMAT_NAME!r}, got {meta.get('format') if isinstance(meta, dict) else meta!r}")
    if meta.get("version") not in READS:
        raise HistoryError(f"{path}: meta.version: unsupported history format version {meta.get('version')!r} "
                           f"(this polyanim reads versions {', '.join(map(str, READS))})")
    problem = _meta_problem(meta)
    if problem:
        raise HistoryError(f"{path}: {problem}")
    if meta.get("kind", "curve") != "curve" and meta["version"] < 3:
        raise HistoryError(f"{path}: meta.kind: {meta['kind']!r} needs format version 3, got {meta['version']}")
    if "runs" in meta and meta.get("version", 1) >= 2:
        return _load_runs(path, arrays, meta)
    try:
        return History(meta=meta, **{k: arrays.get(k) for k in REQUIRED[:-1] + OPTIONAL})
    except ValueError as exc:
        raise HistoryError(f"{path}: {exc}") from None


def _load_runs(path: Path, arrays: dict, meta: dict) -> RunSet:
    runs_meta = meta["runs"]
    if not isinstance(runs_meta, list) or not runs_meta or not all(isinstance(r, dict) for r in runs_meta):
        raise HistoryError(f"{path}: meta.runs: expected a non-empty list of runs")
    shared = {k: arrays.get(k) for k in SHARED}
    runs = []
    for k, run_meta in enumerate(runs_meta):
        prefix = f"run{k}_" if k else ""
        missing = [prefix + key for key in ("steps", "loss", "pred") if prefix + key not in arrays]
        if missing:
            raise HistoryError(f"{path}: not a polyanim history (missing arrays: {', '.join(missing)})")
        own = {key: arrays.get(prefix + key) for key in PER_RUN}
        run_meta = dict(run_meta)
        label = run_meta.pop("label", f"run {k + 1}")
        run_meta.setdefault("versions", meta.get("versions"))
        for key in KIND_META:
            if key in meta:
                run_meta.setdefault(key, meta[key])
        try:
            runs.append((label, History(meta=run_meta, **own, **shared)))
        except ValueError as exc:
            raise HistoryError(f"{path}: run {k} ({label!r}): {exc}") from None
    try:
        return RunSet(runs, meta={k: v for k, v in meta.items() if k != "runs"})
    except ValueError as exc:
        raise HistoryError(f"{path}: {exc}") from None


def kind_of(history) -> str:
    """A History's (or RunSet's first run's) kind: ``meta["kind"]``; without one ``"paths"`` for a run of a
    ``problem:`` config and ``"curve"`` (the 1-D fit, every file from before kinds) otherwise."""
    first = history.histories[0] if isinstance(history, RunSet) else history
    return first.meta.get("kind", "paths" if first.config.get("problem") else "curve")
