"""Hostile history files: how long polyanim takes to accept or refuse each, and its peak memory.

Builds a few bombs in a temporary folder (about 30 MB of disk in all), then loads each one with
``polyanim.history.load`` in a fresh interpreter per attempt and prints the wall time of ``load`` and
the process's peak resident memory (``VmHWM`` of /proc/self/status in the child: ``ru_maxrss``
survives exec on Linux, so in a child of this builder it would report the builder's own peak),
with the difference from a baseline: the same process loading a small valid history. Cases are run
in alternation, ``--repeat`` times each (default 3), and medians printed, because the machine is
shared. Goal (issue 10, item 9): any history file under 100 MB is accepted or refused within 2 s and
200 MB.

    PYTHONPATH=. python benchmarks/history_bombs.py [--repeat 3]

The deflated bombs are written by hand (zip64 headers, so a member may declare more than 4 GB) from
one compressed 1 MiB block of zeros repeated with full flushes, so building a 10 GB bomb takes a
second. Their CRCs are not computed: a loader only checks a CRC after inflating the whole member.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = """
import resource, sys, time
from polyanim.history import HistoryError, load
t = time.perf_counter()
try:
    load(sys.argv[1]); outcome = "accepted"
except HistoryError as exc:
    outcome = "refused: " + str(exc).split(": ", 1)[1][:70]
seconds = time.perf_counter() - t
with open("/proc/self/status") as fh:
    hwm = [line.split()[1] for line in fh if line.startswith("VmHWM:")]
