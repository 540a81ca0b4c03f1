"""``torch.optim.LBFGS`` ported to numpy, line for line: its step, two-loop recursion and strong Wolfe search.

Torch's defaults hold (lr 1, ``max_iter`` 20 iterations per step, ``max_eval``
25, history 100, no line search unless ``line_search_fn="strong_wolfe"``), and
so do its stopping tests, so one :meth:`LBFGS.step` is one
``optimizer.step(closure)``. A closure maps a point to ``(loss, gradient)``.
"""

from __future__ import annotations

import numpy as np


class LBFGS:
    """``torch.optim.LBFGS`` on a float64 vector; ``step(p, closure)`` updates ``p`` in place."""

    def __init__(self, lr=1.0, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
                 history_size=100, line_search_fn=None):
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError("only 'strong_wolfe' is supported")
        self.lr, self.max_iter = lr, max_iter
        self.max_eval = max_eval if max_eval is not None else max_iter * 5 // 4
        self.tolerance_grad, self.tolerance_change = tolerance_grad, tolerance_change
        self.history_size, self.line_search_fn = history_size, line_search_fn
        self.n_iter = 0
        self.d = self.t = self.prev_grad = self.prev_loss = None
        self.old_dirs, self.old_stps, self.ro, self.h_diag = [], [], [], 1.0

    def _direction(self, grad):
        """The quasi-Newton direction from the history (updated with the last step first)."""
        y = grad - self.prev_grad
        s = self.d * self.t
        ys = y.dot(s)
        if ys > 1e-10:
            if len(self.old_dirs) == self.history_size:
                self.old_dirs.pop(0), self.old_stps.pop(0), self.ro.pop(0)
            self.old_dirs.append(y), self.old_stps.append(s), self.ro.append(1.0 / ys)
            self.h_diag = ys / y.dot(y)
        al = [0.0] * len(self.old_dirs)
        q = -grad
        for i in range(len(self.old_dirs) - 1, -1, -1):
            al[i] = self.old_stps[i].dot(q) * self.ro[i]
            q = q + (-al[i]) * self.old_dirs[i]
        r = q * self.h_diag
        for i in range(len(self.old_dirs)):
            be_i = self.old_dirs[i].dot(r) * self.ro[i]
            r = r + (al[i] - be_i) * self.old_stps[i]
        return r

    def step(self, p: np.ndarray, closure) -> float:
        """One ``torch.optim.LBFGS.step``: up to ``max_iter`` iterations; returns the loss at the start."""
        orig_loss, grad = closure(p)
        loss, evals = float(orig_loss), 1
        if np.abs(grad).max() <= self.tolerance_grad:
            return orig_loss
        for n_iter in range(1, self.max_iter + 1):
            self.n_iter += 1
            if self.n_iter == 1:
                self.d, self.old_dirs, self.old_stps, self.ro, self.h_diag = -grad, [], [], [], 1.0
            else:
                self.d = self._direction(grad)
            self.prev_grad, self.prev_loss = grad.copy(), loss
            self.t = min(1.0, 1.0 / np.abs(grad).sum()) * self.lr if self.n_iter == 1 else self.lr
            gtd = grad.dot(self.d)
            if gtd > -self.tolerance_change:
                break
            if self.line_search_fn is not None:
                x = p.copy()
                loss, grad, self.t, ls_evals = strong_wolfe(
                    lambda t: closure(x + t * self.d), self.t, self.d, loss, grad, gtd,
                    max_ls=self.max_eval - evals)
                p += self.t * self.d
                opt_cond = np.abs(grad).max() <= self.tolerance_grad
            else:
                p += self.t * self.d
                ls_evals, opt_cond = 0, False
                if n_iter != self.max_iter:
                    loss, grad = closure(p)
                    loss, ls_evals = float(loss), 1
                    opt_cond = np.abs(grad).max() <= self.tolerance_grad
            evals += ls_evals
            if (n_iter == self.max_iter or evals >= self.max_eval or opt_cond
                    or np.abs(self.d * self.t).max() <= self.tolerance_change
                    or abs(loss - self.prev_loss) < self.tolerance_change):
                break
        return orig_loss


def cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through two points with slopes, clipped to ``bounds`` (torch's rule)."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, lo), hi)
    return (lo + hi) / 2.0


def strong_wolfe(phi, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """torch's ``_strong_wolfe``: bracket, then zoom; ``phi(t)`` is ``(loss, grad)`` at ``x + t d``.

    Returns ``(loss, grad, t, evaluations)``.
    """
    d_norm = np.abs(d).max()
    f_new, g_new = phi(t)
    f_new, evals, gtd_new = float(f_new), 1, g_new.dot(d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done, ls_iter = False, 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g, done = [t], [f_new], [g_new], True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g, bracket_gtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        tmp = t
        t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = phi(t)
        f_new, evals, gtd_new, ls_iter = float(f_new), evals + 1, g_new.dot(d), ls_iter + 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    zoom = _Zoom(bracket, bracket_f, bracket_g, bracket_gtd if not done and ls_iter < max_ls else None)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = zoom.trial()
        f_new, g_new = phi(t)
        f_new, evals, gtd_new, ls_iter = float(f_new), evals + 1, g_new.dot(d), ls_iter + 1
        done = zoom.update(t, f_new, g_new, gtd_new, f + c1 * t * gtd, -c2 * gtd)
    return zoom.f[zoom.low], zoom.g[zoom.low], zoom.t[zoom.low], evals


class _Zoom:
    """The zoom phase's bracket (``t``, loss, gradient, slope at both ends) and its update rules."""

    def __init__(self, t, f, g, gtd):
        self.t, self.f, self.g, self.gtd = t, f, g, gtd
        self.insuf_progress = False
        self.low, self.high = (0, 1) if f[0] <= f[-1] else (1, 0)

    def trial(self) -> float:
        """The next trial step: the cubic's minimiser, kept away from the bracket's ends."""
        b = self.t
        t = cubic_interpolate(b[0], self.f[0], self.gtd[0], b[1], self.f[1], self.gtd[1])
        eps = 0.1 * (max(b) - min(b))
        if min(max(b) - t, t - min(b)) < eps:
            if self.insuf_progress or t >= max(b) or t <= min(b):
                t = max(b) - eps if abs(t - max(b)) < abs(t - min(b)) else min(b) + eps
                self.insuf_progress = False
            else:
                self.insuf_progress = True
        else:
            self.insuf_progress = False
        return t

    def update(self, t, f_new, g_new, gtd_new, armijo, curvature) -> bool:
        """Shrink the bracket with a trial point; True when it satisfies the strong Wolfe conditions."""
        lo, hi = self.low, self.high
        if f_new > armijo or f_new >= self.f[lo]:
            self.t[hi], self.f[hi], self.g[hi], self.gtd[hi] = t, f_new, g_new, gtd_new
            self.low, self.high = (0, 1) if self.f[0] <= self.f[1] else (1, 0)
            return False
        done = abs(gtd_new) <= curvature
        if not done and gtd_new * (self.t[hi] - self.t[lo]) >= 0:
            self.t[hi], self.f[hi], self.g[hi], self.gtd[hi] = self.t[lo], self.f[lo], self.g[lo], self.gtd[lo]
        self.t[lo], self.f[lo], self.g[lo], self.gtd[lo] = t, f_new, g_new, gtd_new
        return done
