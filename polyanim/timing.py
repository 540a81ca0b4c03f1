"""The frame timeline of an animation, planned from its snapshot count and render options alone.

Pure arithmetic on numbers (numpy only): no matplotlib, no writer. The renderer
draws what :func:`plan` lists, and :mod:`polyanim.limits` refuses a config
before training from what :func:`count` says, which is the very count
:func:`plan` then lays out, so the two cannot disagree. ``frame_rate`` is the
writer's rule for the rate it really plays (a writer class's ``frame_rate``;
GIF snaps to whole centiseconds), a function of the fps asked for returning
``(rate, warning or None)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import ConfigError

MAX_MOTION_FPS = 50.0  # what `duration` may ask for before snapshots are dropped instead


class TimingError(ConfigError):
    """Render options that cannot work for this History (exit 2); the message names the key."""


@dataclass(frozen=True)
class Count:
    """How many frames each part of the timeline has, the rate they play at and the rate's warnings."""

    start: int       # frames holding the first snapshot (render.hold_start)
    moving: int      # frames of the motion, in-betweens included
    hold: int        # frames holding the last snapshot (render.hold)
    rate: float
    warning: str | None = None  # the format plays another rate than render.fps

    @property
    def total(self) -> int:
        return self.start + self.moving + self.hold


def motion(n_snapshots: int, interpolate: int = 0) -> list[float]:
    """Snapshot positions of the moving part: every snapshot, with ``interpolate`` in-betweens."""
    step = 1.0 / (interpolate + 1)
    return [i + j * step for i in range(n_snapshots - 1) for j in range(interpolate + 1)] + [float(n_snapshots - 1)]


def count(n_snapshots: int, render, frame_rate) -> Count:
    """The frames :func:`plan` lays out for ``n_snapshots`` with ``render``, counted without listing them.

    With ``render.duration`` the fps is chosen so holds plus motion fill that
    time (at most :data:`MAX_MOTION_FPS`), and the motion is resampled to
    exactly the frames the format's rate plays in that time.
    """
    moving = max(1, (n_snapshots - 1) * (render.interpolate + 1) + 1)  # len(motion(...))
    warning = None
    if render.duration is None:
        rate, warning = frame_rate(render.fps)
    else:
        seconds = render.duration - render.hold - render.hold_start  # > 0: checked with the config
        rate = frame_rate(min(moving / seconds, MAX_MOTION_FPS))[0]
        moving = max(2, int(round(float(rate) * seconds)))
    rate = float(rate)
    return Count(int(round(render.hold_start * rate)), moving, int(round(render.hold * rate)), rate, warning)


def plan(n_snapshots: int, render, frame_rate, check=None) -> tuple[list[float], float, list[str]]:
    """The frame timeline: snapshot position per frame, the frame rate, and warnings.

    ``check(n_frames, n_snapshots, render)``, called with :func:`count`'s total
    before anything is listed, may refuse (raise) or return a line to add to
    the warnings. Snapshots are dropped evenly to fit a ``render.duration``, or
    a few shown twice (the first and last stay).
    """
    c = count(n_snapshots, render, frame_rate)
    note = check(c.total, n_snapshots, render) if check is not None else None
    moving = motion(n_snapshots, render.interpolate)
    if render.duration is not None and c.moving != len(moving):
        moving = [moving[int(k)] for k in np.linspace(0, len(moving) - 1, c.moving).round()]
    frames = [0.0] * c.start + moving + [moving[-1]] * c.hold
    warnings = [line for line in (c.warning, note) if line]
    if render.duration is not None and abs(len(frames) / c.rate - render.duration) > 0.05 * render.duration:
        warnings.append(f"render.duration {render.duration:g} s is played as {len(frames) / c.rate:.2f} s "
                        f"({len(frames)} frames at {c.rate:.4g} fps)")
    return frames, c.rate, warnings


def stills(n_snapshots: int, render) -> list[float]:
    """Positions drawn into a .png: the poster snapshot, or ``render.filmstrip`` spread over the run."""
    if render.filmstrip:
        return [float(i) for i in np.linspace(0, n_snapshots - 1, render.filmstrip).round()]
    if not -n_snapshots <= render.poster < n_snapshots:
        raise TimingError(f"render.poster: snapshot {render.poster} does not exist; this history has "
                          f"{n_snapshots} (0 to {n_snapshots - 1}, or -{n_snapshots} to -1)")
    return [float(render.poster % n_snapshots)]
