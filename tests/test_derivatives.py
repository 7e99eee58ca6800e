"""Derivatives by SymEngine against SymPy's: equal as expressions (their difference simplifies
to 0) and at random points to 1e-13, on the functions SymEngine is used for; SymPy wherever
SymEngine is not exact (Abs, Floats, symbols that share a name, Dummies) or not installed."""

import numpy as np
import pytest
import sympy

from scoresym.symbolic import derivatives
from scoresym.symbolic.derivatives import (
    ENGINE_MIN_NODES,
    engine_differentiates,
    gradient,
    to_engine,
)
from scoresym.symbolic.operators import Operators

X = sympy.symbols("x0:10", real=True)
W = sympy.symbols("w0:10", positive=True)


SHIFTS = (sympy.Dummy("shift", real=True), sympy.Dummy("shift", real=True))


def _big(f):
    """sum_i f(sum_j w_j x_i x_j): large enough for SymEngine (ENGINE_MIN_NODES)."""
    return sum(f(sum(w * xi * xj for w, xj in zip(W, X))) for xi in X)


# (name, log f): each function SymEngine is used for, in an expression over the size bound
CASES = [
    ("log cosh", _big(lambda u: -sympy.log(sympy.cosh(u)))),
    ("softplus", _big(lambda u: sympy.log(1 + sympy.exp(u)))),
    ("trig", _big(lambda u: sympy.sin(u) * sympy.cos(u) + sympy.tan(u) / 7)),
    ("atan asinh", _big(lambda u: sympy.atan(u) + sympy.asinh(u))),
    ("erf tanh", _big(lambda u: sympy.erf(u) * sympy.tanh(u))),
    ("powers", _big(lambda u: -(1 + u**2) ** sympy.Rational(-5, 2) + sympy.pi * u**3 / 3)),
    ("exp log", _big(lambda u: sympy.exp(-u**2) * sympy.log(2 + u**2))),
    # two Dummies that share a name, as the shifts of two stable log-sum-exps do
    ("dummies", _big(lambda u: u * SHIFTS[0] + sympy.exp(u - SHIFTS[1]))),
]


@pytest.mark.parametrize("name, expr", CASES, ids=[c[0] for c in CASES])
def test_engine_derivatives_are_sympys(name, expr):
    assert engine_differentiates(expr)
    ours = gradient(expr, X[:2])
    rng = np.random.default_rng(0)
    for k in range(2):
        exact = sympy.diff(expr, X[k])
        assert ours[k].free_symbols <= exact.free_symbols  # the original symbols, assumptions
        for _ in range(3):
            point = {s: sympy.Rational(int(rng.integers(-40, 40)), 37) for s in X + SHIFTS}
            point.update({w: sympy.Rational(int(rng.integers(1, 40)), 53) for w in W})
            a, b = ours[k].xreplace(point).evalf(30), exact.xreplace(point).evalf(30)
            assert abs(a - b) <= 1e-13 * max(1, abs(b)), (name, k, a, b)


def test_the_operators_second_derivatives_are_sympys():
    expr = CASES[0][1]
    ops = Operators(expr, X)
    assert ops._engine_score is not None
    point = {s: sympy.Rational(i + 1, 7) for i, s in enumerate(X + W)}
    for i, j in ((0, 0), (0, 3), (5, 5)):
        exact = sympy.diff(expr, X[i], X[j]).xreplace(point).evalf(30)
        assert abs(ops.second_derivative(i, j).xreplace(point).evalf(30) - exact) < 1e-20


x, y = sympy.symbols("x y", real=True)
# (why SymPy differentiates it, expression)
NOT_ENGINE = [
    ("small", sympy.log(sympy.cosh(x))),
    ("Abs", _big(lambda u: sympy.Abs(u))),
    ("Float", _big(lambda u: sympy.Float("0.1", 30) * u**2)),
    ("two symbols named x0", _big(lambda u: u * sympy.Symbol("x0"))),
    ("Heaviside", _big(lambda u: sympy.Heaviside(u))),
]


@pytest.mark.parametrize("why, expr", NOT_ENGINE, ids=[c[0] for c in NOT_ENGINE])
def test_sympy_differentiates_what_symengine_would_not_do_exactly(why, expr):
    assert to_engine(expr) is None
    assert gradient(expr, (X[0],)) == [sympy.diff(expr, X[0])]


def test_without_symengine_everything_is_sympys(monkeypatch):
    monkeypatch.setattr(derivatives, "symengine", None)
    expr = CASES[0][1]
    assert not engine_differentiates(expr)
    assert gradient(expr, (X[0],)) == [sympy.diff(expr, X[0])]


def test_the_size_bound_is_counted_in_nodes():
    small = sum(sympy.log(sympy.cosh(xi)) for xi in X)
    assert sum(1 for _ in sympy.preorder_traversal(small)) < ENGINE_MIN_NODES
    assert not engine_differentiates(small) and engine_differentiates(CASES[0][1])
