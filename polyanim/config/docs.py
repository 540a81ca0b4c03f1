"""Doc-line helpers for the config's field table (docs/config.md and the messages read them)."""

from __future__ import annotations

from ..registry import listing
from ..registry.optimizers import OPTIMIZERS as OPTIMIZER_TABLE


def _names(names, last: str = "or") -> str:
    """```a`, `b` or `c```: choices for a doc line, in their table's order."""
    return listing([f"`{n}`" for n in names], last)


def _decay_defaults() -> str:
    """``null: 0.01 for adamw, 0 otherwise; lbfgs has none``, from the optimizers' table."""
    own = [f"{spec.decay:g} for `{name}`" for name, spec in OPTIMIZER_TABLE.items() if spec.decay]
    none = [name for name, spec in OPTIMIZER_TABLE.items() if spec.decay is None]
    verb = "has" if len(none) == 1 else "have"
    return "null: " + ", ".join(own + ["0 otherwise"]) + (f"; {_names(none, 'and')} {verb} none" if none else "")
