"""Rendering speed, size and memory against the usual way and against the encoder alone.

    python benchmarks/render_bench.py                 # speed + size: 200 snapshots, 3 rounds
    python benchmarks/render_bench.py --memory        # peak RSS, 200 vs 2,000 frames
    python benchmarks/render_bench.py --startup       # one-frame PNG vs `import matplotlib, imageio`
    python benchmarks/render_bench.py --first-file    # config -> GIF vs import torch + replay (issue 11.1)
    python benchmarks/render_bench.py --many          # gif+mp4+png in one run vs three runs (11.2)
    python benchmarks/render_bench.py --careful       # vs the careful matplotlib user, GIF and MP4 (11.6)
    python benchmarks/render_bench.py --formats       # bytes of the demo in every animated format (11.4)
    python benchmarks/render_bench.py --before DIR    # with --first-file: also time the checkout in DIR
    python benchmarks/render_bench.py --all           # everything

Every timing is the wall time of a whole process (``python render.py HISTORY
--out X``), run alternately with its baselines in the same invocation, and
the table reports medians and ratios, not absolute seconds. Peak memory sums
the resident set of the process and all its children (ffmpeg included),
sampled every 2 ms from /proc. Needs torch only to build the Histories.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from polyanim import config, history as history_mod  # noqa: E402
from polyanim.scene import Scene  # noqa: E402
from polyanim.style import THEMES  # noqa: E402
from polyanim.writers import GIF_QUALITY, PALETTE_SAMPLES, PINNED, _pin_colors, ffmpeg_exe  # noqa: E402

PY = sys.executable


def build_history(folder: Path, record_every: int, name: str) -> Path:
    """The seed problem (the post's cubic on sin) recorded every ``record_every`` steps."""
    from polyanim.train import train

    cfg = config.load(ROOT / "configs/seed.yaml",
                      [f"train.record_every={record_every}", f"name={name}", "render.hold=0",
                       "render.fps=20", "train.log_every=0"])
    path = folder / f"{name}.history.npz"
    train(cfg, quiet=True).save(path)
    return path


def tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    rss = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry.name}/statm") as fh:
                pages = int(fh.read().split()[1])
        except OSError:
            continue
        pid, ppid = int(entry.name), int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


