"""Choosing the weight of generalized score matching for a density on a bounded domain.

Plain score matching needs the boundary term p s to vanish at every edge; even where it does,
its per-sample gradient can have infinite variance (a Beta(2.5, 3.5): h ~ (a - 1)(a - 3) / (2 x^2)
at 0, so d h / d a ~ 1 / x^2 and E[(d h / d a)^2] = int x^1.5 x^-4 dx diverges), and then a
few points near the edge decide the estimate. A weight w(x) that vanishes at the edges like
t = the distance to them (t = x - lo, hi - x, or (x - lo)(hi - x)) tames both.

Invariant: a weight is chosen only where it is proven, at the given parameter values and by
the asymptotic engine (:mod:`scoresym.symbolic.asymptotics`), that (1) the boundary term
f w_k s_k vanishes at every edge, and (2) the per-sample gradient of the objective h in the
parameters has a finite second moment (f (d h / d theta_j)^2 integrable at every edge).
Candidates are tried in order: no weight, t, t^2, t^3; the first proven one is chosen, and the
choice says why. Where none is proven, the first one whose boundary term
vanishes is used and the choice says what could not be shown.

>>> from scoresym import Model
>>> beta = Model.from_string("x**(a-1)*(1-x)**(b-1)", "x", "a b", domain={"x": (0, 1)})
>>> choice = choose_weight(beta, {"a": 2.5, "b": 3.5})
>>> choice.weight
'x*(1 - x)'
>>> choice.reason
'plain score matching: the per-sample gradient has infinite variance (d h/d a as x -> 0)'
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from .budget import BUDGETS
from .symbolic.asymptotics import edge_variable, integrable
from .symbolic.boundary import exact_values
from .symbolic.conditions import score_products, vanishes_at
from .symbolic.operators import weighted_hyvarinen

#: Powers of the distance to the edges tried as weights, after no weight at all.
POWERS = (1, 2, 3)


@dataclass
class WeightChoice:
    """The weight chosen (None: plain score matching), why, and what was ruled out."""

    weight: str | None
    reason: str
    proven: bool
    rejected: list = field(default_factory=list)

    def __str__(self) -> str:
        name = "none (plain score matching)" if self.weight is None else self.weight
        return f"{name}: {self.reason}"


def distance_to_edges(model) -> list | None:
    """Per coordinate, the distance t_k to the finite edges of its interval (x - lo, hi - x,
    or their product), 1 where both edges are infinite; None when every edge is infinite.

    >>> from scoresym import Model
    >>> m = Model.from_string("exp(-x - y**2)", "x y", domain={"x": (0, "oo")})
    >>> distance_to_edges(m)
    [x, 1]
    """
    out = []
    for v in model.variables:
        lo, hi = model.domain[v]
        t = sympy.Integer(1)
        if lo != -sympy.oo:
            t = t * (v - lo)
        if hi != sympy.oo:
            t = t * (hi - v)
        out.append(t)
    return None if all(t == 1 for t in out) else out


def candidates(model) -> list:
    """[None, t, t**2, t**3] as weight strings (one per coordinate, comma-separated), t the
    distance to the edges; [None] on an unbounded domain."""
    distances = distance_to_edges(model)
    if distances is None:
        return [None]
    return [None] + [", ".join(str(t**k) for t in distances) if model.dim > 1
                     else str(distances[0]**k) for k in POWERS]


def choose_weight(model, params: dict) -> WeightChoice:
    """The first candidate weight (see :func:`candidates`) proven valid with finite-variance
    per-sample gradients at ``params``; see the module docstring."""
    rejected, fallback = [], None
    for weight in candidates(model):
        name = "plain score matching" if weight is None else f"w = {weight}"
        problem = _boundary_problem(model, weight, params)
        if problem:
            rejected.append(f"{name}: {problem}")
            continue
        fallback = fallback or weight
        problem = _variance_problem(model, weight, params)
        if problem is None:
            reason = "; ".join(rejected) or ("the boundary term vanishes and the per-sample "
                                             "gradient has finite variance")
            return WeightChoice(weight, reason, True, rejected)
        rejected.append(f"{name}: {problem}")
    if fallback is None:
        return WeightChoice(None, "; ".join(rejected) + "; no candidate weight removes the "
                            "boundary term", False, rejected)
    return WeightChoice(fallback, "; ".join(rejected) + "; none was proven, so the first "
                        "whose boundary term vanishes is used", False, rejected)


def _boundary_problem(model, weight, params: dict) -> str | None:
    products = score_products(model, model.weights(weight))
    holds = vanishes_at(model, params, products, bracket=True)
    if holds is False:
        return "the boundary term does not vanish"
    if holds is None:
        return "the boundary term could not be shown to vanish"
    return None


def _variance_problem(model, weight, params: dict) -> str | None:
    """Why E[(d h / d theta_j)^2] may be infinite at ``params``, or None when it is finite at
    every edge for every j: proven by the asymptotic engine within BUDGETS.variance seconds,
    else decided numerically (see :func:`numeric_edge_power`; the reason says so)."""
    values = exact_values(model, params)
    h = weighted_hyvarinen(model.operators, model.variables, model.weights(weight))
    log_f = model.log_density.xreplace(values)
    for p in model.params:
        piece = sympy.diff(h, p).xreplace(values)
        if piece == 0:
            continue
        for v in model.variables:
            lo, hi = model.domain[v]
            for edge, direction in ((lo, "+"), (hi, "-")):
                log_g = log_f + sympy.log(piece**2)
                finite = integrable(log_g, v, edge, direction, budget=BUDGETS.variance)
                how = ""
                if finite is None:
                    finite = _numerically_integrable(log_g, v, edge, direction)
                    how = ", numerically"
                if finite is not sympy.true:
                    what = "infinite" if finite is sympy.false else "not proven finite"
                    return (f"the per-sample gradient has {what} variance (d h/d {p} as "
                            f"{v} -> {edge}{how})")
    return None


def _numerically_integrable(log_g, v, edge, direction: str):
    """sympy.true / sympy.false when g = exp(log_g) (no parameters left) behaves like a power
    law t**P at the edge with P clearly above / below the integrability threshold, by
    :func:`numeric_edge_power`; None when it does not settle."""
    t, at = edge_variable(v, edge, direction)
    power = numeric_edge_power(sympy.exp(log_g.subs(v, at)), t)
    if power is None:
        return None
    threshold = 1 if edge in (sympy.oo, -sympy.oo) else -1
    if abs(power - threshold) < 0.05:
        return None
    return sympy.true if power > threshold else sympy.false


def numeric_edge_power(g, t):
    """P in g ~ t**P as t -> 0+, from 30-digit values of g (no parameters left) at t = 1e-10,
    1e-20 and 1e-40: the slopes of log|g| against log t must agree to 2% (a power law);
    +inf where g is already 0 (faster than any power); None where the slopes disagree or g
    cannot be evaluated.

    >>> t = sympy.Symbol("t", positive=True)
    >>> round(numeric_edge_power(3 * t**-1.5 + t, t), 6)
    -1.5
    """
    logs = []
    for k in (10, 20, 40):
        try:
            value = sympy.N(g.subs(t, sympy.Rational(1, 10**k)), 30)
        except (TypeError, ValueError, ArithmeticError, RecursionError):
            return None
        if value == 0:
            return float("inf")
        if not value.is_number or value.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo, sympy.I):
            return None
        logs.append(float(sympy.log(abs(value))))
    slopes = [(logs[1] - logs[0]) / (-10 * 2.302585092994046),
              (logs[2] - logs[1]) / (-20 * 2.302585092994046)]
    if abs(slopes[1] - slopes[0]) > 0.02 * max(1.0, abs(slopes[1])):
        return None
    return slopes[1]
