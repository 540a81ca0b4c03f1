"""The writer protocol: what the renderer asks of an output format, and nothing else.

A format is one :class:`Writer` subclass plus one line in
:data:`polyanim.registry.formats.FORMATS` (or a call to
:func:`polyanim.registry.formats.register`). The renderer uses a writer only
through the methods and class attributes documented here, in this order::

    with cls(dest, size, fps, render, pins=colours) as out:   # __exit__: close() or abort()
        out.open(target)            # target: the temporary file the renderer renames onto dest
        out.prepare(samples)        # only when palette_samples > 0
        out.write(frame)            # per frame, in order (or out.write_history(h) without frames)

The renderer owns staging: it picks ``target`` next to ``dest`` and renames it
onto ``dest`` only when every output of the render succeeded, so a writer
just writes ``target`` and names ``dest`` (:attr:`Writer.path`) in its
messages. docs/extending.md walks through a new format.
"""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

from .errors import InputError


class UnsupportedFormat(InputError):
    """The output suffix names no writer; the message lists the supported ones."""


class WriterError(RuntimeError):
    """The encoder failed; the message carries the encoder's own last words."""

    says_where = True  # the message names the file and says what happened (polyanim.errors.one_line)


class Writer:
    """Base of every writer: the capabilities a format declares and the calls it receives.

    Subclasses override :meth:`write` (or :meth:`write_history`) and usually
    :meth:`open` and :meth:`close`; everything else has a working default.
    """

    # --- capabilities, read by the renderer before a writer is made --------------------------------
    needs_frames = True  # False: written from the History by ``write_history`` (the HTML page), no frames drawn
    still = False  # a picture, not a video: the renderer draws only the poster or filmstrip frames
    even_size = False  # the frame size is rounded up to even width and height (H.264/VP9 in yuv420p)
    palette_samples = 0  # frames wanted in ``prepare`` before streaming starts (may be set per instance)
    # True: ``write`` only feeds an encoder in another process (a pipe made in ``open``/``prepare``), so
    # forked drawing processes may call ``write`` on their copy of the writer, one at a time, in frame
    # order. False (the default, and any writer that keeps frames or state in this process): frames are
    # drawn and written by this process alone, whatever ``render.workers`` says.
    accepts_forked_frames = False
    # the encoder's CPU seconds per frame per pixel and whether it runs on one thread, as measured
    # (polyanim.renderer.drawing_workers); None: unmeasured, so ``render.workers: auto`` draws serially
    encode_cost: tuple[float, bool] | None = None
    # the largest frame (width x height) the format writes in bounded memory; None: render.size's own cap
    max_frame_pixels: int | None = None

    @classmethod
    def check(cls, size: tuple[int, int], render) -> None:
        """Refuse, before anything is drawn, settings this format cannot write (InputError, one line).

        The default refuses frames over :attr:`max_frame_pixels`; the message
        names ``render.size`` and the largest size allowed (docs/limits.md).
        """
        w, h = size
        if cls.max_frame_pixels is not None and w * h > cls.max_frame_pixels:
            side = int(cls.max_frame_pixels ** 0.5)
            raise InputError(f"render.size: {w}x{h} is {w * h / 1e6:.1f} megapixels; this format streams at most "
                             f"{cls.max_frame_pixels / 1e6:.1f} (e.g. 3840x2160 or {side}x{side}) in bounded "
                             "memory (docs/limits.md); use a smaller size, or a .png poster")

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: float, render=None, pins=()):
        self.path = Path(path)  # the user's destination: name it in messages, never write it
        self.size = tuple(size)  # (width, height) of every frame, even already when ``even_size``
        self.fps = fps  # the rate ``frame_rate`` gave for this format
        self.render = render  # the render settings (polyanim.config.Render), for format options
        self.pins = tuple(pins)  # colours (hex) beyond the theme's the frames need exactly (one per run)
        self.target: Path | None = None

    @staticmethod
    def frame_rate(fps: float) -> tuple[Fraction, str | None]:
        """The frame rate this format really plays ``fps`` at, and a one-line warning when it differs.

        The renderer plans the frames with it (GIF snaps to whole centiseconds),
        so timing, frame counts and limits follow what the file will play.
        """
        return Fraction(fps).limit_denominator(1001), None

    def open(self, target: Path) -> None:
        """Start writing into ``target``, a temporary file next to :attr:`path` that the renderer owns.

        Encoders that need nothing from ``prepare`` start here, so their
        start-up overlaps with drawing the first frame.
        """
        self.target = Path(target)

    def prepare(self, samples) -> None:
        """Look at ``palette_samples`` frames spread over the run before streaming (the GIF palette)."""

    def write(self, frame) -> None:
        """Take one RGBA frame (a buffer of height x width x 4 bytes), valid only during the call."""
        raise NotImplementedError

    def write_history(self, history) -> None:
        """Write the whole file from ``history`` (writers with ``needs_frames = False``)."""
        raise NotImplementedError

    def close(self) -> None:
        """Finish ``target`` after the last frame; raise :class:`WriterError` naming :attr:`path` on failure."""

    def abort(self) -> None:
        """Stop after an error anywhere (the renderer removes ``target``); must not raise."""

    def failed(self) -> str | None:
        """The encoder's own one-line error if it has already stopped with one, else None."""
        return None

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.close()
        else:
            self.abort()
        return False
