"""Conditions on the parameters: what a model needs to be a density, and when a boundary term
vanishes, declared by the user or inferred from the expression.

A density needs f to be defined (no parameter in a denominator is zero, no parameter-dependent
base of a fractional power or argument of a logarithm is negative) and integrable over its
domain. Integrability is decided edge by edge from the leading behaviour of f there (see
:mod:`scoresym.symbolic.asymptotics`): near a finite edge f ~ t**P is integrable iff P > -1, at
an infinite one iff f decays faster than 1/|x|. A quadratic log f in several variables needs
its quadratic form negative definite (leading principal minors), which per-coordinate tests
cannot see (a correlated Gaussian needs |r| < 1).

Invariant: every inferred condition is exact where it is decided; an edge the engine cannot
classify is listed in ``undecided`` with its reason and never counted as holding or failing:
``holds(params)`` is then None unless a decided condition already fails.

>>> import sympy
>>> x = sympy.Symbol("x", real=True)
>>> mu, s2 = sympy.symbols("mu s2", real=True)
>>> c = density_conditions(-(x - mu)**2 / (2 * s2), (x,), (mu, s2), {x: (-sympy.oo, sympy.oo)})
>>> str(c), c.holds({"mu": 0.0, "s2": 1.0}), c.holds({"mu": 0.0, "s2": -1.0})
('s2 > 0 (inferred)', True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy
from sympy.logic.boolalg import BooleanFunction

from ..budget import BUDGETS, OverBudget, budgets, time_limit
from ..errors import ScoresymInputError
from ..memo import PerModel
from .asymptotics import Known, integrable, simplified, vanishes
from .boundary import exact_values


@dataclass(frozen=True)
class Condition:
    """A condition on the parameters: ``expr`` a SymPy Boolean, ``origin`` "declared" or
    "inferred", ``reason`` why it is needed."""

    expr: sympy.Basic
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{plain_text(self.expr)} ({self.origin})"


class Conditions(tuple):
    """The conditions a question needs, and the parts of it that could not be decided."""

    def __new__(cls, conditions=(), undecided=()):
        obj = super().__new__(cls, tuple(conditions))
        obj.undecided = list(undecided)
        return obj

    @property
    def expr(self):
        """All of them as one SymPy Boolean (True when there are none)."""
        return sympy.And(*[c.expr for c in self]) if self else sympy.true

    @property
    def decided(self) -> bool:
        return not self.undecided

    def holds(self, params: dict):
        """True where every condition holds at these parameter values, False where one fails,
        None where none fails but part of the question was undecided (or a value is missing)."""
        verdicts = [_at(c.expr, params) for c in self]
        if any(v is False for v in verdicts):
            return False
        if any(v is None for v in verdicts) or not self.decided:
            return None
        return True

    def failing(self, params: dict) -> list:
        """The conditions that fail at these parameter values."""
        return [c for c in self if _at(c.expr, params) is False]

    def __str__(self) -> str:
        parts = [str(c) for c in self] + [f"undecided: {reason}" for reason in self.undecided]
        return "; ".join(parts) if parts else "always (no conditions)"


def _at(expr, params: dict):
    """expr at these parameter values (by name, as exact rationals): True, False, or None
    when a value is missing."""
    values = {}
    for symbol in expr.free_symbols:
        if symbol.name not in params:
            return None
        values[symbol] = sympy.Rational(repr(float(params[symbol.name])))
    verdict = expr.xreplace(values)
    if verdict not in (sympy.true, sympy.false):
        verdict = sympy.simplify(verdict)
    return True if verdict == sympy.true else False if verdict == sympy.false else None


def plain_text(expr) -> str:
    """A condition as people write it: s2 > 0, not 0 < s2.

    >>> a = sympy.Symbol("a")
    >>> plain_text(sympy.Or(0 < a, sympy.Eq(a, -1)))
    'a = -1 or a > 0'
    >>> plain_text(sympy.And(sympy.Eq(a, 1), sympy.Or(a < 0, a > 2)))   # each group bracketed
    'a = 1 and (a > 2 or a < 0)'
    """
    if isinstance(expr, sympy.StrictLessThan) and expr.lhs.is_number:
        return f"{expr.rhs} > {expr.lhs}"
    if isinstance(expr, sympy.LessThan) and expr.lhs.is_number:
        return f"{expr.rhs} >= {expr.lhs}"
    for kind, word, other in ((sympy.And, " and ", sympy.Or), (sympy.Or, " or ", sympy.And)):
        if isinstance(expr, kind):  # a group of the other kind inside is bracketed
            return word.join(f"({plain_text(a)})" if isinstance(a, other) else plain_text(a)
                             for a in expr.args)
    if isinstance(expr, sympy.Ne):
        return f"{expr.lhs} != {expr.rhs}"
    if isinstance(expr, sympy.Eq):
        return f"{expr.lhs} = {expr.rhs}"
    return str(expr)


# --- what a model needs to be a density -----------------------------------------------------

def declared_conditions(params: tuple) -> list:
    """p > 0 for each parameter declared positive."""
    return [Condition(sympy.StrictGreaterThan(p, 0, evaluate=False), "declared",
                      f"{p} is declared positive") for p in params if p.is_positive]


def density_conditions(log_f: sympy.Expr, variables: tuple, params: tuple,
                       domain: dict) -> Conditions:
    """The declared conditions, then those under which f = exp(log_f) is defined and
    integrable over the domain (see the module docstring)."""
    conditions = declared_conditions(params)
    known = Known([c.expr for c in conditions])
    undecided = []
    for condition in definedness(log_f, variables, params, domain):
        _add(conditions, condition, known)
        known = known.with_case(condition.expr)
    components = positive_components(log_f)
    if len(variables) > 1 and len(components) > 1:
        # a sum of positive terms is integrable iff every term is: each is analysed jointly
        for component in components:
            undecided += _integrability(component, variables, domain, conditions, known)
            known = Known([c.expr for c in conditions])
    else:
        undecided += _integrability(log_f, variables, domain, conditions, known)
    return Conditions(_merged(conditions), list(dict.fromkeys(undecided)))


def positive_components(log_f) -> list:
    """[log f_k] for f = sum_k f_k with every f_k positive (exp(.) times positive constants);
    [log_f] for anything else.

    >>> x = sympy.Symbol("x", real=True)
    >>> positive_components(sympy.log(sympy.exp(-x**2) + 2 * sympy.exp(-x**4)))
    [-x**4 + log(2), -x**2]
    """
    if isinstance(log_f, sympy.log) and isinstance(log_f.args[0], sympy.Add):
        terms = log_f.args[0].args
        if all(all(isinstance(f, sympy.exp) or f.is_positive for f in sympy.Mul.make_args(term))
               for term in terms):
            return [sympy.expand_log(sympy.log(term), force=True) for term in terms]
    return [log_f]


def _integrability(log_f, variables: tuple, domain: dict, conditions: list,
                   known: Known) -> list:
    """Add to ``conditions`` those under which exp(log_f) is integrable over the domain;
    returns what was undecided."""
    undecided = []
    log_f = without_bounded_terms(log_f, variables)
    joint = _quadratic_form(log_f, variables, domain)
    if joint is None:
        joint = _power_of_quadratic(log_f, variables, domain)
    if joint is not None:
        _add(conditions, joint, known)
        return undecided
    log_f, remaining, marginal = gaussian_marginal(log_f, variables, domain, known)
    for condition in marginal:
        _add(conditions, condition, known)
        known = known.with_case(condition.expr)
    for variable in remaining:
        for edge, direction in ((domain[variable][0], "+"), (domain[variable][1], "-")):
            result = integrable(log_f, variable, edge, direction, known)
            where = f"{variable} -> {edge}"
            if result is None or result.free_symbols & set(variables):
                undecided.append(f"integrability of f as {where}")
                continue
            if result is sympy.false:
                raise NotADensity(f"f is not integrable as {where} for any parameter values")
            _add(conditions, Condition(result, "inferred", f"f is integrable as {where} iff "
                                                           f"{plain_text(result)}"), known)
            known = known.with_case(result)
    if len(remaining) > 1:  # along each axis is necessary, not enough: f may grow on a curve
        undecided.append(f"integrability of f in ({', '.join(map(str, remaining))}) jointly "
                         "(each coordinate alone was analysed)")
    return undecided


#: Functions bounded for every real argument.
BOUNDED = (sympy.sin, sympy.cos, sympy.tanh, sympy.erf, sympy.atan)


def without_bounded_terms(log_f, variables: tuple):
    """log f without its additive terms c * b(...) with b bounded (sin, cos, tanh, erf, atan)
    and c free of the variables: exp of such a term lies between two positive constants, so
    it changes neither integrability nor decay.

    >>> x, a = sympy.symbols("x a", real=True)
    >>> without_bounded_terms(-x**2 / 2 + a * sympy.cos(x), (x,))
    -x**2/2
    """
    def bounded(term):
        coefficient, rest = term.as_independent(*variables, as_Add=False)
        return isinstance(rest, BOUNDED)

    return sympy.Add(*[term for term in sympy.Add.make_args(log_f) if not bounded(term)])


def gaussian_marginal(log_f, variables: tuple, domain: dict, known: Known) -> tuple:
    """Integrate out, exactly, every variable y on (-oo, oo) in which log f is quadratic,
    a2 y**2 + a1 y + a0 with a2 free of the other variables: the integral over y is finite iff
    a2 < 0, and it is sqrt(pi / -a2) exp(a0 - a1**2 / (4 a2)). Returns (log of the marginal,
    the variables left, [the conditions a2 < 0])."""
    remaining, conditions = list(variables), []
    progress = True
    while progress and len(remaining) > 1:
        progress = False
        for y in remaining:
            if domain[y] != (-sympy.oo, sympy.oo):
                continue
            try:
                poly = sympy.Poly(sympy.expand(log_f), y)
            except sympy.PolynomialError:
                continue
            if poly.degree() != 2:
                continue
            a2, a1, a0 = (poly.coeff_monomial(y**k) for k in (2, 1, 0))
            others = set(remaining) - {y}
            if a2.free_symbols & others:
                continue
            if known.sign(a2) != -1:
                conditions.append(Condition(a2 < 0, "inferred", f"f is integrable in {y} iff "
                                                                 f"{plain_text(a2 < 0)}"))
                known = known.with_case(a2 < 0)
            log_f = sympy.expand(a0 - a1**2 / (4 * a2))
            remaining.remove(y)
            progress = True
            break
    return log_f, remaining, conditions


class NotADensity(Exception):
    """f is provably not integrable for any parameter values."""


def _add(conditions: list, condition: Condition, known: Known) -> None:
    expr = simplified(condition.expr, known)
    if expr is sympy.true:
        return
    if expr is sympy.false:
        raise NotADensity(condition.reason)
    conditions.append(Condition(expr, condition.origin, condition.reason))


def _merged(conditions: list, known: Known | None = None) -> list:
    """The inferred conditions simplified together (k > 0 and (lam > 0 or (lam = 0 and k < 0))
    is k > 0 and lam > 0), then split into independent parts, one Condition each."""
    declared = [c for c in conditions if c.origin == "declared"]
    inferred = [c for c in conditions if c.origin == "inferred"]
    if not inferred:
        return declared
    known = Known((known.relations if known else []) + [c.expr for c in declared])
    together = simplified(sympy.And(*[c.expr for c in inferred]), known)
    if together is sympy.true:
        return declared
    reasons = "; ".join(dict.fromkeys(c.reason for c in inferred))
    parts = _independent_parts(together)
    return declared + [Condition(part, "inferred", _reason_for(part, inferred) or reasons)
                       for part in parts]


def _independent_parts(condition) -> list:
    """An And split into groups of conjuncts that share no parameter (each group one
    condition); anything else as one part."""
    if not isinstance(condition, sympy.And):
        return [condition]
    groups = []
    for part in condition.args:
        symbols = part.free_symbols
        joined = [g for g in groups if g[0] & symbols]
        for g in joined:
            groups.remove(g)
        groups.append((symbols.union(*[g[0] for g in joined]),
                       [part] + [q for g in joined for q in g[1]]))
    return [sympy.And(*parts) for _, parts in sorted(groups, key=lambda g: sorted(map(str,
                                                                                       g[0])))]


def _reason_for(part, inferred: list) -> str:
    """The reasons of the inferred conditions about the same parameters as ``part``."""
    symbols = part.free_symbols
    return "; ".join(dict.fromkeys(c.reason for c in inferred if c.expr.free_symbols & symbols))


def definedness(log_f: sympy.Expr, variables: tuple, params: tuple, domain: dict) -> list:
    """Conditions for f to be a real number: parameters in denominators non-zero, bases of
    fractional powers and arguments of logarithms that depend on parameters only positive, and
    a base c x**m with x positive on its domain needs c > 0."""
    positive_variables = {v for v in variables if domain[v][0] >= 0}
    out = []
    for node in sympy.preorder_traversal(log_f):
        if isinstance(node, sympy.Pow):
            base, exponent = node.args
            if base.free_symbols & set(variables) or not base.free_symbols & set(params):
                if not exponent.is_integer:
                    coefficient = _positive_variable_coefficient(base, positive_variables,
                                                                 params)
                    if coefficient is not None:
                        out.append(Condition(coefficient > 0, "inferred",
                                             f"{node} is real only if {coefficient} > 0"))
                continue
            if exponent.is_negative:
                out.append(Condition(sympy.Ne(base, 0), "inferred",
                                     f"{base} is a denominator"))
            elif not exponent.is_integer:
                out.append(Condition(base > 0, "inferred", f"{node} is real only if "
                                                           f"{base} > 0"))
        elif isinstance(node, sympy.log) and node.args[0].free_symbols \
                and not node.args[0].free_symbols & set(variables):
            out.append(Condition(node.args[0] > 0, "inferred",
                                 f"{node} is real only if {node.args[0]} > 0"))
    return out


def _positive_variable_coefficient(base, positive_variables, params):
    """c for a base c * x**m with x a variable positive on its domain and c in the parameters
    only; None for any other base."""
    coefficient, rest = base.as_independent(*positive_variables, as_Add=False)
    if not rest.free_symbols or not rest.free_symbols <= positive_variables:
        return None
    if not (rest.is_Pow or rest.is_Symbol or rest.is_Mul):
        return None
    if coefficient.free_symbols & set(params) and coefficient.is_positive is not True:
        return coefficient
    return None


def _quadratic_form(log_f, variables: tuple, domain: dict):
    """For log f a polynomial of degree 2 in two or more variables, each on (-oo, oo): the
    condition that its quadratic part is negative definite (every leading principal minor of
    -Hessian > 0)."""
    if len(variables) < 2 or any(domain[v] != (-sympy.oo, sympy.oo) for v in variables) \
            or not log_f.is_polynomial(*variables):
        return None  # (Poly of a log of a power took 15 s to give up on a 3-D Student-t)
    try:
        poly = sympy.Poly(log_f, *variables)
    except sympy.PolynomialError:
        return None
    if poly.total_degree() != 2 or any(c.has(*variables) for c in poly.coeffs()):
        return None
    return Condition(positive_definite(-sympy.hessian(log_f, variables)), "inferred",
                     "the quadratic form in log f must be negative definite")


def _leading_minors(H) -> list:
    """The leading principal minors of H, factored, without positive numeric factors (a
    symmetric H is positive definite iff every one is > 0)."""
    return [_signed(H[:j, :j].det()) for j in range(1, H.shape[0] + 1)]


def positive_definite(H):
    """The condition that the symmetric matrix H is positive definite: its leading principal
    minors > 0, written out where SymPy finds them within ``BUDGETS.minors`` seconds (their
    size grows like d!: a symbolic 20 x 20 precision matrix never finishes), else
    :class:`PositiveDefinite` (H), decided exactly once its entries are numbers.

    >>> a, b = sympy.symbols("a b", real=True)
    >>> print(positive_definite(sympy.Matrix([[a, b], [b, 1]])))
    (a > 0) & (a - b**2 > 0)
    """
    try:
        with time_limit(BUDGETS.minors):
            return sympy.And(*[m > 0 for m in _leading_minors(H)])
    except OverBudget:
        return PositiveDefinite(sympy.ImmutableMatrix(H))


class PositiveDefinite(BooleanFunction):
    """H is positive definite: symbolic while an entry is, decided exactly when they are all
    rational numbers (Gaussian elimination in fractions: every pivot > 0), by SymPy for other
    numbers. Printed as "H positive definite".

    >>> PositiveDefinite(sympy.ImmutableMatrix([[2, 1], [1, 1]]))
    True
    >>> PositiveDefinite(sympy.ImmutableMatrix([[1, 2], [2, 1]]))
    False
    """

    @classmethod
    def eval(cls, H):
        if not all(entry.is_number for entry in H):
            return None
        if all(entry.is_Rational for entry in H):
            return sympy.true if _pivots_positive(H) else sympy.false
        return sympy.true if H.is_positive_definite else sympy.false

    def _sympystr(self, printer):
        return f"{printer.doprint(self.args[0])} positive definite"

    def to_nnf(self, simplify=True):
        """An atom of the logic: SymPy's normal forms leave it whole."""
        return self


