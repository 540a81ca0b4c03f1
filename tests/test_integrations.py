"""The framework callbacks, with the real frameworks on the CPU: what they record matches what the framework logs."""

import csv
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

import polyanim
from polyanim.integrations._common import Grid, Recording, torch_predict

from conftest import ROOT

SMALL = dict(size=(160, 120), fps=10, hold=0)
GRID = np.linspace(-3, 3, 50)
# Lightning 2.6's pytree helper trips a deprecation of torch's own: silenced by its text, in Lightning's tests only
PYTREE = "ignore:`isinstance\\(treespec, LeafSpec\\)` is deprecated:FutureWarning"


def n_frames(path) -> int:
    with Image.open(path) as image:
        return image.n_frames


def points(n=32):
    torch.manual_seed(0)
    xs = torch.linspace(-3, 3, n)[:, None]
    return xs, torch.sin(xs)


def mlp():
    return torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def on_grid(model):
    with torch.no_grad():
        out = model(torch.as_tensor(GRID, dtype=torch.float32)[:, None])
    return (out["logits"] if isinstance(out, dict) else out).numpy().ravel()


# --- Lightning ----------------------------------------------------------------------------------

def lightning_fit(tmp_path, steps, callback):
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger

    class Curve(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = mlp()

        def forward(self, x):
            return self.net(x)

        def training_step(self, batch, batch_idx):
            loss = torch.nn.functional.mse_loss(self(batch[0]), batch[1])
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            opt = torch.optim.SGD(self.parameters(), lr=0.05)
            return [opt], [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.999)]  # lr moves every step

    module = Curve()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*points()), batch_size=32)
    trainer = L.Trainer(max_steps=steps, callbacks=[callback], accelerator="cpu", logger=CSVLogger(tmp_path),
                        log_every_n_steps=1, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(module, loader)
    with open(os.path.join(trainer.logger.log_dir, "metrics.csv")) as f:
        logged = {int(row["step"]): float(row["train_loss"]) for row in csv.DictReader(f)}
    return module, logged


@pytest.mark.filterwarnings(PYTREE)
def test_lightning_records_the_logged_losses_and_the_trained_model(tmp_path):
    from polyanim.integrations.lightning import PolyanimCallback

    cb = PolyanimCallback(GRID, target="sin(x)", every=20, out=tmp_path / "fit.gif", render=SMALL)
    module, logged = lightning_fit(tmp_path, 200, cb)
    h = polyanim.load(tmp_path / "fit.history.npz")
    assert list(h.steps) == [*range(0, 200, 20), 200]
    kept = list(h.steps[:-1])
    np.testing.assert_allclose(h.loss[:-1], [logged[s] for s in kept], rtol=1e-6)
    assert h.loss[-1] == pytest.approx(logged[199], rel=1e-6)  # the last step's loss stands for the trained model
    np.testing.assert_allclose(h.lr[:-1], [0.05 * 0.999 ** s for s in kept], rtol=1e-5)
    np.testing.assert_allclose(h.pred[-1], on_grid(module), atol=1e-6)
    assert not np.allclose(h.pred[0], h.pred[-1])  # it did train: the first frame is the untrained model
    assert n_frames(tmp_path / "fit.gif") == len(h) == 11
    assert h.meta["framework"]["name"] == "lightning"


# --- transformers -------------------------------------------------------------------------------

class Regressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp()

    def forward(self, x, labels=None):
        y = self.net(x)
        return {"logits": y} if labels is None else {"loss": torch.nn.functional.mse_loss(y, labels), "logits": y}


class Tokens(torch.nn.Module):
    """A model of token ids, as transformers' models are: a float grid is no input to it."""

    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(10, 1)

    def forward(self, input_ids, labels=None):
        y = self.embed(input_ids).squeeze(-1)
        return {"logits": y} if labels is None else {"loss": torch.nn.functional.mse_loss(y, labels), "logits": y}


class Rows(torch.utils.data.Dataset):
    def __init__(self, **columns):
        self.columns = columns

    def __len__(self):
        return len(next(iter(self.columns.values())))

    def __getitem__(self, i):
        return {k: v[i] for k, v in self.columns.items()}


def hf_train(tmp_path, model, data, steps, callback):
    from transformers import Trainer, TrainingArguments

    args = TrainingArguments(output_dir=str(tmp_path / "hf"), max_steps=steps, per_device_train_batch_size=32,
                             learning_rate=0.01, lr_scheduler_type="linear", logging_steps=1000, save_strategy="no",
                             report_to="none", use_cpu=True, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=data, callbacks=[callback])
    trainer.train()
    return {e["step"]: e for e in trainer.state.log_history if "loss" in e}


def test_hf_trainer_records_one_steps_loss_at_each_kept_step_and_the_trained_model(tmp_path):
    from polyanim.integrations.hf import PolyanimCallback

    xs, ys = points()
    cb = PolyanimCallback(GRID, target="sin(x)", every=25, out=[tmp_path / "fit.gif", tmp_path / "fit.png"],
                          render=SMALL)
    model = Regressor()
    logged = hf_train(tmp_path, model, Rows(x=xs, labels=ys), 200, cb)
    h = polyanim.load(tmp_path / "fit.history.npz")
    assert list(h.steps) == [*range(0, 200, 25), 200]
    # the Trainer numbers a log after its step (step k's loss is the entry at k + 1), and the callback asked it
    # to log the step before too, so that entry is step k's loss alone; its learning_rate is the next step's
    np.testing.assert_allclose(h.loss, [logged[s + 1]["loss"] for s in h.steps[:-1]] + [logged[200]["loss"]],
                               rtol=1e-6)
    assert all(s in logged and s + 1 in logged for s in h.steps[1:-1])  # each a window of one step
    np.testing.assert_allclose(h.lr[:-1], [0.01 * (1 - s / 200) for s in h.steps[:-1]], rtol=1e-5)
    np.testing.assert_allclose(h.pred[-1], on_grid(model), atol=1e-5)
    assert n_frames(tmp_path / "fit.gif") == len(h) == 9 and (tmp_path / "fit.png").stat().st_size > 0


def test_a_model_that_takes_no_grid_gets_one_line_naming_predict_and_predict_works(tmp_path):
    from polyanim.integrations.hf import PolyanimCallback

    ids, target = torch.arange(10).repeat(4), torch.linspace(-1, 1, 10).repeat(4)
    with pytest.raises(polyanim.InputError, match=r"predict=") as err:
        hf_train(tmp_path, Tokens(), Rows(input_ids=ids, labels=target), 20,
                 PolyanimCallback(GRID, every=5, out=tmp_path / "no.gif"))
    assert "\n" not in str(err.value) and not (tmp_path / "no.gif").exists()

    def predict(model, x):  # the grid point nearest each token id
        return model(input_ids=((x[:, 0] + 3) / 6 * 9).round().long())["logits"]

    cb = PolyanimCallback(GRID, every=5, predict=predict)
    model = Tokens()
    hf_train(tmp_path, model, Rows(input_ids=ids, labels=target), 20, cb)
    with torch.no_grad():
        expected = predict(model, torch.as_tensor(GRID, dtype=torch.float32)[:, None]).numpy()
    np.testing.assert_allclose(cb.history().pred[-1], expected, atol=1e-6)


# --- Keras, in its own process: the backend is chosen once per process, by KERAS_BACKEND ----------

KERAS_FIT = """
import json, sys, numpy as np
from polyanim.integrations.keras import PolyanimCallback
import keras
keras.utils.set_random_seed(0)
xs = np.linspace(-3, 3, 32, dtype="float32")[:, None]
model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
cb = PolyanimCallback(np.linspace(-3, 3, 50), target="sin(x)", every=20, out=sys.argv[1],
                      render=dict(size=(160, 120), fps=10, hold=0))
fit = model.fit(xs, np.sin(xs), batch_size=32, epochs=200, verbose=0, shuffle=False, callbacks=[cb])
grid = np.linspace(-3, 3, 50, dtype="float32")[:, None]
print(json.dumps({"loss": fit.history["loss"], "pred": keras.ops.convert_to_numpy(model(grid)).ravel().tolist(),
                  "backend": keras.backend.backend(), "tensorflow": "tensorflow" in sys.modules}))
"""


def test_keras_on_torch_records_the_logged_losses_and_the_trained_model(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}  # the adapter's own default is tested
    done = subprocess.run([sys.executable, "-c", KERAS_FIT, str(tmp_path / "fit.gif")], capture_output=True,
                          text=True, cwd=tmp_path, env=dict(env, PYTHONPATH=str(ROOT)), timeout=300)
    assert done.returncode == 0, done.stderr
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    assert theirs["backend"] == "torch" and not theirs["tensorflow"]
    h = polyanim.load(tmp_path / "fit.history.npz")
    assert list(h.steps) == [*range(0, 200, 20), 200]
    # one batch per epoch: Keras's epoch loss is that step's loss
    np.testing.assert_allclose(h.loss, [theirs["loss"][s] for s in h.steps[:-1]] + [theirs["loss"][-1]], rtol=1e-6)
    np.testing.assert_allclose(h.pred[-1], theirs["pred"], atol=1e-6)
    assert n_frames(tmp_path / "fit.gif") == len(h) and h.meta["framework"]["backend"] == "torch"


# --- the shared part, without a framework --------------------------------------------------------

def test_prediction_is_in_eval_mode_without_grad_and_restores_every_submodules_mode():
    seen = []

    class Probe(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body, self.frozen = torch.nn.Linear(1, 1).double(), torch.nn.Dropout(0.5)

        def forward(self, x):
            seen.append((self.training, torch.is_grad_enabled(), x.dtype, tuple(x.shape)))
            return self.frozen(self.body(x))

    model = Probe()
    model.frozen.eval()  # the user froze this part on purpose
    out = torch_predict(model, Grid(GRID))
    assert seen == [(False, False, torch.float64, (50, 1))] and out.shape == (50,)
    assert model.training and not model.frozen.training


def test_bad_arguments_are_one_line_input_errors(tmp_path):
    with pytest.raises(polyanim.InputError, match="evry: not an option"):
        Recording("PolyanimCallback", GRID, None, None, None, {"evry": 10})
    with pytest.raises(polyanim.InputError, match="every"):
        Recording("PolyanimCallback", GRID, None, None, None, {"every": 0})
    with pytest.raises(polyanim.InputError, match="suffix|format"):
        Recording("PolyanimCallback", GRID, None, tmp_path / "fit.xyz", None, {})
    with pytest.raises(polyanim.InputError, match="render: fps"):
        Recording("PolyanimCallback", GRID, None, None, {"fps": 1000}, {})
    with pytest.raises(polyanim.InputError, match="predict="):
        Grid(GRID).inputs((3,))


# --- the examples, small ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["lightning_fit", "keras_fit", "hf_trainer_fit"])
def test_examples_run(tmp_path, name):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, str(ROOT / "examples" / f"{name}.py"), "--steps", "30", "--every", "10",
                           "--out-dir", str(tmp_path), "--size", "160", "120"], capture_output=True, text=True,
                          cwd=tmp_path, env=dict(env, PYTHONPATH=str(ROOT)), timeout=300)
    assert done.returncode == 0, done.stderr
    h = polyanim.load(tmp_path / f"{name}.history.npz")
    assert list(h.steps) == [0, 10, 20, 30] and n_frames(tmp_path / f"{name}.gif") >= len(h)
    assert h.loss[-1] < h.loss[0]


