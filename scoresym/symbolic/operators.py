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

import functools
from functools import cached_property

import sympy

from ..budget import BUDGETS, OverBudget, time_limit
from .derivatives import engine_symbol, from_engine, to_engine

_TIDY_MAX_NODES = 80
#: A stable log-sum-exp's derivative is put over one denominator up to this size.
_STABLE_MAX_NODES = 400


class Operators:
    """Score, Hessian, Laplacian and Hyvarinen integrand of ``log_density`` in ``variables``."""

    def __init__(self, log_density: sympy.Expr, variables: tuple):
        self.log_density = log_density
        self.variables = tuple(variables)
        self._second = {}

    @cached_property
    def _engine_score(self):
        """The score in SymEngine (:mod:`scoresym.symbolic.derivatives`), or None."""
        log_f = to_engine(self.log_density)
        return None if log_f is None else [log_f.diff(engine_symbol(v))
                                           for v in self.variables]

    @cached_property
    def score(self) -> sympy.Matrix:
        """s(x) = grad_x log f, a d x 1 Matrix."""
        if self._engine_score is None:
            return sympy.Matrix([tidy(sympy.diff(self.log_density, v)) for v in self.variables])
        return sympy.Matrix([tidy(from_engine(g)) for g in self._engine_score])

    def second_derivative(self, i: int, j: int) -> sympy.Expr:
        """d^2 log f / dx_i dx_j, computed once per unordered pair."""
        key = (min(i, j), max(i, j))
        if key not in self._second:
            v = self.variables[key[1]]
            self._second[key] = tidy(
                sympy.diff(self.score[key[0]], v) if self._engine_score is None
                else from_engine(self._engine_score[key[0]].diff(engine_symbol(v))))
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


