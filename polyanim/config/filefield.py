"""``data.file`` with ``data.columns``: a two-input data file as config keys see it.

Kept apart from :mod:`polyanim.config.schema` so that the ``Data`` section
only delegates: reading (:mod:`polyanim.datafile2d`), the task, the class count
and what the file's points imply for ``data.test`` live here, each problem a
:class:`ConfigError` naming its key.
"""

from __future__ import annotations

from .. import datafile2d
from ..datasets import held_out
from ..history_io import TASKS
from .fields import ConfigError

ONE_INPUT_KEYS = ("target", "domain", "train_domain", "classes")  # the file's points and labels decide these


def check_keys(data) -> None:
    """The keys that go with ``data.columns`` (and ``data.task``, which needs it)."""
    if data.columns is None:
        if data.task is not None:
            raise ConfigError("task: only with data.columns (two inputs from data.file); data sets have their own")
        return
    if data.file is None:
        raise ConfigError("columns: picks the columns of data.file; set data.file (or remove data.columns)")
    for key in ONE_INPUT_KEYS:
        if getattr(data, key) is not None:
            raise ConfigError(f"{key}: does not apply with data.columns (the file's points and labels decide it); "
                              f"remove data.{key}")
    check_unsampled(data)


def check_unsampled(data) -> None:
    """``data.file``'s points are the training samples (one input or two): no samples, sampling or noise keys."""
    for key, given in (("samples", data.samples is not None), ("sampling", data.sampling != "grid"),
                       ("noise", data.noise != 0)):
        if given:
            raise ConfigError(f"{key}: does not apply with data.file (the training samples are the file's points); "
                              f"remove data.{key}")


def columns_problem(v) -> str | None:
    """``data.columns``: three distinct header names or 0-based indices (x1, x2, then the label or value)."""
    if len(v) != 3 or len(set(v)) != 3 or any(isinstance(c, int) and c < 0 or c == "" for c in v):
        return f"expected three different column names or 0-based indices (x1, x2, label or value), got {list(v)}"
    return None


def task_problem(v) -> str | None:
    return None if v in TASKS else f"must be one of {', '.join(TASKS)} (or null: decided by the labels), got {v!r}"


def points(data) -> datafile2d.Points:
    """The file's :class:`~polyanim.datafile2d.Points`; ConfigError ``data.file:``, ``data.columns:`` or
    ``data.task:`` (the whole key: it is read while the Config, not its data section, is checked)."""
    try:
        return datafile2d.read(data.file, data.columns, data.task)
    except datafile2d.DataFileError as exc:
        raise ConfigError(f"data.{getattr(exc, 'key', 'file')}: {exc}") from None


def check(data) -> None:
    """Read the file and check that ``data.test`` leaves at least two points to train on."""
    n = len(points(data).X)
    held = held_out(data.test, n)
    if n - held < 2:
        raise ConfigError(f"data.test: holds out {held} of the {n} points of data.file, leaving {n - held} to "
                          "train on; needs >= 2")