def test_importing_polyanim_and_the_integrations_package_imports_no_framework(tmp_path):
    from conftest import run_python

    done = run_python("import sys, polyanim, polyanim.integrations, polyanim.integrations._common\n"
                      "print(sorted(m for m in ('lightning', 'keras', 'transformers', 'torch') if m in sys.modules))",
                      tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr


# --- two inputs: the mesh ---------------------------------------------------------------------------

def moons(n=64):
    from polyanim import datasets

    X, y = datasets.make("moons", n, noise=0.1, seed=0)
    return torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y)


@pytest.mark.filterwarnings(PYTREE)
def test_lightning_records_a_classifier_on_the_recorders_mesh(tmp_path):
    import lightning as L

    from polyanim.integrations.lightning import PolyanimCallback

    class Classifier(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2))

        def forward(self, x):
            return self.net(x)  # logits: the callback turns them into probabilities

        def training_step(self, batch, batch_idx):
            return torch.nn.functional.cross_entropy(self(batch[0]), batch[1])

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=0.05)

    X, y = moons()
    cb = PolyanimCallback(X, y, every=20, resolution=24, out=tmp_path / "field.gif", render=SMALL)
    module = Classifier()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=64)
    L.Trainer(max_steps=100, callbacks=[cb], accelerator="cpu", logger=False, enable_checkpointing=False,
              enable_progress_bar=False, enable_model_summary=False).fit(module, loader)
    h = polyanim.load(tmp_path / "field.history.npz")
    assert h.kind == "field" and list(h.steps) == [0, 20, 40, 60, 80, 100]
    with torch.no_grad():
        expected = module(torch.as_tensor(cb.recording.recorder.mesh)).softmax(-1)[:, 1].numpy()
    np.testing.assert_allclose(h.pred[-1].ravel(), expected, atol=1e-6)  # P(class 1), the mesh row-major
    assert n_frames(tmp_path / "field.gif") == len(h)


