"""A race keeps every step's parameter pair (``path``), so the paths panel draws the path the optimizer took."""

import numpy as np
import pytest

from polyanim import config
from polyanim.history import History, HistoryError, load
from polyanim.history_io import MAX_PATH
from polyanim.scene import Scene
from polyanim.train_paths import train, train_one

# few snapshots of a fast optimizer: between two kept snapshots it moves a long way
SPARSE = {"problem": {"function": "rosenbrock", "steps": 300}, "train": {"frames": 6, "lr": 2e-4},
          "render": {"panels": ["paths", "loss"], "size": [320, 240], "hold": 0},
          "runs": [{"label": "SGD"}, {"label": "Adam", "train": {"optimizer": "adam", "lr": 0.05}},
                   {"label": "too fast", "train": {"lr": 4e-3}}]}


def single(**changes):
    """SPARSE as one run (no ``runs:``), with ``changes`` to its sections."""
    return config.from_dict({**{k: v for k, v in SPARSE.items() if k != "runs"}, **changes})


def bare(h: History) -> History:
    """The same run as a file from before ``path``: snapshots only."""
    return History(steps=h.steps, loss=h.loss, x=h.x, y=h.y, pred=h.pred, params=h.params, meta=h.meta, lr=h.lr)


def test_a_race_keeps_every_steps_pair_with_each_snapshot_on_it():
    adam = train(config.from_dict(SPARSE)).histories[1]
    assert len(adam.steps) <= 8 and adam.path.shape == (301, 2)
    np.testing.assert_array_equal(adam.path_steps, np.arange(301))
    np.testing.assert_array_equal(adam.path[adam.steps], adam.params)


def test_a_long_race_thins_its_path_keeping_every_snapshots_step():
    cfg = single(problem={"function": "rosenbrock", "steps": 9000})
    h = train_one(cfg)
    assert len(h.path) <= MAX_PATH and h.path_steps[-1] == 9000
    assert np.isin(h.steps, h.path_steps).all()
    np.testing.assert_array_equal(h.path[np.searchsorted(h.path_steps, h.steps)], h.params)


def test_the_frame_draws_the_steps_between_sparse_snapshots():
    runs = train(config.from_dict(SPARSE))
    scene = Scene(runs, config.from_dict(SPARSE).render)
    panel, adam = scene.panels["paths"], runs.histories[1]
    j = 3
    position = int(np.searchsorted(runs.steps, adam.steps[j]))
    scene.update(position)
    drawn = np.column_stack(panel.lines[1].get_data())
    between = adam.path[adam.steps[j - 1] + 1: adam.steps[j]]  # none of them a snapshot
    assert len(between) > 5 and len(drawn) == adam.steps[j] + 2  # every step to the snapshot's, then the head
    np.testing.assert_array_equal(drawn[:-1], adam.path[: adam.steps[j] + 1])
    np.testing.assert_array_equal(np.ravel(panel.dots[1].get_data()), adam.params[j])
    # between two snapshots the head is the interpolated state's, as before
    scene.update(position + 0.5)
    state = scene.timeline.states(position + 0.5)[1]
    np.testing.assert_allclose(np.ravel(panel.dots[1].get_data()), state.params)


def test_a_history_without_a_path_draws_its_snapshots_as_before():
    runs = train(config.from_dict(SPARSE))
    from polyanim.history import RunSet
    old = RunSet([(label, bare(h)) for label, h in runs], meta=runs.meta)
    scene = Scene(old, config.from_dict(SPARSE).render)
    scene.update(3)
    adam = old.histories[1]
    j = int(np.searchsorted(adam.steps, old.steps[3], side="right")) - 1
    np.testing.assert_array_equal(np.column_stack(scene.panels["paths"].lines[1].get_data()),
                                  np.vstack([adam.params[: j + 1], adam.params[j]]))


def test_the_path_round_trips_through_a_file_and_old_files_load_without_one(tmp_path):
    runs = train(config.from_dict(SPARSE))
    back = load(runs.save(tmp_path / "race.npz"))
    for h, b in zip(runs.histories, back.histories):
        np.testing.assert_array_equal(b.path, h.path)
        np.testing.assert_array_equal(b.path_steps, h.path_steps)
        assert b.path_steps.dtype == np.int64
    old = load(bare(runs.histories[0]).save(tmp_path / "old.npz"))
    assert old.path is None and old.path_steps is None


@pytest.mark.parametrize("path, path_steps, fragment", [
    (np.zeros((10, 3)), np.arange(10), "path, path_steps: expected shapes"),
    (np.zeros((10, 2)), None, "path, path_steps: expected shapes"),
    (np.zeros((MAX_PATH + 1, 2)), np.arange(MAX_PATH + 1), f"M from 1 to {MAX_PATH}"),
    (np.full((10, 2), np.nan), np.arange(10), "path: expected finite"),
    (np.zeros((10, 2)), np.arange(10)[::-1], "path_steps: expected increasing"),
    (np.zeros((3, 2)), np.array([0, 1, 2]), "every one of steps among them"),
    (np.zeros((10, 2)), np.arange(10) + 0.5, "path_steps: expected whole numbers"),
])
def test_a_bad_path_is_refused_in_memory_and_in_a_file(tmp_path, path, path_steps, fragment):
    h = train(single())
    with pytest.raises(ValueError, match=fragment):  # InputError, or the steps' own ValueError
        History(**{**vars(bare(h)), "path": path, "path_steps": path_steps})
    arrays = dict(np.load(h.save(tmp_path / "good.npz")))
    arrays["path"] = path
    if path_steps is None:
        arrays.pop("path_steps")
    else:
        arrays["path_steps"] = path_steps
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(HistoryError, match=fragment):
        load(tmp_path / "bad.npz")


def test_the_players_path_goes_through_every_step_counted_per_snapshot():
    from polyanim.html import html_page
    from test_html import decoded, embedded_data, items, panel

    runs = train(config.from_dict(SPARSE))
    page = html_page(runs, title="race", fps=10, size=(320, 240), panels=("paths", "loss"))
    lines = items(panel(embedded_data(page), "paths"), "lines")
    adam = runs.histories[1]
    assert lines[1]["n"] == len(adam.path) and lines[1]["upto"] == (adam.steps + 1).tolist()
    np.testing.assert_allclose(decoded(lines[1]["x"])[: lines[1]["n"]], adam.path[:, 0], atol=4 / 4095)
    fast = runs.histories[2]  # left the domain: its path ends on the edge, the head there from its last snapshot
    assert lines[2]["upto"][-1] == lines[2]["n"] == len(fast.path) and lines[2]["exit"] == len(fast.steps) - 1
