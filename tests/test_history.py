import json
import re
import zipfile

import numpy as np
import pytest

from polyanim.history import FORMAT_VERSION, History, HistoryError, load

from conftest import make_history


def test_round_trip(tmp_path, history):
    p = history.save(tmp_path / "run.history.npz")
    back = load(p)
    for key in ("steps", "loss", "x", "y", "pred", "params"):
        np.testing.assert_array_equal(getattr(back, key), getattr(history, key))
    assert back.pred.dtype == np.float32
    assert back.meta["config"] == history.meta["config"]
    assert back.meta["version"] == FORMAT_VERSION


def test_plain_numpy_reads_it(tmp_path, history):
    p = history.save(tmp_path / "h.npz")
    with np.load(p) as npz:  # no allow_pickle: nothing pickled inside
        assert set(npz.files) == {"steps", "loss", "x", "y", "pred", "params", "meta"}
        meta = json.loads(str(npz["meta"]))
    assert meta["format"] == "polyanim.history" and meta["config"]["name"] == "t"


def test_without_params(tmp_path):
    p = make_history(params=False).save(tmp_path / "h.npz")
    assert load(p).params is None


def test_save_is_atomic(tmp_path, history, monkeypatch):
    p = history.save(tmp_path / "h.npz")
    good = p.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(RuntimeError):
        history.save(p)
    assert p.read_bytes() == good
    assert [f.name for f in tmp_path.iterdir()] == ["h.npz"]


def load_error(p):
    with pytest.raises(HistoryError) as info:
        load(p)
    msg = str(info.value)
    assert msg.startswith(str(p)) and "\n" not in msg
    return msg


