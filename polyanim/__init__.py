"""polyanim: turn a training run into a blog-ready animation.

Training (``polyanim.train``, needs torch) records a :class:`History`; the
renderer (``polyanim.render``) turns a History into a GIF, MP4, WebM, PNG or
HTML file. Importing this package does not import torch or pyplot.
"""

__version__ = "0.1.0"

from .history import History, load  # noqa: E402

__all__ = ["History", "load", "__version__"]
