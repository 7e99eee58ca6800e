"""What the derivations share: the notation of the data density and the model's score, the
vector algebra their steps display, the boundary values of p g at the edges, and the claim that
log Z drops out of the score.

>>> import sympy
>>> a, b = sympy.symbols("a b")
>>> dot([a, b], [b, a]), half_norm([a, b])
(2*a*b, a**2/2 + b**2/2)
"""

from __future__ import annotations

import sympy

from ..checks.finite_differences import TOLERANCES
from ..numerics.differences import differenced_log_density, fd_gradient
from ..numerics.result import CheckResult
from ..symbolic.boundary import symbolic_edge_terms
from ..symbolic.notation import Notation
from .context import CheckContext

P = Notation("p", "p(x)", "p(x)")


GRAD_LOG_P = Notation("grad_log_p", "∇ₓ log p(x)", r"\nabla_x \log p(x)")


S = Notation("s", "s_θ(x)", r"s_\theta(x)")


TRACE = Notation("trace", "tr ∇ₓ s_θ(x)", r"\operatorname{tr} \nabla_x s_\theta(x)")


J = Notation("J", "J(θ)", r"J(\theta)")


C = Notation("C", "C", "C")


P_THETA = Notation("p_theta", "p_θ(x)", r"p_\theta(x)")


GRAD_LOG_P_THETA = Notation("grad_log_p_theta", "∇ₓ log p_θ(x)", r"\nabla_x \log p_\theta(x)")


def vector(items):
    """One item as itself, several as a column Matrix (how a step displays a vector)."""
    items = list(items)
    return items[0] if len(items) == 1 else sympy.Matrix(items)


def edge_values(model, g=None) -> tuple:
    """Symbolic boundary terms of p g_i (g defaults to the score) for data in the model family
    (p = f/Z): per coordinate [f g_i]_{lo}^{hi} / Z with the parameters left symbolic, and
    whether all vanish."""
    Z = sympy.Function("Z")(*model.params) if model.params else sympy.Symbol("Z")
    g = list(model.score if g is None else g)
    terms = symbolic_edge_terms(model, g)
    values, vanish = [], True
    for k, (v, gi) in enumerate(zip(model.variables, g)):
        lo_term, hi_term = terms[2 * k]["term"], terms[2 * k + 1]["term"]
        f = sympy.exp(model.log_density)
        ends = [sympy.Limit(f * gi, v, model.domain[v][1], "-") if hi_term is None else hi_term,
                sympy.Limit(f * gi, v, model.domain[v][0], "+") if lo_term is None else lo_term]
        value = sympy.simplify((ends[0] - ends[1]) / Z)
        vanish = vanish and value == 0
        values.append(value)
    return values, vanish


def score_claim(ctx: CheckContext) -> CheckResult:
    """The claim "log Z drops out of the score": finite differences of log f against the
    score, pointwise."""
    f = differenced_log_density(ctx.model)
    domain = [ctx.model.domain[v] for v in ctx.variables]
    return ctx.pointwise("score of log(f/Z)", lambda X: fd_gradient(f, X, ctx.params, domain),
                         list(ctx.ops.score), tolerance=TOLERANCES["score"],
                         labels=("finite differences", "score"), method="finite differences")


def half_norm(vector, ws=None) -> sympy.Expr:
    """1/2 sum_k w_k v_k^2 (w_k = 1 by default)."""
    ws = ws or [1] * len(vector)
    return sympy.Rational(1, 2) * sympy.Add(*[w * e**2 for w, e in zip(ws, vector)])


def dot(a, b, ws=None) -> sympy.Expr:
    """sum_k w_k a_k b_k (w_k = 1 by default)."""
    ws = ws or [1] * len(a)
    return sympy.Add(*[w * u * v for w, u, v in zip(ws, a, b)])

