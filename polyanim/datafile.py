"""Measured points for ``data.file``: a CSV, ``.npy`` or ``.npz`` file of (x, y) pairs, read with numpy and csv.

Every problem is a :class:`DataFileError` whose message is one line naming the
file and, where there is one, the row (the line number a text editor or a
spreadsheet shows, header included) and the column of a CSV, or the index of an
array. Reads are cached by path, size and modification time, so checking a
config and then training from it reads the file once.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from .fileio import open_regular, read_regular

SUFFIXES = (".csv", ".npy", ".npz")
MAX_BYTES = 1 << 30  # a bigger "measurement" is a mistake (or a denial of service), not something to animate
MAX_ROWS = 200_000  # as many points as data.points allows: a training step's memory grows with them
MAX_CSV_BYTES = 64 << 20  # MAX_ROWS rows of up to 335 characters: a CSV is checked by size before it is read


class DataFileError(ValueError):
    """A data file that cannot be used; ``str(err)`` names the file and the problem in one line."""


def read(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The (x, y) points of a data file as read-only float64 arrays of equal length >= 2, all finite.

    Raises :class:`DataFileError` for a missing or unreadable file, an unknown
    suffix, and for contents that are not two finite numeric columns of at least
    two rows with some spread in x.
    """
    path = Path(path)
    st = stat(path)
    return _cached(str(path), st.st_size, st.st_mtime_ns)


def stat(path: Path) -> os.stat_result:
    """The stat of a data file that exists, is a regular file, has a known suffix and is within the size cap."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DataFileError(f"{path}: no such file") from None
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise DataFileError(f"{path}: not a file")
    if path.suffix.lower() not in SUFFIXES:
        raise DataFileError(f"{path}: unsupported file type {path.suffix or '(no suffix)'!r}; "
                            f"expected {', '.join(SUFFIXES)}")
    limit = MAX_CSV_BYTES if path.suffix.lower() == ".csv" else MAX_BYTES
    if st.st_size > limit:
        raise DataFileError(f"{path}: {st.st_size:,} bytes; {path.suffix.lower()} data files are limited to "
                            f"{limit >> 20} MB (and {MAX_ROWS:,} rows)")
    return st


@functools.lru_cache(maxsize=8)
def _cached(path: str, size: int, mtime_ns: int) -> tuple[np.ndarray, np.ndarray]:
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".csv":
            x, y, where = _csv(path)
        else:
            with open_regular(path, MAX_BYTES, DataFileError, "data file") as fh:  # a FIFO swapped in never blocks
                x, y, where = _arrays(path, suffix, fh)
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read ({exc.strerror or exc})") from None
    _check(path, x, y, where)
    for a in (x, y):
        a.setflags(write=False)  # shared by every caller through the cache
    return x, y


def _csv(path: str):
    """Two numeric columns, after an optional ``x,y`` header; ``where(i)`` names row i by its line number."""
    rows, lines = csv_rows(path, "x,y rows", "x,y (optionally after an x,y header)")
    order = (0, 1)
    if len(rows[0]) == 2 and not any(is_number(f) for f in rows[0]):
        header = [f.lower() for f in rows[0]]
        if sorted(header) != ["x", "y"]:
            raise DataFileError(f"{path}: row {lines[0]}: header must be x,y (or no header, two numeric "
                                f"columns), got {','.join(rows[0])!r}")
        order = (header.index("x"), header.index("y"))
        rows, lines = rows[1:], lines[1:]
    values = np.empty((len(rows), 2))
    for i, (fields, line) in enumerate(zip(rows, lines)):
        if len(fields) != 2:
            two = " (two inputs and a label or value: set data.columns)" if len(fields) > 2 else ""
            raise DataFileError(f"{path}: row {line}: expected 2 columns (x,y), got {len(fields)}{two}")
        for j, field in enumerate(fields):
            values[i, j] = number(path, field, f"row {line}, column {j + 1}")
    return values[:, order[0]], values[:, order[1]], lambda i: f"row {lines[i]}"


def csv_rows(path: str, expected: str, empty: str) -> tuple[list[list[str]], list[int]]:
    """The non-blank rows of a CSV as stripped fields, and each one's line number (at most MAX_ROWS + a header)."""
    raw = read_regular(path, MAX_BYTES, DataFileError, "data file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: not UTF-8 text (byte {exc.start}); expected a CSV of {expected}") from None
    rows, lines = [], []
    try:
        for fields in (reader := csv.reader(io.StringIO(text, newline=""))):
            if fields and any(f.strip() for f in fields):  # blank lines (a trailing newline) are no rows
                rows.append([f.strip() for f in fields])
                lines.append(reader.line_num)
                if len(rows) > MAX_ROWS + 1:  # a header may come first
                    raise DataFileError(f"{path}: more than {MAX_ROWS:,} data rows; data files are limited to "
                                        f"{MAX_ROWS:,} (as data.points)")
    except csv.Error as exc:
        raise DataFileError(f"{path}: row {reader.line_num + 1}: malformed CSV ({exc})") from None
    if not rows:
        raise DataFileError(f"{path}: empty file; expected rows of {empty}")
    return rows, lines


