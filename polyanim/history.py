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
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError
from .fileio import atomic_path
from .limits import MAX_HISTORY_BYTES

FORMAT_NAME = "polyanim.history"
FORMAT_VERSION = 2
READS = (1, 2)  # 1: single runs only; 2: adds multi-run files (meta["runs"]); single-run layout unchanged
REQUIRED = ("steps", "loss", "x", "y", "pred", "meta")
OPTIONAL = ("params", "lr", "data_x", "data_y")
PER_RUN = ("steps", "loss", "pred", "params", "lr")  # what each run of a RunSet has of its own
RUN_META = ("label", "config", "seed", "stopped", "warnings", "param_names", "train_seconds")
RUN_KEY = re.compile(r"run([1-9][0-9]?)_(" + "|".join(PER_RUN) + ")")  # a RunSet's other runs (at most 99)
FINITE = ("x", "data_x", "data_y")  # the grid and the samples: a NaN there breaks every axis
# Limits on what a file may ask of the reader before anything is allocated (docs/limits.md): the arrays
# may declare at most MAX_HISTORY_BYTES in all, and at most EXPANSION more than the file's size on disk
# (polyanim stores arrays uncompressed; a compressed file may inflate that much), so any file under
# 100 MB loads or is refused in about its own size of memory.
EXPANSION = 32 << 20
MAX_MEMBERS = 1024  # a RunSet of 8 runs has about 50 members; a zip directory is parsed whole
MAX_META_BYTES = 4 << 20  # the meta JSON (a few kB in practice)
MAX_META_DEPTH = 32  # nesting of the meta JSON (configs are 4 levels deep)
DEFLATE_RATIO = 1032  # the most deflate can expand: a member declaring more is lying


class HistoryError(InputError):
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
        for key in REQUIRED[:-1] + OPTIONAL:
            if getattr(self, key) is not None or key in REQUIRED:
                setattr(self, key, _real(key, getattr(self, key)))
        self.steps = _whole_steps(self.steps)
        self.loss = self.loss.astype(np.float64, copy=False)
        self.x = self.x.astype(np.float64, copy=False)
        self.y = self.y.astype(np.float64, copy=False)
        self.pred = self.pred.astype(np.float32, copy=False)
        for key in OPTIONAL:
            if getattr(self, key) is not None:
                setattr(self, key, getattr(self, key).astype(np.float64, copy=False))
        problem = (_shape_problem({k: None if getattr(self, k) is None else getattr(self, k).shape
                                   for k in REQUIRED[:-1] + OPTIONAL})
                   or _value_problem(self) or _meta_problem(self.meta))
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
            raise ValueError("runs: expected at least one (label, History) pair")
        labels = [label for label, _ in self.runs]
        if len(set(labels)) != len(labels):
            raise ValueError(f"runs: labels must differ, got {labels}")
        first = self.runs[0][1]
        for label, h in self.runs[1:]:
            same = (h.x.shape == first.x.shape and np.array_equal(h.x, first.x)
                    and np.array_equal(h.y, first.y, equal_nan=True)  # all NaN: a data file without a target
                    and (h.data_x is None) == (first.data_x is None)
                    and (h.data_x is None or (np.array_equal(h.data_x, first.data_x)
                                              and np.array_equal(h.data_y, first.data_y))))
            if not same:
                raise ValueError(f"run {label!r}: x, y, data_x, data_y must be the first run's (runs share data)")
        self.steps = np.unique(np.concatenate([h.steps for _, h in self.runs]))

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.runs)

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

    def save(self, path: str | os.PathLike) -> Path:
        """Write the runs to ``path`` atomically: the first run as a single-run file, the others prefixed."""
        first = self.runs[0][1]
        runs_meta = []
        for label, h in self.runs:
            runs_meta.append({"label": label, **{k: h.meta.get(k) for k in RUN_META[1:] if k in h.meta}})
        meta = dict(self.meta, format=FORMAT_NAME, version=FORMAT_VERSION, runs=runs_meta)
        for key in ("stopped", "warnings", "param_names", "seed"):  # where single-run readers look
            if key in first.meta:
                meta.setdefault(key, first.meta[key])
        arrays = _arrays(first)
        for k, (_, h) in enumerate(self.runs[1:], start=1):
            for key in PER_RUN:
                if getattr(h, key) is not None:
                    arrays[f"run{k}_{key}"] = getattr(h, key)
        arrays["meta"] = np.array(json.dumps(meta))
        return _write(path, arrays)


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
    if not path.is_file():
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
    if "runs" in meta and meta.get("version", 1) >= 2:
        return _load_runs(path, arrays, meta)
    try:
        return History(meta=meta, **{k: arrays.get(k) for k in REQUIRED[:-1] + OPTIONAL})
    except ValueError as exc:
        raise HistoryError(f"{path}: {exc}") from None


