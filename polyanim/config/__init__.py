"""YAML config → frozen dataclasses, with one validation path for files, ``--set`` and direct construction.

The package's parts: :mod:`~polyanim.config.fields` (the ``_spec`` helper, the
value checks and coercion), :mod:`~polyanim.config.schema` (the sections
``Data``, ``Model``, ``Train``, ``Render``, ``Run``, ``Config``, each checked on
construction), :mod:`~polyanim.config.runs` (``runs`` and ``sweep``) and
:mod:`~polyanim.config.io` (YAML, dicts, overrides, the key reference). Every
name is importable from ``polyanim.config`` itself, as before it was a package.
"""

from .fields import (ACTIVATIONS, DEFAULT_DOMAIN, DEFAULT_TARGET, LAYOUTS, MAX_RUNS, MODEL_KINDS, OPTIMIZERS, PANELS,
                     RECORDINGS, RUN_SECTIONS, SAMPLINGS, SCHEDULES, UNRESOLVED, ConfigError, _coerce, _mathtext,
                     _plain, _spec, _validate)
from .io import _build, _set_dotted, from_dict, load, parse_override, reference, render_settings
from .runs import with_runs
from .schema import (Config, Data, Model, Render, Run, Train, _fields_of, _is_text, _known_keys, _type_at,
                     _unknown)

__all__ = ["ACTIVATIONS", "Config", "ConfigError", "DEFAULT_DOMAIN", "DEFAULT_TARGET", "Data", "LAYOUTS", "MAX_RUNS",
           "MODEL_KINDS", "Model", "OPTIMIZERS", "PANELS", "RECORDINGS", "RUN_SECTIONS", "Render", "Run",
           "SAMPLINGS", "SCHEDULES", "Train", "UNRESOLVED", "from_dict", "load", "parse_override", "reference",
           "render_settings", "with_runs"]
_private = (_build, _coerce, _fields_of, _is_text, _known_keys, _mathtext, _plain, _set_dotted, _spec, _type_at,
            _unknown, _validate)  # re-exported for modules and tests that use them as polyanim.config._name
