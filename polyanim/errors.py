"""The one exception class for bad input, shared by every part of polyanim.

A bad config key, render option, history file, output suffix or data file is
an :class:`InputError` (a ``ValueError``): its ``str()`` is one line naming
where the value came from, the key and what is allowed. The command line
prints that line and exits with code 2; library callers catch this one class.
"""


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
