"""How an expression behaves at the edge of a domain, with the parameters left symbolic.

At an edge, t -> 0+ measures the distance to it (x = e + t at a lower edge, x = e - t at an upper
one, x = 1/t at +oo, x = -1/t at -oo). An expression E(t) then behaves like

    E ~ coef * t**power * log(t)**logs                  (a power law), or
    E ~ exp(S)  with S -> +oo or -oo                     (faster than any power: "essential"),

and which one, with which coefficient and power, can depend on the parameters. ``growth`` gives
every case: a list of (condition on the parameters, Growth). Cases are split where the sign of a
symbolic exponent decides the behaviour (t**k -> 0 iff k > 0) or where a leading coefficient can
vanish (the Beta's p s = (a - 1) x**(a - 2) + ... at 0 changes when a = 1). What is known about
the parameters (declared positivity, inferred conditions) decides signs without splitting.

Invariant: every case is exact for the leading term. Where the leading terms of a sum cancel
(always, or on a split such as b = 1), the sum is analysed again with the split substituted and
expanded, or by SymPy's series, never taken to be 0; anything the engine cannot classify raises
``Unclassified``, which callers turn into "undecided", never into a verdict. Every public
answer is computed within a time budget.

>>> t = sympy.Symbol("t", positive=True)
>>> a = sympy.Symbol("a", real=True)
>>> [(c, g.power) for c, g in growth(a * t**2 + t**3, t)]
[(Ne(a, 0), 2), (Eq(a, 0), 3)]
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import sympy

from ..budget import BUDGETS, OverBudget, time_limit


class Unclassified(Exception):
    """The engine met a form it cannot classify at the edge."""


@dataclass(frozen=True)
class Growth:
    """E ~ coef * t**power * log(t)**logs * exp(exponent) as t -> 0+.

    ``exponent`` is 0 or diverges faster than log t (``side`` = +1 where it -> +oo: E grows
    faster than any power; -1 where it -> -oo: E vanishes faster than any power). ``bounded``
    marks a coefficient that oscillates without a limit (cos(1/t)); ``zero`` an expression
    identically 0."""

    coef: sympy.Expr = sympy.Integer(1)
    power: sympy.Expr = sympy.Integer(0)
    logs: sympy.Expr = sympy.Integer(0)
    exponent: sympy.Expr = sympy.Integer(0)
    side: int = 0
    bounded: bool = False
    zero: bool = False
    merged: bool = False


ZERO = Growth(sympy.Integer(0), zero=True)
ONE = Growth()
#: The leading terms of two or more terms of a sum cancel: the next order is needed.
CANCELLED = Growth(sympy.Integer(0), zero=True, merged=True)


class Known:
    """What is known about the parameters, as substitutions that make SymPy's assumptions
    answer sign questions: p > c becomes p = c + (positive), p >= c p = c + (nonnegative)."""

    def __init__(self, relations=()):
        self.relations = list(relations)
        self.substitution = {}
        for relation in self.relations:
            self._learn(relation)

    def _learn(self, relation) -> None:
        if isinstance(relation, sympy.And):
            for part in relation.args:
                self._learn(part)
            return
        if isinstance(relation, sympy.Ne):
            bound = _linear_bound(sympy.Eq(relation.lhs, relation.rhs, evaluate=False))
            if bound is not None and bound[0] not in self.substitution:
                symbol, _, value = bound
                self.substitution[symbol] = value + sympy.Dummy(f"{symbol.name}_gap",
                                                                real=True, nonzero=True)
            return
        bound = _linear_bound(relation)
        if bound is None:
            return
        symbol, op, value = bound
        if symbol in self.substitution:
            return
        if op == "==":
            self.substitution[symbol] = value
            return
        gap = sympy.Dummy(f"{symbol.name}_gap", positive=True) if op in (">", "<") else \
            sympy.Dummy(f"{symbol.name}_gap", nonnegative=True)
        self.substitution[symbol] = value + gap if op in (">", ">=") else value - gap

    def with_case(self, condition) -> Known:
        return Known(self.relations + [condition])

    def sign(self, e: sympy.Expr):
        """+1, -1 or 0 where the known facts decide the sign of e, else None."""
        e = sympy.sympify(e).xreplace(self.substitution)
        if e.is_zero:
            return 0
        if e.is_positive:
            return 1
        if e.is_negative:
            return -1
        return None

    def holds(self, condition) -> bool:
        """True where the known facts make ``condition`` true."""
        value = sympy.sympify(condition).xreplace(self.substitution)
        return value is sympy.true or bool(value == sympy.true)

    def contradicts(self, condition) -> bool:
        """True where the known facts make a relation of the conjunction ``condition`` false."""
        for atom in sympy.And.make_args(condition):
            value = atom.xreplace(self.substitution)
            if value is sympy.false or bool(value == sympy.false):
                return True
        return False


def _linear_bound(relation):
    """(symbol, op, value) for a relation linear in one parameter with numeric coefficients
    (-k < 0 is k > 0, 2*a - 4 >= 0 is a >= 2, Eq(b, 1) is b == 1), else None."""
    ops = {sympy.StrictGreaterThan: ">", sympy.GreaterThan: ">=", sympy.StrictLessThan: "<",
           sympy.LessThan: "<=", sympy.Equality: "=="}
    op = ops.get(type(relation))
    if op is None:
        return None
    difference = sympy.expand(relation.lhs - relation.rhs)
    symbols = difference.free_symbols
    if len(symbols) != 1:
        return None
    (symbol,) = symbols
    slope = difference.coeff(symbol)
    if not (slope.is_number and slope != 0 and sympy.expand(difference - slope * symbol).is_number):
        return None
    value = -sympy.expand(difference - slope * symbol) / slope
    if slope < 0:
        op = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "=="}[op]
    return symbol, op, value


def _and(a, b):
    """a and b, false where their relations contradict each other (k = 0 and k = 1);
    remembered, as the same pairs recur in every case split."""
    both = sympy.And(a, b)
    if both in (sympy.true, sympy.false):
        return both
    return sympy.false if Known(sympy.And.make_args(both)).contradicts(both) else both


def _sign_cases(e: sympy.Expr, known: Known) -> list:
    """[(condition, sign)] covering every value of e allowed by the facts: decided where the
    facts decide it."""
    decided = known.sign(e)
    if decided is not None:
        return [(sympy.true, decided)]
    return [(c, s) for c, s in ((e > 0, 1), (e < 0, -1), (sympy.Eq(e, 0), 0))
            if not known.contradicts(c)]


class _Edge:
    """The variable t -> 0+ and what is known: the context of every rule below."""

    def __init__(self, t, known: Known):
        self.t, self.known = t, known

    def given(self, condition) -> _Edge:
        return self if condition is sympy.true else _Edge(self.t, self.known.with_case(condition))


#: Functions analysed through their exponentials (cosh u = (e^u + e^-u)/2, ...).
HYPERBOLIC = (sympy.cosh, sympy.sinh, sympy.tanh)


def in_exponentials(expr: sympy.Expr, x: sympy.Symbol) -> sympy.Expr:
    """expr with each erf(u) written 1 - erfc(u) and each cosh, sinh, tanh of an argument in x
    written with exp, the forms the engine classifies (done before x is replaced by its edge
    variable: SymPy evaluates cosh(61/(1000 t) + ...) slowly).

    >>> x = sympy.Symbol("x")
    >>> in_exponentials(sympy.cosh(x) + sympy.erf(x), x)
    exp(x)/2 - erfc(x) + 1 + exp(-x)/2
    """
    expr = expr.replace(lambda n: isinstance(n, sympy.erf), lambda n: 1 - sympy.erfc(n.args[0]))
    return expr.replace(lambda n: isinstance(n, HYPERBOLIC) and n.args[0].has(x),
                        lambda n: n.rewrite(sympy.exp))


def growth(expr: sympy.Expr, t: sympy.Symbol, known: Known | None = None) -> list:
    """Every case of the leading behaviour of expr as t -> 0+: [(condition, Growth)]."""
    edge = _Edge(t, known or Known())
    expr = in_exponentials(sympy.sympify(expr), t)
    out = []
    for condition, oriented in _orient_erfc(expr, edge):
        for c, g in _growth(oriented, edge.given(condition)):
            case = _and(condition, c)
            if case is not sympy.false:
                out += _where_zero(case, g, edge)
    return out


def _where_zero(case, g: Growth, edge: _Edge) -> list:
    """The case split where the leading coefficient can be 0: there a product of exact
    factors is 0; a series coefficient (``merged``) being 0 would need the next order."""
    out = []
    for c_z, z in _zero_cases(g, edge.given(case)):
        both = _and(case, c_z)
        if both is sympy.false or (z and edge.given(case).known.holds(sympy.Ne(g.coef, 0))):
            continue
        if z and g.merged:
            raise Unclassified(f"the leading coefficient {g.coef} can vanish")
        out.append((both, ZERO if z else g))
    return out


class ErfcTail(sympy.Function):
    """erfc(w) for an argument w -> +oo, kept unevaluated: SymPy rewrites erfc(-z) as
    2 - erfc(z), which would undo the orientation below."""


def _orient_erfc(expr, edge: _Edge) -> list:
    """[(condition, expr)] with each erfc(z) whose argument tends to -oo written as
    2 - erfc(-z), so that 1 + erf(z) = 2 - erfc(z) keeps its leading term exp(-z**2)."""
    nodes = list(dict.fromkeys(n for n in sympy.preorder_traversal(expr)
                               if isinstance(n, sympy.erfc) and n.args[0].has(edge.t)))
    cases = [(sympy.true, expr)]
    for node in nodes:
        z = node.args[0]
        out = []
        for condition, e in cases:
            for c, g in _growth(z, edge.given(condition)):
                for c_d, direction in _directions(g, edge.given(_and(condition, c))):
                    case = _and(_and(condition, c), c_d)
                    if case is sympy.false:
                        continue
                    falls = direction == -1
                    out.append((case, e.xreplace({node: 2 - ErfcTail(-z)}) if falls else e))
        cases = out
    return cases


def _directions(g: Growth, edge: _Edge) -> list:
    """[(condition, direction)]: +1 / -1 where E -> +oo / -oo, 0 where E has a finite limit,
    None where it oscillates without one."""
    if g.zero:
        return [(sympy.true, 0)]
    if g.exponent:
        if g.side < 0:
            return [(sympy.true, 0)]
        return [(c, s) for c, s in _sign_cases(g.coef, edge.known)]  # s = 0: E is 0
    out = []
    for c_p, p in _sign_cases(g.power, edge.known):
        known = edge.known.with_case(c_p)
        if p > 0:
            out.append((c_p, 0))
            continue
        if g.bounded:
            out.append((c_p, None))
            continue
        if p == 0:
            for c_q, q in _sign_cases(g.logs, known):
                case = _and(c_p, c_q)
                if q <= 0:
                    out.append((case, 0))
                else:
                    out += [(_and(case, c), s * _log_parity(g.logs))
                            for c, s in _sign_cases(g.coef, known.with_case(c_q))]
            continue
        out += [(_and(c_p, c), s) for c, s in _sign_cases(g.coef, known)]  # s = 0: E is 0
    return out


def _growth(e: sympy.Expr, edge: _Edge) -> list:
    t, known = edge.t, edge.known
    if not e.has(t):
        return _constant(e, known)
    if e == t:
        return [(sympy.true, Growth(sympy.Integer(1), sympy.Integer(1)))]
    if e.is_Mul:
        return _product(list(e.args), edge)
    if e.is_Add:
        return _sum(list(e.args), edge)
    if e.is_Pow:
        base, n = e.args
        if n.has(t):
            return _growth(sympy.exp(n * sympy.log(base)), edge)
        return [(_and(c, c2), h) for c, g in _growth(base, edge)
                for c2, h in _power(g, n, edge.given(c))]
    if isinstance(e, sympy.exp):
        return _exp(e.args[0], edge)
    if isinstance(e, sympy.log):
        return _log(e.args[0], edge)
    if isinstance(e, (sympy.erfc, ErfcTail)):
        return _erfc(e.args[0], edge)
    if isinstance(e, sympy.Abs):
        return _abs(e.args[0], edge)
    if isinstance(e, (sympy.sin, sympy.cos)) and _limit_fails(e, t):
        return [(sympy.true, Growth(sympy.Integer(1), bounded=True))]
    return _analytic(e, edge)


def _constant(e, known: Known) -> list:
    """A constant: its own growth. Whether it is 0 is asked only where it matters (when it is
    the dominant term of a sum: see _most_singular)."""
    if e == 0 or known.sign(e) == 0:
        return [(sympy.true, ZERO)]
    return [(sympy.true, Growth(e))]


def _limit_fails(e, t) -> bool:
    value = e.subs(t, 0)
    return value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan, sympy.AccumBounds)


def _power(g: Growth, n: sympy.Expr, edge: _Edge) -> list:
    """g**n; a fractional power needs a positive coefficient (a real value)."""
    if g.zero:  # 0**n: 0 where n > 0, undefined (no case) otherwise
        return [(c, ZERO) for c, s in _sign_cases(n, edge.known) if s > 0]
    cases = [(sympy.true, g)]
    if not n.is_integer:
        cases = [(c, g) for c, s in _sign_cases(g.coef, edge.known) if s > 0]
    out = []
    for c, g in cases:
        powered = Growth(g.coef ** n, g.power * n, g.logs * n, g.exponent * n, 0, g.bounded)
        if not g.exponent:
            out.append((c, powered))
            continue
        for c_n, s in _sign_cases(n, edge.given(c).known):
            if s:
                out.append((_and(c, c_n), replace(powered, side=g.side * s)))
            else:
                out.append((_and(c, c_n), ONE))
    return out


def _product(factors: list, edge: _Edge) -> list:
    result = [(sympy.true, ONE)]
    for factor in factors:
        combined = []
        for c1, g1 in result:
            case_edge = edge.given(c1)
            for c2, g2 in _growth(factor, case_edge):
                case = _and(c1, c2)
                if case is sympy.false:
                    continue
                combined += [(_and(case, c3), g) for c3, g in _times(g1, g2,
                                                                   case_edge.given(c2))]
        result = combined
    return result


def _times(g1: Growth, g2: Growth, edge: _Edge) -> list:
    if g1.zero or g2.zero:
        return [(sympy.true, ZERO)]
    product = Growth(g1.coef * g2.coef, g1.power + g2.power, g1.logs + g2.logs,
                     bounded=g1.bounded or g2.bounded)
    if not g1.exponent and not g2.exponent:
        return [(sympy.true, product)]
    if not g1.exponent or not g2.exponent or g1.side == g2.side:
        exponent = g1.exponent + g2.exponent
        return [(sympy.true, replace(product, exponent=exponent, side=g1.side or g2.side))]
    return [(c, _times_exp(product, h)) for c, h in _exp(g1.exponent + g2.exponent, edge)]


def _times_exp(g: Growth, h: Growth) -> Growth:
    """g times exp-growth h (of a combined exponent)."""
    if h.zero:
        return ZERO
    return Growth(g.coef * h.coef, g.power + h.power, g.logs + h.logs, h.exponent, h.side,
                  g.bounded or h.bounded)


def _exp(a: sympy.Expr, edge: _Edge) -> list:
    """exp(a): exp of the limit where a has one; essential where a diverges faster than log t;
    t**c exp(lim (a - c log t)) where a ~ c log t."""
    t = edge.t
    if not _limit_fails(a, t) and not a.has(sympy.log):
        return [(sympy.true, Growth(sympy.exp(a.subs(t, 0))))]
    out = []
    for condition, g in _growth(a, edge):
        case_edge = edge.given(condition)
        if g.zero:
            out.append((condition, ONE))
        elif g.exponent:  # a ~ c exp(S): exp(a) -> exp(sign(c) * side * oo); c = 0: a is 0
            out += [(_and(condition, c), Growth(sympy.Integer(1), exponent=a, side=g.side * s)
                     if s else ONE) for c, s in _sign_cases(g.coef, case_edge.known)]
        elif g.bounded and edge.known.sign(g.power) != -1:
            out.append((condition, Growth(sympy.Dummy("c", positive=True))))
        else:
            out += [(_and(condition, c), h) for c, h in _exp_of_power(a, g, case_edge)]
    return out


def _exp_of_power(a, g: Growth, edge: _Edge) -> list:
    out = []
    for c_p, p_sign in _sign_cases(g.power, edge.known):
        case_edge = edge.given(c_p)
        faster_than_log = p_sign < 0 or (p_sign == 0 and case_edge.known.sign(g.logs - 1) == 1)
        if faster_than_log:
            for c_s, s in _sign_cases(g.coef, case_edge.known):
                parity = 1 if p_sign < 0 else _log_parity(g.logs)
                out.append((_and(c_p, c_s), Growth(sympy.Integer(1), exponent=a,
                                                   side=s * parity) if s else ONE))
        elif p_sign == 0 and g.logs == 1:
            try:
                out += [(_and(c_p, c_r), Growth(sympy.exp(limit), g.coef))
                        for c_r, limit in _limits(a - g.coef * sympy.log(edge.t), case_edge)]
            except Unclassified:  # exp of a real remainder: positive, value unknown
                out.append((c_p, Growth(sympy.Dummy("c", positive=True), g.coef)))
        elif p_sign == 0 and g.logs == 0:
            out.append((c_p, Growth(sympy.exp(g.coef))))
        elif p_sign > 0:
            out.append((c_p, ONE))
        else:
            raise Unclassified(f"exp of t**{g.power} log(t)**{g.logs}")
    return out


def _limits(e, edge: _Edge) -> list:
    """[(condition, finite limit of e as t -> 0+)]; Unclassified where e diverges."""
    out = []
    for condition, g in _growth(e, edge):
        if g.zero:
            out.append((condition, sympy.Integer(0)))
            continue
        if g.exponent or g.bounded:
            raise Unclassified(f"{e} has no finite limit")
        for c_p, p_sign in _sign_cases(g.power, edge.given(condition).known):
            if p_sign > 0:
                out.append((_and(condition, c_p), sympy.Integer(0)))
            elif p_sign == 0 and g.logs == 0:
                out.append((_and(condition, c_p), g.coef))
            else:
                raise Unclassified(f"{e} diverges")
    return out


def _log_parity(logs) -> int:
    """The sign of log(t)**logs for small t (log t < 0)."""
    if logs.is_integer:
        return -1 if int(logs) % 2 else 1
    raise Unclassified(f"log(t)**{logs}")


def _log(u: sympy.Expr, edge: _Edge) -> list:
    """log u for u ~ c t**p log(t)**q exp(S): S where u is essential; p log t where p != 0;
    log c where u -> c (the next order when c = 1). Only cases with c > 0 are kept."""
    out = []
    for condition, g in _growth(u, edge):
        case_edge = edge.given(condition)
        if g.zero or g.bounded:
            raise Unclassified("log of 0 or of an oscillating quantity")
        for c_c, c_sign in _sign_cases(g.coef, case_edge.known):
            if c_sign <= 0:
                continue  # log of a non-positive quantity: not a real density there
            real = _and(condition, c_c)
            real_edge = case_edge.given(c_c)
            if g.exponent:
                out += [(_and(real, c), h) for c, h in _growth(g.exponent, real_edge)]
                continue
            for c_p, p_sign in _sign_cases(g.power, real_edge.known):
                case = _and(real, c_p)
                if p_sign != 0:  # log(c t**p ...) ~ p log t
                    out.append((case, Growth(g.power, sympy.Integer(0), sympy.Integer(1))))
                elif g.logs != 0:
                    raise Unclassified("log of a power of log")
                elif _canonical(g.coef - 1) == 0:  # log(1 + v) ~ v
                    out += [(_and(case, c), h) for c, h in _growth(u - 1, real_edge.given(c_p))]
                else:
                    out.append((case, Growth(sympy.log(g.coef))))
    return out


def _erfc(z, edge: _Edge) -> list:
    """erfc(z) ~ exp(-z**2) / (z sqrt(pi)) as z -> +oo; erfc(z) at a finite limit (> 0).
    (An argument tending to -oo was rewritten as 2 - erfc(-z) beforehand.)"""
    out = []
    for condition, g in _growth(z, edge):
        for c_d, direction in _directions(g, edge.given(condition)):
            case = _and(condition, c_d)
            case_edge = edge.given(case)
            if direction == 1:
                tail = [(c, h) for c, h in _power(g, sympy.Integer(-1), case_edge)]
                out += [(_and(case, c), replace(h, coef=h.coef / sympy.sqrt(sympy.pi),
                                                exponent=-z**2, side=-1)) for c, h in tail]
            elif direction == 0:
                out += [(_and(case, c), Growth(sympy.erfc(limit)))
                        for c, limit in _limits(z, case_edge)]
            else:
                raise Unclassified(f"erfc({z}) at the edge")
    return out


def _abs(u, edge: _Edge) -> list:
    """|u|: the growth of u with its coefficient made positive (split on its sign where the
    facts do not decide it); an oscillating coefficient stays bounded."""
    out = []
    for condition, g in _growth(u, edge):
        if g.zero or g.bounded:
            out.append((condition, g if g.zero else replace(g, coef=sympy.Abs(g.coef))))
            continue
        for c_s, sign in _sign_cases(g.coef, edge.given(condition).known):
            case = _and(condition, c_s)
            if case is sympy.false:
                continue
            if sign == 0 and g.merged:  # a leading coefficient of 0: the next order decides
                raise Unclassified(f"the leading coefficient {g.coef} of |{u}| can vanish")
            out.append((case, ZERO if sign == 0 else replace(g, coef=sign * g.coef)))
    return out


def _analytic(e, edge: _Edge) -> list:
    """A function of t with a finite limit at t = 0 (cos(x - m) near a finite edge): its value
    there; a zero value is left to SymPy's leading term."""
    value = e.subs(edge.t, 0)
    if value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan, sympy.AccumBounds):
        raise Unclassified(f"{e} at the edge")
    sign = edge.known.sign(value)
    if sign in (1, -1) or (value != 0 and not value.free_symbols):
        return [(sympy.true, Growth(value))]
    if sign == 0 or value == 0:
        return [(sympy.true, _leading(e, edge.t))]
    return [(sympy.Ne(value, 0), Growth(value)), (sympy.Eq(value, 0), _leading(e, edge.t))]


