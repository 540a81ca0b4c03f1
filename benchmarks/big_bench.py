"""Big renders: 1920x1080, 2,001 frames to MP4 and GIF; where the time goes, and parallel drawing.

    python benchmarks/big_bench.py --stages          # per-frame cost of drawing, pipe copy, encoding
    python benchmarks/big_bench.py --whole --rounds 2  # whole 2,001-frame renders, serial vs parallel drawing
    python benchmarks/big_bench.py --memory --sizes 640x480,7680x7680   # peak RSS of 11-frame renders

Stages are measured on a window of consecutive frames of the seed problem
recorded every step (2,001 snapshots, fit panel) at 1920x1080: drawing is
``Scene.frame`` wall time; the pipe copy is writing those frames into a pipe
drained by ``cat``; encoding is ffmpeg's CPU time (user + system, all its
threads) on the same frames from a file, with polyanim's exact settings. Whole
renders are ``python render.py HISTORY --out X`` processes, serial
(``render.workers=1``) and parallel (``render.workers=2``) run alternately;
medians. Memory is the peak resident size of the whole ``render.py`` process
tree (polyanim and its ffmpeg), sampled every 5 ms, for an 11-frame render of a
small Recorder History at each size, per format; it is also given in frames
(peak / bytes of one RGBA frame), which must stay a small constant at any size.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from render_bench import PY, build_history, header, run  # noqa: E402

import numpy as np  # noqa: E402

from polyanim import config, history as history_mod  # noqa: E402
from polyanim.renderer import plan  # noqa: E402
from polyanim.scene import Scene  # noqa: E402
from polyanim.writers import GifWriter, Mp4Writer, _grow_pipe, _write_all, ffmpeg_exe  # noqa: E402

SIZE = (1920, 1080)
WINDOW = 120  # consecutive frames the per-stage costs are measured on


def child_cpu(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def stages(folder: Path, hist: Path) -> dict:
    h = history_mod.load(hist)
    r = config.from_dict({**h.config, "render": {**h.config["render"], "size": list(SIZE)}}).render
    scene = Scene(h, r)
    start = len(h) // 4
    scene.frame(float(start - 1))  # the first full draw is start-up, not a per-frame cost
    raw = folder / "window.rgba"
    t_draw = 0.0
    with open(raw, "wb") as fh:
        for i in range(start, start + WINDOW):
            t0 = time.perf_counter()
            frame = scene.frame(float(i))
            t_draw += time.perf_counter() - t0
            fh.write(frame)
    frame_bytes = SIZE[0] * SIZE[1] * 4
    sink = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, bufsize=0)
    _grow_pipe(sink.stdin, frame_bytes)  # as the writers do
    t_pipe = 0.0
    with open(raw, "rb") as fh:
        for _ in range(WINDOW):
            chunk = fh.read(frame_bytes)
            t0 = time.perf_counter()
            _write_all(sink.stdin, chunk)
            t_pipe += time.perf_counter() - t0
    sink.stdin.close()
    sink.wait()
    w, h_ = SIZE
    src = ["-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{w}x{h_}", "-framerate", "20", "-i", str(raw)]
    base = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    palette = folder / "palette.png"
    subprocess.run([*base, *src, "-vf", "palettegen=max_colors=26:stats_mode=full", "-frames:v", "1",
                    "-update", "1", str(palette)], check=True)
    gif = GifWriter(folder / "w.gif", SIZE, 20, r)
    mp4 = Mp4Writer(folder / "w.mp4", SIZE, 20, r)
    enc = {
        "gif": child_cpu([*base, *src, "-i", str(palette), *gif.output_args(), str(folder / "w.gif")]),
        "mp4": child_cpu([*base, *src, *mp4.output_args(), str(folder / "w.mp4")]),
    }
    raw.unlink()
    costs = {"draw": t_draw / WINDOW, "pipe": t_pipe / WINDOW,
             **{f"encode {k} cpu": cpu / WINDOW for k, (wall, cpu) in enc.items()},
             **{f"encode {k} wall": wall / WINDOW for k, (wall, cpu) in enc.items()}}
    print(f"Per-frame costs at {w}x{h_}, {WINDOW} consecutive frames of {len(h)}:\n")
    print("| stage | ms per frame |")
    print("| --- | ---: |")
    for k, v in costs.items():
        print(f"| {k} | {1000 * v:.1f} |")
    print()
    n_frames = len(plan(len(h), r, GifWriter.frame_rate)[0])
    for kind in ("gif", "mp4"):
        print(f"prediction for {kind}, {n_frames} frames (W drawing processes on N cores):")
        for cores in (1, 2, 8, 16):
            serial = predict(costs, kind, n_frames, cores, 1)
            best = min((predict(costs, kind, n_frames, cores, w_), w_) for w_ in range(1, cores + 1))
            print(f"  {cores:>2} cores: serial {serial:6.1f} s, parallel drawing (W={best[1]}) {best[0]:6.1f} s, "
                  f"speed-up {serial / best[0]:.2f}x")
    return costs


def predict(costs: dict, kind: str, n_frames: int, cores: int, workers: int) -> float:
    """Seconds for a render from per-frame stage costs: the slowest of drawing (split over
    ``workers``), the encoder's serial part (GIF's encoder is one thread; x264 uses every core),
    and all the CPU work shared by ``cores``."""
    d = costs["draw"] + costs["pipe"]
    e = costs[f"encode {kind} cpu"]
    serial_encoder = e if kind == "gif" else 0.0
    return n_frames * max(d / workers, serial_encoder, (d + e) / cores)


def whole(folder: Path, hist: Path, rounds: int) -> None:
    size = f"render.size=[{SIZE[0]},{SIZE[1]}]"
    times: dict[str, list[float]] = {}
    for _ in range(rounds):
        for kind in ("gif", "mp4"):
            for workers in (1, 2):
                cmd = [PY, str(ROOT / "render.py"), str(hist), "--out", str(folder / f"big{workers}.{kind}"), "-q",
                       "--set", size, "--set", f"render.workers={workers}"]
                times.setdefault(f"{kind} workers={workers}", []).append(run(cmd)[0])
    print("| render, 2,001 frames, 1920x1080 | median wall s |")
    print("| --- | ---: |")
    for k, v in times.items():
        print(f"| {k} | {statistics.median(v):.1f} |")
    for kind in ("gif", "mp4"):
        same = (folder / f"big1.{kind}").read_bytes() == (folder / f"big2.{kind}").read_bytes()
        s, p = statistics.median(times[f"{kind} workers=1"]), statistics.median(times[f"{kind} workers=2"])
        print(f"3. {kind}: 2-core speed-up of parallel drawing = {s / p:.2f}x; outputs identical: {same}")


def memory(folder: Path, sizes: list[tuple[int, int]], kinds: list[str], hold: float) -> None:
    """Peak tree RSS of short renders (6 snapshots at 10 fps plus ``hold``) at each size, per format."""
    import polyanim

    x = np.linspace(-3, 3, 200)
    rec = polyanim.Recorder(x, "sin(x)", every=1, name="mem")
    for step in range(6):
        rec.add(step, loss=1.0 / (step + 1), pred=np.sin(x) * step / 5, params=[0.1 * step, 0.2])
    hist = rec.history().save(folder / "mem.history.npz")
    print("| size | format | frames | peak RSS MB | peak in frames | wall s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for w, h in sizes:
        for kind in kinds:
            out = folder / f"mem.{kind}"
            cmd = [PY, str(ROOT / "render.py"), str(hist), "--out", str(out), "-q", "--set", f"render.size=[{w},{h}]",
                   "--set", "render.fps=10", "--set", f"render.hold={hold}", "--set", "render.workers=1"]
            started = time.perf_counter()
            try:
                wall, peak_kb = run(cmd, sample=True)
            except SystemExit as exc:  # refused (exit 2): how fast, and the line it said
                last = str(exc).strip().splitlines()[-1]
                print(f"| {w}x{h} | {kind} | refused in {time.perf_counter() - started:.1f} s: {last} | | | |")
                continue
            n = 1 if kind == "png" else len(plan(6, config.from_dict({"render": {"fps": 10, "hold": hold}}).render,
                                                GifWriter.frame_rate)[0])
            frame_mb = w * h * 4 / 2**20
            print(f"| {w}x{h} | {kind} | {n} | {peak_kb / 1024:.0f} | {peak_kb / 1024 / frame_mb:.1f} | {wall:.1f} |")
            out.unlink()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stages", action="store_true")
    p.add_argument("--whole", action="store_true")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--memory", action="store_true")
    p.add_argument("--sizes", default="640x480,7680x7680", help="for --memory: WxH,WxH,...")
    p.add_argument("--formats", default="gif,mp4", help="for --memory: suffixes without the dot")
    p.add_argument("--hold", type=float, default=0.6, help="for --memory: seconds of held last frame (0.6: 12 frames)")
    args = p.parse_args()
    print(header(), "\n")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        if args.memory:
            sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
            return memory(folder, sizes, args.formats.split(","), args.hold)
        hist = build_history(folder, 1, "big2001")
        if args.stages or not args.whole:
            stages(folder, hist)
        if args.whole:
            whole(folder, hist, args.rounds)


if __name__ == "__main__":
    main()
