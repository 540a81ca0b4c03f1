"""The built-in writers, one class per suffix (:data:`polyanim.registry.formats.FORMATS`).

Each follows the protocol of :mod:`polyanim.writer`. Video writers pipe raw
RGBA frames into the ffmpeg binary that imageio-ffmpeg ships, so encoding
runs in another process while the next frame is drawn (by forked drawers too:
they declare ``accepts_forked_frames``), and no frame is kept once written.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
import tempfile
from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path

from .fileio import scratch_path
from .registry import load
from .registry.formats import FORMATS
from .style import THEMES
from .errors import InputError
from .writer import UnsupportedFormat, Writer, WriterError  # noqa: F401  (the protocol, named here too)

# Measured on the 200-frame benchmark (benchmarks/render_bench.py): colours in the
# palette, and ffmpeg's dither. Plots are flat colours plus anti-aliased edges, so
# dithering only adds noise (and bytes) for no visible gain.
GIF_QUALITY = {
    "high": {"colors": 64, "dither": "none"},
    "medium": {"colors": 32, "dither": "none"},
    "small": {"colors": 16, "dither": "none"},
}
PALETTE_SAMPLES = 12  # frames the GIF palette is computed from, spread over the run
# Theme colours put in every GIF palette exactly: median cut on a small palette
# otherwise merges the red label into the orange curve.
PINNED = ("bg", "fg", "grid", "target", "pred", "label")
MAX_SHEET_PIXELS = 7680 * 7680  # a filmstrip's picture: no bigger than the largest poster


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg (no system ffmpeg needed)."""
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a declared dependency
        raise WriterError("video output needs the imageio-ffmpeg package: pip install imageio-ffmpeg") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


class FFmpegWriter(Writer):
    """Streams raw RGBA frames to an ffmpeg process through a pipe; subclasses give ``output_args``."""

    accepts_forked_frames = True  # write() only feeds ffmpeg's pipe, which forked drawers inherit
    # ffmpeg queues about 8 frames between each of its threads and x264 keeps its lookahead and
    # references: at 3840x2160 an MP4 peaks at about 2 GB whatever its length, a GIF at about 0.8 GB
    # (benchmarks/big_bench.py --memory); 7680x7680 would be 7x that, so bigger frames are refused
    max_frame_pixels = 3840 * 2160
    proc = None

    def output_args(self) -> list[str]:
        raise NotImplementedError

    def input_args(self) -> list[str]:
        w, h = self.size
        rate = self.frame_rate(self.fps)[0]
        return ["-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{w}x{h}",
                "-framerate", f"{rate.numerator}/{rate.denominator}", "-i", "pipe:0"]

    def open(self, target) -> None:
        super().open(target)
        self._stack = ExitStack()  # ffmpeg's logs and scratch files, closed with the writer
        if not self.palette_samples:
            self._start()  # ffmpeg's own start-up then overlaps with drawing the first frame

    def prepare(self, samples) -> None:
        self._start()

    def _start(self) -> None:
        self._log = self._stack.enter_context(tempfile.TemporaryFile())
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               *self.input_args(), *self.output_args(), str(self.target)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                     stderr=self._log, bufsize=0)
        _grow_pipe(self.proc.stdin, 4 * self.size[0] * self.size[1])

    def write(self, frame) -> None:
        try:
            _write_all(self.proc.stdin, frame)
        except BrokenPipeError:
            self.proc.wait()
            raise WriterError(self.failed()) from None

    def close(self) -> None:
        if self.proc is None:
            raise WriterError(f"no frames to write to {self.path}")
        with self._stack:
            _close_quietly(self.proc.stdin)
            if self.proc.wait() != 0:
                raise WriterError(self.failed())

    def abort(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            _close_quietly(self.proc.stdin)
        if hasattr(self, "_stack"):
            self._stack.close()

    def failed(self) -> str | None:
        code = None if self.proc is None else self.proc.poll()
        if code in (None, 0):
            return None
        return ffmpeg_failure(self.path, "ffmpeg", code, self._log, self.target)


class GifWriter(FFmpegWriter):
    """Animated GIF: one palette from sample frames, then a single streaming pass.

    A one-pass ``palettegen``/``paletteuse`` graph buffers every frame inside
    ffmpeg until the palette is known; computing the palette first from a few
    frames spread over the run keeps memory flat at any length. Frame delays in
    a GIF are whole centiseconds, so the frame rate is snapped to 100/delay.
    """

    palette_samples = PALETTE_SAMPLES
    encode_cost = (16.2e-3 / (1920 * 1080), True)  # palette mapping and LZW do not parallelise

    @staticmethod
    def frame_rate(fps: float) -> tuple[Fraction, str | None]:
        delay = max(2, round(100 / fps))  # browsers play delays under 2 cs slowly
        rate = Fraction(100, delay)
        warning = None
        if abs(float(rate) - fps) > 1e-6 * fps:
            warning = (f"GIF frame delays are whole centiseconds (at least 2): render.fps {fps:g} "
                       f"is played as {float(rate):.4g} fps ({delay} cs per frame)")
        return rate, warning

    def _quality(self) -> dict:
        return GIF_QUALITY[getattr(self.render, "quality", "medium")]

    def prepare(self, frames) -> None:
        w, h = self.size
        theme = THEMES[getattr(self.render, "theme", "light")]
        pinned = list(dict.fromkeys([theme[k] for k in PINNED] + list(self.pins)))
        # next to the output's temporary file, named after it: a killed run leaves nothing in the temp dir
        self._palette = str(self._stack.enter_context(scratch_path(self.target, ".palette.png")))
        cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{w}x{h}", "-i", "pipe:0",
               "-vf", f"palettegen=max_colors={max(4, self._quality()['colors'] - len(pinned))}:stats_mode=full",
               "-frames:v", "1", "-update", "1", self._palette]
        log = self._stack.enter_context(tempfile.TemporaryFile())  # a file: a full stderr pipe cannot block us
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log, bufsize=0)
        try:
            for frame in frames:
                _write_all(proc.stdin, frame)
        except BrokenPipeError:
            pass
        except BaseException:  # a frame failed to draw, or Ctrl-C: no ffmpeg left behind
            proc.kill()
            raise
        finally:
            _close_quietly(proc.stdin)
            code = proc.wait()
        if code != 0:
            raise WriterError(ffmpeg_failure(self.path, "ffmpeg palettegen", code, log, self.target))
        _pin_colors(self._palette, pinned)
        self._start()  # the encoder proper, fed from here on (by forked drawers too)

    def input_args(self) -> list[str]:
        return [*super().input_args(), "-i", self._palette]

    def output_args(self) -> list[str]:
        dither = self._quality()["dither"]
        # -loop 0 writes the NETSCAPE extension with "forever"; -1 writes none, so the
        # GIF plays once (a count of 1 would play twice in most browsers)
        loop = "0" if getattr(self.render, "loop", True) else "-1"
        return ["-lavfi", f"[0:v][1:v]paletteuse=dither={dither}:diff_mode=rectangle",
                "-loop", loop, "-f", "gif"]


