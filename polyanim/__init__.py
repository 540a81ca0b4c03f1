"""polyanim: turn a training run into a blog-ready animation.

Training (``polyanim.train``, needs torch) records a :class:`History`; the
renderer (``polyanim.render``) turns a History into a GIF, MP4, WebM, PNG or
HTML file; :func:`show` returns the HTML player for a Jupyter cell. Importing
this package does not import torch or matplotlib.
"""

__version__ = "0.1.0"

from .history import History, RunSet, load  # noqa: E402

__all__ = ["History", "RunSet", "load", "show", "__version__"]


def __getattr__(name):
    # show is imported on first use, so ``import polyanim`` stays cheap
    if name == "show":
        from .notebook import show

        globals()["show"] = show
        return show
    if name == "batch":  # the module, callable as its batch() function (either may be what an import left here)
        import importlib

        return importlib.import_module(".batch", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