peak = int(hwm[0]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{seconds:.4f} {peak / 1024:.1f} {outcome}")
"""


def npy(array=None, shape=None, dtype="<f4") -> bytes:
    """An .npy file's bytes: a whole array, or only the header of one (``shape``, ``dtype``)."""
    buf = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(buf, np.asanyarray(array))
    else:
        np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def zeros_deflated(header: bytes, total: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``header`` then zeros up to ``total`` bytes, and its length inflated."""
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    mib = block.compress(bytes(1 << 20)) + block.flush(zlib.Z_FULL_FLUSH)  # stands alone: repeatable
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = first.compress(header) + first.flush(zlib.Z_FULL_FLUSH)
    n = max(0, -(-(total - len(header)) >> 20))  # whole MiB, rounded up
    return head + mib * n + zlib.compressobj(9, zlib.DEFLATED, -15).flush(), len(header) + (n << 20)


def write_zip(path: Path, members) -> Path:
    """A zip of ``(name, data, inflated size or None for stored)`` members, with zip64 size fields."""
    directory, offset = [], 0
    with open(path, "wb") as fh:
        for name, data, size in members:
            method = zlib.DEFLATED if size is not None else 0
            size = len(data) if size is None else size
            crc = zlib.crc32(data) if method == 0 else 0
            name_b = name.encode()
            extra = struct.pack("<HHQQ", 1, 16, size, len(data))
            fh.write(struct.pack("<4s2B4HL2L2H", b"PK\x03\x04", 45, 0, 0, method, 0, 0x21, crc,
                                 0xFFFFFFFF, 0xFFFFFFFF, len(name_b), len(extra)) + name_b + extra + data)
            directory.append(struct.pack("<4s4B4HL2L5H2L", b"PK\x01\x02", 45, 3, 45, 0, 0, method, 0, 0x21,
                                         crc, 0xFFFFFFFF, 0xFFFFFFFF, len(name_b), len(extra), 0, 0, 0,
                                         0o644 << 16, offset) + name_b + extra)
            offset += 30 + len(name_b) + len(extra) + len(data)
        cd = b"".join(directory)
        fh.write(cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(len(directory), 0xFFFF),
                                  min(len(directory), 0xFFFF), len(cd), offset, 0))
    return path


def valid(frames: int, points: int, pred: bool = True) -> list:
    """Members of a valid single-run history of ``frames`` snapshots on ``points`` grid points (stored);
    without ``pred`` when the caller brings its own."""
    from polyanim import config

    x = np.linspace(-3, 3, points)
    meta = {"format": "polyanim.history", "version": 2, "seed": 0,
                    "config": config.from_dict({"data": {"points": points}}).to_dict()}
    arrays = {"steps": np.arange(frames), "loss": np.ones(frames), "x": x, "y": np.sin(x),
              "meta": np.array(json.dumps(meta))}
    if pred:
        arrays["pred"] = np.zeros((frames, points), np.float32)
    return [(f"{k}.npy", npy(v), None) for k, v in arrays.items()]


def bomb(name: str, frames: int, points: int, declared: int) -> tuple:
    data, size = zeros_deflated(npy(shape=(frames, points)), declared)
    return (name, data, size)


def build(folder: Path) -> dict[str, Path]:
    """The cases: name -> file."""
    cases = {"baseline: small valid history (6 x 200)": write_zip(folder / "ok.npz", valid(6, 200))}
    # the grid of a 200,000-point config, and pred declaring 6 GB (7,500 snapshots) or 10 GB
    small = valid(7_500, 200_000, pred=False)
    cases["pred deflated: 6 MB declaring 6 GB, shapes agree"] = write_zip(
        folder / "six.npz", small + [bomb("pred.npy", 7_500, 200_000, 7_500 * 200_000 * 4)])
    tenk = valid(12_500, 200_000, pred=False)
    cases["pred deflated: 10 MB declaring 10 GB, shapes agree"] = write_zip(
        folder / "ten.npz", tenk + [bomb("pred.npy", 12_500, 200_000, 12_500 * 200_000 * 4)])
    cases["unknown member: 10 MB declaring 10 GB, beside a valid history"] = write_zip(
        folder / "junk.npz", valid(6, 200) + [bomb("junk.npy", 12_500, 200_000, 12_500 * 200_000 * 4)])
    cases["200,000 empty members (10 MB)"] = write_zip(
        folder / "many.npz", valid(6, 200) + [(f"m{k}", b"", None) for k in range(200_000)])
    deep = valid(6, 200)
    deep[[m[0] for m in deep].index("meta.npy")] = ("meta.npy", npy(np.array("[" * 500_000 + "]" * 500_000)), None)
    cases["meta: 500,000 nested lists (4 MB)"] = write_zip(folder / "deep.npz", deep)
    cases["valid, stored: 120 x 200,000 (96 MB)"] = write_zip(folder / "big.npz", valid(120, 200_000))
    params, size = zeros_deflated(npy(shape=(120, 33_000), dtype="<f8"), 120 * 33_000 * 8)
    cases["worst accepted: the 96 MB one + params deflated, 32 MB from 32 kB"] = write_zip(
        folder / "worst.npz", valid(120, 200_000) + [("params.npy", params, size)])
    return cases


def measure(path: Path) -> tuple[float, float, str]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=600)
    if out.returncode:
        return float("nan"), float("nan"), f"exit {out.returncode}: {out.stderr.strip().splitlines()[-1:]}"
    seconds, rss, outcome = out.stdout.split(" ", 2)
    return float(seconds), float(rss), outcome.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = build(Path(tmp))
        results = {name: [] for name in cases}
        for _ in range(args.repeat):  # alternate the cases: load on the machine hits them all alike
            for name, path in cases.items():
                results[name].append(measure(path))
        base_s = statistics.median(r[0] for r in results[next(iter(cases))])
        base_mb = statistics.median(r[1] for r in results[next(iter(cases))])
        print(f"| case | file MB | load s | peak RSS MB | RSS over baseline MB | outcome |")
        print("| --- | --- | --- | --- | --- | --- |")
        for name, path in cases.items():
            s = statistics.median(r[0] for r in results[name])
            mb = statistics.median(r[1] for r in results[name])
            print(f"| {name} | {path.stat().st_size / 1e6:.1f} | {s:.3f} | {mb:.0f} | {mb - base_mb:+.0f} | "
                  f"{results[name][-1][2]} |")
        print(f"(medians of {args.repeat}, one fresh interpreter per load; baseline load {base_s:.3f} s)")


if __name__ == "__main__":
    main()