class Mp4Writer(FFmpegWriter):
    """H.264 in MP4, yuv420p and even dimensions so it plays in every browser."""

    even_size = True
    encode_cost = (37.0e-3 / (1920 * 1080), False)  # x264 spreads over every core

    def output_args(self) -> list[str]:
        # x264 holds its lookahead (40 frames at this preset) in memory; above 1920x1080 a 10-frame
        # lookahead keeps a 3840x2160 render's peak about 25% lower (benchmarks/big_bench.py --memory)
        lookahead = ["-rc-lookahead", "10"] if self.size[0] * self.size[1] > 1920 * 1080 else []
        return ["-c:v", "libx264", "-preset", "medium", "-crf", "20", "-tune", "animation", *lookahead,
                "-pix_fmt", "yuv420p", "-movflags", "+faststart", "-f", "mp4"]


class WebmWriter(FFmpegWriter):
    """VP9 in WebM (yuv420p), for browsers and pages that prefer open codecs."""

    even_size = True

    def output_args(self) -> list[str]:
        pix_fmt = "yuva420p" if getattr(self.render, "theme", "") == "transparent" else "yuv420p"
        return ["-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-deadline", "realtime",
                "-cpu-used", "8", "-row-mt", "1", "-pix_fmt", pix_fmt, "-f", "webm"]


class PngWriter(Writer):
    """A poster (one chosen snapshot) or a filmstrip (a grid of frames, for print) as PNG.

    Each frame is pasted into the picture as it comes, so memory is the picture plus one frame; a
    filmstrip's sheet may be at most as big as the largest poster (:data:`MAX_SHEET_PIXELS`).
    """

    still = True
    gap = 8  # pixels between filmstrip cells

    @classmethod
    def grid(cls, size, cells: int) -> tuple[int, int, int, int]:
        """(columns, rows, sheet width, sheet height) of a filmstrip of ``cells`` frames of ``size``."""
        w, h = size
        cols = math.ceil(math.sqrt(cells))
        rows = math.ceil(cells / cols)
        return cols, rows, cols * w + (cols - 1) * cls.gap, rows * h + (rows - 1) * cls.gap

    @classmethod
    def check(cls, size, render) -> None:
        cells = getattr(render, "filmstrip", 0) or 1
        _, _, width, height = cls.grid(size, cells)
        if width * height > MAX_SHEET_PIXELS:
            raise InputError(f"render.filmstrip: {cells} frames of {size[0]}x{size[1]} make a {width}x{height} "
                             f"picture; at most {MAX_SHEET_PIXELS / 1e6:.0f} megapixels (as a 7680x7680 poster, "
                             "docs/limits.md): use fewer frames or a smaller render.size")

    def open(self, target) -> None:
        super().open(target)
        self._image, self._count = None, 0

    def write(self, frame) -> None:
        import numpy as np

        frame = np.asarray(frame)
        cells = getattr(self.render, "filmstrip", 0) or 1
        if cells == 1:
            self._image = np.array(frame, copy=True)
            return
        w, h = self.size
        cols, _, width, height = self.grid(self.size, cells)
        if self._image is None:
            self._image = np.empty((height, width, 4), np.uint8)
            self._image[:] = frame[0, 0]  # the figure's background colour
        r, c = divmod(self._count, cols)
        self._image[r * (h + self.gap):r * (h + self.gap) + h, c * (w + self.gap):c * (w + self.gap) + w] = frame
        self._count += 1

    def close(self) -> None:
        import numpy as np
        from PIL import Image

        image = self._image
        opaque = bool((image[..., 3] == 255).all())
        # no mode argument: Pillow 11.3 deprecates it; uint8 with 3 or 4 channels is RGB or RGBA by itself
        Image.fromarray(np.ascontiguousarray(image[..., :3]) if opaque else image).save(self.target, format="PNG")


