"""Atomic file output, and the one way polyanim opens a file the user named.

Input (:func:`open_regular`, :func:`read_regular`): a config, History, data
file or batch input is read only when it is a regular file, and only up to a
size cap, so a FIFO, ``/dev/zero``, a directory or a socket is one line of
bad input, never a hang or a read that fills memory.

Output (:func:`atomic_path`): a destination is replaced whole or left untouched.

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
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError


# read once, at import: reading it means setting it, which would race with threads creating files
UMASK = os.umask(0)
os.umask(UMASK)

TEMPORARY = re.compile(r"\..*\.polyanim-(?P<pid>[0-9]+)\.[a-z0-9_]+\.tmp(\.[A-Za-z0-9_]+)*")
STALE_SECONDS = 10.0  # a temporary file this old, of a process that is gone, is a leftover


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))


@contextmanager
def open_regular(path: str | os.PathLike, limit: int | None = None, error: type[Exception] = InputError,
                 what: str = "file"):
    """Open ``path`` for binary reading if it is a regular file of at most ``limit`` bytes.

    Anything else raises ``error`` with one line naming the path and what it is
    (``a FIFO (named pipe)``, ``a directory``, ``a character device``...) or its
    size against the cap. The path is checked with ``os.stat`` before it is
    opened (opening some devices does something) and again with ``fstat`` on
    the descriptor, which is opened with ``O_NONBLOCK`` so that a FIFO swapped in
    between never blocks the open. A missing or forbidden file raises the
    usual ``OSError`` for the caller to word.
    """
    _check_kind(os.stat(path), path, limit, error, what)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        _check_kind(os.fstat(fd), path, limit, error, what)
        os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def read_regular(path: str | os.PathLike, limit: int, error: type[Exception] = InputError,
                 what: str = "file") -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them (see :func:`open_regular`).

    A file that grows past the cap while it is read is refused like one that
    was too big to begin with.
    """
    with open_regular(path, limit, error, what) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise error(_too_big(path, f"more than {limit} bytes", limit, what))
    return data


def _check_kind(st: os.stat_result, path, limit: int | None, error, what: str) -> None:
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "a special file")
        raise error(f"{path}: is {kind}, not a regular {what}")
    if limit is not None and st.st_size > limit:
        raise error(_too_big(path, f"{st.st_size} bytes", limit, what))


def _too_big(path, size: str, limit: int, what: str) -> str:
    shown = f"{limit >> 20} MB" if limit >= 1 << 20 and limit % (1 << 20) == 0 else f"{limit} bytes"
    return f"{path}: {size}; a {what} is at most {shown}"


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
