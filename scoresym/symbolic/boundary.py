"""Boundary terms: one-sided limits of f g at the edges of a domain, symbolically.

Invariant: a boundary term is first asked of the asymptotic engine
(:func:`scoresym.symbolic.asymptotics.vanishes`), which proves most vanishing terms in
milliseconds; only a term it does not show to vanish goes to ``one_sided_limit``:
``sympy.limit`` after each Min, Max, Abs and Heaviside is resolved to the branch it takes just
inside the edge, within ``BUDGETS.limit`` seconds. An answer neither can give (or not in time),
or a 0 from SymPy where the engine proved the term does not vanish, is None, "undecided", which
no caller counts as vanishing. Parameters are exact rationals or left symbolic.

>>> x = sympy.Symbol("x", positive=True)
>>> one_sided_limit(x * sympy.exp(-x), x, 0, "+"), one_sided_limit(sympy.Min(x, 1), x, 0, "+")
(0, 0)
"""

from __future__ import annotations

import sympy

from ..budget import BUDGETS, OverBudget, time_limit
from .asymptotics import vanishes


def exact_values(model, params: dict) -> dict:
    """{parameter Symbol: value} from the float values of ``model``'s parameters (``params``
    by name, already validated by the caller): the exact Rational of a value as a person
    types it (2.5 is 5/2, so a = 1 is exactly 1), and a 30-digit Float for a computed one
    (an estimate: 1.4982717309867 as a Rational makes SymPy's powers lam**k crawl).

    >>> from scoresym import zoo
    >>> exact_values(zoo.get("gaussian_1d").model, {"mu": 0.5, "s2": 1.4982717309867})
    ... # doctest: +ELLIPSIS
    {mu: 1/2, s2: 1.4982717309866...}
    """
    return {p: _value(float(params[p.name])) for p in model.params}


#: A float with at most this many significant digits in its shortest repr is taken exactly.
TYPED_DIGITS = 8


def _value(value: float):
    text = repr(value)
    digits = len(text.split("e")[0].replace("-", "").replace(".", "").strip("0"))
    return sympy.Rational(text) if digits <= TYPED_DIGITS else sympy.Float(value, 30)


def boundary_terms(model, params: dict, g, finite_only: bool = False, proven=()) -> list:
    """[{variable, edge, term}] with term = lim_{x_i -> edge} f(x) g_i(x) (None if undecided)
    at these parameter values (exact rationals). ``proven``: {(variable name, edge)} where the
    term is already proven 0 for every allowed parameter value (not computed again)."""
    values = exact_values(model, params)
    return edge_limits(model.log_density.xreplace(values), [gi.xreplace(values) for gi in g],
                       model.variables, model.domain, finite_only, proven)


def edges(variables: tuple, domain: dict, finite_only: bool = False):
    """(index, variable, edge, direction) for each edge of each variable's interval: its lower
    edge approached from above ("+"), its upper edge from below ("-")."""
    for k, variable in enumerate(variables):
        lo, hi = domain[variable]
        for edge, direction in ((lo, "+"), (hi, "-")):
            if not (finite_only and edge in (sympy.oo, -sympy.oo)):
                yield k, variable, edge, direction


def edge_limits(log_f: sympy.Expr, g: list, variables: tuple, domain: dict,
                finite_only: bool = False, proven=()) -> list:
    """[{variable, edge, term}]: one-sided limits of exp(log_f) g_i as x_i tends to each edge of
    its interval in ``domain`` (only the finite edges with ``finite_only``); parameters in
    ``log_f`` and ``g`` are numbers or left symbolic (a term that depends on their range is
    then None, undecided). Edges in ``proven`` ({(variable name, edge)}) are 0 already."""
    f = sympy.exp(log_f)
    return [{"variable": variable.name, "edge": edge,
             "term": sympy.Integer(0) if (variable.name, edge) in proven else
             edge_term(f * g[k], variable, edge, direction)}
            for k, variable, edge, direction in edges(variables, domain, finite_only)]


#: ``edge_term``'s default: ask the asymptotic engine whether the term vanishes.
ASK = object()