def _pivots_positive(H) -> bool:
    """Whether Gaussian elimination of the symmetric rational H meets only positive pivots
    (exactly: H positive definite), in Python fractions."""
    A = [[Fraction(int(e.p), int(e.q)) for e in H.row(i)] for i in range(H.rows)]
    for k in range(len(A)):
        pivot = A[k][k]
        if pivot <= 0:
            return False
        for i in range(k + 1, len(A)):
            factor = A[i][k] / pivot
            if factor:
                A[i][k + 1:] = [a - factor * b for a, b in zip(A[i][k + 1:], A[k][k + 1:])]
    return True


def _signed(e):
    """e factored, without a positive numeric factor: the same sign, shorter to read."""
    coefficient, rest = sympy.factor(e).as_coeff_Mul()
    return rest if coefficient.is_positive else sympy.factor(e)


def _power_of_quadratic(log_f, variables: tuple, domain: dict):
    """For f = B(x)**k with B a polynomial of degree 2 in d >= 2 variables, each on (-oo, oo)
    (a multivariate Student-t or Cauchy): f is integrable iff the quadratic part of B is
    positive definite (its leading principal minors > 0), B stays positive (its minimum, at
    the stationary point, > 0) and f decays faster than |x|^-d (k < -d/2).

    >>> x, y, a, k = sympy.symbols("x y a k", real=True)
    >>> print(_power_of_quadratic(k * sympy.log(1 + x**2 + a*x*y + y**2), (x, y),
    ...                           {x: (-sympy.oo, sympy.oo), y: (-sympy.oo, sympy.oo)}).expr)
    (k < -1) & (-(a - 2)*(a + 2) > 0)
    """
    if len(variables) < 2 or any(domain[v] != (-sympy.oo, sympy.oo) for v in variables):
        return None
    k, body = log_f.as_independent(*variables, as_Add=False)
    if not isinstance(body, sympy.log):
        return None
    base = body.args[0]
    if base.is_Pow and not base.exp.has(*variables):
        base, k = base.base, k * base.exp
    if not base.is_polynomial(*variables):
        return None
    try:
        poly = sympy.Poly(base, *variables)
    except sympy.PolynomialError:
        return None
    if poly.total_degree() != 2 or any(c.has(*variables) for c in poly.coeffs()):
        return None
    definite = positive_definite(sympy.hessian(base, variables))
    try:
        with time_limit(BUDGETS.solve):
            stationary = sympy.solve([sympy.diff(base, v) for v in variables], variables,
                                     dict=True)
            lowest = sympy.factor(base.subs(stationary[0])) if len(stationary) == 1 else None
    except OverBudget:
        return None
    if lowest is None:
        return None
    return Condition(sympy.And(definite, _signed(lowest) > 0, k < -sympy.Rational(
        len(variables), 2)), "inferred", "f = B**k with B quadratic is integrable iff B's "
        "quadratic part is positive definite, B > 0 and k < -d/2")


