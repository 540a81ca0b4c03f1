"""History → file: the frame timeline, the scene and a writer, wired together.

A :class:`~polyanim.history.RunSet` renders the same way: its timeline is the
union of its runs' recorded steps (``len()`` of either is the number of
timeline positions), and the GIF palette keeps every run's colour exactly.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

from . import limits, timing
from .costs import predicted_seconds
from .scene import Scene
from .fileio import atomic_path
from .registry.formats import FORMATS, transparent_formats
from .timing import TimingError, motion, stills  # noqa: F401 - motion: planning, importable from here as before
from .writers import UnsupportedFormat, WriterError, writer_for


def plan(n_snapshots: int, render, frame_rate) -> tuple[list[float], float, list[str]]:
    """The frame timeline (:func:`polyanim.timing.plan`), refused beyond the frame limit (docs/limits.md)."""
    return timing.plan(n_snapshots, render, frame_rate, check=limits.check_frames)


def render(history, path, render, *, quiet: bool = False, err=None, writer=None, warn=None) -> Path:
    """Render ``history`` to ``path`` with the options of a ``render`` config section.

    The format follows ``path``'s suffix (``writer`` overrides the choice, e.g.
    a counting writer in tests). Frames are drawn by blitting and streamed to
    the writer one at a time; the output appears atomically when the encoder
    has finished. When the format cannot play the requested timing exactly,
    each warning line goes to ``warn`` if given, else to ``err``, ``quiet`` or
    not (it hides only the progress bar). Returns the path written.
    """
    err = err or sys.stderr
    if isinstance(path, (list, tuple)):
        return render_many(history, path, render, quiet=quiet, err=err, writer=writer, warn=warn)
    path = Path(path)
    limits.check_title(render)
    cls = writer or writer_for(path)
    _check_alpha(path, render)
    if not cls.needs_frames:
        with cls(path, tuple(render.size), render.fps, render) as out:
            out.write_history(history)
        return path
    frames, rate, size = _timeline(history, render, cls, err, warn)
    scene = Scene(history, render, size=size)
    bar = _progress(len(frames), f"rendering {path.name}", err, quiet)
    with bar, cls(path, size, rate, render, pins=scene.run_colors) as out:
        if out.palette_samples:
            picks = np.unique(np.linspace(0, len(history) - 1, out.palette_samples).round())
            out.prepare(scene.frame(float(i)) for i in picks)
        workers = drawing_workers(render, cls, len(frames), size)
        if workers > 1:
            draw_parallel(scene, frames, out, workers, bar)
        else:
            for position in frames:
                out.write(scene.frame(position))
                bar.update(1)
        bar.set_postfix_str("encoding")
    return path


PARALLEL_CHUNK = 4  # frames a drawing worker draws ahead of its turn to write: bounds memory


def drawing_workers(render, cls, n_frames: int, size, cores: int | None = None) -> int:
    """How many processes draw a video's frames: ``render.workers``, with ``auto`` resolved.

    ``auto`` takes the number of drawers that :func:`polyanim.costs.predicted_seconds` says is
    fastest on this machine's cores, and stays at 1 unless that saves at least
    10%: on 2 cores the encoder (or, for H.264, the encoder and the drawing
    together) already keeps both cores busy, so one drawer is the answer there.
    Parallel drawing forks, so it needs a platform with ``fork``.
    """
    import multiprocessing as mp

    if cls.still or "fork" not in mp.get_all_start_methods():
        return 1
    if render.workers != "auto":
        return render.workers
    cores = cores or os.cpu_count() or 1
    cost = cls.encode_cost
    if cost is None or cores < 2:
        return 1
    pixels = size[0] * size[1]
    serial = predicted_seconds(n_frames, pixels, cost, cores, 1)
    best = min(range(1, cores + 1), key=lambda w: predicted_seconds(n_frames, pixels, cost, cores, w))
    return best if predicted_seconds(n_frames, pixels, cost, cores, best) < 0.9 * serial else 1


def draw_parallel(scene, frames, out, workers: int, bar) -> None:
    """Draw ``frames`` in ``workers`` forked processes and write them into ``out`` in order.

    Frames are cut into chunks of :data:`PARALLEL_CHUNK`, dealt round-robin; a
    worker draws its next chunk (its own copy of the figure, forked with the
    cached background) while others write, then waits for its turn and writes
    straight into the encoder's pipe, so frames are copied once, never pass
    through this process, and at most ``workers x PARALLEL_CHUNK`` are held at a
    time. The encoder sees the very bytes the serial path writes. A failing
    worker stops the others; its error is raised here.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork")
    chunks = [frames[k:k + PARALLEL_CHUNK] for k in range(0, len(frames), PARALLEL_CHUNK)]
    turn, cond, errors = ctx.Value("q", 0), ctx.Condition(), ctx.SimpleQueue()
    procs = [ctx.Process(target=_draw_chunks, args=(scene, chunks, k, workers, out, turn, cond, errors),
                         name=f"polyanim-draw-{k}", daemon=True) for k in range(workers)]
    if getattr(out, "proc", False) is None:
        out._start()  # the encoder runs before the fork: the workers inherit its pipe
    for stream in (sys.stdout, sys.stderr):  # else a forked worker would flush our buffered lines again
        try:
            stream.flush()
        except (AttributeError, ValueError, OSError):
            pass
    try:
        for proc in procs:
            proc.start()
        shown, running = 0, list(procs)
        while running:
            wait([p.sentinel for p in running], timeout=0.2)
            done = min(turn.value * PARALLEL_CHUNK, len(frames))
            bar.update(done - shown)
            shown = done
            for proc in [p for p in running if p.exitcode is not None]:
                running.remove(proc)
                if proc.exitcode != 0:
                    message = errors.get() if not errors.empty() else f"exit code {proc.exitcode}"
                    if out.proc is not None and out.proc.poll() not in (None, 0):
                        raise WriterError(out._failure())
                    raise RuntimeError(f"a drawing worker failed: {message}")
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()


