"""History → file: the frame timeline, the scene and a writer, wired together.

A :class:`~polyanim.history.RunSet` renders the same way: its timeline is the
union of its runs' recorded steps (``len()`` of either is the number of
timeline positions), and the GIF palette keeps every run's colour exactly.
"""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack
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


def render(history, path, render, *, quiet: bool = False, err=None, writer=None, warn=None):
    """Render ``history`` to ``path`` (or to every path of a list) with a ``render`` config section.

    The format follows each path's suffix (``writer`` overrides the choice,
    e.g. a counting writer in tests). One pipeline serves one output or many:
    every frame position is drawn once, by blitting, and streamed to each
    writer that shows it, so each file is byte-identical to writing it alone
    (its own timeline, palette and size). Each writer writes a temporary file
    this function stages next to its destination; all of them are renamed into
    place together at the end, so any failure leaves every destination as it
    was and no temporary file behind. When a format cannot play the requested
    timing exactly, each warning line goes to ``warn`` if given, else to
    ``err``, ``quiet`` or not (it hides only the progress bar). Returns the
    path written (the list of paths for a list).
    """
    err = err or sys.stderr
    many = isinstance(path, (list, tuple))
    paths = [Path(p) for p in (path if many else [path])]
    limits.check_title(render)
    seen = set()
    for p in paths:
        if p.resolve() in seen:
            raise UnsupportedFormat(f"{p}: given twice as an output")
        seen.add(p.resolve())
        _check_alpha(p, render)
    classes = [writer or writer_for(p) for p in paths]
    for cls in classes:  # what a format cannot write in bounded memory is refused before any drawing
        cls.check(_frame_size(cls, render), render)
    timelines = [_timeline(history, render, cls, err, warn) for cls in classes]
    with ExitStack() as stack:
        staged = [stack.enter_context(atomic_path(p)) for p in paths]  # the one place outputs are staged
        for dest, stage, cls in zip(paths, staged, classes):
            if not cls.needs_frames:
                with cls(dest, tuple(render.size), render.fps, render) as out:
                    out.open(stage)
                    out.write_history(history)
        for size in dict.fromkeys(t[2] for t in timelines if t is not None):
            group = [(p, s, c, t) for p, s, c, t in zip(paths, staged, classes, timelines) if t and t[2] == size]
            _stream(history, render, size, group, quiet, err)
    return paths if many else paths[0]


PARALLEL_CHUNK = 4  # frames a drawing worker draws ahead of its turn to write: bounds memory