# --- when a boundary term vanishes ----------------------------------------------------------

def vanishing_conditions(verdicts: list, known: Known) -> Conditions:
    """The conditions under which every boundary term vanishes, from the verdicts of
    :func:`edge_verdicts` for each edge, given what is ``known`` of the parameters."""
    conditions, undecided = [], []
    for variable, edge, _, result in verdicts:
        where = f"{variable} -> {edge}"
        if result is None:
            undecided.append(f"the boundary term as {where}")
        elif result is sympy.false:
            conditions.append(Condition(result, "inferred", f"the boundary term as {where} "
                                                            f"vanishes for no parameter values"))
        elif result is not sympy.true:
            conditions.append(Condition(result, "inferred",
                                        f"the boundary term vanishes as {where} iff "
                                        f"{plain_text(result)}"))
    if any(c.expr is sympy.false for c in conditions):
        return Conditions([c for c in conditions if c.expr is sympy.false][:1], undecided)
    return Conditions(_merged(conditions, known), undecided)


def edge_verdicts(products: list, variables: tuple, domain: dict, known: Known) -> list:
    """[(variable, edge, direction, condition)]: for each edge of each coordinate's interval,
    the condition on the parameters under which products[i] (f g_i) -> 0 there; None where
    undecided (including a condition that involves the other coordinates), each edge within
    one ``BUDGETS.edge``."""
    out = []
    for product, variable in zip(products, variables):
        for edge, direction in ((domain[variable][0], "+"), (domain[variable][1], "-")):
            result = vanishes(product, variable, edge, direction, known)
            if result is not None and result.free_symbols & set(variables):
                result = None
            out.append((variable, edge, direction, result))
    return out