def _leading(e, t) -> Growth:
    try:
        lead = e.as_leading_term(t)
    except Exception as exc:  # SymPy's series code raises many kinds
        raise Unclassified(f"{e}: {type(exc).__name__}") from None
    coefficient, power = lead.as_coeff_exponent(t)
    if coefficient.has(t):
        raise Unclassified(f"leading term {lead}")
    return Growth(coefficient, power, merged=True) if coefficient != 0 else ZERO


def _sum(terms: list, edge: _Edge) -> list:
    """The dominant terms of a sum, their coefficients added; where they cancel (a split on
    the coefficient), the next ones. A sum analytic at the edge whose value there is 0
    (1 - (1 - t)**a) is expanded as a whole."""
    whole = sympy.Add(*terms)
    value = whole.subs(edge.t, 0)
    if not value.has(sympy.zoo, sympy.oo, -sympy.oo, sympy.nan, sympy.AccumBounds) and \
            _canonical(value) == 0:
        try:
            return _series(whole, sympy.true, edge)
        except Unclassified:
            pass
    combos = [(sympy.true, [])]
    for term in terms:
        combos = [(_and(c1, c2), growths + [g]) for c1, growths in combos
                  for c2, g in _growth(term, edge.given(c1)) if _and(c1, c2) is not sympy.false]
    out = []
    for condition, growths in combos:
        for case, g in _dominant(condition, [g for g in growths if not g.zero], edge):
            out += _after_cancellation(whole, case, edge) if g is CANCELLED else [(case, g)]
    return out