def _draw_chunks(scene, chunks, first: int, step: int, out, turn, cond, errors) -> None:
    """A drawing worker: its chunks, each drawn ahead then written in its turn."""
    try:
        for c in range(first, len(chunks), step):
            drawn = [bytes(scene.frame(position)) for position in chunks[c]]
            with cond:
                cond.wait_for(lambda: turn.value == c)
            for frame in drawn:
                out.write(frame)
            with cond:
                turn.value = c + 1
                cond.notify_all()
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from None


def render_many(history, paths, render, *, quiet: bool = False, err=None, writer=None,
                warn=None) -> list[Path]:
    """Render ``history`` to every path in ``paths`` at once: frames drawn once, fed to every encoder.

    Each output gets exactly the frames it would get alone (its own timeline,
    palette and size), so every file is byte-identical to writing it alone:
    frame positions of all outputs are walked in order and a position is drawn
    once for every output that shows it (``.png`` stills take their frame on the
    way; a writer without frames, ``.html``, is written from the history). The encoders run side by side.
    All files appear together at the end: any failure leaves every destination
    as it was, and no temporary file behind.
    """
    err = err or sys.stderr
    paths = [Path(p) for p in paths]
    seen = set()
    for p in paths:
        if p.resolve() in seen:
            raise UnsupportedFormat(f"{p}: given twice as an output")
        seen.add(p.resolve())
    classes = [writer or writer_for(p) for p in paths]
    for p in paths:
        _check_alpha(p, render)
    timelines = [_timeline(history, render, cls, err, warn) for cls in classes]
    with ExitStack() as stack:
        staged = [stack.enter_context(atomic_path(p)) for p in paths]  # renamed onto paths only if all succeed
        for stage, cls in zip(staged, classes):
            if not cls.needs_frames:
                with cls(stage, tuple(render.size), render.fps, render) as out:
                    out.write_history(history)
        for size in dict.fromkeys(t[2] for t in timelines if t is not None):
            group = [(p, s, c, t) for p, s, c, t in zip(paths, staged, classes, timelines) if t and t[2] == size]
            _stream(history, render, size, group, quiet, err)
    return paths


def _check_alpha(path: Path, render) -> None:
    spec = FORMATS.get(path.suffix.lower())
    if render.theme == "transparent" and spec is not None and not spec.alpha:
        raise UnsupportedFormat(f"{path}: render.theme transparent needs a format with transparency "
                                f"({', '.join(transparent_formats())}); {path.suffix} has none")


def _timeline(history, render, cls, err, warn):
    """(frame positions, frame rate, frame size) a writer class gets for ``history``; None without frames."""
    if not cls.needs_frames:
        return None
    if cls.still:
        frames, rate = stills(len(history), render), render.fps
    else:
        frames, rate, warnings = plan(len(history), render, cls.frame_rate)
        for line in warnings:  # warnings always show; quiet hides only progress bars and logs
            if warn is not None:
                warn(line)
            else:
                print(f"warning: {line}", file=err)
    w, h = render.size
    return frames, rate, (w + w % 2, h + h % 2) if cls.even_size else (w, h)


def _stream(history, render, size, group, quiet, err) -> None:
    """Draw the union of the group's timelines once, in order, and write each frame to the writers
    that show it. ``group``: (destination, staging path, writer class, timeline) of one frame size."""
    scene = Scene(history, render, size=size)
    total = len(set().union(*(t[0] for _, _, _, t in group)))
    bar = _progress(total, f"rendering {', '.join(p.name for p, _, _, _ in group)}", err, quiet)
    with _user_paths(group), ExitStack() as stack:  # closing it finishes every encoder, in order
        stack.enter_context(bar)
        outs = [(stack.enter_context(cls(stage, size, rate, render, pins=scene.run_colors)), frames)
                for _, stage, cls, (frames, rate, _) in group]
        for out, _ in outs:
            if out.palette_samples:
                picks = np.unique(np.linspace(0, len(history) - 1, out.palette_samples).round())
                out.prepare(scene.frame(float(i)) for i in picks)
        todo = [[out, frames, 0] for out, frames in outs]
        while todo:
            position = min(frames[k] for _, frames, k in todo)
            frame = scene.frame(position)
            for item in todo:
                out, frames, k = item
                while k < len(frames) and frames[k] == position:
                    out.write(frame)
                    k += 1
                item[2] = k
            todo = [item for item in todo if item[2] < len(item[1])]
            bar.update(1)
        bar.set_postfix_str("encoding")


@contextmanager
def _user_paths(group):
    """Encoder failures name the user's files, not the staging files they are written to first."""
    try:
        yield
    except WriterError as exc:
        message = str(exc)
        for dest, stage, _, _ in group:
            message = message.replace(str(stage), str(dest))
        raise WriterError(message) from None


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

    # disable=None: no bar when stderr is not a terminal (a log file gets no \r junk)
    return tqdm(total=total, desc=desc, unit="frame", file=file, leave=False, mininterval=0.2, disable=None)