def run(cmd: list[str], sample: bool = False) -> tuple[float, int]:
    """Wall seconds and (with ``sample``) peak tree RSS in KiB of one command, which must succeed.

    Timed runs do not sample: scanning /proc every few ms takes CPU from a 2-core machine.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    done = threading.Event()

    def sampler():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss_kb(proc.pid))
            time.sleep(0.005)

    thread = threading.Thread(target=sampler)
    if sample:
        thread.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - start
    done.set()
    if sample:
        thread.join()
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err.decode()}")
    return wall, peak


def run_step(step, sample: bool = False) -> tuple[float, int]:
    """A command (timed, as :func:`run`) or an untimed Python callable."""
    if callable(step):
        step()
        return 0.0, 0
    return run(step, sample=sample)


def ffmpeg_floor(raw: Path, samples: Path, size, fps: float, out: Path, kind: str) -> list:
    """The encoder alone on already-rendered RGBA frames, with polyanim's exact settings.

    A list of commands to time, and untimed Python steps between them.
    """
    w, h = size
    src = ["-f", "rawvideo", "-pix_fmt", "rgba", "-s", f"{w}x{h}"]
    base = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    if kind == "gif":
        q = GIF_QUALITY["medium"]
        palette = out.with_suffix(".palette.png")
        theme = THEMES["light"]
        return [[*base, *src, "-i", str(samples), "-vf",
                 f"palettegen=max_colors={q['colors'] - len(PINNED)}:stats_mode=full",
                 "-frames:v", "1", "-update", "1", str(palette)],
                lambda: _pin_colors(str(palette), [theme[k] for k in PINNED]),  # in polyanim too: not timed
                [*base, *src, "-framerate", f"{fps:g}", "-i", str(raw), "-i", str(palette), "-lavfi",
                 f"[0:v][1:v]paletteuse=dither={q['dither']}:diff_mode=rectangle", "-loop", "0", "-f", "gif", str(out)]]
    from polyanim.writers import Mp4Writer

    return [[*base, *src, "-framerate", f"{fps:g}", "-i", str(raw),
             *Mp4Writer(out, size, fps).output_args(), str(out)]]


def dump_frames(hist_path: Path, folder: Path) -> tuple[Path, Path, list[np.ndarray]]:
    """Render every frame once to a raw RGBA file (for the floor) and keep a few for quality checks."""
    h = history_mod.load(hist_path)
    render = config.from_dict(h.config).render
    scene = Scene(h, render)
    raw, samples = folder / "frames.rgba", folder / "samples.rgba"
    picks = set(np.unique(np.linspace(0, len(h) - 1, PALETTE_SAMPLES).round().astype(int)).tolist())
    keep = []
    with open(raw, "wb") as fh, open(samples, "wb") as sh:
        for i in range(len(h)):
            frame = scene.frame(i)
            fh.write(frame)
            if i in picks:
                sh.write(frame)
            keep.append(np.asarray(frame)[..., :3].copy())
    return raw, samples, keep


def gif_quality(path: Path, frames: list[np.ndarray]) -> float:
    """Mean absolute per-pixel difference (0–255) between the decoded GIF and the RGB frames."""
    from PIL import Image

    diffs = []
    with Image.open(path) as im:
        for k, want in enumerate(frames):
            im.seek(k)
            diffs.append(np.abs(np.asarray(im.convert("RGB"), dtype=np.int16) - want).mean())
    return float(np.mean(diffs))


def pillow_gif(frames: list[np.ndarray], out: Path, fps: float) -> None:
    """Our frames encoded the way PillowWriter does (adaptive palette per frame, Pillow's defaults)."""
    from PIL import Image

    images = [Image.fromarray(f) for f in frames]
    images[0].save(out, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)


def header() -> str:
    import matplotlib
    import imageio_ffmpeg

    return (f"machine: {os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}, "
            f"matplotlib {matplotlib.__version__}, numpy {np.__version__}, "
            f"imageio-ffmpeg {imageio_ffmpeg.__version__} (ffmpeg {imageio_ffmpeg.get_ffmpeg_version()})")


def speed(folder: Path, rounds: int) -> None:
    hist = build_history(folder, 10, "bench200")
    h = history_mod.load(hist)
    fps = 20.0
    size = tuple(config.from_dict(h.config).render.size)
    raw, samples, frames = dump_frames(hist, folder)
    print(f"History: seed problem recorded every 10 steps, {len(h)} snapshots, {size[0]}x{size[1]}, "
          f"{len(h)} frames at {fps:g} fps, {rounds} rounds, medians\n")
    cmds = {
        "polyanim gif": [PY, str(ROOT / "render.py"), str(hist), "--out", str(folder / "ours.gif"), "-q"],
        "polyanim mp4": [PY, str(ROOT / "render.py"), str(hist), "--out", str(folder / "ours.mp4"), "-q"],
        "baseline FuncAnimation+PillowWriter": [PY, str(ROOT / "benchmarks/baseline_post.py"), str(hist),
                                                str(folder / "baseline.gif"), f"{fps:g}"],
    }
    floors = {"floor gif": ffmpeg_floor(raw, samples, size, fps, folder / "floor.gif", "gif"),
              "floor mp4": ffmpeg_floor(raw, samples, size, fps, folder / "floor.mp4", "mp4")}
    times: dict[str, list[float]] = {k: [] for k in [*cmds, *floors]}
    peaks: dict[str, list[int]] = {k: [] for k in times}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            times[name].append(run(cmd)[0])
        for name, steps in floors.items():
            times[name].append(sum(run_step(c)[0] for c in steps))
    for name, cmd in cmds.items():
        peaks[name].append(run(cmd, sample=True)[1])
    for name, steps in floors.items():
        peaks[name].append(max(run_step(c, sample=True)[1] for c in steps))
    pillow_gif(frames, folder / "pillow_ours.gif", fps)
    size_of = {"polyanim gif": folder / "ours.gif", "polyanim mp4": folder / "ours.mp4",
               "baseline FuncAnimation+PillowWriter": folder / "baseline.gif",
               "floor gif": folder / "floor.gif", "floor mp4": folder / "floor.mp4"}
    med = {k: statistics.median(v) for k, v in times.items()}
    print("| run | median wall s | peak RSS MiB | bytes |")
    print("| --- | ---: | ---: | ---: |")
    for k in times:
        print(f"| {k} | {med[k]:.2f} | {max(peaks[k]) / 1024:.0f} | {size_of[k].stat().st_size:,} |")
    ours, pill, base = (folder / "ours.gif").stat().st_size, (folder / "pillow_ours.gif").stat().st_size, \
        (folder / "baseline.gif").stat().st_size
    print(f"| Pillow (PillowWriter's encoder) on polyanim's frames | | | {pill:,} |")
    print()
    print(f"1. speed vs usual way: baseline / polyanim gif = {med['baseline FuncAnimation+PillowWriter'] / med['polyanim gif']:.1f}x"
          f"  (target >= 12x)")
    print(f"2. speed vs floor: polyanim gif / ffmpeg alone = {med['polyanim gif'] / med['floor gif']:.2f}x, "
          f"mp4 = {med['polyanim mp4'] / med['floor mp4']:.2f}x  (target <= 1.5x)")
    print(f"3. GIF bytes: ours / PillowWriter baseline run = {ours / base:.3f}, "
          f"ours / Pillow on the same frames = {ours / pill:.3f}  (target <= 0.25); "
          f"mean |decoded - RGB| = {gif_quality(folder / 'ours.gif', frames):.3f} of 255 (target <= 2)")
    print("\n| render.quality | colours | bytes | / baseline | mean abs error (0-255) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for quality, q in GIF_QUALITY.items():
        out = folder / f"q_{quality}.gif"
        run([PY, str(ROOT / "render.py"), str(hist), "--out", str(out), "-q", "--set", f"render.quality={quality}"])
        print(f"| {quality} | {q['colors']} | {out.stat().st_size:,} | {out.stat().st_size / base:.3f} | "
              f"{gif_quality(out, frames):.2f} |")


def memory(folder: Path, rounds: int) -> None:
    small, large = build_history(folder, 10, "mem200"), build_history(folder, 1, "mem2000")
    print("Peak RSS of the whole process tree (python + ffmpeg), max over rounds\n")
    print("| frames | format | median wall s | peak RSS MiB |")
    print("| ---: | --- | ---: | ---: |")
    result = {}
    for kind in ("gif", "mp4"):
        for hist in (small, large):
            n = len(history_mod.load(hist))
            runs = [run([PY, str(ROOT / "render.py"), str(hist), "--out", str(folder / f"m.{kind}"), "-q"],
                        sample=True) for _ in range(rounds)]
            result[kind, n] = max(p for _, p in runs)
            print(f"| {n} | {kind} | {statistics.median(w for w, _ in runs):.2f} | {result[kind, n] / 1024:.0f} |")
    print()
    for kind in ("gif", "mp4"):
        (n1, p1), (n2, p2) = sorted((n, p) for (k, n), p in result.items() if k == kind)
        print(f"4. memory {kind}: peak RSS {n2} frames / {n1} frames = {p2 / p1:.2f}  (target <= 1.2)")


def startup(folder: Path, rounds: int) -> None:
    hist = build_history(folder, 10, "start")
    png = [PY, str(ROOT / "render.py"), str(hist), "--out", str(folder / "poster.png"), "-q"]
    imports = [PY, "-c", "import matplotlib, imageio"]
    a, b = [], []
    for _ in range(max(rounds, 5)):
        a.append(run(png)[0])
        b.append(run(imports)[0])
    print(f"5. start-up: render.py HISTORY --out x.png {statistics.median(a):.2f} s, "
          f"python -c 'import matplotlib, imageio' {statistics.median(b):.2f} s: "
          f"ratio {statistics.median(a) / statistics.median(b):.2f}x  (target <= 1.5x)")


def medians(cmds: dict, rounds: int) -> dict:
    """Median wall seconds of each entry (a command, or a list of commands timed together), run
    alternately: round by round, every entry once."""
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            steps = cmd if isinstance(cmd[0], list) else [cmd]
            times[name].append(sum(run(step)[0] for step in steps))
    return {k: statistics.median(v) for k, v in times.items()}


def first_file(folder: Path, rounds: int, before: Path | None) -> None:
    """Issue 11.1: `render.py configs/sin.yaml` against `import torch` + replaying its History."""
    render_py = str(ROOT / "render.py")
    cfg = str(ROOT / "configs/sin.yaml")
    run([PY, render_py, cfg, "--out", str(folder / "sin.gif")])  # the History to replay
    hist = folder / "sin.history.npz"
    no_overlap = ("import sys; import polyanim.cli as c; c._preload_drawing = lambda: None; "
                  "sys.exit(c.main(sys.argv[1:]))")
    cmds = {
        "render.py configs/sin.yaml": [PY, render_py, cfg, "--out", str(folder / "a" / "sin.gif")],
        "import torch + replay": [[PY, "-c", "import torch"], [PY, render_py, str(hist), "--out", str(folder / "r.gif")]],
        "same, drawing imports not overlapped": [PY, "-c", no_overlap, cfg, "--out", str(folder / "b" / "sin.gif")],
    }
    if before:
        cmds["before (" + before.name + ")"] = [PY, str(before / "render.py"), cfg, "--out", str(folder / "c" / "sin.gif")]
    med = medians(cmds, max(rounds, 5))
    print("| process(es) | median wall s |")
    print("| --- | ---: |")
    for k, v in med.items():
        print(f"| {k} | {v:.2f} |")
    base = med["import torch + replay"]
    print(f"\n1. time to first file: {med['render.py configs/sin.yaml'] / base:.2f}x import torch + replay "
          f"(target <= 1.25x); without the overlapped imports {med['same, drawing imports not overlapped'] / base:.2f}x"
          + "".join(f"; {k} {v / base:.2f}x" for k, v in med.items() if k.startswith("before")))


def many(folder: Path, rounds: int) -> None:
    """Issue 11.2: gif + mp4 + png drawn once, against three separate runs."""
    hist = build_history(folder, 10, "many200")
    render_py = str(ROOT / "render.py")
    outs = [folder / f"m.{e}" for e in ("gif", "mp4", "png")]
    together = [PY, render_py, str(hist), "-q"] + [a for o in outs for a in ("--out", str(o))]
    separate = [[PY, render_py, str(hist), "-q", "--out", str(folder / f"s.{e}")] for e in ("gif", "mp4", "png")]
    med = medians({"one run, --out x.gif --out x.mp4 --out x.png": together, "three separate runs": separate},
                  rounds)
    same = all((folder / f"m.{e}").read_bytes() == (folder / f"s.{e}").read_bytes() for e in ("gif", "mp4", "png"))
    for k, v in med.items():
        print(f"| {k} | {v:.2f} s |")
    ratio = med["one run, --out x.gif --out x.mp4 --out x.png"] / med["three separate runs"]
    print(f"\n2. draw once, write many: {ratio:.2f}x three separate runs (target <= 0.6x); "
          f"outputs byte-identical: {same}")


def careful(folder: Path, rounds: int) -> None:
    """Issue 11.6: against the careful matplotlib user (set_data, FuncAnimation.save, matplotlib's writers)."""
    hist = build_history(folder, 10, "careful200")
    fps = 20.0
    render_py = str(ROOT / "render.py")
    cmds = {}
    for kind in ("gif", "mp4"):
        cmds[f"polyanim {kind}"] = [PY, render_py, str(hist), "-q", "--out", str(folder / f"ours.{kind}")]
        cmds[f"careful user {kind}"] = [PY, str(ROOT / "benchmarks/baseline_careful.py"), str(hist),
                                        str(folder / f"careful.{kind}"), f"{fps:g}"]
    med = medians(cmds, rounds)
    print("| run | median wall s | bytes |")
    print("| --- | ---: | ---: |")
    for k, v in med.items():
        name = ("ours." if k.startswith("polyanim") else "careful.") + k.split()[-1]
        print(f"| {k} | {v:.2f} | {(folder / name).stat().st_size:,} |")
    for kind in ("gif", "mp4"):
        print(f"6. vs the careful user, {kind}: {med[f'careful user {kind}'] / med[f'polyanim {kind}']:.1f}x faster, "
              f"{(folder / f'ours.{kind}').stat().st_size / (folder / f'careful.{kind}').stat().st_size:.2f}x the bytes")


def formats(folder: Path) -> None:
    """Issue 11.4: the demo (configs/sin.yaml) in every animated format, bytes and render time."""
    render_py = str(ROOT / "render.py")
    run([PY, render_py, str(ROOT / "configs/sin.yaml"), "-q", "--out", str(folder / "demo.gif")])
    hist = folder / "demo.history.npz"
    print("| format | bytes | / GIF | render s |")
    print("| --- | ---: | ---: | ---: |")
    gif = (folder / "demo.gif").stat().st_size
    for name, extra in (("gif", []), ("mp4", []), ("webm", []), ("webp", []), ("apng", []),
                        ("webp", ["--set", "render.quality=small"]), ("apng", ["--set", "render.quality=small"])):
        out = folder / f"f_{name}{'_small' if extra else ''}.{name}"
        wall = run([PY, render_py, str(hist), "-q", "--out", str(out), *extra])[0]
        label = name + (" (quality small: GIF palette)" if extra else "")
        print(f"| {label} | {out.stat().st_size:,} | {out.stat().st_size / gif:.2f} | {wall:.1f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--memory", action="store_true")
    p.add_argument("--startup", action="store_true")
    p.add_argument("--first-file", action="store_true")
    p.add_argument("--many", action="store_true")
    p.add_argument("--careful", action="store_true")
    p.add_argument("--formats", action="store_true")
    p.add_argument("--before", type=Path, default=None, help="a checkout of an earlier version, for --first-file")
    p.add_argument("--all", action="store_true")
    args = p.parse_args()
    extra = {"first_file": lambda f: first_file(f, args.rounds, args.before), "many": lambda f: many(f, args.rounds),
             "careful": lambda f: careful(f, args.rounds), "formats": formats}
    chosen = [k for k in extra if getattr(args, k)]
    if chosen and not args.all:
        print(header(), "\n")
        with tempfile.TemporaryDirectory() as tmp:
            for k in chosen:
                extra[k](Path(tmp))
                print()
        return
    print(header(), "\n")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.all or not (args.memory or args.startup):
            speed(folder, args.rounds)
            print()
        if args.all or args.memory:
            memory(folder, args.rounds)
            print()
        if args.all or args.startup:
            startup(folder, args.rounds)
        if args.all:
            for k in extra:
                print()
                extra[k](folder)


if __name__ == "__main__":
    main()
