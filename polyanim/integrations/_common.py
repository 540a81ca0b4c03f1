"""What the three framework callbacks share: the grid as model inputs, the guarded prediction, the ending.

Each framework's adapter only finds the step, the loss, the learning rate and
the model in its own callback hooks and hands them to :class:`Recording`. The
drawing grid's conversion to model inputs lives in :class:`Grid` alone, so a
2-D mesh (two-input problems) is added in one place.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InputError
from ..recording import Recorder

CALLER = "PolyanimCallback"  # each framework's callback has this name
RECORDER_KEYS = ("every", "schedule", "steps", "frames", "threshold", "samples", "label", "param_names", "name",
                 "task", "classes", "rect", "resolution", "test", "class_names")  # the last six: two inputs


class Grid:
    """Where the model is asked: a curve's grid ``x`` (``[P]``) or a two-input mesh (``[P, 2]``), as model
    inputs, and the model's answer as what the Recorder takes (one value per point, or class probabilities).

    ``classify``: the mesh of a classifier, whose outputs are ``logits`` (then
    turned into probabilities here: sigmoid of one column, softmax of several)
    unless ``logits`` is False (the model ends in its own sigmoid or softmax).
    """

    def __init__(self, x, classify: bool = False, logits: bool = True):
        self.x = np.asarray(x, dtype=np.float64)
        self.dims = 1 if self.x.ndim == 1 else self.x.shape[1]  # numbers per point
        self.classify, self.logits = classify, bool(logits)
        self.tensors: dict = {}  # (shape, device, dtype) -> the inputs as a tensor, made once

    def tensor(self, feature_shape, device, dtype):
        """:meth:`inputs` as a torch tensor on ``device`` in ``dtype``, built once per placement."""
        key = (tuple(feature_shape or ()), str(device), dtype)
        if key not in self.tensors:
            import torch

            self.tensors[key] = torch.as_tensor(self.inputs(feature_shape)).to(device=device, dtype=dtype)
        return self.tensors[key]

    def inputs(self, feature_shape=None) -> np.ndarray:
        """The points as ``[P, *feature_shape]`` float32: one input per point, shaped like a training input
        (None: ``[P, 1]`` for a curve, ``[P, 2]`` for a mesh)."""
        feature_shape = (self.dims,) if feature_shape is None else tuple(int(n) for n in feature_shape)
        if int(np.prod(feature_shape, dtype=np.int64)) != self.dims:
            shape = ", ".join(map(str, feature_shape))
            gives = "one number" if self.dims == 1 else f"{self.dims} numbers"
            raise InputError(f"{CALLER}: predict: the training inputs have shape [batch, {shape}] but the grid x "
                             f"gives {gives} per point; {PREDICT}")
        return self.x.astype(np.float32).reshape((len(self.x), *feature_shape))

    def values(self, out) -> np.ndarray:
        """The model's output as ``[P]`` values (from ``[P]``, ``[P, 1]``, …), or ``[P, C]`` class probabilities
        on a classifier's mesh; anything else names ``predict=``."""
        out = _prediction(out)
        if hasattr(out, "detach"):
            out = out.detach().cpu().float().numpy()
        try:
            array = np.asarray(out, dtype=np.float32)
        except (TypeError, ValueError):
            raise InputError(f"{CALLER}: predict: the model returned {type(out).__name__}, not numbers; "
                             f"{PREDICT}") from None
        n = len(self.x)
        if array.size == n:
            array = array.reshape(-1)
        elif not (self.classify and array.ndim == 2 and array.shape[0] == n):  # [P, C]: a class each column
            raise InputError(f"{CALLER}: predict: the model returned shape {list(array.shape)} for {n} "
                             f"grid points; {PREDICT}")
        return _probabilities(array) if self.classify and self.logits else array


PREDICT = "pass predict=lambda model, x: ... returning one value (or the class probabilities) per grid point"


def _probabilities(logits: np.ndarray) -> np.ndarray:
    """Logits as probabilities: one column is P(class 1) by the sigmoid, several the softmax over classes."""
    z = logits.astype(np.float64)
    if z.ndim == 1:
        return (0.5 * (1 + np.tanh(0.5 * z))).astype(np.float32)  # the sigmoid, without overflow
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return (z / z.sum(axis=1, keepdims=True)).astype(np.float32)


def _prediction(out):
    """The prediction inside a model's output: a tensor, a ``logits``/``predictions`` entry, or the first item."""
    if hasattr(out, "keys") and not hasattr(out, "shape"):  # a dict or a transformers ModelOutput
        for key in ("logits", "predictions", "prediction", "pred", "y"):
            if key in out:
                return out[key]
        return next(iter(out.values()), None) if len(out) == 1 else out
    if isinstance(out, (tuple, list)) and out and hasattr(out[0], "shape"):
        return out[0]
    return out


