"""Softplus and its derivatives as compiled elementwise code, against mpmath at 50 digits, from
t = -1e300 to 1e300 on both backends; and the SymPy functions' derivatives against SymPy's
differentiation of the closed forms."""

import mpmath
import numpy as np
import pytest
import sympy

from scoresym.codegen.matrix_code import ScalarFunction
from scoresym.symbolic.logistic import (
    Logistic,
    LogisticSlope,
    Softplus,
    logistic_pieces,
    softplus_forms,
)
from scoresym.symbolic.matrix_notation import T

POINTS = [-1e300, -1e6, -800.0, -40.0, -1.0, -1e-10, 0.0, 1e-10, 1.0, 37.0, 40.0, 800.0,
          1e6, 1e300]


def _reference(t: float, order: int) -> mpmath.mpf:
    """d^order/dt^order log(1 + exp(t)) at 50 digits."""
    with mpmath.workdps(50):
        u = mpmath.mpf(t)
        sigma = 1 / (1 + mpmath.exp(-u))
        slope = mpmath.exp(-abs(u)) / (1 + mpmath.exp(-abs(u))) ** 2
        return [mpmath.log1p(mpmath.exp(u)), sigma, slope,
                -slope * mpmath.tanh(u / 2)][order]


@pytest.mark.parametrize("backend", ["numpy", "autograd"])
@pytest.mark.parametrize("order", [0, 1, 2, 3])
def test_softplus_derivatives_are_right_to_the_last_bits(backend, order):
    f = ScalarFunction(sympy.log(1 + sympy.exp(T)), {}, backend, (order,))
    values = np.asarray(f(np.array(POINTS), {})[0], dtype=float)
    for t, value in zip(POINTS, values):
        reference = _reference(t, order)
        error = abs(value - float(reference)) if abs(reference) < 1e-300 else \
            float(abs((value - reference) / reference))
        assert error < 4e-16, (t, order, value, reference)


@pytest.mark.parametrize("function, closed_form", [
    (Softplus, lambda u: sympy.log(1 + sympy.exp(u))),
    (Logistic, lambda u: 1 / (1 + sympy.exp(-u))),
    (LogisticSlope, lambda u: sympy.exp(u) / (1 + sympy.exp(u)) ** 2),
])
def test_derivatives_are_those_of_the_closed_forms(function, closed_form):
    u = sympy.Symbol("u", real=True)
    for point in (sympy.Rational(-7, 2), sympy.Rational(1, 4), sympy.Integer(2)):
        ours = sympy.diff(function(u), u).subs(u, point).evalf(30)
        exact = sympy.diff(closed_form(u), u).subs(u, point).evalf(30)
        assert abs(ours - exact) < 1e-25


def test_pieces_are_identities():
    t = sympy.Symbol("t", real=True)
    expr = 3 * Logistic(2 * t) + LogisticSlope(t - 1)
    pieces = logistic_pieces(expr)
    for point in (-50, sympy.Rational(-1, 2), 0, sympy.Rational(1, 2), 50):
        assert abs((pieces - expr).subs(t, point).evalf(30)) < 1e-25


def test_only_log_of_one_plus_an_exponential_is_a_softplus():
    t = sympy.Symbol("t", real=True)
    assert softplus_forms(sympy.log(1 + sympy.exp(-t))) == Softplus(-t)
    for other in (sympy.log(2 + sympy.exp(t)), sympy.log(1 + t + sympy.exp(t)),
                  sympy.log(1 + t**2)):
        assert not softplus_forms(other).has(Softplus)