def _after_cancellation(whole, case, edge: _Edge) -> list:
    """The growth of a sum whose leading terms cancel in this case: with the case's equalities
    substituted and the sum expanded (a*(1 - t) - a is -a*t), or else by its series."""
    rewritten = sympy.expand(whole.subs(_solved(case, edge.t)))
    if rewritten != whole:
        return [(_and(case, c), g) for c, g in _growth(rewritten, edge.given(case))]
    return _series(rewritten, case, edge)


def _series(e, case, edge: _Edge, depth: int = 0) -> list:
    """SymPy's leading term of e, split where its coefficient can be 0 (then the next one,
    with that equality substituted)."""
    lead = _leading(e, edge.t)
    if lead.zero:
        if _canonical(e) == 0:
            return [(case, ZERO)]
        raise Unclassified(f"no leading term for {e}")
    out = []
    for c_z, z in _zero_cases(lead, edge.given(case)):
        both = _and(case, c_z)
        if both is sympy.false:
            continue
        if not z:
            out.append((both, replace(lead, merged=False)))
            continue
        narrowed = e.subs(_solved(c_z, edge.t))
        if narrowed == e or depth >= 3:
            raise Unclassified(f"the leading coefficient {lead.coef} can vanish")
        out += _series(narrowed, both, edge, depth + 1)
    return out


