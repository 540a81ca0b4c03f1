"""Target expressions such as ``sin(x)`` or ``x**2 - 1``: parsed, never evaluated as Python.

The expression is parsed with :mod:`ast` and every node is checked against a
small whitelist (numbers, ``x``, ``pi``, ``e``, arithmetic operators and a few
NumPy functions) before anything runs, so ``__import__('os')`` or attribute
access cannot execute: they are rejected at parse time.
"""

from __future__ import annotations

import ast
import operator
from typing import Callable

import numpy as np

from .errors import InputError

FUNCTIONS: dict[str, Callable] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "log": np.log,
    "log2": np.log2, "log10": np.log10, "sqrt": np.sqrt, "abs": np.abs,
    "tanh": np.tanh, "sinh": np.sinh, "cosh": np.cosh, "arcsin": np.arcsin,
    "arccos": np.arccos, "arctan": np.arctan, "sign": np.sign, "floor": np.floor,
    "ceil": np.ceil, "sinc": np.sinc,
}
CONSTANTS = {"pi": np.pi, "e": np.e}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.Pow: operator.pow, ast.Mod: operator.mod}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}
MAX_LENGTH = 500


class ExpressionError(InputError):
    """An expression outside the allowed grammar; the message says what is allowed."""


ALLOWED = ("numbers, x, pi, e, + - * / % ** and parentheses, and the functions "
           + ", ".join(FUNCTIONS))


def parse(text: str, variables: tuple[str, ...] = ("x",)) -> Callable[..., np.ndarray]:
    """Compile ``text`` into a function of the named variables (NumPy arrays in, array of their shape out).

    Raises :class:`ExpressionError` naming the first offending piece and the
    allowed grammar. With ``variables=()`` the result is a constant expression
    (``"-pi"``, ``"2*pi"``) and the function takes no arguments.
    """
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError(f"expected an expression such as 'sin(x)'; allowed: {ALLOWED}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {text!r}: {exc.msg}") from None
    body = _check(tree.body, variables)

    def evaluate(*values):
        env = dict(zip(variables, values))
        with np.errstate(all="ignore"):
            result = _eval(body, env)
        # a constant target such as "2" still gives one value per x
        return np.broadcast_to(result, np.broadcast_shapes(*map(np.shape, values))) if values else result

    return evaluate


def constant(text) -> float:
    """Evaluate a constant expression (a number or e.g. ``"-pi"``) to a float."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        try:
            return float(text)
        except OverflowError:
            raise ExpressionError(f"{text!r} is too large for a float") from None
    return float(parse(str(text), variables=())())


def _check(node: ast.AST, variables) -> ast.AST:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            float(node.value)
        except OverflowError:
            raise ExpressionError(f"{ast.unparse(node)[:20]}... is too large for a float") from None
        return node
    if isinstance(node, ast.Name) and (node.id in variables or node.id in CONSTANTS):
        return node
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        _check(node.left, variables), _check(node.right, variables)
        return node
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        _check(node.operand, variables)
        return node
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
            and len(node.args) == 1 and not node.keywords):
        _check(node.args[0], variables)
        return node
    piece = ast.unparse(node)
    raise ExpressionError(f"{piece!r} is not allowed; allowed: {ALLOWED}")


def _eval(node: ast.AST, env: dict):
    if isinstance(node, ast.Constant):
        return np.float64(node.value)  # NumPy scalars overflow to inf instead of raising or hanging
    if isinstance(node, ast.Name):
        return env[node.id] if node.id in env else CONSTANTS[node.id]
    if isinstance(node, ast.BinOp):
        return _BINARY[type(node.op)](_eval(node.left, env), _eval(node.right, env))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, env))
    return FUNCTIONS[node.func.id](_eval(node.args[0], env))


def taylor(text: str, degree: int, center: float = 0.0) -> list[float] | None:
    """Taylor coefficients ``[a0, …, a_degree]`` of an expression at ``center``, or ``None``.

    Estimated numerically (least squares on Chebyshev nodes in two shrinking
    windows); ``None`` when the two windows disagree, which is what happens
    where the expression is not smooth (``abs(x)`` at 0) or not defined.
    """
    f = parse(text)
    estimates = []
    for h in (0.2, 0.1):
        nodes = center + h * np.cos(np.pi * (np.arange(4 * degree + 8) + 0.5) / (4 * degree + 8))
        y = f(nodes)
        if not np.isfinite(y).all():
            return None
        coefs = np.polynomial.polynomial.polyfit((nodes - center) / h, y, degree + 2)[: degree + 1]
        estimates.append(coefs / h ** np.arange(degree + 1))
    a, b = estimates
    scale = max(1.0, float(np.abs(b).max()))
    return [float(v) for v in b] if np.allclose(a, b, rtol=1e-2, atol=1e-3 * scale) else None