def _meta_problem(meta: dict, where: str = "meta") -> str | None:
    """What is wrong with the parts of a History's meta the renderers rely on, if anything."""
    if not isinstance(meta, dict):
        return f"{where}: expected a mapping, got {type(meta).__name__}"
    if where == "meta" and _depth(meta) > MAX_META_DEPTH:
        return f"{where}: nested deeper than {MAX_META_DEPTH} levels"
    if not isinstance(meta.get("config", {}), dict):
        return f"{where}.config: expected a mapping of config keys"
    stopped = meta.get("stopped")
    if stopped is not None and not (isinstance(stopped, dict) and isinstance(stopped.get("step"), int)
                                    and not isinstance(stopped.get("step"), bool)
                                    and isinstance(stopped.get("reason"), str)):
        return f"{where}.stopped: expected null or {{step: whole number, reason: text}}"
    if not isinstance(meta.get("warnings") or [], list):
        return f"{where}.warnings: expected a list"
    for k, warning in enumerate(meta.get("warnings") or []):
        if not (isinstance(warning, dict) and all(isinstance(warning.get(key), str) for key in ("message", "note"))):
            return f"{where}.warnings[{k}]: expected {{message: text, note: text}}"
    for k, run in enumerate(meta.get("runs") or []):
        problem = _meta_problem(run, f"{where}.runs[{k}]") if isinstance(run, dict) else f"{where}.runs[{k}]: not a mapping"
        if problem:
            return problem
    return None


