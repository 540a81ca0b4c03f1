"""torch.optim's update rules in numpy, for a race of optimizers on a function of two parameters.

A ``torch.optim`` step with autograd on two parameters costs about 0.1 ms, all
of it overhead; these are the same updates on a float64 vector, operation for
operation as torch's single-tensor CPU path (where ``eps`` is added, the bias
corrections, the coupled or decoupled weight decay, NAdam's float32 momentum
product), with torch's default hyperparameters and keyword names. They match
``torch.optim`` on float64 tensors to rounding (tested over 200 steps): torch
fuses the multiply-adds of ``add_(alpha=)`` and ``addcmul_``, numpy cannot, so
a run that turns chaotic (Adam bouncing on a valley floor) drifts from torch
after a few thousand steps, as torch drifts from itself when the gradient is
rounded differently (benchmarks/paths_bench.py). :func:`run` races one
optimizer on a :class:`~polyanim.surfaces.Surface`. ``lbfgs`` is a port of
``torch.optim.LBFGS`` (:mod:`polyanim.nplbfgs`).
"""

from __future__ import annotations

import inspect
import math

import numpy as np

from .errors import InputError
from .nplbfgs import LBFGS
from .surfaces import Surface, started, surface

MAX_ABS = 1e8  # a parameter beyond this has diverged: the run stops before it


