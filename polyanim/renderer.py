"""History → file: the frame timeline, the scene and a writer, wired together."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from .scene import Scene
from .writers import writer_for


def timeline(n_snapshots: int, fps: float, hold: float) -> list[int]:
    """Snapshot index for every frame: each snapshot once, then the last held ``hold`` seconds."""
    return list(range(n_snapshots)) + [n_snapshots - 1] * int(round(hold * fps))


def render(history, path, render, *, quiet: bool = False, err=None, writer=None) -> Path:
    """Render ``history`` to ``path`` with the options of a ``render`` config section.

    The format follows ``path``'s suffix (``writer`` overrides the choice, e.g.
    a counting writer in tests). Frames are drawn by blitting and streamed to
    the writer one at a time; the output appears atomically when the encoder
    has finished. A warning line goes to ``err`` when the format cannot play
    the requested fps exactly. Returns the path written.
    """
    err = err or sys.stderr
    path = Path(path)
    cls = writer or writer_for(path)
    if cls is None:
        from .html import write_html

        write_html(history, path, title=render.title, fps=render.fps, size=tuple(render.size), theme=render.theme)
        return path
    rate, warning = cls.frame_rate(render.fps)
    if warning and not quiet:
        print(f"warning: {warning}", file=err)
    w, h = render.size
    size = (w + w % 2, h + h % 2) if cls.even_size else (w, h)
    scene = Scene(history, render, size=size)
    frames = timeline(len(history), float(rate), render.hold)
    if cls.single_frame:
        frames = frames[-1:]
    bar = _progress(len(frames), f"rendering {path.name}", err, quiet)
    with bar, cls(path, size, float(rate), render) as out:
        if cls.palette_samples:
            picks = np.unique(np.linspace(0, len(history) - 1, cls.palette_samples).round().astype(int))
            out.prepare(scene.frame(int(i)) for i in picks)
        for i in frames:
            out.write(scene.frame(i))
            bar.update(1)
        bar.set_postfix_str("encoding")
    return path


class _NoProgress:
    """Stands in for a tqdm bar under --quiet, so quiet runs do not even import tqdm."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n=1):
        pass

    def set_postfix_str(self, text):
        pass


def _progress(total: int, desc: str, file, quiet: bool):
    if quiet:
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="frame", file=file, leave=False, mininterval=0.2)
