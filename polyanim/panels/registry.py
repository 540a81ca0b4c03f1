"""The panels' table: name -> where its class lives and what it shows. No matplotlib here.

``polyanim.config`` reads the allowed ``render.panels`` names and their docs
from :data:`PANELS` without importing a plotting library; the scene imports a
panel's class only when it draws it. Adding a panel is one new module in this
package and one line here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class PanelSpec:
    """``path`` is ``module:Class``; ``doc`` one line for docs and messages; ``one_run``, for a panel that
    shows a single run only, what it shows (the reason it is refused for several runs), else None."""

    path: str
    doc: str
    one_run: str | None = None


PANELS: dict[str, PanelSpec] = {
    "fit": PanelSpec("polyanim.panels.fit:FitPanel", "the predictions over the target and the samples"),
    "loss": PanelSpec("polyanim.panels.loss:LossPanel", "the training loss over the steps"),
    "params": PanelSpec("polyanim.panels.params:ParamsPanel", "the coefficients over the steps, and the equation",
                        one_run="shows one run's coefficients"),
    "lr": PanelSpec("polyanim.panels.lr:LrPanel", "the learning rate each snapshot recorded"),
}


def panel_class(name: str):
    """The class drawing panel ``name`` (imports its module, and with it matplotlib)."""
    module, _, cls = PANELS[name].path.partition(":")
    return getattr(importlib.import_module(module), cls)
