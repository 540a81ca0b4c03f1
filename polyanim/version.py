"""polyanim's version, in a module of its own: every part can name it without importing the package."""

__version__ = "0.2.0"
