"""Test functions of two parameters, the loss surfaces optimizers race across. numpy only.

Each function has its value and its analytic gradient (both vectorised: NumPy
arrays of any broadcastable shapes in, arrays out, so the same code draws a
mesh and takes an optimizer step), its usual domain and start, and its known
minima. An expression in ``x`` and ``y`` goes through the safe parser of
:mod:`polyanim.targets` and gets its exact gradient by forward-mode
differentiation of the same tree (:mod:`polyanim.derivative`).
:func:`surface` resolves a ``problem`` section's ``function``, ``expression``,
``domain``, ``start`` and ``minima`` into one :class:`Surface`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from . import derivative, targets
from .errors import InputError

Point = tuple[float, float]
Domain = tuple[Point, Point]  # ((x_lo, x_hi), (y_lo, y_hi))


@dataclass(frozen=True)
class Surface:
    """A function of two parameters with what a race on it needs.

    ``value(x, y)`` and ``gradient(x, y) -> (df/dx, df/dy)`` broadcast over
    arrays; ``domain`` is ``((x_lo, x_hi), (y_lo, y_hi))``; ``minima`` the known
    global minima (empty when unknown or unbounded below), ``minimum`` their
    value (None when unknown); ``saddles`` points worth marking that are not
    minima (the saddle's origin).
    """

    name: str
    value: Callable[[np.ndarray, np.ndarray], np.ndarray]
    gradient: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
    domain: Domain
    start: Point
    minima: tuple[Point, ...] = ()
    minimum: float | None = 0.0
    saddles: tuple[Point, ...] = ()
    doc: str = ""

    def loss(self, p) -> float:
        """The value at a parameter vector ``p = (x, y)``."""
        return float(self.value(p[0], p[1]))

    def grad(self, p) -> np.ndarray:
        """The gradient at ``p = (x, y)`` as a float64 vector of 2."""
        x, y = float(p[0]), float(p[1])  # Python floats: a scalar step costs a fraction of NumPy scalars
        gx, gy = self.gradient(x, y)
        return np.array([gx, gy], dtype=np.float64)

    def inside(self, p) -> bool:
        """Whether ``p`` lies in the domain (edges included)."""
        (x0, x1), (y0, y1) = self.domain
        return bool(x0 <= p[0] <= x1 and y0 <= p[1] <= y1)

    def mesh(self, n: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``X, Y, Z`` on an ``n`` by ``n`` grid over the domain (rows are y), non-finite values as NaN."""
        (x0, x1), (y0, y1) = self.domain
        xs, ys = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
        with np.errstate(all="ignore"):
            z = np.asarray(self.value(xs, ys), dtype=np.float64)
        return xs, ys, np.where(np.isfinite(z), z, np.nan)


def _rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def _rosenbrock_grad(x, y):
    return -2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y ** 3


def _beale(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    return t1 * t1 + t2 * t2 + t3 * t3


def _beale_grad(x, y):
    t1, t2, t3 = _beale_terms(x, y)
    return (2 * t1 * (y - 1) + 2 * t2 * (y * y - 1) + 2 * t3 * (y ** 3 - 1),
            2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y * y)


def _himmelblau(x, y):
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def _himmelblau_grad(x, y):
    a, b = x * x + y - 11, x + y * y - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


def _rastrigin(x, y):
    return 20 + x * x - 10 * np.cos(2 * math.pi * x) + y * y - 10 * np.cos(2 * math.pi * y)


def _rastrigin_grad(x, y):
    return 2 * x + 20 * math.pi * np.sin(2 * math.pi * x), 2 * y + 20 * math.pi * np.sin(2 * math.pi * y)


def _booth(x, y):
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _booth_grad(x, y):
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return 2 * a + 4 * b, 4 * a + 2 * b


def _saddle(x, y):
    return x * x - y * y


def _saddle_grad(x, y):
    return 2 * x, -2 * y


FUNCTIONS: dict[str, Surface] = {s.name: s for s in (
    Surface("rosenbrock", _rosenbrock, _rosenbrock_grad, ((-2.0, 2.0), (-1.0, 3.0)), (-1.5, 2.0),
            ((1.0, 1.0),), doc="(1 - x)^2 + 100 (y - x^2)^2: a long curved valley"),
    Surface("beale", _beale, _beale_grad, ((-4.5, 4.5), (-4.5, 4.5)), (1.0, 1.5), ((3.0, 0.5),),
            doc="(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2: flat plateaus, steep walls"),
    Surface("himmelblau", _himmelblau, _himmelblau_grad, ((-5.0, 5.0), (-5.0, 5.0)), (0.0, 0.0),
            ((3.0, 2.0), (-2.805118086952745, 3.131312518250573), (-3.779310253377747, -3.283185991286169),
             (3.5844283403304917, -1.8481265269644034)),
            doc="(x^2 + y - 11)^2 + (x + y^2 - 7)^2: four equal minima"),
    Surface("rastrigin", _rastrigin, _rastrigin_grad, ((-5.12, 5.12), (-5.12, 5.12)), (-2.0, 3.5), ((0.0, 0.0),),
            doc="20 + x^2 - 10 cos(2 pi x) + y^2 - 10 cos(2 pi y): a grid of local minima"),
    Surface("booth", _booth, _booth_grad, ((-10.0, 10.0), (-10.0, 10.0)), (-5.0, -5.0), ((1.0, 3.0),),
            doc="(x + 2y - 7)^2 + (2x + y - 5)^2: a tilted quadratic bowl"),
    Surface("saddle", _saddle, _saddle_grad, ((-2.0, 2.0), (-2.0, 2.0)), (1.5, 0.01), (), None, ((0.0, 0.0),),
            doc="x^2 - y^2: unbounded below; a start just off y = 0 shows who escapes the saddle"),
)}
EXPRESSION = "expression"
EXPRESSION_DOMAIN: Domain = ((-3.0, 3.0), (-3.0, 3.0))
EXPRESSION_START: Point = (-2.0, 2.0)
ALLOWED = ("numbers, x, y, pi, e, + - * / % ** and parentheses, and the functions "
           + ", ".join(targets.FUNCTIONS))


def expression_surface(text: str, key: str = "problem.expression") -> Surface:
    """A :class:`Surface` for an expression in ``x`` and ``y`` (safe parser; exact gradient), on the default domain.

    Raises :class:`InputError` naming ``key`` when the text is outside the grammar.
    """
    try:
        value = targets.parse(text, variables=("x", "y"))
        gradient = derivative.gradient(text, variables=("x", "y"))
    except targets.ExpressionError as exc:
        reason = str(exc).split("; allowed:")[0]
        raise InputError(f"{key}: {reason}; allowed: {ALLOWED}") from None
    return Surface(EXPRESSION, value, gradient, EXPRESSION_DOMAIN, EXPRESSION_START, (), None, doc=text)


def surface(function: str = "rosenbrock", *, expression: str | None = None, domain=None, start=None,
            minima=None) -> Surface:
    """The surface a ``problem`` section describes: a named function or ``expression``, with overrides.

    ``function`` is a name in :data:`FUNCTIONS` or ``"expression"`` (then
    ``expression`` is required). ``domain`` (``[[x_lo, x_hi], [y_lo, y_hi]]``),
    ``start`` (``[x, y]``, inside the domain) and ``minima`` (a list of
    ``[x, y]``) replace the function's own. Bad input raises a one-line
    :class:`InputError` naming ``problem.function``, ``problem.expression``,
    ``problem.domain``, ``problem.start`` or ``problem.minima``.
    """
    if function == EXPRESSION:
        if expression is None:
            raise InputError("problem.expression: required when problem.function is 'expression' "
                             "(an expression in x and y such as 'x**2 + 3*y**2')")
        base = expression_surface(expression)
    elif function in FUNCTIONS:
        if expression is not None:
            raise InputError(f"problem.expression: only with problem.function: expression (not {function!r})")
        base = FUNCTIONS[function]
    else:
        raise InputError(f"problem.function: unknown function {function!r}; "
                         f"allowed: {', '.join([*FUNCTIONS, EXPRESSION])}")
    changes = {}
    if domain is not None:
        changes["domain"] = _domain(domain)
    if minima is not None:
        changes["minima"] = tuple(_point(m, "problem.minima") for m in _list(minima, "problem.minima"))
    result = replace(base, **changes)
    return started(result, start if start is not None else result.start)


def started(f: Surface, start) -> Surface:
    """``f`` from another start ``[x, y]``, which must lie in its domain (else an error naming ``problem.start``)."""
    moved = replace(f, start=_point(start, "problem.start"))
    if not moved.inside(moved.start):
        (x0, x1), (y0, y1) = f.domain
        raise InputError(f"problem.start: {list(moved.start)} is outside the domain "
                         f"x in [{x0:g}, {x1:g}], y in [{y0:g}, {y1:g}]")
    return moved


def _list(value, key: str) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise InputError(f"{key}: expected a list, got {value!r}")
    return list(value)


def _number(value, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(float(value)):
        raise InputError(f"{key}: expected a finite number, got {value!r}")
    return float(value)


def _point(value, key: str) -> Point:
    items = _list(value, key)
    if len(items) != 2:
        raise InputError(f"{key}: expected [x, y], got {value!r}")
    return _number(items[0], key), _number(items[1], key)


def _domain(value) -> Domain:
    key = "problem.domain"
    items = _list(value, key)
    if len(items) != 2:
        raise InputError(f"{key}: expected [[x_lo, x_hi], [y_lo, y_hi]], got {value!r}")
    (x0, x1), (y0, y1) = _point(items[0], key), _point(items[1], key)
    if not (x0 < x1 and y0 < y1):
        raise InputError(f"{key}: each range needs lo < hi, got {value!r}")
    return (x0, x1), (y0, y1)


def outside(points: np.ndarray, domain) -> np.ndarray:
    """Which points ``[k, 2]`` lie outside ``domain`` (edges are inside; a non-finite point is outside)."""
    (x0, x1), (y0, y1) = domain
    x, y = points[:, 0], points[:, 1]
    with np.errstate(invalid="ignore"):
        return ~((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))
