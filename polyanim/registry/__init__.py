"""Tables of the parts that plug in: output formats, models, optimizers and lr schedules.

Each table maps a name to where its class (or factory) lives, as ``module:name``,
and a one-line doc. :mod:`polyanim.config` reads the allowed names and the docs
from these tables without importing torch, matplotlib or a writer; the code that
uses a part imports it by :func:`load` only then. Adding a part is its class
plus one line in its table. The panels' table lives in
:mod:`polyanim.panels.registry` and follows the same pattern.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """``path`` is ``module:name`` (None: nothing to build); ``doc`` one line for docs and messages."""

    path: str | None
    doc: str


def load(path: str):
    """The object a ``module:name`` path names (imports its module)."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def listing(names, last: str = "or") -> str:
    """``a, b, c or d``: names for a doc line, in the table's order."""
    names = list(names)
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {last} {names[-1]}"
