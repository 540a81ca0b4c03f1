"""What the framework callbacks cost: each framework's bare fit vs the same fit with ``PolyanimCallback``.

    python benchmarks/callbacks_bench.py [--rounds 5] [--steps 2000] [--every 10] [--only lightning,keras,hf]
    python benchmarks/callbacks_bench.py --hooks [--rounds 3]   # CPU time inside the callback's own hooks

The problem is the original post's: a cubic fitted to sin(x) on 2,000 points
by plain SGD, one full batch per step, 2,000 steps. Each framework runs it its
own way (a LightningModule, a Keras Sequential on the torch backend, a
transformers Trainer on an nn.Module returning its loss); the recorded variant
only adds the callback (``every=10``, History kept in memory, nothing
rendered). Bare and recorded runs alternate in this process, one intra-op
thread, after a warm-up; the script prints the medians and their ratio, in
wall-clock time and in this process's CPU time (steadier on a shared machine).
Target: recorded / bare <= 1.10. ``--hooks`` instead times the CPU spent
inside the callback's own hooks during each recorded fit, which a loaded
machine disturbs much less than the ratio of two whole fits.
"""

import argparse
import logging
import math
import os
import statistics
import tempfile
import time
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402

N = 2000


def cubic():
    torch.manual_seed(0)
    return torch.nn.ParameterDict({k: torch.nn.Parameter(torch.randn(())) for k in "abcd"})


class Cubic(torch.nn.Module):
    """The post's model, taking ``x`` of any shape; with ``labels`` it returns the post's summed squared error."""

    def __init__(self):
        super().__init__()
        self.p = cubic()

    def forward(self, x, labels=None):
        p = self.p
        y = p["d"] + p["c"] * x + p["b"] * x ** 2 + p["a"] * x ** 3
        return y if labels is None else {"loss": ((y - labels) ** 2).sum(), "logits": y}


def data():
    x = torch.linspace(-math.pi, math.pi, N)
    return x, torch.sin(x)


def lightning_fit(steps, callback):
    import lightning as L

    class Module(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.model = Cubic()

        def forward(self, x):
            return self.model(x)

        def training_step(self, batch, batch_idx):
            return self.model(*batch)["loss"]

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=1e-6)

    batches = Repeat(data(), steps)  # one epoch of full batches, no collation
    trainer = L.Trainer(max_steps=steps, callbacks=[callback] if callback else [], accelerator="cpu", logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Module(), batches)


class Repeat:
    """The same batch ``n`` times: an epoch of full batches (a list would read as several loaders)."""

    def __init__(self, batch, n):
        self.batch, self.n = batch, n

    def __iter__(self):
        return (self.batch for _ in range(self.n))

    def __len__(self):
        return self.n


def keras_fit(steps, callback):
    import keras

    keras.utils.set_random_seed(0)
    x, y = (v.numpy()[:, None] for v in data())
    model = keras.Sequential([keras.Input((1,)),
                              keras.layers.Lambda(lambda t: keras.ops.concatenate([t, t ** 2, t ** 3], axis=-1)),
                              keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(1e-6 * N), loss="mse")  # mean, not sum: the same steps
    model.fit(np.tile(x, (steps, 1)), np.tile(y, (steps, 1)), batch_size=N, epochs=1, shuffle=False, verbose=0,
              callbacks=[callback] if callback else [])


class OneBatch(torch.utils.data.Dataset):
    """The whole data set as one sample: the Trainer then batches nothing per step."""

    def __len__(self):
        return 1

    def __getitem__(self, i):
        x, y = data()
        return {"x": x, "labels": y}


def hf_fit(steps, callback):
    from transformers import Trainer, TrainingArguments

    with tempfile.TemporaryDirectory() as scratch:
        args = TrainingArguments(output_dir=scratch, max_steps=steps, per_device_train_batch_size=1,
                                 learning_rate=1e-6, optim="sgd", lr_scheduler_type="constant", weight_decay=0.0,
                                 max_grad_norm=0.0, logging_steps=steps, save_strategy="no", report_to="none",
                                 use_cpu=True, disable_tqdm=True, log_level="error")
        Trainer(model=Cubic(), args=args, train_dataset=OneBatch(), callbacks=[callback] if callback else []).train()


FITS = {"lightning": lightning_fit, "keras": keras_fit, "hf": hf_fit}


def make_callback(name, every):
    if name == "lightning":
        from polyanim.integrations.lightning import PolyanimCallback
    elif name == "keras":
        from polyanim.integrations.keras import PolyanimCallback
    else:
        from polyanim.integrations.hf import PolyanimCallback
    return PolyanimCallback(data()[0], target="sin(x)", every=every)


def timed(name, steps, every):
    """(wall seconds, CPU seconds of this process) for one fit, with the callback when ``every`` is given."""
    callback = make_callback(name, every) if every else None
    start, cpu = time.perf_counter(), time.process_time()
    FITS[name](steps, callback)
    seconds = time.perf_counter() - start, time.process_time() - cpu
    if callback is not None:
        assert len(callback.history()) == len(range(0, steps, every)) + 1
    return seconds


HOOKS = {"lightning": ("on_train_batch_start", "on_train_batch_end", "on_train_end"),
         "keras": ("on_train_batch_begin", "on_train_batch_end", "on_train_end"),
         "hf": ("on_step_begin", "on_step_end", "on_log", "on_train_end")}


def hook_seconds(name, steps, every):
    """(CPU seconds inside the callback's hooks, CPU seconds of the whole recorded fit)."""
    callback, spent = make_callback(name, every), [0.0]
    for hook in HOOKS[name]:
        def timed_hook(*args, _hook=getattr(callback, hook), **kwargs):
            cpu = time.process_time()
            try:
                return _hook(*args, **kwargs)
            finally:
                spent[0] += time.process_time() - cpu
        setattr(callback, hook, timed_hook)  # the instance attribute shadows the method the framework calls
    cpu = time.process_time()
    FITS[name](steps, callback)
    return spent[0], time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--only", default="lightning,keras,hf")
    parser.add_argument("--hooks", action="store_true", help="time the callback's own hooks instead")
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")  # the frameworks' own chatter is not what is measured
    for name in ("lightning.pytorch", "lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda"):
        logging.getLogger(name).setLevel(logging.WARNING)
    print(f"post's problem, {args.steps} steps, median of {args.rounds} alternating rounds, 1 thread")
    for name in args.only.split(","):
        timed(name, 100, None), timed(name, 100, args.every)  # warm-up: imports, kernels, first allocations
        if args.hooks:
            runs = [hook_seconds(name, args.steps, args.every) for _ in range(args.rounds)]
            hooks, fit = (statistics.median(r[k] for r in runs) for k in (0, 1))
            print(f"  {name:<10} CPU in the callback's hooks {hooks * 1000:6.0f} ms of a {fit:6.2f} s fit: "
                  f"{hooks / (fit - hooks):6.1%} over the rest", flush=True)
            continue
        bare, recorded = [], []
        for _ in range(args.rounds):  # alternate, so drifts in machine load hit both alike
            bare.append(timed(name, args.steps, None))
            recorded.append(timed(name, args.steps, args.every))
        (b, bc), (r, rc) = ([statistics.median(t[k] for t in runs) for k in (0, 1)] for runs in (bare, recorded))
        print(f"  {name:<10} bare {b:7.3f} s   with callback every={args.every} {r:7.3f} s   "
              f"ratio {r / b:6.3f}   (CPU time: ratio {rc / bc:6.3f})   (target <= 1.10)", flush=True)


if __name__ == "__main__":
    main()
