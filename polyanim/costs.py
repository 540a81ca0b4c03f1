"""What work costs on this project's machine: the one cost model every estimate reads.

Every constant is a wall-clock or CPU time measured on the project's 2-core
box (shared with other jobs), by the benchmark named beside it; re-run that
benchmark to re-measure. Estimates built on them: :func:`polyanim.limits.render_seconds`
(the "about N s to render" line), :func:`predicted_seconds` (how many
processes draw a video, ``render.workers: auto``),
:func:`polyanim.multirun.estimated_seconds` (``train.workers: auto``) and the
batch planner's unit estimates (``polyanim batch --workers auto``). Encoders'
own CPU costs per pixel are each writer's ``encode_cost``, measured the same way
(benchmarks/big_bench.py --stages).
"""

from __future__ import annotations

# --- drawing and encoding frames ----------------------------------------------------------------------
# One GIF frame drawn and encoded, end to end, is a fixed part plus a part per pixel: polyanim.renderer
# .render on a 200-frame, 2,000-point History (benchmarks/render_bench.py), medians of 3 alternating runs:
# 4.5 ms at 320x240, 5.7 ms at 640x480, 13.6 ms at 1280x960.
FRAME_SECONDS = 3e-3
PIXEL_SECONDS = 9e-9
# Drawing alone, per pixel, at 1920x1080 (benchmarks/big_bench.py --stages): blitting 7.1 ms plus copying
# the RGBA frame into ffmpeg's pipe 3.5 ms.
DRAW_SECONDS_PER_PIXEL = 10.6e-3 / (1920 * 1080)
# A forked drawing worker (a copy of this process, its figure included) before its first frame.
FORK_START_SECONDS = 0.2

# --- processes that import torch -------------------------------------------------------------------------
# A spawned worker (a fresh interpreter importing torch, and for a batch matplotlib and a warm-up run) before
# its first unit: about 2 s on an idle core (benchmarks/runs_bench.py for multirun's workers;
# benchmarks/batch_bench.py measured 4.2 s per start and 0.57 s per unit on the loaded box where this model
# says 0.29 s: both twice as slow, the same ratio, which is what the auto rules compare).
SPAWN_START_SECONDS = 2.0

# --- training --------------------------------------------------------------------------------------------
# A training step of a small model: about 0.3 ms plus 1 ms per million parameter x sample products
# (benchmarks/runs_bench.py, fresh processes as render.py runs them). Parallel training came out ahead from
# about 2.5-3 s of sequential training, so ``train.workers: auto`` goes parallel above PARALLEL_SECONDS.
STEP_SECONDS = 3e-4
WORK_SECONDS = 1e-9
PARALLEL_SECONDS = 3.0


def frame_seconds(pixels: int) -> float:
    """Wall seconds to draw and encode one GIF-like frame of ``pixels`` (the end-to-end model above)."""
    return FRAME_SECONDS + PIXEL_SECONDS * pixels


def predicted_seconds(n_frames: int, pixels: int, encode_cost: tuple[float, bool], cores: int, workers: int) -> float:
    """Wall time the per-frame costs predict: the slowest of the drawers (sharing the frames), the
    encoder's serial part and all the CPU work shared by the cores, plus the drawers' start-up."""
    d = DRAW_SECONDS_PER_PIXEL * pixels
    per_pixel, serial = encode_cost
    e = per_pixel * pixels
    start = FORK_START_SECONDS * workers if workers > 1 else 0.0
    return n_frames * max(d / workers, e if serial else 0.0, (d + e) / cores) + start