def test_bad_files(tmp_path, history):
    assert "no such history file" in load_error(tmp_path / "missing.npz")
    text = tmp_path / "text.npz"
    text.write_text("hello")
    assert "not a readable .npz" in load_error(text)
    good = history.save(tmp_path / "good.npz").read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(good[: len(good) // 2])
    assert "not a readable .npz" in load_error(cut)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    load_error(empty)


def test_foreign_npz_and_versions(tmp_path, history):
    other = tmp_path / "other.npz"
    np.savez(other, a=np.arange(3))
    assert "missing arrays" in load_error(other)
    single = tmp_path / "single.npz"
    with open(single, "wb") as fh:
        np.save(fh, np.arange(3))
    assert "a single array" in load_error(single)
    p = history.save(tmp_path / "v.npz")
    with zipfile.ZipFile(p) as z:
        arrays = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    meta = json.loads(str(arrays["meta"]))
    meta["version"] = 99
    np.savez(p, **dict(arrays, meta=np.array(json.dumps(meta))))
    assert "unsupported history format version 99" in load_error(p)
    meta["format"] = "something.else"
    np.savez(p, **dict(arrays, meta=np.array(json.dumps(meta))))
    assert "meta.format" in load_error(p)
    np.savez(p, **dict(arrays, meta=np.array("{not json")))
    assert "meta: not a JSON string" in load_error(p)
    meta["format"], meta["version"] = "polyanim.history", FORMAT_VERSION
    np.savez(p, **dict(arrays, meta=np.array(json.dumps(meta)), pred=arrays["pred"][:, :5]))
    assert "pred: expected shape" in load_error(p)


def test_meta_the_renderers_rely_on_is_checked(tmp_path, history):
    p = history.save(tmp_path / "m.npz")
    with zipfile.ZipFile(p) as z:
        arrays = {n[:-4]: np.load(z.open(n)) for n in z.namelist()}
    meta = json.loads(str(arrays["meta"]))
    for key, bad, fragment in [("stopped", {"at": 3}, "meta.stopped"), ("config", "oops", "meta.config"),
                               ("warnings", "x", "meta.warnings")]:
        np.savez(p, **dict(arrays, meta=np.array(json.dumps(dict(meta, **{key: bad})))))
        assert fragment in load_error(p)


def test_a_header_promising_more_than_the_file_holds_is_refused(tmp_path, history):
    p = history.save(tmp_path / "big.npz")
    with zipfile.ZipFile(p) as z:
        members = {n: z.read(n) for n in z.namelist()}
    # claim a 10^13-element array in place of the small `loss`
    members["loss.npy"] = members["loss.npy"].replace(b"(6,)", b"(10000000000000,)".ljust(4))
    with zipfile.ZipFile(p, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    assert "header promises more data than the file holds" in load_error(p)


def arrays_of(p):
    with zipfile.ZipFile(p) as z:
        return {n[:-4]: np.load(z.open(n)) for n in z.namelist()}


def resave(p, arrays, **changes):
    np.savez(p, **dict(arrays, **changes))
    return p


def test_malformed_fields_are_refused_by_name(tmp_path, history):
    """Each of these loaded, then crashed a renderer with exit 1 (or drew nonsense)."""
    p = history.save(tmp_path / "h.npz")
    arrays = arrays_of(p)
    meta = json.loads(str(arrays["meta"]))
    x_nan = arrays["x"].copy()
    x_nan[3] = np.nan
    cases = [
        ({"meta": np.array("[" * 100_000 + "]" * 100_000)}, "meta"),  # json.loads: RecursionError
        ({"meta": np.array(json.dumps(dict(meta, deep=json.loads("[" * 60 + "]" * 60))))}, "nested deeper"),
        ({"pred": arrays["pred"].astype([("a", "<f4")])}, "pred: expected real numbers"),
        ({"pred": arrays["pred"].astype(complex)}, "pred: expected real numbers"),
        ({"loss": arrays["loss"].astype(str)}, "loss: expected real numbers"),
        ({"x": x_nan}, "x: expected finite numbers"),
        ({"data_x": arrays["x"], "data_y": np.full_like(arrays["x"], np.inf)}, "data_y: expected finite"),
        ({"y": np.where(arrays["x"] > 0, np.nan, arrays["y"])}, "y: expected finite numbers, or all NaN"),
        ({"meta": np.array(json.dumps(dict(meta, warnings=["just text"])))}, "meta.warnings[0]"),
        ({"meta": np.array(json.dumps(dict(meta, warnings=[{"message": 3, "note": "n"}])))}, "meta.warnings[0]"),
        ({"meta": np.array(json.dumps(dict(meta, stopped={"step": "3", "reason": "r"})))}, "meta.stopped"),
        ({"meta": np.array(json.dumps(dict(meta, stopped={"step": 3, "reason": ["r"]})))}, "meta.stopped"),
    ]
    for changes, fragment in cases:
        assert fragment in load_error(resave(p, arrays, **changes)), changes.keys()


def test_a_history_without_target_curve_stores_y_as_nan(tmp_path, history):
    history.y = np.full_like(history.y, np.nan)
    back = load(history.save(tmp_path / "h.npz"))
    assert np.isnan(back.y).all()


@pytest.mark.parametrize("steps, fragment", [
    ([0, 10, 20, 30, 50, 40], "strictly increasing"),
    ([0, 10, 20, 20, 30, 40], "strictly increasing"),
    ([-8000, 10, 20, 30, 40, 50], "non-negative"),
    ([0, 10.5, 20, 30, 40, 50], "steps: expected whole numbers"),
    ([0, 10, 20, 30, 40, np.nan], "steps: expected whole numbers"),
    (["0", "1", "2", "3", "4", "5"], "steps: expected real numbers"),
])
def test_steps_out_of_order_or_not_whole_are_refused(tmp_path, history, steps, fragment):
    from conftest import make_runset

    p = history.save(tmp_path / "h.npz")
    assert fragment in load_error(resave(p, arrays_of(p), steps=np.array(steps)))
    runs = make_runset(frames=(6, 6, 6)).save(tmp_path / "runs.npz")
    msg = load_error(resave(runs, arrays_of(runs), run1_steps=np.array(steps)))
    assert ("run 1 ('Adam')" in msg or "run1_steps" in msg) and fragment in msg
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):  # built in memory, too
        History(steps=steps, loss=history.loss, x=history.x, y=history.y, pred=history.pred)


def test_fields_built_in_memory_are_checked(history):
    good = dict(steps=history.steps, loss=history.loss, x=history.x, y=history.y, pred=history.pred)
    History(**dict(good, steps=history.steps.astype(float)))  # whole floats are fine
    for changes, fragment in [({"x": np.where(history.x > 0, np.inf, history.x)}, "x: expected finite"),
                              ({"pred": history.pred.astype(complex)}, "pred: expected real numbers"),
                              ({"steps": np.array(5)}, "steps: expected a non-empty 1-D array"),
                              ({"meta": {"warnings": [None]}}, "meta.warnings[0]"),
                              ({"meta": "text"}, "meta: expected a mapping")]:
        with pytest.raises(ValueError, match=re.escape(fragment)):
            History(**dict(good, **changes))


def deflated(path, arrays: dict, extra: dict = ()):
    """An .npz like np.savez_compressed writes, with ``extra`` raw members (name -> .npy bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for key, value in arrays.items():
            with z.open(f"{key}.npy", "w") as fh:
                np.lib.format.write_array(fh, np.asanyarray(value))
        for name, (header, zeros) in dict(extra).items():
            with z.open(name, "w", force_zip64=True) as fh:
                fh.write(header)
                for _ in range(zeros >> 20):
                    fh.write(bytes(1 << 20))
    return path


def npy_header(shape, dtype="<f4") -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def peak_loading(p):
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            result = load(p)
        except HistoryError as exc:
            result = exc
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_bombs_are_refused_from_their_headers_before_inflating(tmp_path, history):
    arrays = arrays_of(history.save(tmp_path / "h.npz"))
    small = {k: v for k, v in arrays.items() if k != "pred"}
    # pred declares 48 MiB of zeros (deflated to ~50 kB): its shape disagrees with steps and x
    bomb = deflated(tmp_path / "pred.npz", small, {"pred.npy": (npy_header((6, 2_097_152)), 48 << 20)})
    result, peak = peak_loading(bomb)
    assert isinstance(result, HistoryError) and "pred: expected shape (6, 200)" in str(result)
    assert peak < 8 << 20, peak
    # an unknown member is never read: the history loads, without inflating the junk
    junk = deflated(tmp_path / "junk.npz", arrays, {"junk.npy": (npy_header((12_582_912,)), 48 << 20)})
    result, peak = peak_loading(junk)
    assert isinstance(result, History) and peak < 8 << 20, (result, peak)
    # shapes that agree but declare far more than the file's size warrants
    rest = {k: v for k, v in arrays.items() if k not in ("pred", "x", "y", "params")}
    big = deflated(tmp_path / "big.npz", dict(rest, steps=np.arange(48), loss=np.ones(48)),
                   {"pred.npy": (npy_header((48, 200_000)), 40 << 20),
                    "x.npy": (npy_header((200_000,), "<f8"), 2 << 20), "y.npy": (npy_header((200_000,), "<f8"), 2 << 20)})
    assert "MiB a" in load_error(big) and "docs/limits.md" in load_error(big)


def test_an_archive_of_many_members_is_refused_before_its_directory_is_parsed(tmp_path, history):
    p = history.save(tmp_path / "many.npz")
    with zipfile.ZipFile(p, "a") as z:
        for k in range(1500):
            z.writestr(f"n{k}.npy", b"")
    assert "more than 1024 members" in load_error(p)


def test_any_failure_to_read_is_one_line(tmp_path, history, monkeypatch):
    p = history.save(tmp_path / "h.npz")
    import polyanim.history as history_mod

    for exc in (MemoryError(), RecursionError("deep"), OverflowError("big"), zipfile.LargeZipFile("zip64")):
        def fail(*args, exc=exc):
            raise exc
        monkeypatch.setattr(history_mod, "_read_arrays", fail)
        assert type(exc).__name__ in load_error(p)


def test_the_cli_exits_2_with_one_line_for_a_malformed_history(tmp_path, history, capsys):
    from polyanim.cli import main

    p = history.save(tmp_path / "h.npz")
    resave(p, arrays_of(p), pred=arrays_of(p)["pred"].astype([("a", "<f4")]))
    assert main([str(p), "--out", str(tmp_path / "h.gif"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{p}: pred: expected real numbers" in err