def _depth(tree) -> int:
    """How deeply lists and mappings nest in ``tree`` (without recursion, so any depth is safe to ask)."""
    deepest, todo = 0, [(tree, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, (dict, list, tuple)):
            deepest = max(deepest, depth)
            if depth > MAX_META_DEPTH:
                break
            todo.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _known(name: str) -> str | None:
    """The array key of a zip member polyanim reads (``pred.npy`` -> ``pred``), or None to leave it unread."""
    key = name[:-4] if name.endswith(".npy") else ""
    return key if key in REQUIRED or key in OPTIONAL or RUN_KEY.fullmatch(key) else None


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The known arrays of an .npz, checked from their headers before any is allocated.

    Only members polyanim knows are read; their ``.npy`` headers come first,
    so dtypes, shapes (against each other) and the total size (against
    :data:`MAX_HISTORY_BYTES` and the file's own size plus :data:`EXPANSION`)
    are checked before a byte of data is inflated. Each array is then read in
    1 MiB chunks straight into its final buffer (``np.load`` would copy it
    once more), and inflating stops at the member's declared size.
    """
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if fh.read(6) == b"\x93NUMPY":
            raise HistoryError(f"{path}: not a polyanim history (a single array, not an .npz archive)")
        _check_directory(fh, size, path)
    with zipfile.ZipFile(path) as archive:
        headers = {}
        for info in archive.infolist():
            key = _known(info.filename)
            if key is None:
                continue
            if key in headers:
                raise HistoryError(f"{path}: {info.filename}: appears twice in the archive")
            headers[key] = _header(archive, info)
        problem = _headers_problem({k: v[1:4] for k, v in headers.items()}, size)
        if problem:
            raise HistoryError(f"{path}: {problem}")
        return {key: _read_member(archive, *header) for key, header in headers.items()}


def _check_directory(fh, size: int, path: Path) -> None:
    """Refuse an archive whose directory lists more members than a History has, before zipfile parses it."""
    tail = min(size, 22 + 0xFFFF)  # the end record and the longest comment
    fh.seek(size - tail)
    data = fh.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or len(data) - at < 22:
        return  # not a zip: zipfile says so
    entries, directory_bytes = struct.unpack("<HL", data[at + 10:at + 16])
    if entries > MAX_MEMBERS or directory_bytes > MAX_MEMBERS * 1024 or data[max(0, at - 20):at - 16] == b"PK\x06\x07":
        raise HistoryError(f"{path}: not a polyanim history (an archive of more than {MAX_MEMBERS} members)")


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    """``(shape, fortran, dtype, offset)`` of a member's .npy header, after sanity checks on the member."""
    name = info.filename
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise ValueError(f"{name}: stored member with inconsistent sizes")
    if info.file_size > DEFLATE_RATIO * info.compress_size + 1024:
        raise ValueError(f"{name}: declares {info.file_size} bytes from {info.compress_size} compressed")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        shape, fortran, dtype = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                 else np.lib.format.read_array_header_2_0)(member)
        offset = member.tell()
    if dtype.hasobject:
        raise ValueError(f"{name}: object arrays are not allowed")
    if int(np.prod(shape, dtype=np.float64)) * dtype.itemsize > info.file_size - offset:
        raise ValueError(f"{name}: header promises more data than the file holds")
    return info, shape, fortran, dtype, offset


def _headers_problem(headers: dict, file_size: int) -> str | None:
    """What the .npy headers alone show to be wrong: dtypes, shapes against each other, total size."""
    meta = headers.get("meta")
    if meta is not None and (meta[2].kind not in "US" or meta[0] != () or meta[2].itemsize > MAX_META_BYTES):
        return f"meta: expected a JSON text of at most {MAX_META_BYTES >> 20} MiB, got {meta[2]} {meta[0]}"
    for key, (shape, _, dtype) in headers.items():
        problem = _dtype_problem(dtype) if key != "meta" else None
        if problem:
            return f"{key}: {problem}"
    shared = {k: headers[k][0] if k in headers else None for k in ("x", "y", "data_x", "data_y")}
    for k in range(100):
        prefix = f"run{k}_" if k else ""
        if prefix + "steps" not in headers:
            break
        own = {key: headers[prefix + key][0] if prefix + key in headers else None for key in PER_RUN}
        if any(own[key] is None for key in ("steps", "loss", "pred")) or any(shared[key] is None for key in ("x", "y")):
            continue  # the missing arrays are reported by name later
        problem = _shape_problem({**own, **shared})
        if problem:
            return f"{prefix}{problem}" if k else problem
    total = sum(int(np.prod(shape, dtype=np.float64)) * dtype.itemsize for shape, _, dtype in headers.values())
    allowed = min(MAX_HISTORY_BYTES, file_size + EXPANSION)
    if total > allowed:
        return (f"its arrays declare {total / 2**20:,.0f} MiB, more than the {allowed / 2**20:,.0f} MiB a "
                f"{file_size / 2**20:,.1f} MiB history file may hold (see docs/limits.md)")
    return None


def _read_member(archive: zipfile.ZipFile, info, shape, fortran, dtype, offset) -> np.ndarray:
    array = np.empty(shape, dtype=dtype, order="F" if fortran else "C")
    view = memoryview(array.reshape(-1, order="A").view(np.uint8)) if array.size else memoryview(b"")
    with archive.open(info) as member:
        member.read(offset)
        done = 0
        while done < len(view):
            chunk = member.read(min(1 << 20, len(view) - done))
            if not chunk:
                raise EOFError(f"{info.filename}: truncated")
            view[done:done + len(chunk)] = chunk
            done += len(chunk)
    return array


def _load_runs(path: Path, arrays: dict, meta: dict) -> RunSet:
    runs_meta = meta["runs"]
    if not isinstance(runs_meta, list) or not runs_meta or not all(isinstance(r, dict) for r in runs_meta):
        raise HistoryError(f"{path}: meta.runs: expected a non-empty list of runs")
    shared = {k: arrays.get(k) for k in ("x", "y", "data_x", "data_y")}
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
        try:
            runs.append((label, History(meta=run_meta, **own, **shared)))
        except ValueError as exc:
            raise HistoryError(f"{path}: run {k} ({label!r}): {exc}") from None
    try:
        return RunSet(runs, meta={k: v for k, v in meta.items() if k != "runs"})
    except ValueError as exc:
        raise HistoryError(f"{path}: {exc}") from None


def _dtype_problem(dtype: np.dtype) -> str | None:
    """Arrays hold plain real numbers: no records, complex numbers, text, dates or booleans."""
    if dtype.kind not in "iuf" or dtype.names is not None or dtype.subdtype is not None:
        return f"expected real numbers, got dtype {dtype}"
    return None


def _real(key: str, value) -> np.ndarray:
    """``value`` as an array of real numbers (any int or float dtype), or ValueError naming ``key``."""
    if value is None:
        raise ValueError(f"{key}: missing")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{key}: expected an array of real numbers ({_short(exc)})") from None
    problem = _dtype_problem(array.dtype)
    if problem:
        raise ValueError(f"{key}: {problem}")
    return array


def _whole_steps(steps: np.ndarray) -> np.ndarray:
    """Steps as int64: floats must be whole numbers, and every value must fit."""
    if steps.dtype.kind == "f" and not (np.isfinite(steps).all() and (steps == np.round(steps)).all()):
        raise ValueError("steps: expected whole numbers")
    if steps.size and (steps.max() > np.iinfo(np.int64).max or steps.min() < np.iinfo(np.int64).min):
        raise ValueError("steps: expected whole numbers below 2**63")
    return steps.astype(np.int64)


def _value_problem(h: History) -> str | None:
    """Values that would draw nonsense: steps out of order, a grid or samples that are not finite."""
    if h.steps[0] < 0 or (np.diff(h.steps) <= 0).any():
        return "steps: expected non-negative whole numbers in strictly increasing order"
    for key in FINITE:
        value = getattr(h, key)
        if value is not None and not np.isfinite(value).all():
            return f"{key}: expected finite numbers (no NaN or infinity)"
    if not (np.isfinite(h.y).all() or np.isnan(h.y).all()):  # all NaN: no target curve (fitted to data only)
        return "y: expected finite numbers, or all NaN for a history without a target curve"
    return None


def _shape_problem(shapes: dict) -> str | None:
    """What is wrong with the arrays' shapes (``key -> shape``, None for an absent optional array)."""
    steps, x = shapes["steps"], shapes["x"]
    if len(steps) != 1 or steps[0] == 0:
        return "steps: expected a non-empty 1-D array"
    if len(x) != 1 or x[0] < 2 or shapes["y"] != x:
        return f"x, y: expected two 1-D arrays of the same length >= 2, got {x} and {shapes['y']}"
    f, n = steps[0], x[0]
    if shapes["loss"] != (f,):
        return f"loss: expected shape ({f},), got {shapes['loss']}"
    if shapes["pred"] != (f, n):
        return f"pred: expected shape ({f}, {n}), got {shapes['pred']}"
    params = shapes.get("params")
    if params is not None and (len(params) != 2 or params[0] != f):
        return f"params: expected shape ({f}, P), got {params}"
    if shapes.get("lr") is not None and shapes["lr"] != (f,):
        return f"lr: expected shape ({f},), got {shapes['lr']}"
    data_x, data_y = shapes.get("data_x"), shapes.get("data_y")
    if (data_x is None) != (data_y is None):
        return "data_x, data_y: expected both or neither"
    if data_x is not None and (len(data_x) != 1 or data_y != data_x or not data_x[0]):
        return f"data_x, data_y: expected two non-empty 1-D arrays of the same length, got {data_x} and {data_y}"
    return None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
