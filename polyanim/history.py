"""The History: everything a renderer needs, and nothing that needs torch.

A History is the only thing that passes from training to drawing. On disk it
is a plain ``.npz`` file that ``numpy.load`` reads without polyanim (no pickled
objects): arrays ``steps``, ``loss``, ``x``, ``y``, ``pred``, optionally
``params``, ``lr``, ``data_x`` and ``data_y``, and ``meta``, a JSON string
with the format name and version, the fully resolved config, the seed and
library versions.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .fileio import atomic_path

FORMAT_NAME = "polyanim.history"
FORMAT_VERSION = 1
REQUIRED = ("steps", "loss", "x", "y", "pred", "meta")
OPTIONAL = ("params", "lr", "data_x", "data_y")


class HistoryError(ValueError):
    """A history file that cannot be used; the message names the file and the problem."""


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

    def __post_init__(self):
        self.steps = np.asarray(self.steps, dtype=np.int64)
        self.loss = np.asarray(self.loss, dtype=np.float64)
        self.x = np.asarray(self.x, dtype=np.float64)
        self.y = np.asarray(self.y, dtype=np.float64)
        self.pred = np.asarray(self.pred, dtype=np.float32)
        for key in OPTIONAL:
            if getattr(self, key) is not None:
                setattr(self, key, np.asarray(getattr(self, key), dtype=np.float64))
        problem = _shape_problem(self)
        if problem:
            raise ValueError(problem)

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def config(self) -> dict:
        """The fully resolved config this run was trained with, as a plain dict."""
        return self.meta.get("config", {})

    def save(self, path: str | os.PathLike) -> Path:
        """Write the History to ``path`` atomically (temporary file, then rename)."""
        meta = dict(self.meta, format=FORMAT_NAME, version=FORMAT_VERSION)
        arrays = dict(steps=self.steps, loss=self.loss, x=self.x, y=self.y, pred=self.pred,
                      meta=np.array(json.dumps(meta)))
        for key in OPTIONAL:
            if getattr(self, key) is not None:
                arrays[key] = getattr(self, key)
        path = Path(path)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        return path


def load(path: str | os.PathLike) -> History:
    """Read a History file written by :meth:`History.save`.

    Raises :class:`HistoryError` with one line naming the file and what is
    wrong for a missing, truncated or foreign file, or one written by an
    unknown format version.
    """
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"{path}: no such history file")
    try:
        # our own handle: np.load leaks its file when a truncated zip makes it raise
        with open(path, "rb") as fh:
            npz = np.load(fh, allow_pickle=False)
            if not isinstance(npz, np.lib.npyio.NpzFile):
                raise HistoryError(f"{path}: not a polyanim history (a single array, not an .npz archive)")
            with npz:
                missing = [k for k in REQUIRED if k not in npz.files]
                if missing:
                    raise HistoryError(f"{path}: not a polyanim history (missing arrays: {', '.join(missing)})")
                arrays = {k: npz[k] for k in npz.files}
    except HistoryError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise HistoryError(f"{path}: not a readable .npz history file ({_short(exc)})") from None
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except (TypeError, ValueError):
        raise HistoryError(f"{path}: meta: not a JSON string") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise HistoryError(f"{path}: meta.format: expected {FORMAT_NAME!r}, got {meta.get('format') if isinstance(meta, dict) else meta!r}")
    if meta.get("version") != FORMAT_VERSION:
        raise HistoryError(f"{path}: meta.version: unsupported history format version {meta.get('version')!r} "
                           f"(this polyanim reads version {FORMAT_VERSION})")
    try:
        return History(meta=meta, **{k: arrays.get(k) for k in REQUIRED[:-1] + OPTIONAL})
    except ValueError as exc:
        raise HistoryError(f"{path}: {exc}") from None


def _shape_problem(h: History) -> str | None:
    f, n = len(h.steps), len(h.x)
    if h.steps.ndim != 1 or f == 0:
        return "steps: expected a non-empty 1-D array"
    if h.loss.shape != (f,):
        return f"loss: expected shape ({f},), got {h.loss.shape}"
    if h.x.ndim != 1 or n < 2 or h.y.shape != (n,):
        return f"x, y: expected two 1-D arrays of the same length >= 2, got {h.x.shape} and {h.y.shape}"
    if h.pred.shape != (f, n):
        return f"pred: expected shape ({f}, {n}), got {h.pred.shape}"
    if h.params is not None and (h.params.ndim != 2 or len(h.params) != f):
        return f"params: expected shape ({f}, P), got {h.params.shape}"
    if h.lr is not None and h.lr.shape != (f,):
        return f"lr: expected shape ({f},), got {h.lr.shape}"
    if (h.data_x is None) != (h.data_y is None):
        return "data_x, data_y: expected both or neither"
    if h.data_x is not None and (h.data_x.ndim != 1 or h.data_y.shape != h.data_x.shape or not len(h.data_x)):
        return (f"data_x, data_y: expected two non-empty 1-D arrays of the same length, "
                f"got {h.data_x.shape} and {h.data_y.shape}")
    return None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
