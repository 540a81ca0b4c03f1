"""Atomic file output: a destination is replaced whole or left untouched."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


# read once, at import: reading it means setting it, which would race with threads creating files
UMASK = os.umask(0)
os.umask(UMASK)


@contextmanager
def atomic_path(dest: str | os.PathLike):
    """Yield a temporary path next to ``dest``; rename it onto ``dest`` on success.

    The temporary file lives in the destination's folder so the final
    ``os.replace`` is a rename on one file system, which is atomic: readers see
    the old file or the new one, never a half-written one. On any exception the
    temporary file is removed and ``dest`` is left as it was.
    """
    dest = Path(dest)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}", dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644 & ~UMASK)  # mkstemp makes 0600; a finished file gets the usual mode
        os.replace(tmp, dest)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
