"""The panels' table: name -> where its class lives, what it shows and what it needs. No matplotlib here.

``polyanim.config`` reads the allowed ``render.panels`` names, their docs and
capabilities from :data:`PANELS` without importing a plotting library; the
scene, the HTML player and the live window read the same capabilities and
import a panel's class only when they draw it. Adding a panel is one new
module in this package and one line here (or a :func:`register` call from
outside the package). Nothing outside this package names a panel.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class PanelSpec:
    """One panel's entry: where it lives and what it declares.

    ``path`` is ``module:Class``; ``doc`` one line for docs and messages;
    ``one_run``, for a panel that shows a single run only, what it shows (the
    reason it is refused for several runs), else None; ``main`` the large
    panel of the layout, whose label area shows the other panels' captions
    (at most one panel of a figure is main: the first declared so);
    ``cell_per_run`` one Axes per run in ``layout: grid``; ``names_runs``
    may carry the runs' legend; ``needs_params`` reads the recorded
    parameters (training then asks the model for their names); ``kinds`` the
    History kinds it draws (``"curve"``: one input, ``"field"``: two, ``"paths"``: optimizers on
    a test function; see :func:`kind_problem`); ``pair``: it needs a parameter pair (a paths
    History, or ``render.path_params`` on a linear model).
    """

    path: str
    doc: str
    one_run: str | None = None
    main: bool = False
    cell_per_run: bool = False
    names_runs: bool = False
    needs_params: bool = False
    kinds: tuple[str, ...] = ("curve",)
    pair: bool = False


PANELS: dict[str, PanelSpec] = {
    "fit": PanelSpec("polyanim.panels.fit:FitPanel", "the predictions over the target and the samples",
                     main=True, cell_per_run=True),
    "loss": PanelSpec("polyanim.panels.loss:LossPanel", "the training loss over the steps", names_runs=True,
                      kinds=("curve", "field", "paths")),
    "params": PanelSpec("polyanim.panels.params:ParamsPanel", "the coefficients over the steps, and the equation",
                        one_run="shows one run's coefficients", needs_params=True),
    "lr": PanelSpec("polyanim.panels.lr:LrPanel", "the learning rate each snapshot recorded", names_runs=True,
                    kinds=("curve", "field", "paths")),
    "boundary": PanelSpec("polyanim.panels.boundary:BoundaryPanel", "a classifier's winning class over the plane "
                          "(pale: unsure), the points, the misclassified ringed", main=True, cell_per_run=True,
                          kinds=("field",)),
    "surface": PanelSpec("polyanim.panels.surface:SurfacePanel", "a fitted surface over the plane, the target's "
                         "contours and the points", main=True, cell_per_run=True, kinds=("field",)),
    "accuracy": PanelSpec("polyanim.panels.accuracy:AccuracyPanel", "train (solid) and test (dashed) accuracy over "
                          "the steps", names_runs=True, kinds=("field",)),
    "paths": PanelSpec("polyanim.panels.paths:PathsPanel", "optimizer paths over a loss surface of two parameters",
                       main=True, needs_params=True, pair=True, kinds=("paths", "curve")),
}
KIND_WORDS = {"curve": "1-D curves", "field": "2-D fields", "paths": "optimizer paths"}
# what a History of each kind is called in messages ("draws 1-D curves", "this History is a 1-D curve")
KIND_ONE = {"curve": "a 1-D curve", "field": "a 2-D field", "paths": "optimizer paths"}


def register(name: str, spec: PanelSpec) -> None:
    """Add (or replace) panel ``name``: config then accepts it in ``render.panels`` and every output draws it.

    For panels that live outside this package (a test, a plugin); a panel of
    the package is one line in :data:`PANELS` instead.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"panel name: expected an identifier, got {name!r}")
    if not isinstance(spec, PanelSpec):
        raise ValueError(f"panel {name}: expected a PanelSpec, got {spec!r}")
    PANELS[name] = spec


def panel_class(name: str):
    """The class drawing panel ``name`` (imports its module; panel modules import no plotting library
    at import time, so the HTML player can read their payload hooks without matplotlib)."""
    module, _, cls = PANELS[name].path.partition(":")
    return getattr(importlib.import_module(module), cls)


def main_panel(panels) -> str | None:
    """The large panel of a figure of ``panels`` (the first declared ``main``), or None."""
    return next((p for p in panels if PANELS[p].main), None)


def several_runs_problem(panels, several: str = "for several runs") -> str | None:
    """Why ``panels`` cannot draw several runs (the first one-run panel, and what to use instead), or None.

    The one place the one-run rule is written: config, the scene and the HTML
    player word their errors around it. ``several`` says how the runs came.
    """
    name = next((p for p in panels if PANELS[p].one_run), None)
    if name is None:
        return None
    others = " or ".join(p for p in PANELS if not PANELS[p].one_run)
    return f"the {name} panel {PANELS[name].one_run} and is not available {several}; use {others}"


def kind_problem(panels, kind: str, pair: bool = True) -> str | None:
    """Why ``panels`` cannot draw a History of ``kind`` (the first panel that does not draw it), or None.

    The one place the rule is worded: config, the scene, the player and
    :func:`polyanim.render` prefix it with ``render.panels: ``.
    """
    name = next((p for p in panels if kind not in PANELS[p].kinds), None)
    if name is None:
        lone = next((p for p in panels if PANELS[p].pair and not pair), None)
        return None if lone is None else (f"the {lone} panel needs a parameter pair: a problem: section, or "
                                          f"render.path_params naming two coefficients of a linear model, or "
                                          f"Recorder(landscape=) for a model of your own")
    drawn = " and ".join(KIND_WORDS.get(k, k) for k in PANELS[name].kinds)
    fits = ", ".join(p for p in PANELS if kind in PANELS[p].kinds)
    return f"the {name} panel draws {drawn}; this History is {KIND_ONE.get(kind, kind)} (use {fits})"


def pair_given(kind: str, render, landscape: bool = False) -> bool:
    """Whether a History of ``kind`` drawn with ``render`` (the render settings) has the parameter pair
    that ``pair`` panels need: its own (optimizer paths), two coefficients ``render.path_params`` names
    (the panel says if the model cannot slice), or a ``landscape`` (a loss grid the Recorder stored).
    The scene, config, the library and the HTML page all ask here."""
    return kind == "paths" or getattr(render, "path_params", None) is not None or landscape


CURVE_PANELS = ("fit", "loss")  # render.panels' default (polyanim.config.schema.Render)


def default_panels(kind: str, task: str | None = None, accuracy: bool = False) -> tuple[str, ...]:
    """The panels drawn when ``render.panels`` is left at its default: ``fit, loss`` for a curve;
    for a field ``boundary, loss`` (classify) or ``surface, loss`` (regress), plus ``accuracy``
    when accuracy is recorded; ``paths, loss`` for optimizer paths. Config and :func:`polyanim.render`
    both ask here."""
    if kind == "paths":
        return ("paths", "loss")
    if kind != "field":
        return CURVE_PANELS
    main = "surface" if task == "regress" else "boundary"
    return (main, "loss", "accuracy") if accuracy else (main, "loss")


def panels_for(history, panels) -> tuple[str, ...]:
    """``panels`` for ``history``: the kind's :func:`default_panels` in place of the curve default."""
    kind = getattr(history, "kind", "curve")
    if kind == "curve" or tuple(panels) != CURVE_PANELS:
        return tuple(panels)
    runs = getattr(history, "histories", None) or [history]
    return default_panels(kind, runs[0].meta.get("task"), any(r.acc is not None for r in runs))