class Shift(sympy.Dummy):
    """The shift m of a stable log-sum-exp (see :func:`stabilize_log_sum_exp`): a constant to
    differentiation, evaluated as max_k a_k(x) point by point."""


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A cheap readable form: ``cancel`` small expressions when that does not make them longer.

    Large expressions are returned as they are: their size is counted only up to a bound, so
    tidying costs nothing as the dimension grows.

    >>> x, mu, s2 = sympy.symbols("x mu s2")
    >>> tidy(-(2*x - 2*mu) / (2*s2))
    (mu - x)/s2
    """
    if any(isinstance(s, Shift) for s in expr.free_symbols):
        return _over_one_denominator(expr) if bounded_size(expr, _STABLE_MAX_NODES) \
            <= _STABLE_MAX_NODES else expr
    size = bounded_size(expr, _TIDY_MAX_NODES)
    if size > _TIDY_MAX_NODES or expr.has(sympy.Min, sympy.Max, sympy.Piecewise, sympy.Abs):
        return expr
    cancelled = _factored_denominator(sympy.cancel(expr))
    return cancelled if bounded_size(cancelled, size + 1) <= size else expr


def _over_one_denominator(expr: sympy.Expr) -> sympy.Expr:
    """A stable log-sum-exp's derivative over one denominator, its numerator expanded with each
    exponential taken as a symbol: -2a/(a + b) + 2a**2/(a + b)**2 is -2ab/(a + b)**2, which
    keeps its digits where a >> b (the logistic's Laplacian far out, where 1 - sigma is
    1e-44). Not ``cancel`` on the expression itself: SymPy would take exp(-m) out of the ratio
    and undo the stable form. Kept only where it is no longer (a mixture's is: its terms do not
    cancel).

    >>> x, m = sympy.Symbol("x"), Shift("m")
    >>> a, b = sympy.exp(x - m), sympy.exp(-m)
    >>> r = _over_one_denominator(-2*a/(a + b) + 2*a**2/(a + b)**2)
    >>> r.equals(-2*a*b/(a + b)**2), len(sympy.Add.make_args(sympy.fraction(r)[0]))
    (True, 1)
    """
    bases, mapping = [], {}
    exponentials = sorted({n for n in sympy.preorder_traversal(expr)
                           if isinstance(n, sympy.exp) and n.has(Shift)},
                          key=lambda n: sympy.count_ops(n.args[0]))
    for node in exponentials:
        for symbol, base in bases:
            ratio = sympy.cancel(node.args[0] / base)
            if ratio.is_Integer and 1 <= ratio <= 4:  # exp(2a) is exp(a)**2
                mapping[node] = symbol**int(ratio)
                break
        else:
            symbol = sympy.Dummy("e", positive=True)
            bases.append((symbol, node.args[0]))
            mapping[node] = symbol
    numerator, denominator = sympy.fraction(sympy.together(expr.xreplace(mapping)))
    back = {symbol: sympy.exp(base) for symbol, base in bases}
    combined = (sympy.expand(numerator) / denominator).xreplace(back)
    size = bounded_size(expr, _STABLE_MAX_NODES)
    return combined if bounded_size(combined, 3 * size // 2 + 1) <= 3 * size // 2 else expr


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


def bounded_size(expr: sympy.Expr, bound: int) -> int:
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
    0/0 a few tens of units from the modes of a mixture. A term constant in x is c exp(0), and
    a power u**p with a symbolic exponent (u > 0 wherever f is real) is exp(p log u), so
    softplus log(1 + exp(v)), a logistic density's log(1 + exp(-z))**-2 and a log-logistic's
    log(1 + (x/a)**b) are written stably too (their scores are logistic functions of v, which
    overflow to inf/inf in the plain form).

    >>> x = sympy.Symbol("x", real=True)
    >>> L = sympy.log(sympy.exp(-x**2) + 2*sympy.exp(-x))
    >>> stable, shifts = stabilize_log_sum_exp(L, (x,))
    >>> list(shifts.values())
    [Max(-x, -x**2)]
    >>> sympy.simplify(sympy.exp(stable) - sympy.exp(L))
    0
    >>> stable, shifts = stabilize_log_sum_exp(-sympy.log(1 + sympy.exp(x)), (x,))
    >>> list(shifts.values()), sympy.simplify(sympy.exp(stable) * (1 + sympy.exp(x)))
    ([Max(0, x)], 1)
    """
    shifts = {}
    replacements = {}
    for node in sympy.preorder_traversal(log_density):
        if not isinstance(node, sympy.log) or node in replacements:
            continue
        inner, power = node.args[0], sympy.Integer(1)
        if inner.is_Pow and inner.exp.is_real and not inner.exp.has(*variables):
            inner, power = inner.base, inner.exp  # log(A**k) = k log(A), A > 0 here
        terms = _exponential_terms(inner, variables)
        if terms:
            shift = Shift("shift", real=True)
            shifts[shift] = sympy.Max(*[a for _, a in terms])
            replacements[node] = power * (shift + sympy.log(
                sympy.Add(*[c * sympy.exp(a - shift) for c, a in terms])))
    return log_density.xreplace(replacements), shifts


#: Differences a_k - a_j are taken only for a log-sum-exp of at most this many terms.
_MAX_SHIFTED_TERMS = 6


def shifted_differences(expr: sympy.Expr, shifts: dict) -> sympy.Expr:
    """Each exp(c (a_k - m)) in ``expr`` (c > 0 a number, m a shift with m = max_j a_j) as
    exp(c min_j (a_k - a_j)), each difference a_k - a_j expanded: equal, but evaluated without
    a_k and m, which can agree to every digit (a two-component mixture at x = 1e20, where
    a_k = -5e39 and the difference is 4e20) or be -inf (x = 1e160). A term a_j = a_k is left
    out: its difference is 0, the min's first argument.

    >>> x, m = sympy.Symbol("x", real=True), Shift("m")
    >>> a1, a2 = -(x - 2)**2 / 2, -(x + 2)**2 / 2
    >>> shifted_differences(sympy.exp(2*a1 - 2*m), {m: sympy.Max(a1, a2)})
    exp(2*Min(0, 4*x))
    """
    if not shifts or not expr.has(sympy.exp):
        return expr
    present = [m for m in shifts if expr.has(m)]
    if not present:
        return expr
    mapping = {}
    for node in expr.atoms(sympy.exp):
        inside = [m for m in present if node.args[0].has(m)]
        if len(inside) == 1:
            rewritten = _exp_of_differences(node, inside[0], shifts[inside[0]])
            if rewritten is not None:
                mapping[node] = rewritten
    return expr.xreplace(mapping) if mapping else expr