_BOUNDARY = PerModel()


def boundary_conditions(model, weight=None, test_function=None) -> Conditions:
    """When the boundary term of an integration by parts vanishes at every edge of the
    domain: f w_i s_i for score matching (w = 1 without ``weight``), f g_i for Stein's identity
    with ``test_function`` g (a string, SymPy expressions, one per coordinate); given the
    model's own conditions. ``holds(params)`` decides it at parameter values; computed once
    per model and question.

    >>> from scoresym import Model
    >>> beta = Model.from_string("x**(a-1)*(1-x)**(b-1)", "x", "a b", domain={"x": (0, 1)})
    >>> plain = boundary_conditions(beta)
    >>> str(plain)
    '(a = 1 and b = 1) or (a > 2 and b > 2) (inferred)'
    >>> plain.holds({"a": 2.5, "b": 3.5}), plain.holds({"a": 1.5, "b": 3.5})
    (True, False)
    >>> str(boundary_conditions(beta, weight="x*(1-x)"))
    'a >= 1 (inferred); b >= 1 (inferred)'
    """
    from .fields import vector_field

    if test_function is None:
        return product_conditions(model, score_products(model, model.weights(weight)))
    field = vector_field(model, test_function)
    if field.symbolic is None:
        raise ScoresymInputError("boundary conditions need a symbolic test function, "
                                 "not a callable")
    return product_conditions(model, field_products(model, list(field.symbolic)))