def _solved(case, t) -> dict:
    """The equalities of a case, each solved for one parameter: {b: 1} for Eq(1 - b, 0)."""
    substitution = {}
    for atom in sympy.And.make_args(case):
        if not isinstance(atom, sympy.Eq):
            continue
        difference = atom.lhs - atom.rhs
        for symbol in sorted(difference.free_symbols - {t} - set(substitution), key=str):
            solution = sympy.solve(difference, symbol, dict=False)
            if len(solution) == 1:
                substitution[symbol] = solution[0]
                break
    return substitution


def _dominant(condition, growths: list, edge: _Edge) -> list:
    if not growths:
        return [(condition, ZERO)]
    rising = [g for g in growths if g.exponent and g.side > 0]
    if rising:
        return _largest_exponential(condition, rising, edge)
    powers = [g for g in growths if not g.exponent]
    if not powers:  # every term ~ exp(-oo): the least negligible one
        return _largest_exponential(condition, growths, edge)
    return _most_singular(condition, powers, edge)


def _largest_exponential(condition, growths: list, edge: _Edge) -> list:
    """Among exp(S_i) terms, the one whose exponent is largest; equal exponents are compared
    by their power-law factors."""
    first, rest = growths[0], growths[1:]
    if not rest:
        return [(condition, first)]
    other = rest[0]
    difference = _canonical(first.exponent - other.exponent)
    if difference == 0:
        same = [g for g in growths if _canonical(g.exponent - first.exponent) == 0]
        if len(same) == len(growths):
            plain = [replace(g, exponent=sympy.Integer(0), side=0) for g in same]
            return [(c, replace(g, exponent=first.exponent, side=first.side) if not g.zero
                     else g) for c, g in _most_singular(condition, plain, edge)]
    out = []
    for c, g in _growth(difference, edge.given(condition)):
        for c_d, direction in _directions(g, edge.given(_and(condition, c))):
            case = _and(_and(condition, c), c_d)
            if case is sympy.false:
                continue
            if direction == 1:
                out += _largest_exponential(case, [first] + rest[1:], edge)
            elif direction == -1:
                out += _largest_exponential(case, rest, edge)
            elif direction == 0:  # the same order: compare them as power laws
                relative = [(c2, _times_exp(other, h))
                            for c2, h in _exp(-difference, edge.given(case))]
                for c2, scaled in relative:
                    plain = [replace(first, exponent=sympy.Integer(0), side=0),
                             replace(scaled, exponent=sympy.Integer(0), side=0)]
                    for c3, g3 in _most_singular(_and(case, c2), plain, edge):
                        out += _largest_exponential(
                            c3, [replace(g3, exponent=first.exponent, side=first.side)]
                            + rest[1:], edge) if not g3.zero else [(c3, g3)]
            else:
                raise Unclassified("two exponentials of the same order")
    return out


