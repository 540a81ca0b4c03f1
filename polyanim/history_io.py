"""Reading a history ``.npz`` safely, and the checks every History field and its meta pass.

:func:`polyanim.history.load` reads through :func:`_read_arrays`: only the
members polyanim knows, their ``.npy`` headers first, so a zip bomb, a
many-member archive or a header promising more than the file holds is refused
before anything is allocated (limits: docs/limits.md). The ``_*_problem``
checks are shared by that reader (from headers alone) and by
:class:`~polyanim.history.History` itself (from the arrays), so a file and an
object built in memory are held to the same rules.
"""

from __future__ import annotations

import os
import re
import struct
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError
from .fileio import open_regular

if TYPE_CHECKING:  # only for an annotation: history imports this module
    from .history import History

REQUIRED = ("steps", "loss", "x", "y", "pred", "meta")
OPTIONAL = ("params", "lr", "data_x", "data_y", "x2", "test_x", "test_y", "acc", "test_acc", "path", "path_steps")
PER_RUN = ("steps", "loss", "pred", "params", "lr", "acc", "test_acc", "path", "path_steps")  # what each run of a RunSet has of its own
SHARED = ("x", "y", "data_x", "data_y", "x2", "test_x", "test_y")  # what the runs of a RunSet share
RUN_KEY = re.compile(r"run([1-9][0-9]?)_(" + "|".join(PER_RUN) + ")")  # a RunSet's other runs (at most 99)
# the grid, the mesh and the samples: a NaN there breaks every axis
FINITE = ("x", "data_x", "data_y", "x2", "test_x", "test_y", "path")
KINDS = ("curve", "field", "paths")  # meta["kind"]; a file without one is a curve (versions 1 and 2)
FIELD_ONLY = ("x2", "test_x", "test_y")
TASKS = ("classify", "regress")
MAX_CLASSES = 10  # as polyanim.datasets.MAX_CLASSES: a distinguishable colour per class
MAX_MESH = 400  # mesh points a side
# a race's every-step path (80 KB of float64 at most), thinned past it: enough for any frame, bounded for the page
MAX_PATH = 4000
# Limits on what a file may ask of the reader before anything is allocated (docs/limits.md): the arrays
# may declare at most MAX_HISTORY_BYTES in all, and at most EXPANSION more than the file's size on disk
# (polyanim stores arrays uncompressed; a compressed file may inflate that much), so any file under
# 100 MB loads or is refused in about its own size of memory.
EXPANSION = 32 << 20
MAX_HISTORY_BYTES = 1 << 30  # a History's arrays, in memory and on disk (polyanim.limits checks configs against it)
MAX_MEMBERS = 1024  # a RunSet of 8 runs has about 50 members; a zip directory is parsed whole
MAX_META_BYTES = 4 << 20  # the meta JSON (a few kB in practice)
MAX_FILE_BYTES = MAX_HISTORY_BYTES + MAX_META_BYTES + EXPANSION  # arrays, meta and the zip's own records
MAX_META_DEPTH = 32  # nesting of the meta JSON (configs are 4 levels deep)
DEFLATE_RATIO = 1032  # the most deflate can expand: a member declaring more is lying


class HistoryError(InputError):
    """A history file that cannot be used; the message names the file and the problem."""


def field_snapshot_bytes(g1: int, g2: int, classes: int | None = None) -> int:
    """Bytes one snapshot of a field History holds: its mesh prediction (G1 x G2 x C float32s; C is 1 for
    a regression or two classes, whose P(class 1) is enough) and its step, loss, lr, acc and test_acc."""
    channels = classes if classes is not None and classes > 2 else 1
    return 4 * g1 * g2 * channels + 5 * 8


