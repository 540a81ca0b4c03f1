"""The one exception class for bad input, shared by every part of polyanim.

A bad config key, render option, history file, output suffix or data file is
an :class:`InputError` (a ``ValueError``): its ``str()`` is one line naming
where the value came from, the key and what is allowed. The command line
prints that line and exits with code 2; library callers catch this one class.
"""


class InputError(ValueError):
    """Bad input to polyanim; ``str(err)`` is the one line to show the user."""