def test_the_mesh_takes_logits_or_probabilities_and_refuses_a_curve_shaped_input():
    X, y = moons(16)
    mesh = Recording("PolyanimCallback", X, y, None, None, {"resolution": 4}).grid
    assert mesh.inputs().shape == (16, 2) and mesh.inputs((2, 1)).shape == (16, 2, 1)
    with pytest.raises(polyanim.InputError, match="2 numbers per point; pass predict="):
        mesh.inputs((1,))
    logits = np.array([[0.0, np.log(3.0)]] * 16)
    np.testing.assert_allclose(mesh.values(logits), [[0.25, 0.75]] * 16, rtol=1e-6)
    np.testing.assert_allclose(mesh.values(np.zeros(16)), 0.5)  # one logit: the sigmoid
    probs = Recording("PolyanimCallback", X, y, None, None, {"resolution": 4, "logits": False}).grid
    np.testing.assert_array_equal(probs.values(np.full((16, 2), 0.5)), 0.5)


def test_an_unsorted_grid_gets_each_prediction_at_its_own_x():
    rec = Recording("PolyanimCallback", np.array([0.0, 2.0, 1.0, 3.0]), None, None, None, {"every": 1})
    rec.before(0, lambda: rec.grid.values(10 * rec.grid.x))
    rec.after(0, 1.0)
    h = rec.history()
    np.testing.assert_array_equal(h.pred[0], 10 * h.x)


