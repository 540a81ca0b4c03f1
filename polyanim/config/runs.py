"""Several runs in one config: ``runs`` (a list) and ``sweep`` (one key, several values) expanded.

Each run is the top level merged with the run's ``model`` and ``train`` keys
and validated as a whole config, so errors name the run
(``runs[1].train.lr: must be > 0``). ``data``, ``render`` and ``seed`` are
shared by all runs.
"""

from __future__ import annotations

import dataclasses

from ..panels.registry import several_runs_problem
from .fields import MAX_RUNS, RUN_SECTIONS, ConfigError, mathtext_problem
from .keys import known_keys, unknown_key
from .schema import Config, Run


def with_runs(base: Config, runs_raw, sweep_raw, source: str, build) -> Config:
    """``base`` with the runs that ``runs`` or ``sweep`` describe, each validated as a whole config.

    ``build(data, source, cls, prefix)`` is the builder (:func:`polyanim.config.io._build`), passed in
    so that this module does not import the one that imports it.
    """
    if runs_raw is not None and sweep_raw is not None:
        raise ConfigError(f"{source}: runs, sweep: give one or the other, not both")
    specs = _sweep_specs(sweep_raw, source) if sweep_raw is not None else _run_specs(runs_raw, source)
    if not 1 <= len(specs) <= MAX_RUNS:
        what = "sweep.values" if sweep_raw is not None else "runs"
        raise ConfigError(f"{source}: {what}: needs 1 to {MAX_RUNS} runs, got {len(specs)}")
    problem = several_runs_problem(base.render.panels, "with runs or sweep")
    if problem:
        raise ConfigError(f"{source}: render.panels: {problem}")
    base_dict = base.to_dict()
    runs, seen = [], {}
    for where, label, overrides, run_source, prefix in specs:
        merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base_dict.items()}
        for section, values in overrides.items():
            merged[section].update(values)
        run_config = build(merged, run_source, Config, prefix)
        if label is None:
            label = _auto_label(overrides) or f"run {len(runs) + 1}"
        if label in seen:
            raise ConfigError(f"{source}: {where}: label {label!r} is also the label of {seen[label]}; "
                              "labels must differ")
        seen[label] = where
        runs.append(Run(label=label, config=run_config,
                        keys=tuple(f"{section}.{k}" for section, values in overrides.items() for k in values)))
    return dataclasses.replace(base, runs=tuple(runs))


def _run_specs(raw, source: str) -> list:
    """``runs: [{label, model: {…}, train: {…}}, …]`` → (where, label, overrides, source, prefix) per run."""
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(f"{source}: runs: expected a list of runs, each {{label: …, model: {{…}}, "
                          f"train: {{…}}}}, got {raw!r}")
    specs = []
    for k, item in enumerate(raw):
        where = f"runs[{k}]"
        if item is None:
            item = {}
        if not isinstance(item, dict):
            raise ConfigError(f"{source}: {where}: expected a mapping of label, model and train, got {item!r}")
        overrides = {}
        for key, value in item.items():
            if key == "label":
                continue
            if key in ("data", "render", "name", "seed"):
                raise ConfigError(f"{source}: {where}.{key}: cannot differ between runs (they share the "
                                  f"data, the seed and one figure); set it at the top level. A run may set "
                                  f"label, {', '.join(RUN_SECTIONS)}")
            if key not in RUN_SECTIONS:
                raise ConfigError(unknown_key(source, f"{where}.{key}", ["label", *RUN_SECTIONS]))
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(f"{source}: {where}.{key}: expected a section of keys "
                                  f"({', '.join(known_keys([key]))}), got {value!r}")
            if key == "train" and "workers" in value:
                raise ConfigError(f"{source}: {where}.train.workers: applies to all the runs; set it at the "
                                  "top level (train.workers)")
            unknown = [name for name in value if name not in known_keys([key])]
            if unknown:
                raise ConfigError(unknown_key(source, f"{where}.{key}.{unknown[0]}", known_keys([key])))
            overrides[key] = dict(value)
        specs.append((where, _label(item.get("label"), source, where), overrides, source, f"{where}."))
    return specs


def _sweep_specs(raw, source: str) -> list:
    """``sweep: {key: train.lr, values: [...], labels: [...]}`` → one spec per value, like ``runs``."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: sweep: expected {{key: train.lr, values: [...]}}, got {raw!r}")
    for name in raw:
        if name not in ("key", "values", "labels"):
            raise ConfigError(unknown_key(source, f"sweep.{name}", ["key", "values", "labels"]))
    key = raw.get("key")
    if not isinstance(key, str) or key.count(".") != 1 or key.split(".")[0] not in RUN_SECTIONS:
        raise ConfigError(f"{source}: sweep.key: expected a model.* or train.* key such as train.lr "
                          f"(data.* and render.* are shared by all runs), got {key!r}")
    section, leaf = key.split(".")
    if leaf not in known_keys([section]):
        raise ConfigError(unknown_key(f"{source}: sweep.key", key, known_keys([section])))
    if key == "train.workers":
        raise ConfigError(f"{source}: sweep.key: train.workers applies to all the runs; sweep another key")
    values = raw.get("values")
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{source}: sweep.values: expected a non-empty list of values for {key}, got {values!r}")
    labels = raw.get("labels")
    if labels is not None and (not isinstance(labels, (list, tuple)) or len(labels) != len(values)):
        raise ConfigError(f"{source}: sweep.labels: expected one label per value ({len(values)}), got {labels!r}")
    specs = []
    for k, value in enumerate(values):
        where = f"sweep.values[{k}]"
        label = _label(labels[k], source, f"sweep.labels[{k}]") if labels is not None else None
        overrides = {section: {leaf: value}}
        specs.append((where, label, overrides, f"{source}: {where}", ""))
    return specs


def _label(raw, source: str, where: str) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)) or not str(raw).strip():
        raise ConfigError(f"{source}: {where}{'.label' if where.startswith('runs') else ''}: "
                          f"expected a non-empty text label, got {raw!r}")
    problem = mathtext_problem(str(raw).strip())
    if problem:
        raise ConfigError(f"{source}: {where}{'.label' if where.startswith('runs') else ''}: {problem}")
    return str(raw).strip()


def _auto_label(overrides: dict) -> str:
    """``lr=0.01, optimizer=adam`` from a run's overrides (the sweep's labels, too)."""
    return ", ".join(f"{leaf}={_short_value(v)}" for section in RUN_SECTIONS
                     for leaf, v in overrides.get(section, {}).items())


def _short_value(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, str):
        try:  # PyYAML reads 1e-6 as text
            return f"{float(v):g}"
        except ValueError:
            return v
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_short_value(x) for x in v) + "]"
    return str(v)
