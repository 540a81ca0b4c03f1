"""Exact gradients of a safe expression (``sin(x) * y``) by forward-mode differentiation of its tree.

:func:`polyanim.targets.parse` checks the text against the whitelist first, so
only its grammar reaches this module. Each node evaluates to its value and its
partial derivatives (None for a node that does not depend on the variables),
by the chain rule, in float64: the gradient is as exact as the value, with no
finite-difference step to choose.
"""

from __future__ import annotations

import ast
import math
from typing import Callable

import numpy as np

from . import targets

_LN2, _LN10 = math.log(2.0), math.log(10.0)


def _sinc_prime(u):
    with np.errstate(all="ignore"):
        d = (np.cos(np.pi * u) - np.sinc(u)) / u
    return np.where(u == 0, 0.0, d)


def _zero(u):
    return np.zeros_like(u, dtype=np.float64)


# f'(u) for each of the parser's functions (sign, floor, ceil: 0 almost everywhere)
PRIMES: dict[str, Callable] = {
    "sin": np.cos, "cos": lambda u: -np.sin(u), "tan": lambda u: 1 / np.cos(u) ** 2, "exp": np.exp,
    "log": lambda u: 1 / u, "log2": lambda u: 1 / (u * _LN2), "log10": lambda u: 1 / (u * _LN10),
    "sqrt": lambda u: 0.5 / np.sqrt(u), "abs": np.sign, "tanh": lambda u: 1 - np.tanh(u) ** 2,
    "sinh": np.cosh, "cosh": np.sinh, "arcsin": lambda u: 1 / np.sqrt(1 - u * u),
    "arccos": lambda u: -1 / np.sqrt(1 - u * u), "arctan": lambda u: 1 / (1 + u * u),
    "sign": _zero, "floor": _zero, "ceil": _zero, "sinc": _sinc_prime,
}


def gradient(text: str, variables: tuple[str, ...] = ("x", "y")) -> Callable[..., tuple[np.ndarray, ...]]:
    """A function of the variables' values returning the partial derivatives of ``text``, one per variable.

    Raises :class:`polyanim.targets.ExpressionError` for text outside the
    parser's grammar. Where the derivative does not exist (``abs`` at 0,
    ``sqrt`` at 0) the result is what the rule gives there (0, inf or NaN).
    """
    targets.parse(text, variables)  # the whitelist check; raises on anything else
    body = ast.parse(text.strip(), mode="eval").body

    def partials(*values):
        env = {name: (np.float64(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64), i)
               for i, (name, v) in enumerate(zip(variables, values))}
        shape = np.broadcast_shapes(*map(np.shape, values))
        with np.errstate(all="ignore"):
            _, d = _dual(body, env, len(variables))
        if d is None:
            d = [0.0] * len(variables)
        return tuple(np.broadcast_to(np.asarray(p, dtype=np.float64), shape) if shape else np.float64(p)
                     for p in d)

    return partials


def _combine(da, ca, db, cb):
    """``ca * da + cb * db`` for derivative lists, where None is zero."""
    if da is None and db is None:
        return None
    if db is None:
        return [ca * a for a in da]
    if da is None:
        return [cb * b for b in db]
    return [ca * a + cb * b for a, b in zip(da, db)]


def _binary(op, a, da, b, db):
    if isinstance(op, ast.Add):
        return a + b, _combine(da, 1.0, db, 1.0)
    if isinstance(op, ast.Sub):
        return a - b, _combine(da, 1.0, db, -1.0)
    if isinstance(op, ast.Mult):
        return a * b, _combine(da, b, db, a)
    if isinstance(op, ast.Div):
        return a / b, _combine(da, 1 / b, db, -a / (b * b))
    if isinstance(op, ast.Mod):
        return a % b, _combine(da, 1.0, db, -np.floor(a / b))
    value = a ** b  # Pow: the exponent's term only where it varies, so x**2 stays defined at x <= 0
    return value, _combine(da, b * a ** (b - 1), db, value * np.log(a) if db is not None else 0.0)


def _dual(node: ast.AST, env: dict, n: int):
    """The value of ``node`` and its derivatives with respect to the ``n`` variables (None: all zero)."""
    if isinstance(node, ast.Constant):
        return np.float64(node.value), None
    if isinstance(node, ast.Name):
        if node.id not in env:
            return np.float64(targets.CONSTANTS[node.id]), None
        value, index = env[node.id]
        return value, [1.0 if k == index else 0.0 for k in range(n)]
    if isinstance(node, ast.BinOp):
        a, da = _dual(node.left, env, n)
        b, db = _dual(node.right, env, n)
        return _binary(node.op, a, da, b, db)
    if isinstance(node, ast.UnaryOp):
        a, da = _dual(node.operand, env, n)
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        return sign * a, _combine(da, sign, None, 0.0)
    name = node.func.id
    u, du = _dual(node.args[0], env, n)
    return targets.FUNCTIONS[name](u), _combine(du, PRIMES[name](u), None, 0.0) if du is not None else None
