"""Closed-form score-matching estimators: the stationary points of the empirical Hyvarinen
objective, in terms of the data's sample moments.

Invariant: a closed form is offered only when the integrand is a polynomial in x (so the empirical
objective is a function of finitely many sample moments, each a symbol such as mean(x**2)) and
``sympy.solve`` returns a solution of the stationarity equations within ``SOLVE_BUDGET`` seconds;
otherwise the answer is None and estimation falls back to numerical optimization.

>>> from scoresym import zoo
>>> sol = stationary_point(zoo.get("gaussian_1d").model)
>>> sol.solution
{mu: mean(x), s2: -mean(x)**2 + mean(x**2)}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

from ..budget import OverBudget, time_limit
from .notation import Notation

MAX_PARAMS = 6
#: Seconds allowed to solve the stationarity equations (then: no closed form).
SOLVE_BUDGET = 5.0


@dataclass
class StationaryPoint:
    """The empirical objective in sample moments and its stationary point."""

    objective: sympy.Expr       # sum_alpha c_alpha(theta) M_alpha
    moments: dict               # {moment symbol: monomial exponents}
    solution: dict              # {param: expression in the moments}

    def evaluate(self, X: np.ndarray) -> dict:
        """The solution at the sample moments of X (n, d): {param name: float}."""
        values = {M: float(np.mean(np.prod(X ** np.array(alpha), axis=1)))
                  for M, alpha in self.moments.items()}
        return {p.name: float(e.xreplace(values)) for p, e in self.solution.items()}


def moment_symbol(variables: tuple, alpha: tuple) -> sympy.Symbol:
    """The sample-moment symbol for the monomial x^alpha: mean(x1*x2**2), \\overline{x_1 x_2^2}."""
    monomial = sympy.Mul(*[v**a for v, a in zip(variables, alpha)])
    name = "m_" + "_".join(str(a) for a in alpha)
    return Notation(name, f"mean({monomial})", rf"\overline{{{sympy.latex(monomial)}}}")


def empirical_objective(model, integrand=None) -> tuple:
    """(objective in moment symbols, {symbol: exponents}) or None when the integrand (default
    the Hyvarinen integrand) is not a polynomial in the variables."""
    try:
        poly = sympy.Poly(model.hyvarinen if integrand is None else integrand, *model.variables)
    except sympy.PolynomialError:
        return None
    if any(c.has(*model.variables) for c in poly.coeffs()):
        return None
    moments, terms = {}, []
    for alpha, coefficient in poly.terms():
        if sum(alpha) == 0:
            terms.append(coefficient)
            continue
        M = moment_symbol(model.variables, alpha)
        moments[M] = alpha
        terms.append(coefficient * M)
    return sympy.Add(*terms), moments


def stationary_point(model, integrand=None):
    """The StationaryPoint of the empirical objective (of ``integrand``, default the Hyvarinen
    integrand), or None when there is no closed form."""
    found = empirical_objective(model, integrand)
    if found is None or not model.params or len(model.params) > MAX_PARAMS:
        return None
    objective, moments = found
    try:
        with time_limit(SOLVE_BUDGET):
            return _solve_stationarity(model, objective, moments)
    except (OverBudget, NotImplementedError, ValueError):
        return None  # no closed form found in time: the caller optimizes numerically


def _solve_stationarity(model, objective, moments):
    equations = [sympy.together(sympy.diff(objective, p)) for p in model.params]
    numerators = [sympy.numer(e) for e in equations]
    for solution in sympy.solve(numerators, model.params, dict=True):
        if set(solution) == set(model.params):
            tidy = {p: sympy.factor_terms(sympy.simplify(solution[p])) for p in model.params}
            return StationaryPoint(objective, moments, tidy)
    return None