KERAS_FIELD = """
import json, sys, numpy as np
from polyanim import datasets
from polyanim.integrations.keras import PolyanimCallback
import keras
keras.utils.set_random_seed(0)
X, y = datasets.make("moons", 64, noise=0.1, seed=0)
model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
cb = PolyanimCallback(X, y, every=10, resolution=20, logits=False)  # the model ends in its own softmax
model.fit(X.astype("float32"), y, batch_size=64, epochs=40, verbose=0, callbacks=[cb])
cb.history().save(sys.argv[1])
print(json.dumps(keras.ops.convert_to_numpy(model(cb.recording.recorder.mesh))[:, 1].tolist()))
"""


def test_keras_records_a_softmax_classifier_on_the_mesh(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    done = subprocess.run([sys.executable, "-c", KERAS_FIELD, str(tmp_path / "k.history.npz")], capture_output=True,
                          text=True, cwd=tmp_path, env=dict(env, PYTHONPATH=str(ROOT)), timeout=300)
    assert done.returncode == 0, done.stderr
    h = polyanim.load(tmp_path / "k.history.npz")
    assert h.kind == "field" and list(h.steps) == [0, 10, 20, 30, 40]
    np.testing.assert_allclose(h.pred[-1].ravel(), json.loads(done.stdout.strip().splitlines()[-1]), atol=1e-6)
