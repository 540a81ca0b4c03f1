"""The figure's panels: one module per panel behind the protocol in :mod:`polyanim.panels.base`.

Importing this package imports no matplotlib: the table of names lives in
:mod:`polyanim.panels.registry`, and each panel's module is imported when drawn.
"""

from .registry import PANELS, PanelSpec, panel_class, register

__all__ = ["PANELS", "PanelSpec", "panel_class", "register"]
