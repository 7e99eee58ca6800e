"""Closed-form score-matching estimators: the stationary points of the empirical Hyvarinen
objective, in terms of the data's sample moments.

Invariant: a closed form is offered only when the integrand is a polynomial in x (so the empirical
objective is a function of finitely many sample moments, each a symbol such as mean(x**2)) and
``sympy.solve`` returns a solution of the stationarity equations within ``BUDGETS.solve`` seconds;
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

from ..budget import BUDGETS, OverBudget, time_limit
from .notation import Notation

MAX_PARAMS = 6
#: Seconds allowed to solve the stationarity equations (then: no closed form).


@dataclass
class StationaryPoint:
    """The empirical objective in sample moments and its stationary points (``solution`` is the
    first, as derivations show it; ``solutions`` all that solve for every parameter)."""

    objective: sympy.Expr       # sum_alpha c_alpha(theta) M_alpha
    moments: dict               # {moment symbol: monomial exponents}
    solution: dict              # {param: expression in the moments}
    solutions: list = None      # every solution found, ``solution`` first

    def __post_init__(self):
        self.solutions = self.solutions or [self.solution]

    def evaluate(self, X: np.ndarray, prefer: dict | None = None) -> dict:
        """The stationary point at the sample moments of X (n, d): {param name: float}. Where
        there are several (s = +-sqrt(var) when only s**2 enters f), the real one with the
        lowest objective; among equally low ones, the one nearest ``prefer`` (parameter values
        by name), else the one with the most positive values (a convention: f is the same)."""
        values = {M: float(np.mean(np.prod(X ** np.array(alpha), axis=1)))
                  for M, alpha in self.moments.items()}
        candidates = []
        for solution in self.solutions:
            point = {p: _real(e.xreplace(values)) for p, e in solution.items()}
            if not all(np.isfinite(list(point.values()))):
                continue
            level = _real(self.objective.xreplace(values).xreplace(point))
            candidates.append((point, level if np.isfinite(level) else np.inf))
        if not candidates:
            return {p.name: float("nan") for p in self.solution}
        lowest = min(level for _, level in candidates)
        best = [point for point, level in candidates
                if level <= lowest + 1e-12 * max(1.0, abs(lowest))]
        if prefer:
            best.sort(key=lambda point: sum((v - prefer.get(p.name, v)) ** 2
                                            for p, v in point.items()))
        else:
            best.sort(key=lambda point: -sum(v > 0 for v in point.values()))
        return {p.name: v for p, v in best[0].items()}


def _real(value) -> float:
    """A SymPy number as a float; NaN where it is not a finite real number."""
    try:
        number = complex(value)
    except (TypeError, ValueError):
        return float("nan")
    return number.real if abs(number.imag) <= 1e-12 * max(1.0, abs(number.real)) \
        else float("nan")


def moment_symbol(variables: tuple, alpha: tuple) -> sympy.Symbol:
    """The sample-moment symbol for the monomial x^alpha: mean(x1*x2**2), \\overline{x_1 x_2^2}."""
    monomial = sympy.Mul(*[v**a for v, a in zip(variables, alpha)])
    name = "m_" + "_".join(str(a) for a in alpha)
    return Notation(name, f"mean({monomial})", rf"\overline{{{sympy.latex(monomial)}}}")


def empirical_objective(model, integrand=None) -> tuple:
    """(objective in moment symbols, {symbol: exponents}) or None when the integrand (default
    the Hyvarinen integrand) is not a polynomial in the variables."""
    integrand = model.hyvarinen if integrand is None else integrand
    if not integrand.is_polynomial(*model.variables):  # structural, without expanding
        return None
    try:
        poly = sympy.Poly(integrand, *model.variables)
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
        with time_limit(BUDGETS.solve):
            return _solve_stationarity(model, objective, moments)
    except (OverBudget, NotImplementedError, ValueError):
        return None  # no closed form found in time: the caller optimizes numerically


def _solve_stationarity(model, objective, moments):
    equations = [sympy.together(sympy.diff(objective, p)) for p in model.params]
    numerators = [sympy.numer(e) for e in equations]
    solutions = [{p: sympy.factor_terms(sympy.simplify(solution[p])) for p in model.params}
                 for solution in sympy.solve(numerators, model.params, dict=True)
                 if set(solution) == set(model.params)]
    if not solutions:
        return None
    return StationaryPoint(objective, moments, solutions[0], solutions)
