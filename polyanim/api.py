"""The library's public functions: render a History to files, to frames, or to a FuncAnimation.

Each takes a ``source`` (a :class:`~polyanim.history.History`, a
:class:`~polyanim.history.RunSet` or the path of a saved ``.history.npz``) and
``render.*`` settings as keyword options (``fps=20``, ``theme="dark"``,
``size=(1280, 720)``). The settings resolve as built-in defaults < the render
section saved in the History < the options, through the same checks and
one-line messages as ``--set``; a bad option raises
:class:`~polyanim.errors.InputError`. Nothing here imports torch or pyplot.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .config import Render, render_settings
from .errors import InputError
from .history import History, RunSet, load


class RenderWarning(UserWarning):
    """The output cannot play the requested timing exactly (e.g. GIF delays are whole centiseconds)."""


def resolve(source, options: dict, *, caller: str = "polyanim.render", prefix: str = "") -> tuple:
    """``(history, Render)`` for a source and keyword options, with the saved settings in between."""
    if isinstance(source, (History, RunSet)):
        history, where = source, "history"
    elif isinstance(source, (str, os.PathLike)):
        history, where = load(source), str(source)
    else:
        raise InputError(f"{caller}: source: expected a History, a RunSet or the path of a .history.npz, "
                         f"got {type(source).__name__}")
    if not len(history) or isinstance(history, RunSet) and not all(len(h) for h in history.histories):
        raise InputError(f"{caller}: source: {'a run of the RunSet' if isinstance(history, RunSet) else 'the History'} "
                         "has no snapshots; record at least one step")
    config = history.config if isinstance(history.config, dict) else {}
    settings = render_settings(options, saved=config.get("render"), source=caller, prefix=prefix,
                               saved_source=f"{where} (meta.config)")
    from dataclasses import replace

    from .panels.registry import kind_problem, pair_given, panels_for

    if "panels" not in options and "panels" not in (config.get("render") or {}):  # a field's own default
        settings = replace(settings, panels=panels_for(history, settings.panels))
    from .user_landscape import recorded

    runs = history.histories if isinstance(history, RunSet) else [history]
    problem = kind_problem(settings.panels, history.kind,
                           pair_given(history.kind, settings, recorded(runs) is not None))
    if problem:
        raise InputError(f"{caller}: {prefix or 'render.'}panels: {problem}")
    return history, settings


def resolve_sets(source, sets, *, caller: str = "--set") -> tuple:
    """``(history, Render)`` for a replay with ``--set render.KEY=VALUE`` items (the CLI's and a batch's).

    The items are read as ``--set`` reads them and resolved by :func:`resolve`,
    so a replay draws exactly what ``polyanim.render`` draws for those options.
    """
    from .config import parse_override

    options = {}
    for item in sets:
        key, value = parse_override(item)
        *sections, last = key.removeprefix("render.").split(".")
        where = options
        for name in sections:  # render.labels.x=... is labels={"x": ...}, merged with the saved labels
            if not isinstance(where.get(name), dict):
                where[name] = {}
            where = where[name]
        where[last] = value
    return resolve(source, options, caller=caller, prefix="render.")


def render(source, out, *, progress: bool = False, **options):
    """Render ``source`` to the file ``out``; its suffix picks the format (``polyanim.registry.formats``).

    ``out`` may also be a list of paths: the frames are then drawn once and fed
    to every encoder, each file byte-identical to rendering it alone, and all
    appear together or none does. ``options`` are ``render.*`` settings (see
    the module docstring). Files appear atomically: an error or an interrupt
    leaves no partial file and existing ones untouched. A progress bar is
    drawn on stderr only with ``progress=True`` (and only when stderr is a
    terminal); timing compromises of a format are reported as
    :class:`RenderWarning`. Returns the path written (a list for a list).
    """
    history, settings = resolve(source, options)
    many = isinstance(out, (list, tuple))
    outs = [_path(o) for o in (out if many else [out])]
    if not outs:
        raise InputError("polyanim.render: out: expected a path or a non-empty list of paths")
    for each in outs:
        check_output(each, settings)
    from .writers import writer_for

    if not all(writer_for(each).still for each in outs):  # a picture or a page draws no animation frames
        check_recorder_frames(history, settings, "polyanim.render")
    return _render(history, outs if many else outs[0], settings, progress=progress)


def _path(out) -> Path:
    """``out`` as a Path, or InputError naming ``out`` (None, a number or bytes are not file names here)."""
    if isinstance(out, str) or (isinstance(out, os.PathLike) and isinstance(os.fspath(out), str)):
        return Path(out)
    raise InputError(f"polyanim.render: out: expected a file path (a str or pathlib.Path, e.g. 'run.gif') "
                     f"or a list of them, got {type(out).__name__}")


def check_recorder_frames(history, settings: Render, caller: str) -> None:
    """Refuse too many frames for a Recorder's History naming what sets them there (not ``train.*``).

    A History trained from a config (it has ``meta.config.train``) is left to
    the renderer, whose message names the config keys.
    """
    from . import limits

    runs = history.histories if isinstance(history, RunSet) else [history]
    if any("train" in h.config for h in runs if isinstance(h.config, dict)):
        return
    n = limits.frames(len(history), settings)
    if n > limits.MAX_FRAMES:
        raise InputError(f"{caller}: Recorder every=/frames=, render.duration, render.interpolate: {n:,} frames "
                         f"from {len(history):,} snapshots; the limit is {limits.MAX_FRAMES:,} frames "
                         "(docs/limits.md): record fewer snapshots (a larger every= or a smaller frames= for the "
                         "Recorder), set render.duration (e.g. duration='20s'), or lower render.interpolate")


def _render(history, out, settings: Render, *, progress: bool):
    from .renderer import render as draw  # matplotlib: imported on first use

    lines: list[str] = []
    path = draw(history, out, settings, quiet=not progress, warn=lines.append)
    for line in lines:
        warnings.warn(line, RenderWarning, stacklevel=3)
    return path


def check_output(out: Path, settings: Render | None = None) -> None:
    """Fail early when ``out`` cannot be written: a folder, an unknown suffix, an unwritable folder, or (given
    ``settings``) a frame size its format cannot stream, refused here before matplotlib is even imported."""
    from .writers import writer_for

    if out.is_dir():
        raise InputError(f"{out}: is a folder; give a file name such as {out / 'run.gif'}")
    cls = writer_for(out)  # an unsupported suffix
    if settings is not None:
        cls.check(tuple(settings.size), settings)
    folder = out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # what the atomic write will need
            pass
    except OSError as exc:
        if folder.is_dir():  # /proc, a read-only mount, no permission: the folder is there all the same
            raise InputError(f"{folder}: the folder exists but files cannot be created in it "
                             f"(the system says: {exc.strerror or exc})") from None
        raise InputError(f"{folder}: cannot write files in the output folder ({exc.strerror or exc})") from None


class Frames:
    """The frames of an animation as RGBA arrays ``(height, width, 4)``, drawn one by one as you iterate.

    ``len()`` is the number of frames and :attr:`fps` the rate they are timed
    for (holds at the start and end included, as in an MP4). Each iteration
    draws afresh, and every array is the caller's own copy.
    """

    def __init__(self, history, settings: Render, caller: str = "polyanim.frames"):
        from .renderer import plan
        from .writers import Writer

        self.history, self.settings = history, settings
        check_recorder_frames(history, settings, caller)
        self.positions, rate, self.warnings = plan(len(history), settings, Writer.frame_rate)
        self.fps = float(rate)
        self.size = tuple(settings.size)

    def __len__(self) -> int:
        return len(self.positions)

    def __iter__(self):
        from .scene import Scene

        scene = Scene(self.history, self.settings)
        for position in self.positions:
            yield np.array(scene.frame(position))


def frames(source, **options) -> Frames:
    """The RGBA frames of ``source`` as numpy arrays, for your own pipeline (TensorBoard, wandb, an encoder).

    Returns a :class:`Frames`: iterate it to draw the frames one at a time
    (``len()`` and ``.fps`` tell how many and how fast). They are the frames
    an MP4 of the same settings holds, drawn by the same code.
    """
    history, settings = resolve(source, options, caller="polyanim.frames")
    return Frames(history, settings)


def animation(source, **options):
    """A :class:`matplotlib.animation.FuncAnimation` of ``source``, for notebooks and matplotlib's writers.

    The figure is a bare :class:`~matplotlib.figure.Figure` (pyplot is not
    imported): in Jupyter, show it with ``HTML(anim.to_jshtml())`` or
    ``anim.to_html5_video()``. It draws the frames :func:`render` writes,
    on the same timeline (``interval`` is ``1000 / fps``). When matplotlib
    finds no ffmpeg of its own, it is pointed at the one imageio-ffmpeg ships,
    so ``to_html5_video()`` and ``anim.save("x.mp4")`` work too.
    """
    from matplotlib.animation import FuncAnimation

    from .scene import Scene

    history, settings = resolve(source, options, caller="polyanim.animation")
    _bundled_ffmpeg_for_matplotlib()
    timeline = Frames(history, settings, "polyanim.animation")
    scene = Scene(history, settings)
    scene.freeze_layout()
    return FuncAnimation(scene.fig, scene.update, frames=timeline.positions, init_func=scene.init,
                         interval=1000.0 / timeline.fps, blit=True, repeat=settings.loop,
                         cache_frame_data=False)


def _bundled_ffmpeg_for_matplotlib() -> None:
    """Let matplotlib's FFMpegWriter use imageio-ffmpeg's binary when its own setting finds none.

    Only the default setting (``"ffmpeg"``, not on PATH) is changed: a user's
    own ``animation.ffmpeg_path`` or a system ffmpeg is left alone.
    """
    import shutil

    import matplotlib

    if matplotlib.rcParams["animation.ffmpeg_path"] == "ffmpeg" and shutil.which("ffmpeg") is None:
        from .writers import ffmpeg_exe

        matplotlib.rcParams["animation.ffmpeg_path"] = ffmpeg_exe()