@functools.lru_cache(maxsize=1024)
def _exp_of_differences(node, m, maximum):
    """exp(c min_j (a_k - a_j)) for node = exp(c (a_k - m)) and m = Max(a_1, ...), else
    None (kept: each backend compiles the same exponentials)."""
    c = -node.args[0].coeff(m)
    differences = _pairwise_differences(maximum)
    if not (c.is_number and c.is_positive) or differences is None:
        return None
    rest = sympy.expand((node.args[0] + c * m) / c)
    # expanded forms are compared as they are: equal terms are equal trees
    row = differences.get(rest)
    return None if row is None else sympy.exp(c * sympy.Min(0, *row, evaluate=False))


@functools.lru_cache(maxsize=256)
def _pairwise_differences(maximum: sympy.Expr):
    """{a_k: [a_k - a_j for j != k]} for Max(a_1, ..., a_K), each expanded; None for more
    than _MAX_SHIFTED_TERMS terms or terms too large to expand cheaply."""
    terms = list(maximum.args) if isinstance(maximum, sympy.Max) else [maximum]
    if len(terms) > _MAX_SHIFTED_TERMS or any(
            bounded_size(a, _STABLE_MAX_NODES) > _STABLE_MAX_NODES for a in terms):
        return None
    expanded = [sympy.expand(a) for a in terms]
    return {a_k: [a_k - a_j for j, a_j in enumerate(expanded) if j != k]
            for k, a_k in enumerate(expanded)}


def _exponential_terms(expr: sympy.Expr, variables: tuple) -> list:
    """[(c_k, a_k)] when expr = sum_k c_k exp(a_k), K >= 2, c_k free of x, at least one a_k
    depending on x and every c_k positive (so that the sum is positive); a constant term is
    c exp(0), a power u**p with an exponent free of x and not an integer is exp(p log u);
    else []."""
    if not expr.is_Add:
        return []
    terms = []
    for term in expr.args:
        coefficient, rest = term.as_independent(*variables, as_Add=False)
        if rest == 1:
            exponent = sympy.Integer(0)
        elif isinstance(rest, sympy.exp):
            exponent = rest.args[0]
        elif rest.is_Pow and not rest.exp.has(*variables) and rest.exp.is_integer is not True:
            exponent = rest.exp * sympy.log(rest.base)
        else:
            return []
        terms.append((coefficient, exponent))
    if not any(a.has(*variables) for _, a in terms):
        return []
    if any(a == 0 for _, a in terms) and not all(c.is_positive for c, _ in terms):
        return []  # 1 - exp(v): not a sum of positive terms, keep it as written
    return terms


def renamed(exprs: list, shifts: dict, renames: dict) -> tuple:
    """(exprs, shifts) with ``renames`` applied and every shift symbol replaced by a fresh one,
    so that two stable forms (a data model's and a model's, even the same model's) can be
    evaluated side by side without sharing a shift."""
    fresh = {k: Shift("shift", real=True) for k in shifts}
    mapping = {**renames, **fresh}
    return ([e.xreplace(mapping) for e in exprs],
            {fresh[k]: v.xreplace(renames) for k, v in shifts.items()})


def simplified_within_budget(e: sympy.Expr) -> sympy.Expr:
    """``simplify(e)`` within ``BUDGETS.simplify`` seconds, else e as it is (simplify has no
    bound of its own on a large expression).

    >>> x = sympy.Symbol("x", real=True)
    >>> simplified_within_budget(sympy.sinh(x) / sympy.cosh(x))
    tanh(x)
    """
    try:
        with time_limit(BUDGETS.simplify):
            return sympy.simplify(e)
    except OverBudget:
        return e