def drawing_workers(render, cls, n_frames: int, size, cores: int | None = None) -> int:
    """How many processes draw a video's frames for writer class ``cls``: ``render.workers``, checked.

    Only a writer that declares ``accepts_forked_frames`` (its encoder is
    another process, fed through a pipe the drawers inherit) can take frames
    from forked drawers; any other, and stills, are drawn by this process
    alone, whatever ``render.workers`` asks. A number is then taken as given,
    up to one drawer per chunk of frames. ``auto`` takes the number of drawers
    that :func:`polyanim.costs.predicted_seconds` says is fastest on this machine's cores, and
    stays at 1 unless that saves at least 10%: on 2 cores the encoder (or, for
    H.264, the encoder and the drawing together) already keeps both cores busy.
    Parallel drawing forks, so it needs a platform with ``fork``.
    """
    import multiprocessing as mp

    if cls.still or not cls.accepts_forked_frames or "fork" not in mp.get_all_start_methods():
        return 1
    if render.workers != "auto":
        return max(1, min(render.workers, -(-n_frames // PARALLEL_CHUNK)))
    cores = cores or os.cpu_count() or 1
    cost = cls.encode_cost
    if cost is None or cores < 2:
        return 1
    pixels = size[0] * size[1]
    serial = predicted_seconds(n_frames, pixels, cost, cores, 1)
    best = min(range(1, cores + 1), key=lambda w: predicted_seconds(n_frames, pixels, cost, cores, w))
    return best if predicted_seconds(n_frames, pixels, cost, cores, best) < 0.9 * serial else 1


def schedule(timelines) -> list[tuple[float, tuple[tuple[int, int], ...]]]:
    """The union of several outputs' frame positions, in order: ``(position, ((output, copies), ...))``.

    Each position is drawn once and written ``copies`` times to each output
    that shows it (a held last frame is drawn once, written many times).
    """
    todo, steps = [[list(frames), 0] for frames in timelines], []
    while any(k < len(frames) for frames, k in todo):
        position = min(frames[k] for frames, k in todo if k < len(frames))
        uses = []
        for n, item in enumerate(todo):
            frames, k = item
            start = k
            while k < len(frames) and frames[k] == position:
                k += 1
            item[1] = k
            if k > start:
                uses.append((n, k - start))
        steps.append((position, tuple(uses)))
    return steps


def _write_step(outs, frame, uses) -> None:
    for n, copies in uses:
        for _ in range(copies):
            outs[n].write(frame)


def draw_parallel(scene, steps, outs, workers: int, bar) -> None:
    """Draw the ``steps`` of :func:`schedule` in ``workers`` forked processes, writing ``outs`` in order.

    Steps are cut into chunks of :data:`PARALLEL_CHUNK`, dealt round-robin; a
    worker draws its next chunk (its own copy of the figure, forked with the
    cached background) while others write, then waits for its turn and writes
    through its copy of each writer, straight into the encoder's pipe (every
    writer here declared ``accepts_forked_frames``), so frames are copied once,
    never pass through this process, and at most ``workers x PARALLEL_CHUNK``
    are held at a time. The encoders see the very bytes the serial path
    writes. A failing worker stops the others; the encoder's error, or the
    worker's, is raised here.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("fork")
    chunks = [steps[k:k + PARALLEL_CHUNK] for k in range(0, len(steps), PARALLEL_CHUNK)]
    turn, cond, errors = ctx.Value("q", 0), ctx.Condition(), ctx.SimpleQueue()
    procs = [ctx.Process(target=_draw_chunks, args=(scene, chunks, k, workers, outs, turn, cond, errors),
                         name=f"polyanim-draw-{k}", daemon=True) for k in range(workers)]
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
            done = min(turn.value * PARALLEL_CHUNK, len(steps))
            bar.update(done - shown)
            shown = done
            for proc in [p for p in running if p.exitcode is not None]:
                running.remove(proc)
                if proc.exitcode != 0:
                    message = errors.get() if not errors.empty() else f"exit code {proc.exitcode}"
                    for out in outs:
                        if out.failed():
                            raise WriterError(out.failed())
                    raise RuntimeError(f"a drawing worker failed: {message}")
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.kill()
            proc.join()


def _draw_chunks(scene, chunks, first: int, step: int, outs, turn, cond, errors) -> None:
    """A drawing worker: its chunks, each drawn ahead then written in its turn."""
    try:
        for c in range(first, len(chunks), step):
            drawn = [bytes(scene.frame(position)) for position, _ in chunks[c]]
            with cond:
                cond.wait_for(lambda: turn.value == c)
            for frame, (_, uses) in zip(drawn, chunks[c]):
                _write_step(outs, frame, uses)
            with cond:
                turn.value = c + 1
                cond.notify_all()
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise SystemExit(1) from None


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
    return frames, rate, _frame_size(cls, render)


def _frame_size(cls, render) -> tuple[int, int]:
    w, h = render.size
    return (w + w % 2, h + h % 2) if cls.even_size else (w, h)


def _stream(history, render, size, group, quiet, err) -> None:
    """Draw the union of the group's timelines once, in order, and write each frame to the writers
    that show it. ``group``: (destination, staging path, writer class, timeline) of one frame size."""
    scene = Scene(history, render, size=size)
    steps = schedule(t[0] for _, _, _, t in group)
    bar = _progress(len(steps), f"rendering {', '.join(p.name for p, _, _, _ in group)}", err, quiet)
    with ExitStack() as stack:  # closing it finishes every encoder, in order
        stack.enter_context(bar)
        outs = []
        for dest, stage, cls, (_, rate, _) in group:
            outs.append(stack.enter_context(cls(dest, size, rate, render, pins=scene.pins)))
            outs[-1].open(stage)
        for out in outs:
            if out.palette_samples:
                picks = np.unique(np.linspace(0, len(history) - 1, out.palette_samples).round())
                out.prepare(scene.frame(float(i)) for i in picks)
        n_frames = max(len(t[0]) for _, _, _, t in group)
        workers = min(drawing_workers(render, type(out), n_frames, size) for out in outs)
        if workers > 1:
            draw_parallel(scene, steps, outs, workers, bar)
        else:
            for position, uses in steps:
                _write_step(outs, scene.frame(position), uses)
                bar.update(1)
        bar.set_postfix_str("encoding")


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