def torch_predict(module, grid: Grid, feature_shape=None, predict=None) -> np.ndarray:
    """``module``'s prediction on the grid: eval mode, no grad, its device and dtype, every submodule's mode restored.

    ``predict(module, x)`` replaces the call ``module(x)`` when given; ``x`` is
    still the grid as a tensor ``[P, 1]`` (a mesh: ``[P, 2]``) on the model's device and dtype.
    """
    import torch

    first = next(iter(module.parameters()), None)
    first = first if first is not None else next(iter(module.buffers()), None)
    device = first.device if first is not None else torch.device("cpu")
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    x = grid.tensor(feature_shape, device, dtype)
    modes = [(m, m.training) for m in module.modules()]  # restore each: some may be frozen in eval on purpose
    module.eval()
    try:
        with torch.no_grad():
            out = call(predict, module, x)
    finally:
        for m, mode in modes:
            m.training = mode
    return grid.values(out)


def call(predict, model, x):
    """``predict(model, x)`` or ``model(x)``; a model that does not take the grid as inputs gets one line."""
    try:
        return predict(model, x) if predict is not None else model(x)
    except InputError:
        raise
    except Exception as exc:  # the framework's own error, shape or signature: whatever it is, the fix is predict=
        if predict is not None:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{CALLER}: predict: the model does not take the grid x as a batch of inputs "
                         f"{list(x.shape)} ({type(exc).__name__}: {first[:160]}); {PREDICT}") from None


class Recording:
    """The Recorder behind a callback, plus what it does at the end: hand back the History or write ``out``.

    ``options`` are :class:`~polyanim.Recorder`'s keyword arguments (``every``,
    ``schedule``, ``steps``, ``frames``, ``samples``, ``label``, …); ``out`` a
    path or a list of paths checked now, so a bad one fails before training;
    ``render`` the options for :func:`polyanim.render` (``size``, ``fps``, …).
    """

    def __init__(self, caller: str, x, target, out, render, options: dict):
        logits = options.pop("logits", True)
        unknown = sorted(set(options) - set(RECORDER_KEYS))
        if unknown:
            raise InputError(f"{caller}: {unknown[0]}: not an option; allowed: x, target, out, render, predict, "
                             f"logits, {', '.join(RECORDER_KEYS)}")
        self.recorder = rec = Recorder(x, target, **options)
        if rec.field is not None:
            self.grid = Grid(rec.mesh, classify=rec.field.task == "classify", logits=logits)
        else:
            given = rec.x.copy()
            if rec.order is not None:  # the Recorder sorted x and takes each prediction in the order x came
                given[rec.order] = rec.x
            self.grid = Grid(given)
        self.outs = _outputs(out)
        self.render = dict(render or {})
        from ..config import render_settings

        render_settings(self.render, source=f"{caller}: render")  # a bad option fails now, not after training
        self.meta: dict = {}
        self.last_loss = None
        self.pending = None

    def before(self, step: int, predict, lr=None) -> None:
        """Before optimizer step ``step`` (0 = the untrained model): predict now if the schedule keeps it.

        The prediction is the model's before the update, as the loss the
        framework reports for this step is, so each frame shows one model.
        """
        if self.recorder.wants(step):
            self.pending = (step, predict(), lr() if callable(lr) else lr)

    def after(self, step: int, loss) -> None:
        """The loss the framework reported for step ``step``: records the step predicted in :meth:`before`."""
        self.last_loss = loss
        if self.pending is not None and self.pending[0] == step:
            _, pred, lr = self.pending
            self.pending = None
            self.recorder.add(step, loss=loss, pred=pred, lr=lr)

    def finish(self, step: int, predict, lr=None) -> None:
        """Mark ``step`` as the trained model's, then write ``out`` and the ``.history.npz`` beside it if given."""
        rec = self.recorder
        if self.last_loss is not None:  # no-op once closed (a diverged run, or a second fit)
            # the frameworks compute no loss after the last update: the last step's stands for the trained model
            rec.add(step, loss=self.last_loss, pred=predict, lr=lr, final=True)
        if self.outs and rec.snapshots:
            from ..api import render

            history = self.history()
            history.save(beside(self.outs[0]))  # first: whatever the render says, the run is kept
            render(history, self.outs if len(self.outs) > 1 else self.outs[0], **self.render)

    def history(self):
        """The recorded History, with the framework named in ``meta``."""
        return self.recorder.history(self.meta)


class Adapter:
    """What every framework's callback has: its :class:`Recording`, the optional ``predict=`` and :meth:`history`."""

    def _start(self, x, target, out, render, predict, options: dict, framework: dict) -> None:
        self.recording = Recording(CALLER, x, target, out, render, options)
        self.recording.meta["framework"] = framework
        self.predict = predict

    def history(self):
        """The recorded :class:`polyanim.History` (after or during training)."""
        return self.recording.history()


def beside(out: Path) -> Path:
    """``fit.gif`` -> ``fit.history.npz``, in the same folder."""
    return out.with_name(out.name[: -len(out.suffix)] + ".history.npz" if out.suffix else out.name + ".history.npz")


def _outputs(out) -> list[Path]:
    if out is None:
        return []
    from ..api import check_output

    outs = [Path(o) for o in (out if isinstance(out, (list, tuple)) else [out])]
    if not outs:
        raise InputError(f"{CALLER}: out: expected a path or a non-empty list of paths")
    for each in outs:
        check_output(each)
    return outs


def version(module) -> str:
    return str(getattr(module, "__version__", "unknown"))
