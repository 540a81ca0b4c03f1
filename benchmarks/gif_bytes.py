"""What a plot GIF spends its bytes on, frame by frame, and what the alternatives would buy.

    python benchmarks/gif_bytes.py

On the 201-frame benchmark History (the seed problem, fit panel, 640x480) it
prints: our GIF's bytes against Pillow's (PillowWriter's encoder) on the very
same frames; each frame's diff rectangle and LZW bytes (parsed from the GIF's
own blocks); how many pixels really change per frame; and then bytes and mean
error (0-255, decoded GIF against the drawn RGB) for fewer palette colours and
for a lossy temporal threshold (a pixel keeps its previous colour while the
drawn one stays within T of it, unless it returns to the static background,
which would otherwise leave dust along the curve's path). The threshold runs
in NumPy here, outside polyanim: it is an experiment, not a feature.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from render_bench import PY, build_history, dump_frames, ffmpeg_floor, gif_quality, header, pillow_gif  # noqa: E402


def gif_frames(path: Path) -> list[tuple[int, int, int, int, int]]:
    """(left, top, width, height, LZW bytes) of every image in a GIF, read from its blocks."""
    b = path.read_bytes()
    i = 13 + (3 * (2 << (b[10] & 7)) if b[10] & 0x80 else 0)
    out = []
    while i < len(b) and b[i] != 0x3B:
        if b[i] == 0x21:  # extension: label, then sub-blocks
            i += 2
            while b[i]:
                i += b[i] + 1
            i += 1
        elif b[i] == 0x2C:  # image descriptor, optional local palette, LZW minimum code size, sub-blocks
            x, y, w, h = (b[i + 1 + 2 * k] | b[i + 2 + 2 * k] << 8 for k in range(4))
            flags = b[i + 9]
            i += 10 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0) + 1
            n = 0
            while b[i]:
                n += b[i]
                i += b[i] + 1
            i += 1
            out.append((x, y, w, h, n))
        else:
            raise ValueError(f"unexpected GIF block 0x{b[i]:02x} at {i}")
    return out


def encode(folder: Path, frames: np.ndarray, name: str, colors: int) -> Path:
    """polyanim's GIF settings (palette from the 12 sample frames, theme colours pinned) on ``frames``."""
    raw, samples = folder / "frames.rgba", folder / "samples.rgba"
    out = folder / name
    steps = ffmpeg_floor(raw, samples, (frames.shape[2], frames.shape[1]), 20, out, "gif")
    steps[0] = [a.replace("max_colors=26", f"max_colors={colors - 6}") for a in steps[0]]
    subprocess.run(steps[0], check=True)
    steps[1]()
    cmd = steps[2]
    cmd[cmd.index(str(raw))] = "pipe:0"
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    proc.communicate(frames.tobytes())
    return out


def threshold(frames: np.ndarray, limit: int) -> np.ndarray:
    """Temporal hysteresis: keep the previous output colour while the drawn one is within ``limit``."""
    background = np.median(frames[::4, ..., :3], axis=0).astype(np.int16)
    prev = frames[0, ..., :3].astype(np.int16)
    out = frames.copy()
    for k in range(1, len(frames)):
        now = frames[k, ..., :3].astype(np.int16)
        keep = (np.abs(now - prev).max(-1) < limit) & (now != background).any(-1)
        prev = np.where(keep[..., None], prev, now)
        out[k, ..., :3] = prev
    return out


def main() -> None:
    print(header(), "\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        hist = build_history(folder, 10, "bytes200")
        raw, _, rgb = dump_frames(hist, folder)
        subprocess.run([PY, str(ROOT / "render.py"), str(hist), "-q", "--out", str(folder / "ours.gif")], check=True,
                       stdout=subprocess.DEVNULL)
        pillow_gif(rgb, folder / "pillow.gif", 20)
        pill = (folder / "pillow.gif").stat().st_size
        ours = folder / "ours.gif"
        frames = np.fromfile(raw, np.uint8).reshape(len(rgb), *rgb[0].shape[:2], 4)
        blocks = gif_frames(ours)
        moving = blocks[1:]
        changed = np.any(frames[1:, ..., :3] != frames[:-1, ..., :3], axis=-1).sum((1, 2))
        print(f"ours {ours.stat().st_size:,} bytes, Pillow on the same frames {pill:,}: "
              f"{ours.stat().st_size / pill:.3f}x, mean error {gif_quality(ours, rgb):.2f}/255")
        print(f"first frame {blocks[0][4]:,} LZW bytes; later frames: diff rectangle "
              f"{np.mean([w * h for _, _, w, h, _ in moving]) / frames[0, ..., 0].size:.0%} of the image on average, "
              f"{np.mean([n for *_, n in moving]):,.0f} LZW bytes, {changed.mean():,.0f} changed pixels "
              f"({np.mean([n for *_, n in moving]) * 8 / changed.mean():.1f} bits per changed pixel)")
        for k in (1, 50, 100, 150, len(blocks) - 1):
            x, y, w, h, n = blocks[k]
            print(f"  frame {k}: rectangle {w}x{h} at ({x},{y}), {n:,} bytes, {changed[k - 1]:,} changed pixels")
        print("\n| variant | bytes / Pillow | mean error /255 |")
        print("| --- | ---: | ---: |")
        for colors, limit in ((32, 0), (16, 0), (32, 64), (32, 96), (16, 48), (16, 64)):
            data = threshold(frames, limit) if limit else frames
            out = encode(folder, data, f"v{colors}_{limit}.gif", colors)
            name = f"{colors} colours" + (f", temporal threshold {limit}" if limit else "")
            print(f"| {name} | {out.stat().st_size / pill:.3f} | {gif_quality(out, rgb):.2f} |")


if __name__ == "__main__":
    main()
