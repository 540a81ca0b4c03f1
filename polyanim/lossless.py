"""Animated WebP and APNG writers: lossless, timed and looped like the GIF of the same run."""

from __future__ import annotations

from fractions import Fraction

from .writers import PALETTE_SAMPLES, FFmpegWriter, GifWriter


class PalettedOption(GifWriter):
    """An animated image format in full colour, or with ``render.quality: small`` in GIF's palette.

    Timing and looping follow GIF (whole centiseconds of at least 2; loop
    forever or play once), so the file plays exactly like the .gif of the same
    run. Full colour is lossless; ``small`` first maps every frame to the GIF
    palette (16 colours, the theme's pinned), which a lossless encoder then
    stores in a fraction of the bytes.
    """

    name = ""
    encode_cost = None  # not GIF's: unmeasured

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.paletted = getattr(self.render, "quality", "medium") == "small"
        self.palette_samples = PALETTE_SAMPLES if self.paletted else 0

    @classmethod
    def frame_rate(cls, fps: float) -> tuple[Fraction, str | None]:
        rate, warning = GifWriter.frame_rate(fps)
        return rate, warning and warning.replace("GIF frame delays", f"{cls.name} frame delays (as in GIF)")

    def input_args(self) -> list[str]:
        return super().input_args() if self.paletted else FFmpegWriter.input_args(self)

    def encode_args(self, pix_fmt: str) -> list[str]:
        """Filter graph and pixel format: the GIF palette first when paletted."""
        if self.paletted:
            return ["-lavfi", f"[0:v][1:v]paletteuse=dither=none,format={pix_fmt}"]
        return ["-pix_fmt", pix_fmt]


class WebpWriter(PalettedOption):
    """Animated WebP through libwebp_anim, lossless, with alpha (the transparent theme)."""

    name = "WebP"

    def output_args(self) -> list[str]:
        # the webp muxer's loop count: 0 plays forever, 1 once
        # compression_level 2: the same bytes as the default 4 within 1% on plot frames, at a
        # third (full colour) to an eighth (paletted) of the encoder's CPU time
        return [*self.encode_args("bgra"), "-c:v", "libwebp_anim", "-lossless", "1", "-compression_level", "2",
                "-loop", "0" if getattr(self.render, "loop", True) else "1", "-f", "webp"]


class ApngWriter(PalettedOption):
    """Animated PNG: lossless, RGB (RGBA for the transparent theme)."""

    name = "APNG"

    def output_args(self) -> list[str]:
        pix_fmt = "pal8" if self.paletted else "rgba" if getattr(self.render, "theme", "") == "transparent" else "rgb24"
        return [*self.encode_args(pix_fmt), "-c:v", "apng",
                "-plays", "0" if getattr(self.render, "loop", True) else "1", "-f", "apng"]
