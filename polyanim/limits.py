"""Limits on what one config or history may ask of the machine (documented in docs/limits.md).

Every config value is checked on its own when it is read; this module checks
what they ask for together, from the config alone (no torch, no matplotlib):
the bytes of the History training will write, the frames a render will draw
and, roughly, how long drawing them takes. Beyond a limit it refuses with a
:class:`~polyanim.config.ConfigError` (exit 2) naming the keys to change and
the estimate; above a "large" mark it returns a one-line estimate to print.
"""

from __future__ import annotations

import math
from fractions import Fraction

from . import costs, timing
from .registry.models import MAX_PARAMS, MODELS

from .history_io import MAX_HISTORY_BYTES  # the History reader's cap on its arrays, checked here too
from .history_io import field_problem, field_snapshot_bytes  # noqa: F401  (the Recorder checks them too)

LARGE_HISTORY_BYTES = 100 << 20  # print the estimate above this
MAX_FRAMES = 20_000  # about 11 minutes at 30 fps: a video, not an animation for a post
LARGE_FRAMES = 2_000
MAX_TITLE = 200  # characters of render.title
# What one training step may hold (the model's parameters, its optimizer state and what the backward pass
# keeps per sample, as the model's registry entry estimates them): beyond it the machine swaps or dies.
MAX_TRAIN_BYTES = 4 << 30


def snapshots(train) -> int:
    """How many snapshots a ``train`` section records (the final one included), without listing them."""
    if train.record == "adaptive":
        return train.frames if train.frames is not None else train.max_frames
    every = max(1, math.ceil(train.steps / train.frames)) if train.frames is not None else train.record_every
    count = math.ceil(train.steps / every) + 1
    if train.record == "log":
        count = min(train.frames if train.frames is not None else count, train.steps + 1)
    return count


def history_bytes(config) -> int:
    """About how many bytes the History of ``config`` (all its runs) holds: mostly snapshots x grid x 4."""
    d = config.data
    if d.field:  # two inputs: the mesh, and the points (at most data.samples) with x, x2 and label
        classes = None if d.dataset == "surface" else d.classes or (3 if d.dataset == "blobs" else 2)
        points = d.samples or 400
        if d.columns is not None:  # a data file's rows and labels say how many points and classes
            points, classes = len(d.field_points().X), d.classes_of_file()
        row = field_snapshot_bytes(d.mesh, d.mesh, classes)
        return 8 * (d.mesh * (d.mesh + 2) + 3 * points) + sum(
            snapshots(r.train) * row for r in [r.config for r in config.runs] or [config])
    shared = 2 * 8 * d.points  # x and y
    if d.samples is not None or d.sampling != "grid" or d.train_domain is not None or d.noise > 0:
        shared += 2 * 8 * (d.samples if d.samples is not None else d.points)  # data_x, data_y
    total = shared
    for run in [r.config for r in config.runs] or [config]:
        m, spec = run.model, MODELS[run.model.kind]
        params = spec.params(m) if spec.names is not None else 0  # no names: the History keeps none
        row = 4 * d.points + 3 * 8 + (8 * params if 0 < params <= MAX_PARAMS else 0)  # pred; steps, loss, lr
        total += snapshots(run.train) * row
    return total


def timeline(config) -> int:
    """Positions of the animation's timeline: the snapshots of one run, or about the union of several."""
    from .recording import planned_steps

    trains = [r.config.train for r in config.runs] or [config.train]
    counts = [snapshots(t) for t in trains]
    if len(trains) == 1 or any(t.record == "adaptive" for t in trains) or sum(counts) > 1_000_000:
        return sum(counts)  # an upper bound: adaptive steps are known only after training
    return len(set().union(*(planned_steps(t) for t in trains)))


def exact_rate(fps: float):
    """The frame-rate rule of a format that plays any rate (what :class:`polyanim.writers.Writer` does)."""
    return Fraction(fps).limit_denominator(1001), None


def frames(n_snapshots: int, render, frame_rate=exact_rate) -> int:
    """How many frames an animation of ``n_snapshots`` draws with ``render``: :func:`polyanim.timing.count`,
    the count the renderer's plan lays out, with the writer's ``frame_rate`` rule (GIF: whole centiseconds)."""
    return timing.count(n_snapshots, render, frame_rate).total


def render_seconds(n_frames: int, render) -> float:
    """A rough time to draw and encode ``n_frames`` at ``render.size`` (:func:`polyanim.costs.frame_seconds`)."""
    w, h = render.size
    return n_frames * costs.frame_seconds(w * h)