def _most_singular(condition, growths: list, edge: _Edge, dominated=()) -> list:
    """Among power laws c t**p log(t)**q, the smallest p dominates, then the largest q; where
    the dominant coefficient is 0 (a split), the terms it dominated take over."""
    first, rest = growths[0], growths[1:]
    if not rest:
        out = []
        for c_z, z in _zero_cases(first, edge.given(condition)):
            case = _and(condition, c_z)
            if case is sympy.false:
                continue
            if not z:
                out.append((case, first))
            elif first.merged:
                out.append((case, CANCELLED))
            else:
                out += _dominant(case, list(dominated), edge) if dominated else [(case, ZERO)]
        return out
    out = []
    for c, order in _compare(first, rest[0], edge.given(condition).known):
        case = _and(condition, c)
        if case is sympy.false:
            continue
        if order < 0:
            out += _most_singular(case, [first] + rest[1:], edge, (*dominated, rest[0]))
        elif order > 0:
            out += _most_singular(case, rest, edge, (*dominated, first))
        else:
            merged = replace(first, coef=_canonical(first.coef + rest[0].coef),
                             bounded=first.bounded or rest[0].bounded, merged=True)
            out += _most_singular(case, [merged] + rest[1:], edge, dominated)
    return out


def _canonical(e: sympy.Expr) -> sympy.Expr:
    """e in a form that is 0 exactly when e is: a polynomial expanded, a rational function
    cancelled (both canonical, and far cheaper than ``sympy.simplify``, which is kept for
    the rest).

    >>> a, b = sympy.symbols("a b")
    >>> _canonical((a + b)**2 - a**2 - 2*a*b - b**2), _canonical(a / (a*b + a) - 1 / (b + 1))
    (0, 0)
    """
    if e.is_Number:
        return e
    symbols = e.free_symbols
    if e.is_polynomial(*symbols):
        return sympy.expand(e)
    if e.is_rational_function(*symbols):
        return sympy.cancel(e)
    return sympy.simplify(e)


