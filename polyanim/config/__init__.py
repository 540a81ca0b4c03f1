"""YAML config → frozen dataclasses, with one validation path for files, ``--set`` and direct construction.

The package's parts: :mod:`~polyanim.config.fields` (the ``_spec`` helper, the
value checks and coercion), :mod:`~polyanim.config.schema` (the sections
``Data``, ``Model``, ``Train``, ``Render``, ``Run``, ``Config``, each checked on
construction), :mod:`~polyanim.config.runs` (``runs`` and ``sweep``) and
:mod:`~polyanim.config.io` (YAML, dicts, overrides, the key reference). Every
public name is importable from ``polyanim.config`` itself; the parts' private helpers are not re-exported.
"""

from .fields import (ACTIVATIONS, DEFAULT_DOMAIN, DEFAULT_TARGET, LAYOUTS, MAX_RUNS, MODEL_KINDS, OPTIMIZERS, PANELS,
                     RECORDINGS, RUN_SECTIONS, SAMPLINGS, SCHEDULES, UNRESOLVED, ConfigError, mathtext_problem,
                     plain_name)
from .io import from_dict, load, parse_override, reference, render_settings
from .runs import with_runs
from .keys import known_keys, type_at, unknown_key
from .schema import Config, Data, Model, Render, Run, Train

__all__ = ["ACTIVATIONS", "Config", "ConfigError", "DEFAULT_DOMAIN", "DEFAULT_TARGET", "Data", "LAYOUTS", "MAX_RUNS",
           "MODEL_KINDS", "Model", "OPTIMIZERS", "PANELS", "RECORDINGS", "RUN_SECTIONS", "Render", "Run",
           "SAMPLINGS", "SCHEDULES", "Train", "UNRESOLVED", "from_dict", "known_keys", "load", "mathtext_problem",
           "parse_override", "plain_name", "reference", "render_settings", "type_at", "unknown_key", "with_runs"]
