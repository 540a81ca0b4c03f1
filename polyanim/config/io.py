"""Config input and output: YAML files, plain dicts, ``--set KEY=VALUE`` overrides, and the key reference.

Precedence is defaults < file < command line. Every problem is reported as a
:class:`ConfigError` whose message is one line: where the value came from (a
file or ``--set``), the dotted key, and what is allowed.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from pathlib import Path

from ..fileio import read_regular
from ..panels.registry import CURVE_PANELS
from .fields import UNRESOLVED, ConfigError, _hints, _plain
from .runs import with_runs
from .keys import _fields_of, _is_text, known_keys, type_at, unknown_key
from .schema import Config, Render

MAX_CONFIG_BYTES = 1 << 20  # the longest real config is a few kB; a bigger YAML is a mistake, not a config


def load(path: str | Path, overrides: typing.Sequence[str] = ()) -> Config:
    """Read a YAML config file and apply ``KEY=VALUE`` overrides; validate everything."""
    import yaml  # not needed to replay a history, so not imported at start-up

    path = Path(path)
    try:
        text = read_regular(path, MAX_CONFIG_BYTES, ConfigError, "config file").decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.__class__.__name__}: {exc})") from None
    try:
        data = yaml.load(text, Loader=_strict_loader())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    data.setdefault("name", path.stem)
    section = data.get("data")
    if isinstance(section, dict) and isinstance(section.get("file"), str) and section["file"].strip():
        # a data file sits next to its config: relative to the config's folder, not to where polyanim runs
        section["file"] = os.path.join(path.parent, os.path.expanduser(section["file"]))
    config = from_dict(data, source=str(path), overrides=overrides)
    try:  # a bad data file is a bad config: found now, before any training
        config.data.check_file()
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return config


def _strict_loader():
    """PyYAML's safe loader, except that a key given twice in one mapping is an error, not last-wins."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"key {key!r} appears twice in this mapping", key_node.start_mark)
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


def from_dict(data: dict, source: str = "config", overrides: typing.Sequence[str] = ()) -> Config:
    """Build a validated :class:`Config` from nested dicts, then apply ``KEY=VALUE`` overrides."""
    config = _build(data, source)
    if overrides:
        merged = config.to_dict()
        given = data.get("data") if isinstance(data.get("data"), dict) else {}
        for key in UNRESOLVED:  # still "not given", so that --set data.file=… decides them
            if key not in given:
                merged["data"][key] = None
        if "panels" not in (data.get("render") if isinstance(data.get("render"), dict) else {}):
            merged["render"]["panels"] = list(CURVE_PANELS)  # the default again: --set data.task=… decides them
        for item in overrides:
            _set_dotted(merged, *parse_override(item), "--set")
        config = _build(merged, "--set")
    return config


def parse_override(item: str) -> tuple[str, object]:
    """Split ``"train.lr=1e-5"`` into the key and a YAML-typed value.

    A text setting keeps its text verbatim where YAML would read something
    else (``render.title=Fit: sin(x)`` is a title, not a mapping), except that
    ``null`` unsets an optional text (``data.file``, ``data.target``).
    """
    import yaml

    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item}: expected KEY=VALUE, e.g. --set train.lr=1e-5")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    if _is_text(key) and not isinstance(value, str) and not (value is None and type_at(key.split(".")) is not str):
        value = raw
    return key, value


def _set_dotted(tree: dict, key: str, value, source: str) -> None:
    if key in ("runs", "sweep"):  # replaces the whole list of runs (--set 'sweep={key: train.lr, values: [..]}')
        tree.pop("runs", None)
        tree.pop("sweep", None)
        tree[key] = value
        return
    parts = key.split(".")
    node = tree
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):
            known = known_keys(parts[:depth])
            raise ConfigError(unknown_key(source, ".".join(parts[: depth + 1]), known))
        node = child
    if parts[-1] not in node:
        raise ConfigError(unknown_key(source, key, known_keys(parts[:-1])))
    node[parts[-1]] = value


def render_settings(options: dict, *, saved: dict | None = None, source: str = "polyanim.render",
                    saved_source: str = "history", prefix: str = "") -> "Render":
    """A validated :class:`Render`: built-in defaults < ``saved`` (a History's render section) < ``options``.

    ``options`` are ``render.*`` keys without the prefix (``fps=20``,
    ``size=(1280, 720)``), checked by the same rules and one-line messages as
    ``--set``; a problem in them names ``source``, one in ``saved`` names
    ``saved_source``. Raises :class:`ConfigError`.
    """
    base = {}
    if saved:
        if not isinstance(saved, dict):
            raise ConfigError(f"{saved_source}: render: expected a section of keys, got {saved!r}")
        base = _plain(dataclasses.asdict(_build(saved, saved_source, Render, "render.")))
    merged = dict(base, **{k: _plain(v) for k, v in options.items()})
    for key in ("labels", "colors"):  # labels={"x": …} changes that label and keeps the saved others
        if isinstance(options.get(key), dict) and isinstance(base.get(key), dict):
            merged[key] = dict(base[key], **_plain(options[key]))
    return _build(merged, source, Render, prefix)


def _build(data: dict, source: str, cls=Config, prefix: str = ""):
    """``cls`` built from a mapping read from ``source``: unknown keys, sections and units handled here,
    every value checked by the dataclass itself; messages get ``source: prefix`` in front."""
    if cls is Config and ("runs" in data or "sweep" in data):
        data = dict(data)
        runs_raw, sweep_raw = data.pop("runs", None), data.pop("sweep", None)
        base = _build(data, source, cls, prefix)
        if runs_raw is None and sweep_raw is None:
            return base
        return with_runs(base, runs_raw, sweep_raw, source, _build)
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, raw in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(unknown_key(source, dotted, _fields_of(cls)))
        kind = hints[key]
        if dataclasses.is_dataclass(kind):
            if raw is None:
                raw = {}
            if not isinstance(raw, dict):
                raise ConfigError(f"{source}: {dotted}: expected a section of keys "
                                  f"({', '.join(known_keys([key]))}), got {raw!r}")
            values[key] = _build(raw, source, kind, dotted + ".")
            continue
        unit = fields[key].metadata.get("unit")
        if unit and isinstance(raw, str) and raw.strip().endswith(unit):
            raw = raw.strip()[: -len(unit)]  # "8s" is 8 seconds
        values[key] = raw
    try:
        return cls(**values)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {prefix}{exc}") from None


def reference() -> list[tuple[str, object, str]]:
    """Every config key as ``(dotted key, default, description)``, for the README."""
    rows = []

    def walk(cls, prefix):
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if dataclasses.is_dataclass(hints[f.name]):
                walk(hints[f.name], f"{prefix}{f.name}.")
            else:
                default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
                rows.append((prefix + f.name, _plain(default), f.metadata.get("doc", "")))

    walk(Config, "")
    rows.append(("sweep", None, "shorthand for runs that differ in one key: `{key: train.lr, values: [1e-6, 1e-5], "
                                "labels: […]}` (`labels` optional, default `lr=1e-06` …); a `model.*` or `train.*` "
                                "key; not with `runs`"))
    return rows
