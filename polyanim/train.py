"""The training loop: a Config in, a History out. The only module that needs torch."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from . import targets
from .history import History
from .models import build
from .workload import ONE_THREAD_WORK, work
from .optimizers import make_optimizer, make_scheduler
from .optimum import converged_below
from .panels.registry import PANELS
from .registry.models import MAX_PARAMS, MODELS
from .registry.optimizers import OPTIMIZERS
from .recording import Snapshot, for_train, loss_warnings
from .train_field import TrainingError, run_meta, train_field
from .train_field import torch_threads as _torch_threads


@dataclass
class Samples:
    """The drawing grid, the training samples and whether the History should keep the samples."""

    grid: torch.Tensor        # float32 [P], the drawing grid
    y_clean: np.ndarray       # float64 [P], the noise-free target on the grid
    x: torch.Tensor           # float32 [S], training inputs
    y: torch.Tensor           # float32 [S], training targets (with noise)
    on_grid: bool             # x is the grid itself (then predictions on x are the curves)
    stored: bool              # samples differ from the grid or are noisy: kept in the History and drawn


def make_samples(config) -> Samples:
    """The grid, the training samples and their (noisy) targets a config describes.

    ``x`` comes from ``torch.linspace`` in float32 like the post; targets are
    evaluated in float64 by the safe expression parser and rounded to float32.
    With ``data.samples`` null, grid sampling and no ``data.train_domain`` the
    training inputs are the grid itself, exactly like the post. Uniform samples
    and the noise come from one generator seeded with ``seed`` (0 when null):
    the positions first, then the noise.
    """
    d = config.data
    if d.file is not None:
        return _file_samples(d)
    f = targets.parse(d.target)
    grid = torch.linspace(d.domain[0], d.domain[1], d.points)
    y_clean = f(grid.double().numpy()).astype(np.float64)
    gen = torch.Generator().manual_seed(config.seed if config.seed is not None else 0)
    lo, hi = d.train_range()
    on_grid = False
    if d.sampling == "uniform":
        n = d.samples if d.samples is not None else d.points
        x = torch.sort(lo + (hi - lo) * torch.rand(n, generator=gen, dtype=torch.float64)).values.float()
    elif d.samples is not None:
        x = torch.linspace(lo, hi, d.samples)
        on_grid = d.train_domain is None and torch.equal(x, grid)
    elif d.train_domain is not None:
        x = grid[(grid >= lo) & (grid <= hi)]
    else:
        x, on_grid = grid, True
    y_np = y_clean if on_grid else f(x.double().numpy()).astype(np.float64)
    if not np.isfinite(y_np).all():
        bad = x.double().numpy()[~np.isfinite(y_np)][0]
        raise TrainingError(f"data.target: {d.target!r} is not finite at the training sample x={bad:g}")
    y = torch.as_tensor(y_np, dtype=torch.float32)
    if d.noise > 0:
        y = y + d.noise * torch.randn(y.shape, generator=gen)
    return Samples(grid=grid, y_clean=y_clean, x=x, y=y, on_grid=on_grid, stored=not on_grid or d.noise > 0)


def _file_samples(d) -> Samples:
    """The points of ``data.file`` (those in ``data.train_domain``) as float32 samples, drawn on ``data.span()``.

    Without ``data.target`` the grid carries no target: ``y_clean`` is all NaN
    and the points themselves are what the fit panel shows.
    """
    d.check_file()
    fx, fy = d.points_xy()
    grid = torch.linspace(*d.span(), d.points)
    y_clean = (targets.parse(d.target)(grid.double().numpy()).astype(np.float64) if d.target is not None
               else np.full(d.points, np.nan))
    if d.train_domain is not None:
        keep = (fx >= d.train_domain[0]) & (fx <= d.train_domain[1])
        fx, fy = fx[keep], fy[keep]
    # astype copies: torch gets writable arrays, the cached file's stay read-only
    x, y = torch.from_numpy(fx.astype(np.float32)), torch.from_numpy(fy.astype(np.float32))
    return Samples(grid=grid, y_clean=y_clean, x=x, y=y, on_grid=False, stored=True)


def drawing_inputs(config) -> dict:
    """What a live view draws before the History exists: the grid ``x``, the target ``y`` on it, the stored
    samples ``data_x``/``data_y`` and the ``param_names``, exactly as :func:`train` will record them.

    The view (:class:`polyanim.live.TrainingView`) imports no torch; the caller passes these in.
    """
    if config.data.field:
        from .errors import InputError

        raise InputError("--live: the live window draws one input only for now; data.dataset or data.columns "
                         "(two inputs) renders to files (drop --live)")
    s = make_samples(config)
    samples = (s.x.double().numpy(), s.y.double().numpy()) if s.stored else (None, None)
    needs = any(PANELS[p].needs_params for p in config.render.panels)
    names = kept_param_names(config.model) if needs else None
    return {"x": s.grid.double().numpy(), "y": s.y_clean, "data_x": samples[0], "data_y": samples[1],
            "param_names": names or []}


def kept_param_names(m) -> list[str] | None:
    """The names of the parameters a History of model section ``m`` keeps (its registry entry's), or None:
    it keeps none (the entry names none, or more than :data:`~polyanim.registry.models.MAX_PARAMS`)."""
    spec = MODELS[m.kind]
    return spec.names(m) if spec.names is not None and spec.params(m) <= MAX_PARAMS else None


def train(config, *, quiet: bool = False, out=None, err=None,
          on_snapshot: Callable[[Snapshot], None] | None = None) -> History:
    """Train the model a :class:`~polyanim.config.Config` describes and record its History.

    Follows the original post's loop step for step (forward, loss, log, zero_grad,
    backward, step; then the lr schedule) and takes snapshots before the update
    at the steps ``train.record`` picks (see :mod:`polyanim.recording`), plus one
    of the final model after the last update. Prints ``step loss`` every
    ``train.log_every`` steps and the post's ``Result: y = …`` line to ``out``
    unless ``quiet``. If the loss stops being finite, training stops there with
    one warning line on ``err``; the finite snapshots are kept and
    ``meta["stopped"]`` says where and why. A stalled or rising loss gives one
    warning line each (``meta["warnings"]``) but training goes on.

    ``on_snapshot``, if given, is called with each :class:`~polyanim.recording.Snapshot`
    at the moment the recorder keeps it (the final one included), from the
    training loop itself: a live view draws from it (see :mod:`polyanim.live`).
    It must not change the snapshot, and its time counts as training time, so it
    should return quickly. With ``train.record: adaptive`` a later thinning can
    drop snapshots it was given from the History.
    """
    # the caller's random stream is left as it was: seeding is this run's own business
    with torch.random.fork_rng(devices=[]):
        out = out or sys.stdout
        err = err or sys.stderr
        if config.seed is not None:
            torch.manual_seed(config.seed)
        if config.data.field:  # two inputs (data.dataset): a field History
            return train_field(config, quiet=quiet, out=out, err=err, on_snapshot=on_snapshot)
        run = _Run.build(config, on_snapshot)
        started = time.perf_counter()
        stopped = _loop(run, quiet=quiet, out=out, err=err)
        warnings = _finish(run, stopped, quiet=quiet, out=out, err=err)
        return run.recorder.history(_meta(run, warnings, started))


@dataclass
class _Run:
    """One training run's pieces, built in the post's order, and what the loop does with them."""

    config: object
    data: Samples
    model: torch.nn.Module
    criterion: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: object               # an lr scheduler or None
    recorder: object                # a polyanim.recording.Recorder
    keep_params: bool               # the History keeps the parameter trajectories
    on_snapshot: Callable[[Snapshot], None] | None

    @classmethod
    def build(cls, config, on_snapshot) -> _Run:
        """Samples, model, loss, optimizer, schedule and recorder for ``config`` (after seeding)."""
        data = make_samples(config)  # first: a bad data file is reported before anything else happens
        model = build(config.model, config.data.span())
        criterion = torch.nn.MSELoss(reduction="sum" if config.train.loss == "mse_sum" else "mean")
        optimizer = make_optimizer(config.train, model.parameters())
        scheduler = make_scheduler(config.train, optimizer)
        names = kept_param_names(config.model)
        keep_params = names is not None
        recorder = for_train(config.train, data.grid, data.y_clean,
                             samples=(data.x, data.y) if data.stored else None, param_names=names)
        return cls(config, data, model, criterion, optimizer, scheduler, recorder, keep_params, on_snapshot)

    def _on_grid(self, y_pred):
        if self.data.on_grid:
            return y_pred.detach()
        with torch.no_grad():
            return self.model(self.data.grid)

    def _coefficients(self):
        if hasattr(self.model, "coefficients"):  # in the order of the entry's names
            return [c.item() for c in self.model.coefficients()]
        return torch.cat([p.detach().flatten() for p in self.model.parameters()]).tolist()

    def record(self, step, value, y_pred, final=False) -> None:
        """Offer the recorder a snapshot; pass one it keeps to ``on_snapshot``."""
        kept = self.recorder.add(step, loss=value, pred=lambda: self._on_grid(y_pred), final=final,
                                 params=self._coefficients if self.keep_params else None,
                                 lr=float(self.optimizer.param_groups[0]["lr"]))
        if kept and self.on_snapshot is not None:
            self.on_snapshot(self.recorder.snapshots[-1])

    def closure(self):
        """One zero_grad, forward, loss and backward, for optimizers that re-evaluate the loss (L-BFGS)."""
        self.optimizer.zero_grad()
        value = self.criterion(self.model(self.data.x), self.data.y)
        value.backward()
        return value


def _loop(run: _Run, *, quiet: bool, out, err) -> dict | None:
    """The post's loop, step for step, then the final snapshot; where and why it stopped (None: ran to the end).

    A loss that stops being finite ends the run there, recorded by the recorder (``meta["stopped"]``)."""
    t_cfg = run.config.train
    model, criterion, optimizer, x, y = run.model, run.criterion, run.optimizer, run.data.x, run.data.y
    bar = tqdm(total=t_cfg.steps, desc="training", unit="step", file=err, leave=False,
               disable=True if quiet else None, mininterval=0.2)
    with bar, _torch_threads(1 if work(run.config) < ONE_THREAD_WORK else None):
        for t in range(t_cfg.steps):
            y_pred = model(x)
            loss = criterion(y_pred, y)
            value = loss.item()
            if not math.isfinite(value):
                run.recorder.stop(t, f"loss became {value}")
                return run.recorder.stopped
            if run.recorder.wants(t):
                run.record(t, value, y_pred)
            if t_cfg.log_every and t % t_cfg.log_every == 0 and not quiet:
                bar.write(f"{t} {value}", file=out)
            if OPTIMIZERS[t_cfg.optimizer].closure:  # re-evaluates the loss itself
                optimizer.step(run.closure)
            else:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            if run.scheduler is not None:
                run.scheduler.step()
            bar.update(1)
        with torch.no_grad():
            y_pred = model(x)
            value = criterion(y_pred, y).item()
        if not math.isfinite(value):
            run.recorder.stop(t_cfg.steps, f"loss became {value}")
        else:
            run.record(t_cfg.steps, value, y_pred, final=True)
        return run.recorder.stopped


def _finish(run: _Run, stopped: dict | None, *, quiet: bool, out, err) -> list:
    """Print the stop or loss warnings and the post's ``Result:`` line; return ``meta["warnings"]``.

    Raises :class:`TrainingError` when no finite snapshot was kept.
    """
    snaps = run.recorder.snapshots
    warnings = []
    if stopped:
        # at step 0 no step has been taken: the model's own output overflowed, not the learning rate
        hint = (f"the untrained model's output overflows: a smaller {MODELS[run.config.model.kind].size_key} "
                "or a narrower data.domain" if stopped["step"] == 0 else "try a smaller train.lr")
        print(f"warning: {stopped['reason']} at step {stopped['step']}; training stopped there, "
              f"keeping {len(snaps)} snapshot(s) ({hint})", file=err)
    elif snaps:
        # a flat loss at the best fit the model allows is a converged run, not a stall
        floor, how = converged_below(run.config, run.data.x.double().numpy(), run.data.y.double().numpy())
        warnings = loss_warnings([s.step for s in snaps], [s.loss for s in snaps], floor, how)
        for warning in warnings:
            print(f"warning: {warning['message']}", file=err)
    if not snaps:
        raise TrainingError(f"training produced no finite snapshot ({stopped['reason']} at step {stopped['step']}"
                            + (f"; {hint})" if stopped["step"] == 0 else ")"))
    if not quiet and hasattr(run.model, "string") and not stopped:
        print(f"Result: {run.model.string()}", file=out)
    return warnings


def _meta(run: _Run, warnings: list, started: float) -> dict:
    """The History's ``meta`` beyond the recorder's own: the config, seed, warnings, parameter names, time, versions."""
    return run_meta(run.config, warnings, run.recorder.param_names if run.keep_params else [], started)
