"""The config's keys as messages name them: the type at a dotted key, the keys a section allows, and the
one-line message for an unknown key with the closest allowed one as a hint."""

from __future__ import annotations

import dataclasses
import difflib
import typing

from .schema import Config


def type_at(parts: list[str]):
    """The annotated type at a dotted path (``["render", "title"]`` → ``str``); KeyError if none."""
    cls = Config
    for part in parts:
        cls = typing.get_type_hints(cls)[part]
    return cls


def _is_text(key: str) -> bool:
    """Whether a dotted key names a text setting (``name``, ``render.title``, ``data.target``, …)."""
    try:
        kind = type_at(key.split("."))
        return kind is str or set(typing.get_args(kind)) == {str, type(None)}
    except (KeyError, TypeError):
        return False


def known_keys(prefix: list[str]) -> list[str]:
    """The keys allowed under a dotted path (``["render"]`` → the render keys; ``[]``: the sections)."""
    return _fields_of(type_at(prefix))


def _fields_of(cls) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)] + (["sweep"] if cls is Config else [])


def unknown_key(source: str, key: str, allowed: list[str]) -> str:
    """The one-line message for an unknown ``key``: the closest allowed key as a hint, then all of them."""
    head, _, leaf = key.rpartition(".")
    close = difflib.get_close_matches(leaf, allowed, n=1)
    hint = f"; did you mean '{(head + '.' if head else '') + close[0]}'?" if close else ""
    if leaf in ("xlabel", "ylabel"):  # matplotlib's names: the axis labels live in render.labels
        hint = f"; the axis labels are render.labels.{leaf[0]} (labels={{'{leaf[0]}': …}} in Python)"
    return f"{source}: {key}: unknown key{hint} (allowed: {', '.join(allowed)})"