def field_problem(g1: int, g2: int, classes: int | None, n_snapshots: int) -> str | None:
    """Why a field History of ``n_snapshots`` on a G1 x G2 mesh would be too large, or None: checked before
    training (by the Recorder when its schedule is known, and for a config), not when the memory is gone."""
    size = n_snapshots * field_snapshot_bytes(g1, g2, classes)
    if size <= MAX_HISTORY_BYTES:
        return None
    per = field_snapshot_bytes(g1, g2, classes)
    return (f"{n_snapshots:,} snapshots x {per / 2**10:,.1f} KiB ({g1}x{g2} mesh"
            f"{f' x {classes} classes' if classes and classes > 2 else ''}) is about {size / 2**20:,.1f} MiB; the "
            f"limit is {MAX_HISTORY_BYTES / 2**20:,.0f} MiB (docs/limits.md): record fewer snapshots or a coarser mesh")


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
    problem = _kind_meta_problem(meta, where)
    if problem:
        return problem
    for k, run in enumerate(meta.get("runs") or []):
        problem = _meta_problem(run, f"{where}.runs[{k}]") if isinstance(run, dict) else f"{where}.runs[{k}]: not a mapping"
        if problem:
            return problem
    return None


def _kind_meta_problem(meta: dict, where: str) -> str | None:
    """``kind``, and for a field its ``task``, ``classes`` and ``class_names``."""
    kind = meta.get("kind", "curve")
    if kind not in KINDS:
        return f"{where}.kind: expected one of {', '.join(KINDS)}, got {kind!r}"
    if kind != "field":
        return None
    task = meta.get("task")
    if task not in TASKS:
        return f"{where}.task: expected one of {', '.join(TASKS)} for a field history, got {task!r}"
    if task == "regress":
        return None
    classes = meta.get("classes")
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= MAX_CLASSES:
        return f"{where}.classes: expected a whole number from 2 to {MAX_CLASSES}, got {classes!r}"
    names = meta.get("class_names")
    if names is not None and not (isinstance(names, list) and len(names) == classes
                                  and all(isinstance(n, str) for n in names)):
        return f"{where}.class_names: expected a list of {classes} texts, got {names!r}"
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
    with open_regular(path, MAX_FILE_BYTES, HistoryError, "history file") as fh:
        size = os.fstat(fh.fileno()).st_size
        if fh.read(6) == b"\x93NUMPY":
            raise HistoryError(f"{path}: not a polyanim history (a single array, not an .npz archive)")
        _check_directory(fh, size, path)
        with zipfile.ZipFile(fh) as archive:
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
    shared = {k: headers[k][0] if k in headers else None for k in SHARED}
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


def _whole_steps(steps: np.ndarray, key: str = "steps") -> np.ndarray:
    """Steps as int64: floats must be whole numbers, and every value must fit."""
    if steps.dtype.kind == "f" and not (np.isfinite(steps).all() and (steps == np.round(steps)).all()):
        raise ValueError(f"{key}: expected whole numbers")
    if steps.size and (steps.max() > np.iinfo(np.int64).max or steps.min() < np.iinfo(np.int64).min):
        raise ValueError(f"{key}: expected whole numbers below 2**63")
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
    for key in ("acc", "test_acc"):
        value = getattr(h, key)
        if value is not None and value.size and not (np.fmin.reduce(value) >= 0 and np.fmax.reduce(value) <= 1):
            return f"{key}: expected accuracies from 0 to 1"
    if h.path_steps is not None and (h.path_steps[0] < 0 or (np.diff(h.path_steps) <= 0).any()
                                     or not np.isin(h.steps, h.path_steps).all()):  # the panel finds each snapshot in it
        return "path_steps: expected increasing non-negative whole numbers, every one of steps among them"
    return _field_value_problem(h)


def _kind_problem(h: History) -> str | None:
    """Arrays that belong to the other kind of History (checked first: they explain the shapes)."""
    kind = h.meta.get("kind", "curve") if isinstance(h.meta, dict) else None
    if kind == "curve":
        present = [k for k in FIELD_ONLY if getattr(h, k) is not None]
        return f"{', '.join(present)}: only a field history (meta.kind 'field') has them" if present else None
    return "x2: missing (a field history's mesh is x by x2)" if kind == "field" and h.x2 is None else None