def _zero_cases(g: Growth, edge: _Edge) -> list:
    """[(condition, whether the coefficient is 0)]; an oscillating or essential one never is."""
    if g.bounded or g.exponent:
        return [(sympy.true, False)]
    coef = sympy.Mul(*[f for f in sympy.Mul.make_args(g.coef) if not f.is_positive])
    sign = edge.known.sign(coef)
    if sign == 0:
        return [(sympy.true, True)]
    if sign in (1, -1) or coef.is_zero is False or not coef.free_symbols \
            or edge.known.contradicts(sympy.Eq(coef, 0)):
        return [(sympy.true, False)]
    return [(sympy.Ne(coef, 0), False), (sympy.Eq(coef, 0), True)]


def _compare(g1: Growth, g2: Growth, known: Known) -> list:
    """[(condition, order)]: -1 where g1 dominates g2 as t -> 0+, +1 where g2 does, 0 where
    they are of the same order."""
    out = []
    for c_p, s in _sign_cases(_canonical(g1.power - g2.power), known):
        if s:
            out.append((c_p, s))
            continue
        for c_q, q in _sign_cases(_canonical(g1.logs - g2.logs), known.with_case(c_p)):
            out.append((_and(c_p, c_q), -q))
    return out


# --- questions asked of the growth ------------------------------------------------------------



def edge_variable(x: sympy.Symbol, edge, direction: str):
    """(t, x as a function of t) with t -> 0+ at the edge."""
    t = sympy.Dummy("t", positive=True)
    if edge == sympy.oo:
        return t, 1 / t
    if edge == -sympy.oo:
        return t, -1 / t
    return t, edge + t if direction == "+" else edge - t


#: What the engine (and SymPy beneath it) raises on a form it cannot classify.
_UNCLASSIFIED = (Unclassified, TypeError, ValueError, NotImplementedError, RecursionError,
                 ZeroDivisionError, AttributeError)


def vanishes(expr: sympy.Expr, x, edge, direction: str, known: Known | None = None,
             budget: float | None = None):
    """The condition on the parameters under which expr -> 0 as x -> edge (a SymPy Boolean,
    True or False when it does not depend on them), or None when undecided (or not decided
    within ``budget`` seconds, by default ``BUDGETS.edge``, for the whole question).

    Tried in turn, all within the one budget: term by term (a sum whose every term vanishes
    for all parameter values vanishes; a mixture's terms are simple, together their exponents
    must be compared case by case), the expression as it is, and the expression expanded.

    >>> x, s1, s2 = sympy.symbols("x s1 s2", positive=True)
    >>> vanishes(x * sympy.exp(-x**2 / s1) + sympy.exp(-x / s2), x, sympy.oo, "-")
    True
    """
    known = known or Known()
    t, at = edge_variable(x, edge, direction)
    try:
        with time_limit(BUDGETS.edge if budget is None else budget):
            expr = in_exponentials(expr, x)
            at_edge = expr.xreplace({x: at})
            terms = sympy.Add.make_args(sympy.expand(at_edge, deep=False, power_exp=False,
                                                     log=False))
            if len(terms) > 1 and all(_tends_to_zero_or_none(term, t, known) is sympy.true
                                      for term in terms):
                return sympy.true
            verdict = _tends_to_zero_or_none(at_edge, t, known)
            if verdict is None:
                expanded = sympy.expand(expr)
                if expanded != expr:
                    verdict = _tends_to_zero_or_none(expanded.xreplace({x: at}), t, known)
            return verdict
    except (OverBudget, *_UNCLASSIFIED):
        return None


def _tends_to_zero_or_none(expr, t, known: Known):
    """The condition under which expr(t) -> 0 as t -> 0+, or None where the engine cannot
    classify it (a time budget running out is left to the caller)."""
    try:
        cases = growth(expr, t, known)
    except _UNCLASSIFIED:
        return None
    cases = [(sympy.simplify_logic(c, deep=False) if c not in (sympy.true, sympy.false) else c, g)
             for c, g in cases]
    return _either(cases, [_tends_to_zero(g, known.with_case(c)) for c, g in cases], known)


