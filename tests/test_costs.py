"""limits counts what renderer.plan lays out; runaway models and data files are refused before training."""

from __future__ import annotations

import numpy as np
import pytest

from polyanim import config, datafile, limits, timing
from polyanim.config import ConfigError
from polyanim.renderer import plan
from polyanim.writers import GifWriter, Mp4Writer


RENDERS = [{}, {"fps": 45, "hold": 42}, {"fps": 45, "hold": 42, "hold_start": 3}, {"fps": 33, "interpolate": 2},
           {"duration": 200, "hold": 1}, {"fps": 25, "duration": 6}, {"fps": 50, "interpolate": 16},
           {"fps": 7, "hold_start": 0.37, "hold": 1.3}]


@pytest.mark.parametrize("render", RENDERS)
@pytest.mark.parametrize("writer", [GifWriter, Mp4Writer])
def test_limits_count_exactly_the_frames_plan_lays_out(render, writer):
    r = config.from_dict({"render": render}).render
    for n in (2, 44, 1001):
        assert limits.frames(n, r, writer.frame_rate) == len(plan(n, r, writer.frame_rate)[0]), (render, n)


def test_limits_refuse_before_training_exactly_when_plan_would_refuse_after():
    # GIF at fps 45 plays 50 fps (2 cs a frame): 18,000 snapshots and a 42 s hold are 20,100 frames, over the
    # 20,000 limit, though 45 fps would make 19,890
    cfg = config.from_dict({"train": {"steps": 17_999, "record_every": 1, "log_every": 0},
                            "render": {"fps": 45, "hold": 42}})
    n = limits.timeline(cfg)
    assert n == 18_000
    with pytest.raises(ConfigError, match="20,100 frames"):
        plan(n, cfg.render, GifWriter.frame_rate)
    with pytest.raises(ConfigError, match="20,100 frames"):
        limits.check_config(cfg, frame_rate=GifWriter.frame_rate)
    limits.check_config(cfg, frame_rate=Mp4Writer.frame_rate)  # at a real 45 fps it fits: no refusal
    assert len(plan(n, cfg.render, Mp4Writer.frame_rate)[0]) == 19_890
    for hold in (41, 41.8, 42, 43):  # around the limit, both sides agree
        r = config.from_dict({"render": {"fps": 45, "hold": hold, "hold_start": 0.5}}).render
        try:
            plan(n, r, GifWriter.frame_rate)
            refused = False
        except ConfigError:
            refused = True
        total = limits.frames(n, r, GifWriter.frame_rate)
        assert refused == (total > limits.MAX_FRAMES), hold


def test_the_timeline_is_counted_without_listing_it():
    # the largest hold the config allows, beyond the frame limit: counted, then refused, with no list made
    r = config.from_dict({"render": {"hold_start": 600, "fps": 100}}).render
    assert timing.count(3, r, GifWriter.frame_rate).start == 600 * 50  # GIF plays fps 100 as 50 (2 cs)
    with pytest.raises(ConfigError, match="frames"):
        plan(3, r, GifWriter.frame_rate)


@pytest.mark.parametrize("model, data, key", [
    ({"degree": 1_000_000_000}, {}, "model.degree"),
    ({"kind": "chebyshev", "degree": 100_000}, {"points": 200_000}, "model.degree"),
    ({"kind": "mlp", "hidden": [4096, 4096, 4096, 4096]}, {"points": 200_000}, "model.hidden"),
])
def test_a_training_step_too_big_for_memory_is_refused(model, data, key):
    cfg = config.from_dict({"model": model, "data": data})
    with pytest.raises(ConfigError) as err:
        limits.check_config(cfg)
    message = str(err.value)
    assert "\n" not in message and message.startswith(key) and "the limit is 4.0 GiB" in message


def test_models_that_fit_are_not_refused():
    for model, data in [({"kind": "mlp", "hidden": [512, 512]}, {"points": 200_000}),
                        ({"kind": "chebyshev", "degree": 200}, {"points": 200_000}), ({}, {})]:
        limits.check_config(config.from_dict({"model": model, "data": data}))


def test_a_degree_whose_monomials_overflow_is_refused_naming_model_degree():
    # pi^77 < 3.4e38 < pi^78: float32, as training computes x^k
    limits.check_config(config.from_dict({"model": {"degree": 77}}))
    with pytest.raises(ConfigError, match=r"^model.degree: 78 overflows float32 on the domain .*at most 77"):
        limits.check_config(config.from_dict({"model": {"degree": 78}}))
    with pytest.raises(ConfigError, match="^model.degree: 200 overflows"):
        limits.check_config(config.from_dict({"model": {"degree": 200}}))
    for kind in ("legendre", "chebyshev"):  # their bases stay within [-1, 1]
        limits.check_config(config.from_dict({"model": {"kind": kind, "degree": 200}}))
    limits.check_config(config.from_dict({"model": {"degree": 200}, "data": {"domain": [-1, 1]}}))


def test_a_model_that_overflows_at_step_0_is_not_blamed_on_the_lr():
    from polyanim.train import TrainingError, train

    cfg = config.from_dict({"model": {"degree": 60}, "train": {"steps": 5, "record_every": 1, "log_every": 0}})
    with pytest.raises(TrainingError, match="a smaller model.degree") as err:
        train(cfg, quiet=True)
    assert "train.lr" not in str(err.value)


def test_data_files_are_capped_by_rows_before_they_are_read(tmp_path, monkeypatch):
    n = datafile.MAX_ROWS + 1
    np.savez(tmp_path / "big.npz", x=np.arange(n, dtype=float), y=np.zeros(n))
    np.save(tmp_path / "big.npy", np.zeros((n, 2)))
    loads = []
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(a))
    for name, what in (("big.npz", "array x"), ("big.npy", "the array")):
        with pytest.raises(datafile.DataFileError, match=f"{what} has 200,001 rows; data files are limited to 200,000"):
            datafile.read(tmp_path / name)
    assert loads == []  # refused from the headers
    monkeypatch.undo()
    rows = tmp_path / "rows.csv"
    rows.write_text("x,y\n" + "".join(f"{k},1\n" for k in range(n)))
    with pytest.raises(datafile.DataFileError, match="more than 200,000 data rows"):
        datafile.read(rows)
    monkeypatch.setattr(datafile, "MAX_CSV_BYTES", 100)
    with pytest.raises(datafile.DataFileError, match=r"bytes; \.csv data files are limited to"):
        datafile.read(rows)


def test_limits_and_the_writers_frame_rates_need_no_matplotlib_imageio_or_torch():
    import subprocess
    import sys

    code = ("import sys\nfrom polyanim import config, limits\nfrom polyanim.writers import GifWriter\n"
            "r = config.from_dict({'render': {'fps': 45, 'hold': 42}}).render\n"
            "assert limits.frames(18_000, r, GifWriter.frame_rate) == 20_100\n"
            "print(sorted(m for m in ('matplotlib', 'imageio_ffmpeg', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