def score_products(model, weights=None) -> list:
    """[w_i df/dx_i]: f w_i s_i, the boundary terms of (weighted) score matching, written as
    the derivative of f itself (a sum of products, where f times the score is a quotient)."""
    f = sympy.exp(model.log_density)
    weights = weights or [sympy.Integer(1)] * model.dim
    return [w * sympy.diff(f, v) for w, v in zip(weights, model.variables)]


def field_products(model, g: list) -> list:
    """[f g_i]: the boundary terms of integrating p div g by parts."""
    f = sympy.exp(model.log_density)
    return [f * gi for gi in g]


def product_conditions(model, products: list) -> Conditions:
    """When every product (f g_i) vanishes at both edges of x_i's interval; computed once per
    model and products."""
    return _BOUNDARY.get(model, ("conditions", _key(products)), lambda: vanishing_conditions(
        product_edge_verdicts(model, products), _known(model)))


def bracket_conditions(model, products: list) -> Conditions:
    """When the bracket sum_i [f g_i] from lo to hi (products[i] = f g_i) vanishes, which
    integration by parts needs: every edge term vanishes, except along a coordinate whose two
    edge terms cancel identically (f g periodic over its interval, von Mises on (-pi, pi)).

    >>> from scoresym import Model
    >>> m = Model.from_string("exp(k*cos(x - m))", "x", "k m", domain={"x": ("-pi", "pi")})
    >>> bracket_conditions(m, score_products(m)).expr
    True
    """
    def build():
        cancel = cancelling_coordinates(model, products)
        verdicts = [(v, e, d, sympy.true if v in cancel else r)
                    for v, e, d, r in product_edge_verdicts(model, products)]
        return vanishing_conditions(verdicts, _known(model))
    return _BOUNDARY.get(model, ("bracket", _key(products)), build)