def _either(cases: list, verdicts: list, known: Known):
    """The condition under which the verdict of the case that applies holds: the cases cover
    every parameter value, so a verdict shared by all of them is the answer whatever their
    conditions (which may involve the other coordinates, or be hard to simplify).

    >>> a = sympy.Symbol("a", real=True)
    >>> _either([(a > 0, None), (a <= 0, None)], [sympy.true, sympy.true], Known())
    True
    >>> _either([(a > 0, None), (a <= 0, None)], [sympy.true, a > -1], Known())
    -1 < a
    """
    verdicts = [sympy.sympify(v) for v in verdicts]
    if all(v is sympy.true for v in verdicts):
        return sympy.true
    if all(v is sympy.false for v in verdicts):
        return sympy.false
    return simplified(sympy.Or(*[sympy.And(c, v) for (c, _), v in zip(cases, verdicts)]), known)


def _tends_to_zero(g: Growth, known: Known):
    if g.zero:
        return sympy.true
    if g.exponent:
        return sympy.true if g.side < 0 else sympy.false
    p, q = g.power, g.logs
    if g.bounded:  # an oscillating factor: only a vanishing power law takes it to 0
        return p > 0
    return sympy.Or(p > 0, sympy.And(sympy.Eq(p, 0), q < 0))


def integrable(log_f: sympy.Expr, x, edge, direction: str, known: Known | None = None,
               budget: float | None = None):
    """The condition on the parameters under which f = exp(log_f) is integrable near the edge
    (x -> edge), or None when undecided (or not decided within ``budget`` seconds, by default
    ``BUDGETS.edge``). Near a finite edge f ~ t**P is integrable iff P > -1; towards an
    infinite one, dx = dt / t**2, iff P > 1; an essential exp(-oo) always is, an exp(+oo)
    never."""
    known = known or Known()
    if isinstance(log_f, sympy.log) and isinstance(log_f.args[0], sympy.Add) and \
            all(_positive_term(term) for term in log_f.args[0].args):
        # a sum of positive terms is integrable iff every term is
        parts = [integrable(sympy.log(term), x, edge, direction, known, budget)
                 for term in log_f.args[0].args]
        return None if any(part is None for part in parts) else \
            simplified(sympy.And(*parts), known)
    t, at = edge_variable(x, edge, direction)
    shift = 2 if edge in (sympy.oo, -sympy.oo) else 0
    try:
        with time_limit(BUDGETS.edge if budget is None else budget):
            cases = growth(sympy.exp(log_f.xreplace({x: at})), t, known)
            parts = []
            for _, g in cases:
                if g.zero:  # f is 0 near the edge, so everywhere (it is analytic): no density
                    ok = sympy.false
                elif g.exponent and g.side < 0:
                    ok = sympy.true
                elif g.exponent:
                    ok = sympy.false
                else:
                    ok = sympy.Or(g.power - shift > -1,
                                  sympy.And(sympy.Eq(g.power - shift, -1), g.logs < -1))
                parts.append(ok)
            return _either(cases, parts, known)
    except (OverBudget, *_UNCLASSIFIED):
        return None


def _positive_term(term) -> bool:
    """A term known positive for every parameter value: exp(.), or a positive constant times
    exp(.)."""
    return all(isinstance(f, sympy.exp) or f.is_positive for f in sympy.Mul.make_args(term))


def simplified(condition, known: Known | None = None):
    """A readable equivalent of ``condition``: in disjunctive form, the relations on one
    parameter in each conjunction merged into one interval, contradictory conjunctions and
    conjunctions implied by others dropped, facts already known left out."""
    known = known or Known()
    condition = sympy.sympify(condition)
    if condition in (sympy.true, sympy.false):
        return condition
    if condition.xreplace(known.substitution) in (sympy.true, sympy.false):
        return condition.xreplace(known.substitution)
    condition = _factored_relations(condition, known)
    if condition in (sympy.true, sympy.false):
        return condition
    try:
        conjunctions = [c for c in map(_conjunction, sympy.Or.make_args(
            sympy.to_dnf(condition, simplify=False))) if c is not None]
    except (TypeError, ValueError, NotImplementedError):
        return condition
    conjunctions = _merged(conjunctions)
    kept = [c for c in conjunctions
            if not any(other is not c and _implies(c, other) and not _implies(other, c)
                       for other in conjunctions)]
    kept = list({_as_boolean(c, known): c for c in kept})
    result = sympy.Or(*kept) if kept else sympy.false
    symbols = result.free_symbols
    if len(symbols) == 1 and result not in (sympy.true, sympy.false):
        (symbol,) = symbols
        try:
            result = result.as_set().as_relational(symbol)
        except (TypeError, ValueError, NotImplementedError):
            pass
    return _drop_known(result, known)


#: Boolean simplification of a condition is tried up to this many distinct relations.
_MAX_ATOMS = 8


