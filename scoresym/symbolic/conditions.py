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

import sympy

from .asymptotics import Known, integrable, simplified, vanishes


@dataclass(frozen=True)
class Condition:
    """A condition on the parameters: ``expr`` a SymPy Boolean, ``origin`` "declared" or
    "inferred", ``reason`` why it is needed."""

    expr: sympy.Basic
    origin: str
    reason: str

    def __str__(self) -> str:
        return f"{_text(self.expr)} ({self.origin})"


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
        return "; ".join(parts) if parts else "none"


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


def _text(expr) -> str:
    """A condition as people write it: s2 > 0, not 0 < s2."""
    if isinstance(expr, sympy.StrictLessThan) and expr.lhs.is_number:
        return f"{expr.rhs} > {expr.lhs}"
    if isinstance(expr, sympy.LessThan) and expr.lhs.is_number:
        return f"{expr.rhs} >= {expr.lhs}"
    if isinstance(expr, sympy.And):
        return " and ".join(_text(a) for a in expr.args)
    if isinstance(expr, sympy.Or):
        return " or ".join(f"({_text(a)})" if isinstance(a, sympy.And) else _text(a)
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
    log_f = without_bounded_terms(log_f, variables)
    joint = _quadratic_form(log_f, variables, domain)
    if joint is not None:
        _add(conditions, joint, known)
        return Conditions(_merged(conditions), undecided)
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
                                                           f"{_text(result)}"), known)
            known = known.with_case(result)
    if len(remaining) > 1:  # along each axis is necessary, not enough: f may grow on a curve
        undecided.append(f"integrability of f in ({', '.join(map(str, remaining))}) jointly "
                         "(each coordinate alone was analysed)")
    return Conditions(_merged(conditions), undecided)


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
                                                                 f"{_text(a2 < 0)}"))
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


def _merged(conditions: list) -> list:
    """The inferred conditions simplified together (k > 0 and (lam > 0 or (lam = 0 and k < 0))
    is k > 0 and lam > 0), then split into independent parts, one Condition each."""
    declared = [c for c in conditions if c.origin == "declared"]
    inferred = [c for c in conditions if c.origin == "inferred"]
    if not inferred:
        return declared
    known = Known([c.expr for c in declared])
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
    if len(variables) < 2 or any(domain[v] != (-sympy.oo, sympy.oo) for v in variables):
        return None
    try:
        poly = sympy.Poly(log_f, *variables)
    except sympy.PolynomialError:
        return None
    if poly.total_degree() != 2 or any(c.has(*variables) for c in poly.coeffs()):
        return None
    H = -sympy.hessian(log_f, variables)
    minors = [sympy.factor(H[:k, :k].det()) for k in range(1, len(variables) + 1)]
    return Condition(sympy.And(*[m > 0 for m in minors]), "inferred",
                     "the quadratic form in log f must be negative definite")


# --- when a boundary term vanishes ----------------------------------------------------------

def vanishing_conditions(f: sympy.Expr, g: list, variables: tuple, domain: dict,
                         known: Known) -> Conditions:
    """The conditions under which f g_i -> 0 at both edges of each coordinate's domain (the
    boundary terms of an integration by parts), given what is ``known`` of the parameters."""
    conditions, undecided = [], []
    for gi, variable in zip(g, variables):
        for edge, direction in ((domain[variable][0], "+"), (domain[variable][1], "-")):
            where = f"{variable} -> {edge}"
            result = vanishes(f * gi, variable, edge, direction, known)
            if result is None or result.free_symbols & set(variables):
                undecided.append(f"the boundary term as {where}")
                continue
            if result is not sympy.true:
                conditions.append(Condition(result, "inferred",
                                            f"the boundary term vanishes as {where} iff "
                                            f"{_text(result)}"))
    return Conditions(conditions, undecided)