def edge_term(expr, variable, edge, direction, verdict=ASK):
    """lim expr as ``variable`` -> ``edge``: 0 where the asymptotic engine proves it vanishes
    for every value of the symbols left, else SymPy's limit; None when undecided. A caller that
    has the engine's ``verdict`` already (a condition, or None: undecided) passes it.

    >>> x = sympy.Symbol("x", positive=True)
    >>> edge_term(x * sympy.exp(-x), x, sympy.oo, "-"), edge_term(sympy.exp(-x), x, 0, "+")
    (0, 1)
    """
    if verdict is ASK:
        verdict = vanishes(expr, variable, edge, direction)
    if verdict is sympy.true:
        return sympy.Integer(0)
    value = one_sided_limit(expr, variable, edge, direction)
    if verdict is sympy.false and value == 0:
        return None  # the two disagree: neither is trusted
    return value


def near_edge(expr, variable, edge, direction):
    """expr with each Min, Max, Abs and Heaviside replaced by the branch it takes just inside
    the edge (SymPy's limit cannot expand them), e.g. Min(x, 1) -> x as x -> 0+."""
    if edge in (sympy.oo, -sympy.oo):
        point = sympy.Integer(10) ** 9 * (1 if edge == sympy.oo else -1)
    else:
        point = edge + (sympy.Rational(1, 10**9) if direction == "+" else -sympy.Rational(1, 10**9))

    def branch(node):
        value = lambda e: e.xreplace({variable: point}).evalf()  # noqa: E731
        if isinstance(node, (sympy.Min, sympy.Max)):
            values = [value(a) for a in node.args]
            if not all(v.is_number and v.is_real for v in values):
                return node
            pick = min if isinstance(node, sympy.Min) else max
            return node.args[values.index(pick(values))]
        if isinstance(node, sympy.Abs):
            sign = value(node.args[0])
            return node if not sign.is_number else (node.args[0] if sign >= 0 else -node.args[0])
        if isinstance(node, sympy.Heaviside):
            sign = value(node.args[0])
            return node if not sign.is_number else sympy.Integer(1 if sign > 0 else 0)
        return node

    return expr.replace(lambda n: isinstance(n, (sympy.Min, sympy.Max, sympy.Abs,
                                                 sympy.Heaviside)), branch)


#: How a boundary term is computed, as reports name it.
METHOD = "edge limits"



def one_sided_limit(expr, variable, edge, direction):
    """lim expr as ``variable`` -> ``edge`` from ``direction`` ("+" or "-"), within
    BUDGETS.limit seconds; None when SymPy cannot decide it (or not in time)."""
    try:
        with time_limit(BUDGETS.limit):
            expr = near_edge(expr, variable, edge, direction)
            value = sympy.limit(expr, variable, edge, direction)
            if value.has(sympy.Limit, sympy.AccumBounds, sympy.nan) or value is sympy.nan:
                return None
            return sympy.simplify(value) if value.free_symbols else value
    except (OverBudget, NotImplementedError, ValueError, TypeError, RecursionError,
            ZeroDivisionError):
        return None


def divergent_edges(log_density: sympy.Expr, integrands: dict, variables: tuple,
                    domain: dict, values: dict | None = None) -> list:
    """Edges where E[h] = int f h is infinite, for each named integrand h: a sufficient test.

    Near a finite edge e, f h ~ L / |x - e| or worse when L = lim (x - e) f h is not zero;
    towards an infinite edge, when L = lim x f h is not zero. Such an integral diverges. (L = 0
    proves nothing, and SymPy's undecided limits prove nothing.) ``values`` (exact numbers for
    the parameters) are substituted first: what remains may hold no parameters; a limit that
    depends on another coordinate is not taken as proof. Returns
    ["E[name] is infinite: (x - e)*f*h -> L as x -> e", ...].

    >>> x = sympy.Symbol("x", positive=True)
    >>> log_f = sympy.log(x) / 2 - 2 * x            # Gamma(1.5, 2), unnormalized
    >>> divergent_edges(log_f, {"h": -1 / x**2, "g": x}, (x,), {x: (0, sympy.oo)})
    ['E[h] is infinite: (x)*f*h -> -oo as x -> 0']
    """
    values = values or {}
    f = sympy.exp(log_density.xreplace(values))
    reasons = []
    for name, h in integrands.items():
        h = h.xreplace(values)
        for _, variable, edge, direction in edges(variables, domain):
            scale = variable if edge in (sympy.oo, -sympy.oo) else variable - edge
            value = one_sided_limit(scale * f * h, variable, edge, direction)
            if value is not None and not value.free_symbols and value != 0:
                reasons.append(f"E[{name}] is infinite: ({scale})*f*h -> {value} as "
                               f"{variable} -> {edge}")
    return reasons