def number(path: str, field: str, where: str) -> float:
    try:
        return float(field)
    except ValueError:
        shown = field if len(field) <= 20 else field[:20] + "…"
        raise DataFileError(f"{path}: {where}: expected a number, got {shown!r}") from None


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _arrays(path: str, suffix: str, fh):
    """x and y from a ``.npy`` of shape [N, 2] or a ``.npz`` with 1-D arrays ``x`` and ``y``."""
    loaded = load(path, suffix, fh, ("x", "y"))
    if suffix == ".npy":
        if isinstance(loaded, np.lib.npyio.NpzFile):  # np.load goes by the contents, not the suffix
            loaded.close()
            raise DataFileError(f"{path}: is an .npz archive; name it .npz (with arrays x and y)")
        a = numeric(path, loaded, "the array")
        if a.ndim != 2 or a.shape[1] != 2:
            two = " (two inputs and a label or value: set data.columns)" if a.ndim == 2 and a.shape[1] > 2 else ""
            raise DataFileError(f"{path}: expected shape [N, 2] (columns x, y), got {list(a.shape)}{two}")
        return a[:, 0].copy(), a[:, 1].copy(), lambda i: f"row {i} (counting from 0)"
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataFileError(f"{path}: is a single .npy array; name it .npy (shape [N, 2]) or save an .npz "
                            "with arrays x and y")
    with loaded:
        names = list(loaded.files)
        if "x" not in names or "y" not in names:
            raise DataFileError(f"{path}: expected arrays x and y, found {', '.join(names) or 'none'}")
        try:
            x, y = numeric(path, loaded["x"], "array x"), numeric(path, loaded["y"], "array y")
        except (ValueError, EOFError, zipfile.BadZipFile, OSError) as exc:
            raise DataFileError(f"{path}: cannot read arrays x and y ({str(exc)[:120]})") from None
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise DataFileError(f"{path}: x and y must be 1-D arrays of the same length, got shapes "
                            f"{list(x.shape)} and {list(y.shape)}")
    return x, y, lambda i: f"index {i}"


def load(path: str, suffix: str, fh, names: tuple[str, ...]):
    """``np.load`` of an open ``.npy``/``.npz`` without pickles, after refusing too many rows (``names``: the
    ``.npz`` arrays whose headers are checked)."""
    _check_shapes(path, suffix, names)
    try:
        return np.load(fh, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as exc:
        kind = "a .npz archive" if suffix == ".npz" else "a .npy array"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataFileError(f"{path}: not {kind} numpy can read without pickle ({first[:120]})") from None


def _check_shapes(path: str, suffix: str, names: tuple[str, ...]) -> None:
    """Refuse arrays of more than :data:`MAX_ROWS` rows from their headers, before anything is loaded."""
    try:
        if suffix == ".npy":
            with open(path, "rb") as f:
                shapes = {"the array": _header_shape(f)}
        else:
            with zipfile.ZipFile(path) as z:
                members = set(z.namelist())
                shapes = {}
                for name in names:
                    if f"{name}.npy" in members:
                        with z.open(f"{name}.npy") as f:
                            shapes[f"array {name}"] = _header_shape(f)
    except (ValueError, EOFError, zipfile.BadZipFile, OSError):
        return  # not a readable array: np.load says so in the caller's words
    for what, shape in shapes.items():
        if shape and shape[0] > MAX_ROWS:
            raise DataFileError(f"{path}: {what} has {shape[0]:,} rows; data files are limited to {MAX_ROWS:,} "
                                "(as data.points)")


def _header_shape(f) -> tuple:
    """The shape a ``.npy`` stream's header declares (its first bytes only)."""
    version = np.lib.format.read_magic(f)
    read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
    return tuple(read(f)[0])


def numeric(path: str, a: np.ndarray, what: str) -> np.ndarray:
    if a.dtype.kind not in "iuf":
        raise DataFileError(f"{path}: {what} holds {a.dtype} values; expected real numbers")
    return a.astype(np.float64)


def _check(path: str, x: np.ndarray, y: np.ndarray, where) -> None:
    if len(x) < 2:
        raise DataFileError(f"{path}: {len(x)} data row(s); needs at least 2")
    for name, a in (("x", x), ("y", y)):
        bad = np.flatnonzero(~np.isfinite(a))
        if bad.size:
            raise DataFileError(f"{path}: {where(int(bad[0]))}: {name} is {a[bad[0]]}; every value must be a "
                                "finite number")
    if x.min() == x.max():
        raise DataFileError(f"{path}: every x is {x[0]:g}; needs at least two different x values")
