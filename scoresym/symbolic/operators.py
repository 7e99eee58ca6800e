"""The score-matching operators of a log-density, derived exactly and cached.

Invariant: every operator is a derivative with respect to the variables only: the score
s = grad_x log f, the Hessian H = grad_x s, the Laplacian tr H (from the d diagonal second
derivatives alone) and the Hyvarinen integrand 1/2 ||s||^2 + tr H. Each is computed once, on
first use. ``stabilize_log_sum_exp`` rewrites log(sum_k c_k exp(a_k)) for numerically stable
evaluation without changing any derivative.

>>> x, mu = sympy.symbols("x mu", real=True)
>>> ops = Operators(-(x - mu)**2 / 2, (x,))
>>> ops.score.T, ops.laplacian
(Matrix([[mu - x]]), -1)
"""

from __future__ import annotations

from functools import cached_property

import sympy

_TIDY_MAX_NODES = 80


class Operators:
    """Score, Hessian, Laplacian and Hyvarinen integrand of ``log_density`` in ``variables``."""

    def __init__(self, log_density: sympy.Expr, variables: tuple):
        self.log_density = log_density
        self.variables = tuple(variables)
        self._second = {}

    @cached_property
    def score(self) -> sympy.Matrix:
        """s(x) = grad_x log f, a d x 1 Matrix."""
        return sympy.Matrix([tidy(sympy.diff(self.log_density, v)) for v in self.variables])

    def second_derivative(self, i: int, j: int) -> sympy.Expr:
        """d^2 log f / dx_i dx_j, computed once per unordered pair."""
        key = (min(i, j), max(i, j))
        if key not in self._second:
            self._second[key] = tidy(sympy.diff(self.score[key[0]], self.variables[key[1]]))
        return self._second[key]

    @cached_property
    def hessian(self) -> sympy.Matrix:
        """H(x) = grad_x grad_x^T log f, the d x d Jacobian of the score (symmetric)."""
        d = len(self.variables)
        return sympy.Matrix(d, d, lambda i, j: self.second_derivative(i, j))

    @cached_property
    def laplacian(self) -> sympy.Expr:
        """tr H(x) = sum_i d^2 log f / dx_i^2 (only the diagonal is differentiated)."""
        d = len(self.variables)
        return tidy(sympy.Add(*[self.second_derivative(i, i) for i in range(d)]))

    @cached_property
    def hyvarinen(self) -> sympy.Expr:
        """The per-sample Hyvarinen integrand 1/2 ||s(x)||^2 + tr H(x)."""
        return sympy.Rational(1, 2) * sympy.Add(*[s**2 for s in self.score]) + self.laplacian


def divergence(g, variables) -> sympy.Expr:
    """div g = sum_i d g_i / d x_i.

    >>> x, y = sympy.symbols("x y")
    >>> divergence([x**2, x*y], (x, y))
    3*x
    """
    return sympy.Add(*[sympy.diff(gi, v) for gi, v in zip(g, variables)])


