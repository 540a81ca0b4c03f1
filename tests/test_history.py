import json
import zipfile

import numpy as np
import pytest

from polyanim.history import FORMAT_VERSION, HistoryError, load

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
