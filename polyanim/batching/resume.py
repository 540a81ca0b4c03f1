"""Resume records: ``DIR/.polyanim-batch/NAME.json``, written after a unit's outputs are in place.

A record holds the unit's digest (resolved config or History file, formats,
polyanim's version), what became of it and a SHA-256 of every output, so a
re-run keeps a unit only when its record matches and every output still has
the bytes it was made with: an output overwritten with zeros is made again,
not kept because its size matches. A record that does not read as one (a
field of the wrong type, a name that is not a plain file name) is treated
as no record, so that unit is redone, as a truncated record is.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from ..fileio import atomic_path, read_regular
from ..version import __version__
from .plan import BatchError, Result, Unit, file_sha256

STATE_DIR = ".polyanim-batch"
MAX_STATE_BYTES = 1 << 20  # a resume record is a few hundred bytes
KEPT_STATUSES = ("ok", "diverged")  # a unit that made its outputs; a failed one is always redone


def _state_path(out_dir: Path, name: str) -> Path:
    return out_dir / STATE_DIR / f"{name}.json"


def _number(value, none_ok: bool) -> bool:
    return (value is None and none_ok) or (isinstance(value, (int, float)) and not isinstance(value, bool))


def _valid(state) -> bool:
    """Whether a parsed record has every field of the type the batch reads (the gallery sorts by loss)."""
    outputs = state.get("outputs") if isinstance(state, dict) else None
    return (isinstance(outputs, dict) and bool(outputs) and state.get("status") in KEPT_STATUSES
            and _number(state.get("final_loss"), True) and _number(state.get("seconds"), False)
            and math.isfinite(state["seconds"]) and isinstance(state.get("error", ""), str)
            and all(isinstance(f, str) and Path(f).name == f and f not in (".", "..") and isinstance(o, dict)
                    and isinstance(o.get("bytes"), int) and isinstance(o.get("sha256"), str)
                    for f, o in outputs.items()))


def _unchanged(out_dir: Path, name: str, made: dict) -> bool:
    path = out_dir / name
    try:
        return path.is_file() and path.stat().st_size == made["bytes"] and file_sha256(path) == made["sha256"]
    except (OSError, BatchError):
        return False


def up_to_date(unit: Unit, out_dir: Path) -> Result | None:
    """The unit's earlier Result if its record is valid, matches its digest and every output is unchanged;
    else None (the unit runs again)."""
    try:
        state = json.loads(read_regular(_state_path(out_dir, unit.name), MAX_STATE_BYTES, BatchError, "resume record"))
    except (OSError, ValueError):  # no record, a truncated one, or not JSON (BatchError is a ValueError)
        return None
    if not _valid(state) or state.get("digest") != unit.digest or state.get("version") != __version__:
        return None
    if not all(_unchanged(out_dir, f, made) for f, made in state["outputs"].items()):
        return None
    return Result(unit.name, unit.label, "skipped", state["final_loss"], state["seconds"], state.get("error", ""),
                  list(state["outputs"]), previous=state["status"], source=unit.source)


def _finish(unit: Unit, raw: dict, out_dir: Path) -> Result:
    """A worker's answer → files in place (bytes from a remote worker), then the record, then the Result."""
    if raw.get("version") != __version__:
        raw = dict(raw, status="failed", outputs=[], files={},
                   error=f"the worker runs polyanim {raw.get('version')}, this side {__version__}; "
                         "install the same version on every worker")
    for name, data in (raw.get("files") or {}).items():
        with atomic_path(out_dir / name) as tmp:
            tmp.write_bytes(data)
    result = Result(unit.name, unit.label, raw["status"], raw.get("final_loss"), raw.get("seconds", 0.0),
                    raw.get("error", ""), list(raw.get("outputs", ())), source=unit.source)
    if result.status in KEPT_STATUSES:  # written last: a record means the outputs are complete
        state = {"digest": unit.digest, "version": __version__, "status": result.status, "label": unit.label,
                 "final_loss": result.final_loss, "seconds": result.seconds, "error": result.error,
                 "outputs": {f: {"bytes": (out_dir / f).stat().st_size, "sha256": file_sha256(out_dir / f)}
                             for f in result.outputs}}
        path = _state_path(out_dir, unit.name)
        path.parent.mkdir(exist_ok=True)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
    return result