def weighted_hyvarinen(operators, variables, weights=None) -> sympy.Expr:
    """h = sum_k [1/2 w_k s_k^2 + w_k ds_k/dx_k + (dw_k/dx_k) s_k]; w_k = 1 gives Hyvarinen's."""
    if weights is None:
        return operators.hyvarinen
    terms = []
    for k, (w, v) in enumerate(zip(weights, variables)):
        s = operators.score[k]
        terms.append(sympy.Rational(1, 2) * w * s**2 + w * operators.second_derivative(k, k)
                     + sympy.diff(w, v) * s)
    return sympy.Add(*terms)


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A cheap readable form: ``cancel`` small expressions when that does not make them longer.

    Large expressions are returned as they are: their size is counted only up to a bound, so
    tidying costs nothing as the dimension grows.

    >>> x, mu, s2 = sympy.symbols("x mu s2")
    >>> tidy(-(2*x - 2*mu) / (2*s2))
    (mu - x)/s2
    """
    size = _bounded_size(expr, _TIDY_MAX_NODES)
    if size > _TIDY_MAX_NODES or expr.has(sympy.Min, sympy.Max, sympy.Piecewise, sympy.Abs):
        return expr
    cancelled = _factored_denominator(sympy.cancel(expr))
    return cancelled if _bounded_size(cancelled, size + 1) <= size else expr


def _factored_denominator(expr: sympy.Expr) -> sympy.Expr:
    """n / d with d factored: x**2*(x - 1)**2 keeps its digits at x = 1 - 1e-8, where the
    expanded x**4 - 2*x**3 + x**2 has lost them all to cancellation.

    >>> x = sympy.Symbol("x")
    >>> _factored_denominator((x + 1) / (x**4 - 2*x**3 + x**2))
    (x + 1)/(x**2*(x - 1)**2)
    """
    numerator, denominator = sympy.fraction(expr)
    if denominator == 1 or not denominator.free_symbols:
        return expr
    return numerator / sympy.factor(denominator)


def _bounded_size(expr: sympy.Expr, bound: int) -> int:
    """The number of nodes in expr's tree, counting no further than bound + 1."""
    count = 0
    for _ in sympy.preorder_traversal(expr):
        count += 1
        if count > bound:
            break
    return count


def stabilize_log_sum_exp(log_density: sympy.Expr, variables: tuple) -> tuple:
    """Rewrite each log(sum_k c_k exp(a_k(x))) in log f as m + log(sum_k c_k exp(a_k - m)).

    Returns (rewritten log f, {m: Max(a_1, ..., a_K)}) with one fresh symbol m per such sum.
    The rewrite is an identity for every constant m, so derivatives in x taken with m held
    constant are exactly those of log f; evaluating them with m = max_k a_k(x) point by point
    keeps every exponential <= 1 and every denominator >= 1, where the plain form underflows to
    0/0 a few tens of units from the modes of a mixture.

    >>> x = sympy.Symbol("x", real=True)
    >>> L = sympy.log(sympy.exp(-x**2) + 2*sympy.exp(-x))
    >>> stable, shifts = stabilize_log_sum_exp(L, (x,))
    >>> list(shifts.values())
    [Max(-x, -x**2)]
    >>> sympy.simplify(sympy.exp(stable) - sympy.exp(L))
    0
    """
    shifts = {}
    replacements = {}
    for node in sympy.preorder_traversal(log_density):
        if isinstance(node, sympy.log) and node not in replacements:
            terms = _exponential_terms(node.args[0], variables)
            if terms:
                shift = sympy.Dummy("shift", real=True)
                shifts[shift] = sympy.Max(*[a for _, a in terms])
                replacements[node] = shift + sympy.log(
                    sympy.Add(*[c * sympy.exp(a - shift) for c, a in terms]))
    return log_density.xreplace(replacements), shifts


def _exponential_terms(expr: sympy.Expr, variables: tuple) -> list:
    """[(c_k, a_k)] when expr = sum_k c_k exp(a_k) with K >= 2, c_k free of x, a_k not; else []."""
    if not expr.is_Add:
        return []
    terms = []
    for term in expr.args:
        coefficient, rest = term.as_independent(*variables, as_Add=False)
        if not isinstance(rest, sympy.exp) or not rest.args[0].has(*variables):
            return []
        terms.append((coefficient, rest.args[0]))
    return terms


def renamed(exprs: list, shifts: dict, renames: dict) -> tuple:
    """(exprs, shifts) with ``renames`` applied and every shift symbol replaced by a fresh one,
    so that two stable forms (a data model's and a model's, even the same model's) can be
    evaluated side by side without sharing a shift."""
    fresh = {k: sympy.Dummy("shift", real=True) for k in shifts}
    mapping = {**renames, **fresh}
    return ([e.xreplace(mapping) for e in exprs],
            {fresh[k]: v.xreplace(renames) for k, v in shifts.items()})
