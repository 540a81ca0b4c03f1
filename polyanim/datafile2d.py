"""Points of two inputs for ``data.file`` with ``data.columns``: x1, x2 and a label or value per row.

The file is the one-input reader's (:mod:`polyanim.datafile`): the same
suffixes, size caps, regular-file checks, row cap before a whole read, no
pickles and one-line errors naming the file and row. What differs is which
columns are read: ``data.columns`` names three, by header name (a CSV's first
row, an ``.npz``'s 1-D arrays) or by 0-based index (a CSV's or an ``.npy``'s
columns), so a wide spreadsheet needs no editing. Whether the third column is
a classifier's labels or a surface's values is the Recorder's rule
(:func:`polyanim.recording_field.decide_task`) unless ``data.task`` says so.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .datafile import (MAX_BYTES, DataFileError, csv_rows, is_number, load, number, numeric, stat)
from .datasets import MAX_CLASSES
from .fileio import open_regular
from .recording_field import decide_task

MIN_ROWS = 4  # some are held out by data.test, and a classifier needs two classes to train on


class ColumnsError(DataFileError):
    """A ``data.columns`` entry the file does not have: the key to fix is data.columns, not the file."""

    key = "columns"


class TaskError(DataFileError):
    """Labels that ``data.task: classify`` (or the Recorder's rule) cannot use as classes."""

    key = "task"


@dataclass(frozen=True)
class Points:
    """A two-input data file's points ``X`` [N, 2], their labels or ``values`` [N], the task and class count."""

    X: np.ndarray
    values: np.ndarray
    task: str
    classes: int | None


def read(path: str | os.PathLike, columns: tuple, task: str | None = None) -> Points:
    """The :class:`Points` of ``path``'s ``columns`` (x1, x2, label or value); DataFileError if unusable."""
    path = Path(path)
    st = stat(path)
    return _cached(str(path), st.st_size, st.st_mtime_ns, tuple(columns), task)


@functools.lru_cache(maxsize=8)
def _cached(path: str, size: int, mtime_ns: int, columns: tuple, task: str | None) -> Points:
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".csv":
            table, where = _csv(path, columns)
        else:
            with open_regular(path, MAX_BYTES, DataFileError, "data file") as fh:
                table, where = _arrays(path, suffix, fh, columns)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    _check(path, table, where, columns)
    X, values = np.ascontiguousarray(table[:, :2]), table[:, 2].copy()
    task = decide_task(task, values)
    classes = _classes(path, values, where, columns[2]) if task == "classify" else None
    for a in (X, values):
        a.setflags(write=False)  # shared by every caller through the cache
    return Points(X, values, task, classes)


def _csv(path: str, columns: tuple):
    rows, lines = csv_rows(path, "x1,x2,label rows", "x1,x2 and a label or value")
    header = None
    if not any(is_number(f) for f in rows[0]):
        header = [f.lower() for f in rows[0]]
        rows, lines = rows[1:], lines[1:]
    picks = [_pick(path, c, header, "header") for c in columns]
    table = np.empty((len(rows), 3))
    for i, (fields, line) in enumerate(zip(rows, lines)):
        if len(fields) <= max(picks):
            raise DataFileError(f"{path}: row {line}: expected at least {max(picks) + 1} columns (x1, x2 and a "
                                f"label or value), got {len(fields)}")
        for j, k in enumerate(picks):
            table[i, j] = number(path, fields[k], f"row {line}, column {k + 1}")
    return table, lambda i: f"row {lines[i]}"


def _pick(path: str, column, names: list[str] | None, what: str) -> int:
    """The 0-based index of ``column`` (a whole number, or a name among ``names``)."""
    if isinstance(column, int):
        return column
    if names is None:
        raise ColumnsError(f"{path}: has no {what} to find {column!r} in; give data.columns as 0-based "
                           "indices, e.g. [0, 1, 2]")
    if column.lower() not in names:
        raise ColumnsError(f"{path}: no column {column!r}; the {what} has {', '.join(names)}")
    return names.index(column.lower())


def _arrays(path: str, suffix: str, fh, columns: tuple):
    """An ``.npy`` of shape [N, C] (columns by index) or an ``.npz`` of 1-D arrays (columns by name)."""
    names = tuple(c for c in columns if isinstance(c, str))
    loaded = load(path, suffix, fh, names)
    if suffix == ".npy":
        if isinstance(loaded, np.lib.npyio.NpzFile):  # np.load goes by the contents, not the suffix
            loaded.close()
            raise DataFileError(f"{path}: is an .npz archive; name it .npz")
        a = numeric(path, loaded, "the array")
        if a.ndim != 2 or a.shape[1] < 3:
            raise DataFileError(f"{path}: expected shape [N, 3] (columns x1, x2, label or value), got "
                                f"{list(a.shape)}")
        picks = [_pick(path, c, None, "column names (an .npy)") for c in columns]
        if max(picks) >= a.shape[1]:
            raise ColumnsError(f"{path}: no column {max(picks)}; the array has {a.shape[1]} (0 to {a.shape[1] - 1})")
        return a[:, picks], lambda i: f"row {i} (counting from 0)"
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataFileError(f"{path}: is a single .npy array; name it .npy")
    with loaded:
        found = list(loaded.files)
        if len(names) != 3:
            raise ColumnsError(f"{path}: an .npz's columns are its arrays, given by name ({', '.join(found)})")
        missing = [n for n in names if n not in found]
        if missing:
            raise ColumnsError(f"{path}: no array {missing[0]!r}; found {', '.join(found) or 'none'}")
        try:
            arrays = [numeric(path, loaded[n], f"array {n}") for n in names]
        except (ValueError, EOFError, OSError) as exc:
            raise DataFileError(f"{path}: cannot read arrays {', '.join(names)} ({str(exc)[:120]})") from None
    if any(a.ndim != 1 or len(a) != len(arrays[0]) for a in arrays):
        raise DataFileError(f"{path}: arrays {', '.join(names)} must be 1-D of the same length, got shapes "
                            f"{', '.join(str(list(a.shape)) for a in arrays)}")
    return np.stack(arrays, axis=1), lambda i: f"index {i}"


def _check(path: str, table: np.ndarray, where, columns: tuple) -> None:
    if len(table) < MIN_ROWS:
        raise DataFileError(f"{path}: {len(table)} data row(s); needs at least {MIN_ROWS}")
    bad = ~np.isfinite(table)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise DataFileError(f"{path}: {where(int(i))}: {_shown(columns[j])} is {table[i, j]}; every value must "
                            "be a finite number")
    if (table[:, :2] == table[0, :2]).all():
        raise DataFileError(f"{path}: every point is at ({table[0, 0]:g}, {table[0, 1]:g}); they span no "
                            "rectangle")


def _classes(path: str, labels: np.ndarray, where, name) -> int:
    """The class count of whole-number labels 0 .. k-1 (2 <= k <= MAX_CLASSES); TaskError naming a bad row."""
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 0))
    if bad.size:
        raise TaskError(f"{path}: {where(int(bad[0]))}: {_shown(name)} is {labels[bad[0]]:g}; a classifier's "
                        "labels are whole numbers 0, 1, … (data.task: regress fits them as values)")
    classes = int(labels.max()) + 1
    if not 2 <= classes <= MAX_CLASSES:
        raise TaskError(f"{path}: labels from 0 to {classes - 1}: {classes} class(es); a classifier needs 2 to "
                        f"{MAX_CLASSES} (data.task: regress fits them as values)")
    return classes


def _shown(column) -> str:
    return column if isinstance(column, str) else f"column {column}"
