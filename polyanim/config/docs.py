"""Doc-line helpers for the config's field table (docs/config.md and the messages read them)."""

from __future__ import annotations

from ..panels.registry import PANELS, default_panels
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


def _panels_doc() -> str:
    """``render.panels``' doc line: the choices and each kind's default, as the panels' registry gives them."""
    def shown(panels):
        return "`[" + ", ".join(panels) + "]`"
    return (f"panels from {_names(PANELS, 'and')}: the main one large, the others below (beside when "
            f"width/height ≥ 1.6); with `data.dataset` (two inputs) {shown(default_panels('field', 'classify', True))}"
            f" or {shown(default_panels('field', 'regress'))}, with a `problem:` section "
            f"{shown(default_panels('paths'))}")