def _factored_relations(condition, known: Known):
    """``condition`` with each p = 0 and p != 0 on a product p split into its factors (those
    the known facts make nonzero dropped: a**(b - 1) for a > 0), then simplified as Boolean
    logic where that is small enough: (sin m = 0 and k sin m = 0) or (sin m != 0 and
    k sin m = 0) is k = 0 or sin m = 0.

    >>> k, m = sympy.symbols("k m", real=True)
    >>> s = sympy.sin(m)
    >>> _factored_relations((sympy.Eq(s, 0) & sympy.Eq(k * s, 0))
    ...                     | (sympy.Ne(s, 0) & sympy.Eq(k * s, 0)), Known())
    Eq(k, 0) | Eq(sin(m), 0)
    """
    def factors(e):
        kept = [f for f in sympy.Mul.make_args(sympy.factor(e))
                if not f.is_number and known.sign(f) not in (1, -1)]
        return [f.base if f.is_Pow and f.exp.is_positive else f for f in kept]

    def split(relation):
        parts = factors(relation.lhs - relation.rhs)
        if isinstance(relation, sympy.Eq):
            return sympy.Or(*[sympy.Eq(f, 0) for f in parts]) if parts else sympy.false
        return sympy.And(*[sympy.Ne(f, 0) for f in parts]) if parts else sympy.true

    try:
        split_up = condition.replace(
            lambda n: isinstance(n, (sympy.Eq, sympy.Ne)) and n.free_symbols, split)
        atoms = split_up.atoms(sympy.Eq, sympy.Ne)
        if 1 < len(atoms) <= _MAX_ATOMS:
            as_not = split_up.replace(lambda n: isinstance(n, sympy.Ne),
                                      lambda n: sympy.Not(sympy.Eq(n.lhs, n.rhs)))
            split_up = sympy.simplify_logic(as_not, deep=False)
        return split_up
    except (TypeError, ValueError, NotImplementedError, RecursionError):
        return condition


def _conjunction(term):
    """{symbol: set of its values} plus the relations in several symbols, or None when the
    conjunction is contradictory."""
    intervals, joint = {}, []
    for atom in sympy.And.make_args(term):
        symbols = atom.free_symbols
        if len(symbols) == 1:
            (symbol,) = symbols
            values = _values(atom)
            intervals[symbol] = intervals.get(symbol, sympy.S.Reals).intersect(values)
            if intervals[symbol] is sympy.S.EmptySet:
                return None
        elif atom is sympy.false:
            return None
        elif atom is not sympy.true:
            joint.append(atom)
    return intervals, frozenset(joint)


@functools.lru_cache(maxsize=4096)
def _values(relation):
    """The set of values of its one symbol that satisfy ``relation``; remembered, since the
    same few relations recur in every case split and SymPy's solver takes milliseconds each.

    >>> _values(sympy.Symbol("d", real=True) > 2)
    Interval.open(2, oo)
    """
    return relation.as_set()


def _merged(conjunctions: list) -> list:
    """Conjunctions that differ only in the values of one parameter, joined into one:
    (mu = 0 and s2 > 0) or (mu != 0 and s2 > 0) is s2 > 0."""
    conjunctions = list(conjunctions)
    changed = True
    while changed:
        changed = False
        for i, (intervals1, joint1) in enumerate(conjunctions):
            for j in range(i + 1, len(conjunctions)):
                intervals2, joint2 = conjunctions[j]
                if joint1 != joint2:
                    continue
                keys = set(intervals1) | set(intervals2)
                differ = [s for s in keys if intervals1.get(s, sympy.S.Reals)
                          != intervals2.get(s, sympy.S.Reals)]
                if len(differ) > 1:
                    continue
                merged = dict(intervals1)
                for symbol in differ:
                    union = intervals1.get(symbol, sympy.S.Reals).union(
                        intervals2.get(symbol, sympy.S.Reals))
                    if union == sympy.S.Reals:
                        merged.pop(symbol, None)
                    else:
                        merged[symbol] = union
                conjunctions[i] = (merged, joint1)
                del conjunctions[j]
                changed = True
                break
            if changed:
                break
    return conjunctions


def _implies(c1, c2) -> bool:
    """Whether conjunction c1 implies c2 (a sufficient, structural test)."""
    intervals1, joint1 = c1
    intervals2, joint2 = c2
    return joint2 <= joint1 and all(
        symbol in intervals1 and intervals1[symbol].is_subset(values)
        for symbol, values in intervals2.items())


def _as_boolean(c, known: Known):
    intervals, joint = c
    parts = [values.as_relational(symbol) for symbol, values in sorted(
        intervals.items(), key=lambda item: item[0].name)]
    local = Known(list(known.relations) + [p for p in parts if p is not sympy.true])
    kept = []
    for atom in sorted(joint, key=str):
        if local.holds(atom):
            continue
        reduced = _reduce_product(atom, local)
        if reduced is not None:
            parts.append(reduced)
        else:
            kept.append(atom)
    return _drop_known(sympy.And(*(parts + kept)), known)


def _reduce_product(atom, known: Known):
    """c(x) * q > 0 with q's sign known (s**2 > 0, s > 0): the relation on c alone, solved
    when it is in one parameter; None when nothing reduces."""
    if not isinstance(atom, (sympy.StrictGreaterThan, sympy.StrictLessThan,
                             sympy.GreaterThan, sympy.LessThan)):
        return None
    expr = sympy.factor(atom.lhs - atom.rhs)
    flip, kept = 1, []
    for factor in sympy.Mul.make_args(expr):
        sign = known.sign(factor)
        if sign in (1, -1):
            flip *= sign
        else:
            kept.append(factor)
    rest = sympy.Mul(*kept)
    if len(rest.free_symbols) != 1 or rest == expr:
        return None
    op = atom.rel_op
    if flip < 0:
        op = {">": "<", "<": ">", ">=": "<=", "<=": ">="}[op]
    relation = sympy.Rel(rest, 0, op)
    (symbol,) = rest.free_symbols
    try:
        return relation.as_set().as_relational(symbol)
    except (TypeError, ValueError, NotImplementedError):
        return relation


def _drop_known(condition, known: Known):
    if isinstance(condition, sympy.Or):
        return sympy.Or(*[_drop_known(part, known) for part in condition.args])
    if isinstance(condition, sympy.And):
        kept = [part for part in condition.args if not known.holds(part)]
        return sympy.And(*kept) if kept else sympy.true
    return sympy.true if known.holds(condition) else condition
