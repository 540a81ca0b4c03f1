"""Atomic file output: a destination is replaced whole or left untouched.

Temporary files are named ``.NAME.polyanim-PID.RANDOM.tmp.EXT`` (and helpers
of one, such as the GIF palette, ``….tmp.EXT.palette.png``), next to their
destination. A process killed outright (SIGKILL, power loss) cannot remove
its own, so every atomic write first removes the files of exactly that
pattern in its folder whose process is gone and that are older than
:data:`STALE_SECONDS`: never a file another polyanim is still writing, nor
anyone else's file.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path


# read once, at import: reading it means setting it, which would race with threads creating files
UMASK = os.umask(0)
os.umask(UMASK)

TEMPORARY = re.compile(r"\..*\.polyanim-(?P<pid>[0-9]+)\.[a-z0-9_]+\.tmp(\.[A-Za-z0-9_]+)*")
STALE_SECONDS = 10.0  # a temporary file this old, of a process that is gone, is a leftover


@contextmanager
def atomic_path(dest: str | os.PathLike):
    """Yield a temporary path next to ``dest``; rename it onto ``dest`` on success.

    The temporary file lives in the destination's folder so the final
    ``os.replace`` is a rename on one file system, which is atomic: readers see
    the old file or the new one, never a half-written one. On any exception the
    temporary file is removed and ``dest`` is left as it was. Stale temporary
    files of killed polyanim processes in that folder are removed first.
    """
    dest = Path(dest)
    remove_stale(dest.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.stem}.polyanim-{os.getpid()}.", suffix=f".tmp{dest.suffix}",
                               dir=dest.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644 & ~UMASK)  # mkstemp makes 0600; a finished file gets the usual mode
        os.replace(tmp, dest)
    except BaseException as exc:
        _unlink(tmp)
        if isinstance(exc, OSError) and exc.filename in (None, tmp):  # ENOSPC on a write names no file
            exc.filename = str(dest)
        raise


@contextmanager
def scratch_path(tmp: Path, suffix: str):
    """A helper file of the temporary file ``tmp`` (same name plus ``suffix``), removed on exit.

    It carries ``tmp``'s pattern, so a run killed before removing it leaves a
    file the next write into that folder recognises as stale.
    """
    path = tmp.with_name(tmp.name + suffix)
    try:
        yield path
    finally:
        _unlink(path)


def remove_stale(folder: str | os.PathLike) -> list[Path]:
    """Remove leftover temporary files of dead polyanim processes from ``folder``; return them.

    Only names of :data:`TEMPORARY`'s exact pattern count, only when the
    process id in the name is not running (a live process, or one of another
    user, keeps its files) and the file has not changed for
    :data:`STALE_SECONDS`.
    """
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed  # a folder that cannot be listed: the write itself will say what is wrong
    now = time.time()
    for entry in entries:
        match = TEMPORARY.fullmatch(entry.name)
        if not match or _alive(int(match["pid"])):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            pass  # gone already, or not ours to remove
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or a number we cannot ask about: leave the file alone
    return True


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