class HtmlWriter(Writer):
    """A self-contained player page: the browser draws the History, so no frames are drawn here."""

    needs_frames = False
    still = True  # nothing to count against the frame limits

    def write_history(self, history) -> None:
        from .html import page_for

        self.target.write_text(page_for(history, self.render), encoding="utf-8")


def writer_for(path: str | os.PathLike) -> type[Writer]:
    """The writer class for ``path``'s suffix, from :data:`polyanim.registry.formats.FORMATS`.

    Raises :class:`UnsupportedFormat` listing the supported suffixes otherwise.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise UnsupportedFormat(f"{path}: unsupported output format {suffix or '(no suffix)'!r}; "
                                f"supported: {', '.join(FORMATS)}")
    return load(FORMATS[suffix].path)


def ffmpeg_failure(path, what: str, code: int, log, target=None) -> str:
    """One line on an ffmpeg that failed writing ``path``: the signal that killed it, or its last words.

    A negative exit code is a signal (``-25``: SIGXFSZ, the file-size limit), which ffmpeg had no
    chance to explain in its log. ffmpeg knows only the temporary ``target`` it writes: its words
    name ``path`` instead, the file the user asked for.
    """
    if code < 0:
        try:
            name, words = signal.Signals(-code).name, signal.strsignal(-code) or ""
        except ValueError:
            name, words = f"signal {-code}", ""
        return f"{path}: {what} was killed by {name}" + (f" ({words[0].lower()}{words[1:]})" if words else "")
    log.seek(0)
    text = log.read().decode(errors="replace")
    tail = (text.replace(str(target), str(path)) if target else text).strip().splitlines()[-3:]
    return f"{path}: {what} failed (exit {code}): {' | '.join(tail) or 'no message'}"


def _pin_colors(palette_png: str, colors: list[str]) -> None:
    """Add ``colors`` (hex) to ffmpeg's 16x16 palette image unless they are in it already."""
    import numpy as np
    from PIL import Image

    with Image.open(palette_png) as im:
        entries = np.asarray(im.convert("RGBA")).reshape(-1, 4)
    opaque = list(dict.fromkeys(tuple(int(v) for v in c) for c in entries if c[3] == 255))
    transparent = [tuple(int(v) for v in c) for c in entries if c[3] == 0][:1]
    for hex_color in colors:
        rgba = tuple(int(hex_color[k:k + 2], 16) for k in (1, 3, 5)) + (255,)
        if rgba not in opaque:
            opaque.append(rgba)
    entries = (opaque + opaque[-1:] * 256)[: 256 - len(transparent)] + transparent
    Image.fromarray(np.array(entries, dtype=np.uint8).reshape(16, 16, 4)).save(palette_png)  # RGBA: 4 channels


def _write_all(pipe, frame) -> None:
    """Write a whole frame to an unbuffered pipe, which may accept only part of it per call."""
    view = memoryview(frame).cast("B")
    while view:
        view = view[pipe.write(view):]


def _close_quietly(pipe) -> None:
    try:
        pipe.close()
    except OSError:  # BrokenPipeError when ffmpeg has already gone
        pass


MAX_PIPE_BYTES = 16 << 20  # two 1920x1080 RGBA frames: the kernel memory a pipe may pin, at any size


def _grow_pipe(pipe, frame_bytes: int) -> None:
    """Let the pipe hold two frames (at most :data:`MAX_PIPE_BYTES`), so a write returns while ffmpeg is busy.

    Unprivileged processes may grow a pipe up to /proc/sys/fs/pipe-max-size
    (1 MiB by default, less than one 640x480 RGBA frame); root may go further,
    which at 3840x2160 would pin 64 MiB of kernel memory per encoder.
    """
    try:
        import fcntl

        try:
            fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, min(2 * frame_bytes, MAX_PIPE_BYTES))
        except PermissionError:
            with open("/proc/sys/fs/pipe-max-size") as fh:
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, int(fh.read()))
    except (ImportError, OSError, ValueError, AttributeError):
        pass