class SGD:
    """``torch.optim.SGD``: weight decay, then the momentum buffer (dampening, nesterov), then the step."""

    def __init__(self, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        self.lr, self.momentum, self.dampening, self.weight_decay, self.nesterov = \
            lr, momentum, dampening, weight_decay, nesterov
        self.buf = None

    def step(self, p: np.ndarray, grad: np.ndarray) -> None:
        """Update ``p`` in place from its gradient ``grad``."""
        grad = _decay(p, grad, self.lr, self.weight_decay)
        if self.momentum != 0:
            if self.buf is None:
                self.buf = grad.copy()
            else:
                self.buf = self.buf * self.momentum + (1 - self.dampening) * grad
            grad = grad + self.momentum * self.buf if self.nesterov else self.buf
        p += -self.lr * grad


def momentum(lr=1e-3, momentum=0.9, dampening=0.0, weight_decay=0.0):
    """SGD with heavy-ball momentum (0.9 unless given)."""
    return SGD(lr, momentum, dampening, weight_decay)


def nesterov(lr=1e-3, momentum=0.9, weight_decay=0.0):
    """SGD with Nesterov momentum (0.9 unless given; torch's Nesterov takes no dampening)."""
    return SGD(lr, momentum, 0.0, weight_decay, nesterov=True)


def _decay(p, grad, lr: float, weight_decay: float, decoupled: bool = False):
    """Weight decay as torch applies it: added to the gradient, or (decoupled, AdamW's) shrinking ``p`` in place."""
    if weight_decay == 0:
        return grad
    if decoupled:
        p *= 1 - lr * weight_decay
        return grad
    return grad + weight_decay * p


def _lerp(start, end, weight: float):
    """``torch.lerp``'s two branches, chosen by the weight as torch does."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1 - weight)


class Adagrad:
    """``torch.optim.Adagrad``: ``eps`` added to the square root of the running sum."""

    def __init__(self, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        self.lr, self.lr_decay, self.weight_decay, self.eps = lr, lr_decay, weight_decay, eps
        self.initial, self.sum, self.t = initial_accumulator_value, None, 0

    def step(self, p, grad):
        if self.sum is None:
            self.sum = np.full_like(p, self.initial)
        self.t += 1
        grad = _decay(p, grad, self.lr, self.weight_decay)
        clr = self.lr / (1 + (self.t - 1) * self.lr_decay)
        self.sum = self.sum + 1 * grad * grad
        p += -clr * (grad / (np.sqrt(self.sum) + self.eps))


class RMSprop:
    """``torch.optim.RMSprop``: ``eps`` outside the square root; centered and momentum variants."""

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        self.lr, self.alpha, self.eps, self.weight_decay, self.momentum, self.centered = \
            lr, alpha, eps, weight_decay, momentum, centered
        self.square = self.grad_avg = self.buf = None

    def step(self, p, grad):
        if self.square is None:
            self.square, self.grad_avg, self.buf = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
        grad = _decay(p, grad, self.lr, self.weight_decay)
        self.square = self.square * self.alpha + (1 - self.alpha) * grad * grad
        if self.centered:
            self.grad_avg = _lerp(self.grad_avg, grad, 1 - self.alpha)
            avg = np.sqrt(self.square + -1 * self.grad_avg * self.grad_avg)
        else:
            avg = np.sqrt(self.square)
        avg = avg + self.eps
        if self.momentum > 0:
            self.buf = self.buf * self.momentum + 1 * (grad / avg)
            p += -self.lr * self.buf
        else:
            p += -self.lr * (grad / avg)


class _Moments:
    """What Adam, NAdam and RAdam share: the step count, weight decay and the two running moments."""

    def __init__(self, lr, betas, eps, weight_decay, decoupled_weight_decay):
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.weight_decay, self.decoupled = weight_decay, decoupled_weight_decay
        self.m = self.v = None
        self.t = 0

    def _moments(self, p, grad):
        """Count the step, apply weight decay and update both moments; the (decayed) gradient."""
        if self.m is None:
            self.m, self.v = np.zeros_like(p), np.zeros_like(p)
        self.t += 1
        grad = _decay(p, grad, self.lr, self.weight_decay, self.decoupled)
        self.m = _lerp(self.m, grad, 1 - self.beta1)
        self.v = self.v * self.beta2 + (1 - self.beta2) * grad * grad
        return grad


class Adam(_Moments):
    """``torch.optim.Adam`` (and AdamW with ``decoupled_weight_decay``): bias-corrected moments, ``eps`` outside the root."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 decoupled_weight_decay=False):
        super().__init__(lr, betas, eps, weight_decay, decoupled_weight_decay)
        self.amsgrad, self.v_max = amsgrad, None

    def step(self, p, grad):
        self._moments(p, grad)
        step_size = self.lr / (1 - self.beta1 ** self.t)
        bc2_sqrt = (1 - self.beta2 ** self.t) ** 0.5
        if self.amsgrad:
            self.v_max = self.v if self.v_max is None else np.maximum(self.v_max, self.v)
        denom = np.sqrt(self.v_max if self.amsgrad else self.v) / bc2_sqrt + self.eps
        p += -step_size * (self.m / denom)


def adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
    """``torch.optim.AdamW``: Adam with decoupled weight decay (0.01, torch's default)."""
    return Adam(lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)


class Adadelta:
    """``torch.optim.Adadelta``: ``eps`` inside both square roots."""

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        self.lr, self.rho, self.eps, self.weight_decay = lr, rho, eps, weight_decay
        self.square = self.delta = None

    def step(self, p, grad):
        if self.square is None:
            self.square, self.delta = np.zeros_like(p), np.zeros_like(p)
        grad = _decay(p, grad, self.lr, self.weight_decay)
        self.square = self.square * self.rho + (1 - self.rho) * grad * grad
        delta = np.sqrt(self.delta + self.eps) / np.sqrt(self.square + self.eps) * grad
        self.delta = self.delta * self.rho + (1 - self.rho) * delta * delta
        p += -self.lr * delta


class Adamax:
    """``torch.optim.Adamax``: the infinity norm, ``eps`` added to ``|grad|`` before the maximum."""

    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.lr, (self.beta1, self.beta2), self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m = self.u = None
        self.t = 0

    def step(self, p, grad):
        if self.m is None:
            self.m, self.u = np.zeros_like(p), np.zeros_like(p)
        self.t += 1
        grad = _decay(p, grad, self.lr, self.weight_decay)
        self.m = _lerp(self.m, grad, 1 - self.beta1)
        self.u = np.maximum(self.u * self.beta2, np.abs(grad) + self.eps)
        p += -(self.lr / (1 - self.beta1 ** self.t)) * (self.m / self.u)


class NAdam(_Moments):
    """``torch.optim.NAdam``: momentum decay schedule; the running product of mu is float32 as in torch."""

    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, momentum_decay=4e-3,
                 decoupled_weight_decay=False):
        super().__init__(lr, betas, eps, weight_decay, decoupled_weight_decay)
        self.momentum_decay = momentum_decay
        self.mu_product = np.float32(1.0)  # torch keeps it in its scalar dtype, float32 by default

    def step(self, p, grad):
        grad = self._moments(p, grad)
        lr, beta1, t = self.lr, self.beta1, self.t
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (t * self.momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((t + 1) * self.momentum_decay)))
        self.mu_product = np.float32(self.mu_product * np.float32(mu))
        product = float(self.mu_product)
        denom = np.sqrt(self.v / (1 - self.beta2 ** t)) + self.eps
        p += (-lr * (1.0 - mu) / (1.0 - product)) * (grad / denom)
        p += ((-lr * mu_next) / (1.0 - product * mu_next)) * (self.m / denom)


