"""polyanim: turn a training run into a blog-ready animation.

Record any training loop with :class:`Recorder` (numpy or torch), then draw
the :class:`History` it returns, or one saved by ``python render.py CONFIG``:
:func:`render` writes a GIF, MP4, WebM, PNG or HTML file, :func:`frames`
yields the RGBA frames, :func:`animation` returns a matplotlib
``FuncAnimation`` and :func:`show` the HTML player for a Jupyter cell;
:func:`batch` trains and renders many configs at once (locally or on Dask).
:func:`load` reads a saved History. Bad input raises :class:`InputError`.
These names are the public API; every module inside the package is internal
and may change. Importing this package imports neither torch nor matplotlib.
"""

from .version import __version__  # noqa: E402,F401

from .errors import InputError  # noqa: E402
from .history import History, RunSet, load  # noqa: E402
from .recording import Recorder  # noqa: E402

__all__ = ["Recorder", "render", "frames", "animation", "show", "batch", "load", "History", "RunSet", "InputError",
           "__version__"]

_LAZY = {"render": "api", "frames": "api", "animation": "api", "show": "notebook", "batch": "batching"}


def __getattr__(name):
    # the drawing functions are imported on first use, so ``import polyanim`` stays cheap
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