def vanishes_everywhere(model, products: list) -> bool:
    """Whether the bracket of the products vanishes for every parameter value the model's
    conditions allow, proven quickly (each edge question within a second): True, or False when
    not proven that way (decide at parameter values instead, with :func:`vanishes_at`).
    Computed once per model and products.

    >>> from scoresym import zoo
    >>> m = zoo.get("gaussian_1d").model
    >>> vanishes_everywhere(m, score_products(m))
    True
    """
    def build():
        with budgets(edge=min(1.0, BUDGETS.edge)):
            cancel = _cancelling(model, products)
        return all(r is sympy.true or v in cancel
                   for v, _, _, r in quick_edge_verdicts(model, products))
    return _BOUNDARY.get(model, ("everywhere", _key(products)), build)


def quick_edge_verdicts(model, products: list) -> list:
    """:func:`edge_verdicts` given the model's conditions, each edge question within a second
    (an edge not decided in that time is None); computed once per model and products, and
    shared by the boundary check and the fit's boundary test.

    >>> from scoresym import zoo
    >>> m = zoo.get("exponential").model
    >>> [str(r) for _, _, _, r in quick_edge_verdicts(m, score_products(m))]
    ['False', 'True']
    """
    def build():
        with budgets(edge=min(1.0, BUDGETS.edge)):
            return edge_verdicts(list(products), model.variables, model.domain, _known(model))
    return _BOUNDARY.get(model, ("quick edges", _key(products)), build)


