"""Keras 3: ``PolyanimCallback`` records a ``model.fit`` into a polyanim History.

    from polyanim.integrations.keras import PolyanimCallback   # sets KERAS_BACKEND=torch unless already set
    model.fit(x_train, y_train, epochs=300, callbacks=[PolyanimCallback(x, target="sin(x)", out="fit.gif")])

Importing this module imports ``keras`` (``pip install polyanim[keras]``). Keras
reads ``KERAS_BACKEND`` once, when it is first imported: this module sets it to
``torch`` when it is unset, so no TensorFlow is needed; a backend you chose, or
a keras imported before, is kept.
"""

from __future__ import annotations

import contextlib
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402

from ._common import Adapter, call, version  # noqa: E402


class PolyanimCallback(Adapter, keras.callbacks.Callback):
    """Records the fit: at each kept step the prediction on ``x``, the step's training loss and the learning rate.

    ``x`` is the drawing grid, ``target`` the curve to fit on it (or, two
    inputs, the points ``[N, 2]`` and their labels, the model then asked on the
    Recorder's mesh; ``logits=False`` for a classifier ending in its own
    softmax), and ``every``, ``schedule``, ``steps``, ``frames``, ``samples``,
    ``label``… are :class:`polyanim.Recorder`'s. Step ``k`` is the ``k``-th batch of the fit,
    counted from 0 over all epochs (the model after ``k`` optimizer steps); its
    loss is ``logs["loss"]`` at that batch's end, which Keras averages over the
    epoch so far (one batch per epoch: that batch's loss). The prediction is
    ``model(x, training=False)`` without grad, on a grid shaped like one model
    input (``[P, 1]``); ``predict(model, x)`` says how when your model takes
    something else. At the end of training the trained model is the last
    frame; ``history()`` returns the History, and ``out`` (a path or list) is
    written with the ``.history.npz`` beside it, ``render`` being
    :func:`polyanim.render`'s options.
    """

    def __init__(self, x, target=None, *, out=None, render=None, predict=None, **options):
        super().__init__()
        framework = {"name": "keras", "version": version(keras), "backend": keras.backend.backend()}
        self._start(x, target, out, render, predict, options, framework)
        self.step = 0

    def _predict(self):
        model = self.model
        shape = getattr(model, "input_shape", None) if getattr(model, "built", False) else None
        grid = self.recording.grid.inputs(tuple(shape[1:]) if isinstance(shape, tuple) and shape else None)
        with _no_grad():
            out = call(self.predict or _call, model, grid.astype(model.compute_dtype or "float32"))
        return self.recording.grid.values(keras.ops.convert_to_numpy(_first(out)))

    def on_train_batch_begin(self, batch, logs=None):
        self.recording.before(self.step, self._predict, lr=self._lr)

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None:
            self.recording.after(self.step, loss)
        self.step += 1

    def on_train_end(self, logs=None):
        self.recording.finish(self.step, self._predict, lr=self._lr())

    def _lr(self):
        lr = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        return None if lr is None else float(keras.ops.convert_to_numpy(lr))


def _call(model, x):
    return model(x, training=False)


def _first(out):
    # a multi-output model: the first output is the curve
    return out[0] if isinstance(out, (list, tuple)) else out


def _no_grad():
    if keras.backend.backend() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()
