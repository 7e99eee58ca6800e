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
from ..symbolic.boundary import edge_term
from ..symbolic.conditions import (
    bracket_conditions,
    cancelling_coordinates,
    plain_text,
    product_edge_verdicts,
)
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


def boundary_value(model, products: list) -> tuple:
    """(the boundary term sum_i [f g_i]_{lo}^{hi} / Z as displayed, the Conditions under which it
    vanishes) for data in the model family (p = f/Z), where products[i] is f g_i (see
    :func:`scoresym.symbolic.conditions.score_products`). Edges where f g_i provably vanishes,
    and coordinates whose two edge terms cancel (f g periodic), show 0; the others SymPy's
    limit (within its budget; else the unevaluated limit), and 0 under the conditions where
    those depend on the parameters (a Piecewise)."""
    Z = sympy.Function("Z")(*model.params) if model.params else sympy.Symbol("Z")
    conditions = bracket_conditions(model, products)
    verdicts = product_edge_verdicts(model, products)
    cancel = cancelling_coordinates(model, products)
    total = sympy.Integer(0)
    for (variable, edge, direction, verdict), product in zip(verdicts, _each_twice(products)):
        if verdict is sympy.true or variable in cancel:
            continue
        value = edge_term(product, variable, edge, direction, verdict)  # its generic value
        term = sympy.Limit(product, variable, edge, direction) if value is None else value
        total += term if direction == "-" else -term
    total = total / Z
    if total == 0 or conditions.expr is sympy.false or not conditions.decided:
        return total, conditions
    return sympy.Piecewise((0, conditions.expr), (total, True)), conditions


def expectation(conditions):
    """A step's ``expected_ok``: True or False where the conditions are the same for every
    parameter value, else the conditions themselves (decided at the check's parameters)."""
    if conditions.decided and conditions.expr in (sympy.true, sympy.false):
        return bool(conditions.expr)
    return conditions


def _each_twice(items):
    for item in items:
        yield item
        yield item


def boundary_sentence(conditions, ps: str) -> str:
    """Why the boundary term vanishes, or when, or that it does not (``ps`` names the product,
    e.g. "p s")."""
    if conditions.decided and conditions.expr is sympy.true:
        return f"It vanishes: {ps} goes to zero at every edge of the domain."
    if conditions.decided and conditions.expr is sympy.false:
        return (f"It does not vanish: {ps} stays non-zero at an edge of the domain, so the "
                "integration by parts leaves this term.")
    if conditions.decided:
        return (f"It vanishes exactly when {conditions_text(conditions)}: then {ps} goes to zero "
                "at every edge of the domain; otherwise the integration by parts leaves it.")
    return (f"Whether {ps} goes to zero at every edge was undecided symbolically "
            f"({'; '.join(conditions.undecided)}); the check at the parameters decides.")


def conditions_text(conditions) -> str:
    """The conditions without their origins: "a > 2 and b > 2"."""
    return " and ".join(f"({text})" if " or " in text and len(conditions) > 1 else text
                        for text in (plain_text(c.expr) for c in conditions))


def density_sentence(model) -> str:
    """When f is a density, as a sentence: " Z is finite (f a density) when s2 > 0." """
    conditions = model.conditions
    undecided = "; ".join(conditions.undecided)
    if len(conditions) and not undecided:
        return f" Z is finite (f a density) when {conditions_text(conditions)}."
    if len(conditions):
        return (f" Z is finite (f a density) only if {conditions_text(conditions)}; whether "
                f"that is enough was undecided symbolically ({undecided}).")
    if undecided:
        return (f" Whether Z is finite was undecided symbolically ({undecided}); the numeric "
                "checks at given parameters decide.")
    return " f is integrable for every value of the parameters."


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