def training_samples(data) -> int:
    """How many samples a training step evaluates: ``data.samples``, the grid, or ``data.file``'s rows."""
    if data.columns is not None:
        return len(data.field_points().X)
    if data.file is not None:
        return len(data.points_xy()[0])
    return data.samples if data.samples is not None else data.points


def training_bytes(config) -> int:
    """About how many bytes one training step of ``config``'s largest run holds (float32, see the entry's facts):
    the parameters with their gradients and two optimizer moments, and what the backward pass keeps per sample."""
    samples = max(training_samples(config.data), config.data.points)  # the grid is predicted too
    sizes = []
    for run in [r.config for r in config.runs] or [config]:
        m, spec = run.model, MODELS[run.model.kind]
        sizes.append(4 * (4 * spec.params(m) + spec.activations(m) * samples))
    return max(sizes)


def check_model(config) -> None:
    """Refuse a model whose training would not fit in memory, or whose basis overflows float32 on the domain."""
    from .config import ConfigError

    size = training_bytes(config)
    if size > MAX_TRAIN_BYTES:
        keys = dict.fromkeys(MODELS[r.model.kind].size_key for r in [r.config for r in config.runs] or [config])
        data = "data.file" if config.data.file is not None else "data.points, data.samples"
        raise ConfigError(f"{', '.join(keys)}, {data}: a training step would hold about {_bytes(size)} "
                          f"({training_samples(config.data):,} samples); the limit is {_bytes(MAX_TRAIN_BYTES)} "
                          "(docs/limits.md): a smaller model or fewer points")
    for run in [r.config for r in config.runs] or [config]:
        m, domain = run.model, config.data.span()
        top = MODELS[m.kind].max_degree(m, domain)
        if top is not None and m.degree > top:
            raise ConfigError(f"model.degree: {m.degree} overflows float32 on the domain "
                              f"[{domain[0]:g}, {domain[1]:g}] (x^{m.degree} exceeds 3.4e38); at most {top} here "
                              "(or a legendre or chebyshev basis, which stays within [-1, 1])")


def check_title(render) -> None:
    """Refuse a ``render.title`` longer than :data:`MAX_TITLE` characters."""
    from .config import ConfigError

    if len(render.title) > MAX_TITLE:
        raise ConfigError(f"render.title: {len(render.title):,} characters; at most {MAX_TITLE}")


def check_frames(n_frames: int, n_snapshots: int, render) -> str | None:
    """Refuse more than :data:`MAX_FRAMES` frames; return a one-line estimate above :data:`LARGE_FRAMES`."""
    from .config import ConfigError

    estimate = (f"{n_frames:,} frames from {n_snapshots:,} snapshots (render.interpolate {render.interpolate}), "
                f"about {_duration(render_seconds(n_frames, render))} to render at "
                f"{render.size[0]}x{render.size[1]}")
    if n_frames > MAX_FRAMES:
        raise ConfigError(f"render.interpolate, render.duration, train.record_every: {estimate}; the limit is "
                          f"{MAX_FRAMES:,} frames (docs/limits.md): lower render.interpolate, set "
                          "render.duration, or record fewer snapshots")
    return estimate if n_frames > LARGE_FRAMES else None


def check_config(config, still: bool = False, frame_rate=exact_rate) -> list[str]:
    """Refuse a config whose History or animation exceeds a limit, before training; return estimates to print.

    ``still``: the output is a picture (.png) or a page (.html), which draws
    no animation frames; ``frame_rate``: the writer's rule for the rate it
    plays (its class's ``frame_rate``), so the frames counted are the frames
    its render would plan.
    """
    from .config import ConfigError

    check_title(config.render)
    check_model(config)
    size, runs = history_bytes(config), max(1, len(config.runs))
    counts = [snapshots(r.config.train) for r in config.runs] or [snapshots(config.train)]
    d = config.data
    points, key = (f"a {d.mesh}x{d.mesh} mesh", "data.mesh") if d.field else (f"{d.points:,} points", "data.points")
    estimate = (f"the History would hold about {_bytes(size)} ({runs} run{'s' * (runs > 1)} x up to "
                f"{max(counts):,} snapshots x {points})")
    if size > MAX_HISTORY_BYTES:
        raise ConfigError(f"train.record_every, train.frames, {key}, runs: {estimate}; the limit is "
                          f"{_bytes(MAX_HISTORY_BYTES)} (docs/limits.md): record fewer snapshots "
                          f"(a larger train.record_every or a smaller train.frames), a smaller {key} or fewer runs")
    notes = [f"estimate: {estimate}"] if size > LARGE_HISTORY_BYTES else []
    if not still:
        n = timeline(config)
        check_frames(frames(n, config.render, frame_rate), n, config.render)  # its estimate is printed when rendering
    return notes


def _bytes(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return ""  # pragma: no cover


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
