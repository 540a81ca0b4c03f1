"""Hugging Face transformers: ``PolyanimCallback`` records a ``Trainer.train()`` into a polyanim History.

    from polyanim.integrations.hf import PolyanimCallback
    Trainer(model, args, train_dataset=data, callbacks=[PolyanimCallback(x, target="sin(x)", out="fit.gif")]).train()

Importing this module imports ``transformers`` (``pip install polyanim[hf]``).
"""

from __future__ import annotations

import transformers
from transformers import TrainerCallback

from ._common import Adapter, torch_predict, version


class PolyanimCallback(Adapter, TrainerCallback):
    """Records the training: at each kept step the prediction on ``x``, the step's training loss and the lr.

    ``x`` is the drawing grid, ``target`` the curve to fit on it (or, two
    inputs, the points ``[N, 2]`` and their labels, the model then asked on the
    Recorder's mesh; ``logits=False`` for a classifier ending in its own
    softmax), and ``every``, ``schedule``, ``steps``, ``frames``, ``samples``,
    ``label``… are :class:`polyanim.Recorder`'s. Step ``k`` is ``state.global_step`` as the
    step begins (the model after ``k`` optimizer steps). The Trainer reports a
    loss only when it logs, as the mean since its previous log, so the callback
    asks it to log after the step before each kept one and after the kept one
    (``control.should_log``): its log entry at ``step = k + 1`` then holds step
    ``k``'s loss alone. The prediction is ``model(x)`` on a grid ``[P, 1]`` in
    eval mode without grad (a dict or ``ModelOutput`` gives its ``logits``);
    a model whose forward takes ``input_ids`` or other inputs needs
    ``predict(model, x)``. At the end of training the trained model is the last
    frame; ``history()`` returns the History, and ``out`` (a path or list) is
    written with the ``.history.npz`` beside it, ``render`` being
    :func:`polyanim.render`'s options.
    """

    def __init__(self, x, target=None, *, out=None, render=None, predict=None, **options):
        super().__init__()
        framework = {"name": "transformers", "version": version(transformers)}
        self._start(x, target, out, render, predict, options, framework)

    def _predict(self, model):
        return torch_predict(model, self.recording.grid, None, self.predict)

    def on_step_begin(self, args, state, control, model=None, optimizer=None, **kwargs):
        if state.is_world_process_zero:
            self.recording.before(state.global_step, lambda: self._predict(model), lr=lambda: _lr(optimizer))

    def on_step_end(self, args, state, control, **kwargs):
        pending, step = self.recording.pending, state.global_step
        if (pending is not None and pending[0] == step - 1) or self.recording.recorder.wants(step) \
                or step == state.max_steps - 1:  # the last step's loss alone is the final frame's
            control.should_log = True  # a log now closes the loss window: the next one is one step's loss

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and logs and "loss" in logs:
            self.recording.after(state.global_step - 1, logs["loss"])

    def on_train_end(self, args, state, control, model=None, optimizer=None, **kwargs):
        if state.is_world_process_zero:
            self.recording.finish(state.global_step, lambda: self._predict(model), lr=_lr(optimizer))


def _lr(optimizer):
    groups = getattr(optimizer, "param_groups", None)
    return groups[0]["lr"] if groups else None
