"""The output formats: file suffix -> writer class and what the file is. No imports of the writers here.

A suffix is listed here once; :func:`polyanim.writers.writer_for`, the config
docs, the command-line help and ``polyanim-batch --format`` all read it from
:data:`FORMATS`. Adding a format is one :class:`~polyanim.writer.Writer`
subclass and one line here, or, from code outside the package, one call to
:func:`register` (docs/extending.md, "A new format").
"""

from __future__ import annotations

from dataclasses import dataclass

from . import Entry


@dataclass(frozen=True)
class FormatSpec(Entry):
    """A format: its writer class, its doc, whether it can show a transparent background, and how a web
    page shows the file (``img``, ``video``, or None: linked only), for the batch gallery."""

    alpha: bool = True
    embed: str | None = "img"


FORMATS: dict[str, FormatSpec] = {
    ".gif": FormatSpec("polyanim.writers:GifWriter", "animated GIF, plays everywhere: loops forever; a 16 to 64 colour "
                       "palette computed from frames spread over the run, no dithering; frame delay a whole number "
                       "of centiseconds"),
    ".mp4": FormatSpec("polyanim.writers:Mp4Writer", "H.264, yuv420p, the smallest file for long runs: even width and "
                       "height (an odd size is rounded up by one pixel), plays in every browser", alpha=False,
                       embed="video"),
    ".webm": FormatSpec("polyanim.writers:WebmWriter", "VP9, yuv420p, for pages that prefer open codecs", embed="video"),
    ".png": FormatSpec("polyanim.writers:PngWriter", "one poster frame (the last snapshot), or a filmstrip of "
                       "`render.filmstrip` frames"),
    ".webp": FormatSpec("polyanim.lossless:WebpWriter", "animated WebP, lossless full colour (alpha with the "
                        "transparent theme); GIF's timing and looping"),
    ".apng": FormatSpec("polyanim.lossless:ApngWriter", "animated PNG, lossless full colour; GIF's timing and looping"),
    ".html": FormatSpec("polyanim.writers:HtmlWriter", "a self-contained interactive player page: offline, no CDN, "
                        "play/pause, slider, speed (docs/guide.md, \"Interactive HTML\")", embed=None),
}


def transparent_formats() -> list[str]:
    """The suffixes whose files can show ``render.theme: transparent``."""
    return [suffix for suffix, spec in FORMATS.items() if spec.alpha]


def register(suffix: str, writer, doc: str, *, alpha: bool = True, embed: str | None = "img",
             replace: bool = False) -> FormatSpec:
    """Add the output format ``suffix`` (e.g. ``".mkv"``), written by ``writer``, to :data:`FORMATS`.

    ``writer`` is a :class:`~polyanim.writer.Writer` subclass or its
    ``"module:name"`` path (imported only when a file of that suffix is
    written); ``doc`` is the one line the docs and ``--help`` show; ``alpha``
    and ``embed`` are :class:`FormatSpec`'s. From then on ``polyanim.render``,
    the CLI's ``--out`` and ``polyanim batch --format`` accept the suffix. A
    suffix already taken is refused unless ``replace``. Returns the entry.
    """
    from ..errors import InputError

    if not isinstance(suffix, str) or not suffix.startswith(".") or len(suffix) < 2 or suffix != suffix.lower():
        raise InputError(f"register: suffix: expected a lower-case file suffix such as '.mkv', got {suffix!r}")
    if suffix in FORMATS and not replace:
        raise InputError(f"register: suffix: {suffix} is already a format ({FORMATS[suffix].doc}); "
                         "pass replace=True to replace it")
    path = writer if isinstance(writer, str) else f"{writer.__module__}:{writer.__qualname__}"
    FORMATS[suffix] = spec = FormatSpec(path, doc, alpha=alpha, embed=embed)
    return spec