class RAdam(_Moments):
    """``torch.optim.RAdam``: Adam with the variance rectification term, plain momentum while it is undefined."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled_weight_decay=False):
        super().__init__(lr, betas, eps, weight_decay, decoupled_weight_decay)

    def step(self, p, grad):
        self._moments(p, grad)
        t, beta1, beta2 = self.t, self.beta1, self.beta2
        bias_correction2 = 1 - beta2 ** t
        corrected = self.m / (1 - beta1 ** t)
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bias_correction2 ** 0.5) / (np.sqrt(self.v) + self.eps)
            p += -1.0 * (corrected * self.lr * adaptive * rect)
        else:
            p += -1.0 * (corrected * self.lr)


OPTIMIZERS = {
    "sgd": SGD, "momentum": momentum, "nesterov": nesterov, "adagrad": Adagrad, "rmsprop": RMSprop,
    "adam": Adam, "adamw": adamw, "adadelta": Adadelta, "adamax": Adamax, "nadam": NAdam, "radam": RAdam,
    "lbfgs": LBFGS,
}


def options(name: str) -> list[str]:
    """The keyword options (torch's names) the optimizer ``name`` takes, ``lr`` first."""
    return list(inspect.signature(OPTIMIZERS[name]).parameters)


def make(name: str, lr: float | None = None, **hyper):
    """The optimizer ``name`` (a key of :data:`OPTIMIZERS`) with torch's defaults unless given.

    Raises :class:`InputError` for an unknown name or an option it does not take.
    """
    if name not in OPTIMIZERS:
        raise InputError(f"optimizer: unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")
    allowed = options(name)
    for key in hyper:
        if key not in allowed or key == "lr":
            raise InputError(f"optimizer {name}: no option {key!r}; allowed: {', '.join(allowed)}")
    if lr is not None:
        hyper["lr"] = lr
    return OPTIMIZERS[name](**hyper)


def run(function: Surface | str, optimizer_name: str, lr: float | None = None, start=None, steps: int = 1000,
        **hyper) -> tuple[np.ndarray, np.ndarray]:
    """Race one optimizer on a surface: the parameters and loss at each step, ``[k + 1, 2]`` and ``[k + 1]``.

    ``function`` is a :class:`~polyanim.surfaces.Surface` or a name in
    :data:`polyanim.surfaces.FUNCTIONS`; ``start`` (default: the surface's)
    must lie in its domain. Row ``t`` is the point before update ``t`` and its
    loss, as the trainer records; for ``lbfgs`` one step is one
    ``optimizer.step(closure)`` of up to ``max_iter`` iterations. ``k`` is
    ``steps`` unless the run diverged: it stops before the first point that
    is not finite, beyond :data:`MAX_ABS` or of non-finite loss, so the rows
    are all finite and ``len(loss) - 1`` is how far it got. Leaving the domain
    does not stop a run (the panel marks where it left).
    """
    f = function if isinstance(function, Surface) else surface(function)
    if start is not None:
        f = started(f, start)
    opt = make(optimizer_name, lr, **hyper)
    params, loss = np.empty((steps + 1, 2)), np.empty(steps + 1)
    p = np.array(f.start, dtype=np.float64)
    closure = (lambda q: (f.loss(q), f.grad(q))) if isinstance(opt, LBFGS) else None
    for t in range(steps + 1):
        value = f.loss(p)
        if not (math.isfinite(value) and abs(p[0]) <= MAX_ABS and abs(p[1]) <= MAX_ABS):
            return params[:t], loss[:t]  # NaN fails the comparison too
        params[t], loss[t] = p, value
        if t < steps:
            with np.errstate(all="ignore"):  # an overflow is a divergence, caught on the next round
                opt.step(p, closure) if closure else opt.step(p, f.grad(p))
    return params, loss