def proven_edges(model, products: list) -> set:
    """{(variable name, edge)}: the edges where the product vanishes for every parameter value
    the model's conditions allow (from :func:`quick_edge_verdicts`)."""
    return {(v.name, edge) for v, edge, _, r in quick_edge_verdicts(model, products)
            if r is sympy.true}


def cancelling_coordinates(model, products: list) -> set:
    """The coordinates x_i on a finite interval where products[i] takes the same finite value
    at both edges for every parameter value (its bracket is 0 identically); computed once."""
    return _BOUNDARY.get(model, ("cancel", _key(products)),
                         lambda: _cancelling(model, products))


def _cancelling(model, products: list) -> set:
    out = set()
    for product, variable in zip(products, model.variables):
        lo, hi = model.domain[variable]
        if lo in (-sympy.oo, sympy.oo) or hi in (-sympy.oo, sympy.oo):
            continue
        try:
            with time_limit(BUDGETS.cancel):
                ends = [product.subs(variable, edge) for edge in (lo, hi)]
                finite = not any(e.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan) for e in ends)
                if finite and sympy.simplify(ends[1] - ends[0]) == 0:
                    out.add(variable)
        except (OverBudget, TypeError, ValueError, NotImplementedError, RecursionError):
            continue
    return out


def vanishes_at(model, params: dict, products: list, bracket: bool = False):
    """Whether every product (f g_i) vanishes at both edges of x_i's interval at these
    parameter values (as exact rationals, so no case splits: fast where the symbolic
    conditions are slow to derive); with ``bracket``, whether every bracket
    [f g_i]_{lo}^{hi} does (a periodic product's edges cancel). None where undecided.

    >>> from scoresym import Model
    >>> beta = Model.from_string("x**(a-1)*(1-x)**(b-1)", "x", "a b", domain={"x": (0, 1)})
    >>> vanishes_at(beta, {"a": 2.5, "b": 3.5}, score_products(beta))
    True
    """
    values = exact_values(model, params)
    try:
        with time_limit(BUDGETS.edge):
            at = [product.xreplace(values) for product in products]
    except OverBudget:
        return None
    cancel = _cancelling(model, at) if bracket else set()
    verdicts = [sympy.true if v in cancel else r
                for v, _, _, r in edge_verdicts(at, model.variables, model.domain, Known())]
    if any(r is sympy.false for r in verdicts):
        return False
    return True if all(r is sympy.true for r in verdicts) else None


def product_edge_verdicts(model, products: list) -> list:
    """:func:`edge_verdicts` for the products, given the model's conditions; computed once."""
    return _BOUNDARY.get(model, ("edges", _key(products)), lambda: edge_verdicts(
        list(products), model.variables, model.domain, _known(model)))


def _key(items) -> tuple:
    return tuple(sympy.srepr(item) for item in items)


def _known(model) -> Known:
    return Known([c.expr for c in model.conditions])
