"""PyTorch Lightning: ``PolyanimCallback`` records a ``trainer.fit`` into a polyanim History.

    from polyanim.integrations.lightning import PolyanimCallback
    cb = PolyanimCallback(x, target="sin(x)", every=10, out="fit.gif")
    lightning.Trainer(max_steps=2000, callbacks=[cb]).fit(module, loader)

Importing this module imports ``lightning`` (``pip install polyanim[lightning]``).
"""

from __future__ import annotations

import lightning
from lightning.pytorch.callbacks import Callback

from ._common import Adapter, torch_predict, version


class PolyanimCallback(Adapter, Callback):
    """Records the fit: at each kept step the prediction on ``x``, the step's training loss and the learning rate.

    ``x`` is the drawing grid, ``target`` the curve to fit on it (array,
    function or expression such as ``"sin(x)"``; or, two inputs, the points
    ``[N, 2]`` and their labels, the model then asked on the Recorder's mesh,
    ``logits=False`` for a classifier ending in its own softmax), and ``every``,
    ``schedule``, ``steps``, ``frames``, ``samples``, ``label``… are :class:`polyanim.Recorder`'s.
    Step ``k`` is ``trainer.global_step`` as the batch starts (the model after
    ``k`` optimizer steps, as Lightning's loggers number it); its loss is the
    ``loss`` your ``training_step`` returned for that batch, its prediction the
    same model's. The prediction is ``pl_module(x)``
    on a grid shaped like one training input (``[P, 1]`` for inputs ``[B, 1]``),
    in eval mode without grad, the modes restored; ``predict(pl_module, x)``
    says how when your forward takes something else. At the end of training
    the trained model is the last frame; ``history()`` returns the History, and
    ``out`` (a path or list) is written with the ``.history.npz`` beside it,
    with ``render`` as :func:`polyanim.render`'s options.
    """

    def __init__(self, x, target=None, *, out=None, render=None, predict=None, **options):
        super().__init__()
        framework = {"name": "lightning", "version": version(lightning)}
        self._start(x, target, out, render, predict, options, framework)
        self.feature_shape = None

    def _predict(self, pl_module):
        return torch_predict(pl_module, self.recording.grid, self.feature_shape, self.predict)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if not trainer.is_global_zero:
            return
        if self.feature_shape is None:  # the first batch says what one input looks like
            self.feature_shape = _feature_shape(batch)
        self.recording.before(trainer.global_step, lambda: self._predict(pl_module), lr=lambda: _lr(trainer))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        loss = outputs.get("loss") if hasattr(outputs, "get") else outputs
        if trainer.is_global_zero and loss is not None:
            # the step that just ran is global_step - 1 once the optimizer has stepped (accumulation: not yet)
            step = self.recording.pending[0] if self.recording.pending else trainer.global_step - 1
            self.recording.after(step, loss.detach() if hasattr(loss, "detach") else loss)

    def on_train_end(self, trainer, pl_module):
        if trainer.is_global_zero:
            self.recording.finish(trainer.global_step, lambda: self._predict(pl_module), lr=_lr(trainer))


def _feature_shape(batch):
    first = batch[0] if isinstance(batch, (tuple, list)) and batch else batch
    shape = getattr(first, "shape", None)
    return tuple(shape[1:]) if shape is not None and len(shape) >= 1 else None  # None: the grid's own


def _lr(trainer):
    optimizers = trainer.optimizers
    return optimizers[0].param_groups[0]["lr"] if optimizers and optimizers[0].param_groups else None
