"""The one exception class for bad input, shared by every part of polyanim.

A bad config key, render option, history file, output suffix or data file is
an :class:`InputError` (a ``ValueError``): its ``str()`` is one line naming
where the value came from, the key and what is allowed. The command line
prints that line and exits with code 2; library callers catch this one class.
:func:`run_command` is that exit-code contract, shared by ``polyanim`` and
``polyanim batch``.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable


class InputError(ValueError):
    """Bad input to polyanim; ``str(err)`` is the one line to show the user."""


def one_line(exc: BaseException) -> str:
    """What went wrong, in one line, naming the file when the error knows it.

    Bad input (:class:`InputError`) and errors marked ``says_where`` (an encoder's
    failure) are their own message; an ``OSError`` with a file name reads
    ``PATH: no space left on device``; anything else is ``Type: first line``.
    """
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror[0].lower()}{exc.strerror[1:]}"
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else ""
    if isinstance(exc, InputError) or getattr(exc, "says_where", False):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run_command(prog: str, body: Callable[[], int], interrupted: Callable[[], str]) -> int:
    """Run a command's ``body`` under the exit-code contract; return its exit code.

    0 or what ``body`` returns; 2 for bad input (one line: ``PROG: error: …``);
    130 on Ctrl-C or SIGTERM (``PROG: interrupted; `` and what ``interrupted()``
    says was kept); 1 for anything else, still one line unless ``POLYANIM_DEBUG``
    is set. ``--help`` and ``--version`` exit 0 through it.
    """
    previous = _terminate_as_interrupt()
    try:
        return body()
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0
    except InputError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; {interrupted()}", file=sys.stderr)
        return 130
    except Exception as exc:  # anything else is exit 1, still one line unless debugging
        if os.environ.get("POLYANIM_DEBUG"):
            raise
        print(f"{prog}: error: {one_line(exc)}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _terminate_as_interrupt():
    """Make SIGTERM (``timeout``, ``kill``) unwind like Ctrl-C, so no temporary file is left behind."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        return None
