"""Limits on what one config or history may ask of the machine (documented in docs/limits.md)."""

from __future__ import annotations

MAX_HISTORY_BYTES = 1 << 30  # a History's arrays, in memory and on disk