def _field_value_problem(h: History) -> str | None:
    """A field's mesh, labels and probabilities against its meta (kind, task, classes)."""
    if h.kind != "field":
        return None
    for key in ("x", "x2"):
        gaps = np.diff(getattr(h, key))
        if not (gaps > 0).all() or not np.allclose(gaps, gaps.mean(), rtol=1e-6, atol=0):
            return f"{key}: expected evenly spaced, increasing mesh coordinates"
    if h.meta["task"] == "regress":
        return None if h.pred.ndim == 3 else f"pred: expected shape (F, G2, G1) for a regression, got {h.pred.shape}"
    classes = h.meta["classes"]
    want = h.pred.shape[:3] + ((classes,) if classes > 2 else ())
    if h.pred.shape != want:
        return f"pred: expected shape {want} for {classes} classes, got {h.pred.shape}"
    if h.pred.size and not (np.fmin.reduce(h.pred, axis=None) >= 0 and np.fmax.reduce(h.pred, axis=None) <= 1):
        return "pred: expected probabilities from 0 to 1"
    for key in ("data_y", "test_y"):
        labels = getattr(h, key)
        if labels is not None and not (np.isin(labels, np.arange(classes))).all():
            return f"{key}: expected class labels, whole numbers from 0 to {classes - 1}"
    return None


def _shape_problem(shapes: dict) -> str | None:
    """What is wrong with the arrays' shapes (``key -> shape``, None for an absent optional array).

    Arrays with an ``x2`` are a field's (the mesh is x by x2), the others a curve's.
    """
    steps = shapes["steps"]
    if len(steps) != 1 or steps[0] == 0:
        return "steps: expected a non-empty 1-D array"
    f = steps[0]
    for key in ("loss", "lr", "acc", "test_acc"):
        if shapes.get(key) is not None and shapes[key] != (f,):
            return f"{key}: expected shape ({f},), got {shapes[key]}"
    params = shapes.get("params")
    if params is not None and (len(params) != 2 or params[0] != f):
        return f"params: expected shape ({f}, P), got {params}"
    path, path_steps = shapes.get("path"), shapes.get("path_steps")
    if (path is not None or path_steps is not None) and not (
            path is not None and len(path) == 2 and path[1] == 2 and 1 <= path[0] <= MAX_PATH and path_steps == path[:1]):
        return f"path, path_steps: expected shapes (M, 2) and (M,) with M from 1 to {MAX_PATH}, got {path} and {path_steps}"
    if shapes.get("x2") is not None:
        return _field_shape_problem(shapes, f)
    x = shapes["x"]
    if len(x) != 1 or x[0] < 2 or shapes["y"] != x:
        return f"x, y: expected two 1-D arrays of the same length >= 2, got {x} and {shapes['y']}"
    if shapes["pred"] != (f, x[0]):
        return f"pred: expected shape ({f}, {x[0]}), got {shapes['pred']}"
    data_x, data_y = shapes.get("data_x"), shapes.get("data_y")
    if (data_x is None) != (data_y is None):
        return "data_x, data_y: expected both or neither"
    if data_x is not None and (len(data_x) != 1 or data_y != data_x or not data_x[0]):
        return f"data_x, data_y: expected two non-empty 1-D arrays of the same length, got {data_x} and {data_y}"
    return None


def _field_shape_problem(shapes: dict, f: int) -> str | None:
    """A field's shapes: the mesh x [G1] by x2 [G2], y [G2, G1], pred [F, G2, G1(, C)], points [N, 2] and [N]."""
    x, x2 = shapes["x"], shapes["x2"]
    if len(x) != 1 or len(x2) != 1 or not (2 <= x[0] <= MAX_MESH and 2 <= x2[0] <= MAX_MESH):
        return f"x, x2: expected two 1-D mesh axes of 2 to {MAX_MESH} points, got {x} and {x2}"
    g1, g2 = x[0], x2[0]
    if shapes["y"] != (g2, g1):
        return f"y: expected shape ({g2}, {g1}) (x2 by x), got {shapes['y']}"
    pred = shapes["pred"]
    if pred[:3] != (f, g2, g1) or len(pred) > 4 or (len(pred) == 4 and not 3 <= pred[3] <= MAX_CLASSES):
        return f"pred: expected shape ({f}, {g2}, {g1}) or ({f}, {g2}, {g1}, C) with C from 3 to {MAX_CLASSES}, got {pred}"
    for points, labels in (("data_x", "data_y"), ("test_x", "test_y")):
        px, py = shapes.get(points), shapes.get(labels)
        if (px is None) != (py is None):
            return f"{points}, {labels}: expected both or neither"
        if px is not None and (len(px) != 2 or px[1] != 2 or not px[0] or py != px[:1]):
            return f"{points}, {labels}: expected shapes (N, 2) and (N,) with N > 0, got {px} and {py}"
    return None


def _short(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
