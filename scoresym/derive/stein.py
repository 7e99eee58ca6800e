"""Stein's identity derived for a model's own density and a test function g (seed 001, ex. 4).

E_p[g(x)^T grad log p(x)] = -E_p[div g(x)] for p = f/Z: the score of p is that of f, p cancels in
E_p[g . grad log p], and integrating by parts in each coordinate leaves the boundary term
[g_i p] at the edges of the domain, which must vanish.
"""

from __future__ import annotations

import sympy

from ..errors import ScoresymInputError
from ..numerics.result import CheckResult
from ..symbolic.conditions import field_products
from ..symbolic.fields import vector_field
from ..symbolic.notation import Bracket, Dot, Expectation, Notation
from ..symbolic.operators import divergence
from .claims import (
    GRAD_LOG_P,
    boundary_sentence,
    boundary_value,
    conditions_text,
    density_sentence,
    dot,
    expectation,
    score_claim,
    vector,
)
from .context import CheckContext
from .derivation import Derivation, Step
from .identity import Identity

G = Notation("g", "g(x)", "g(x)")
DIV_G = Notation("div_g", "∇ₓ·g(x)", r"\nabla_x \cdot g(x)")


def derive_stein(model, test_function=None) -> Derivation:
    """Stein's identity for model ``model`` and test function g (default g_i = x_i + x_i^2)."""
    field = vector_field(model, test_function)
    if field.symbolic is None:
        raise ScoresymInputError("a derivation needs a symbolic test function (a string or "
                                 "SymPy expressions), not a callable")
    g = list(field.symbolic)
    xs = model.variables
    p_of_x = sympy.Function("p")(*xs)
    boundary, vanishes = boundary_value(model, field_products(model, g))
    never = vanishes.decided and vanishes.expr is sympy.false
    div_g = divergence(g, xs)

    def region(expr):
        return sympy.Integral(expr, *[(v, *model.domain[v]) for v in xs])

    parts_lhs = sympy.Add(*[region(gi * sympy.Derivative(p_of_x, v)) for gi, v in zip(g, xs)])
    brackets = sympy.Add(*[Bracket(gi * p_of_x, v, *model.domain[v]) for gi, v in zip(g, xs)])
    steps = [
        Step("Stein's identity", Expectation(Dot(G, GRAD_LOG_P), "p"), -Expectation(DIV_G, "p"),
             f"The claim, for p = f/Z and the test function {field.label}."
             + density_sentence(model)),
        Step("The test function", G, vector(g), "Any smooth g for which g p vanishes at the "
             "edges; this one is chosen for the check."),
        Step("The score of p is that of f", GRAD_LOG_P, vector(model.score),
             "log Z does not depend on x.", claim=score_claim),
        Step("p cancels", Expectation(Dot(G, GRAD_LOG_P), "p"), parts_lhs,
             "Write the score as ∇p / p; the density in the expectation cancels it.",
             claim=_cancel_claim(g)),
        Step("Integrate by parts in each coordinate", parts_lhs,
             brackets - sympy.Add(*[region(p_of_x * sympy.diff(gi, v)) for gi, v in zip(g, xs)]),
             "The integral of u v' is [u v] minus the integral of u' v.",
             claim=_parts_claim(g)),
        Step("The boundary term", brackets, boundary, boundary_sentence(vanishes, "g p"),
             claim=_boundary_claim(g), expected_ok=expectation(vanishes), decides=True),
        Step("Stein's identity for this model", Expectation(dot(g, model.score), "p"),
             -Expectation(div_g, "p"),
             "This would follow if the boundary term vanished; it does not, so the two sides "
             "differ by it." if never else "With the boundary term gone, the expectation of "
             "g·∇log p is minus that of div g.",
             claim=_identity_claim(g), expected_ok=expectation(vanishes)),
    ]
    notes = [f"The boundary term ({boundary}) does not vanish, so the identity fails for this "
             "test function."] if never else \
        [f"The boundary term vanishes only when {conditions_text(vanishes)}; elsewhere the "
         "identity fails for this test function."] if vanishes.decided and len(vanishes) else \
        ["Whether the boundary term vanishes was undecided symbolically; at given parameters "
         "the check of the boundary term decides."] if not vanishes.decided else []
    return Derivation(f"Stein's identity with {field.label}", steps,
                      sympy.Eq(steps[-1].lhs, steps[-1].rhs, evaluate=False),
                      lambda params, **options: CheckContext(model, params, **options), notes,
                      subject=model.log_density)


def _cancel_claim(g):
    def claim(ctx: CheckContext) -> CheckResult:
        p = ctx.density()
        gradient_p = [sympy.diff(p, v) for v in ctx.variables]
        return ctx.expectation_vs_integral("p cancels", dot(g, ctx.data_score),
                                           dot(g, gradient_p), ("E[g·∇log p]", "∫g·∇p"))
    return claim


def _parts_claim(g):
    def claim(ctx: CheckContext) -> CheckResult:
        p = ctx.density()
        lhs = dot(g, [sympy.diff(p, v) for v in ctx.variables])
        rhs = -sympy.Add(*[p * sympy.diff(gi, v) for gi, v in zip(g, ctx.variables)])
        boundary, _ = ctx.boundary_total(g)
        return ctx.integrals("integration by parts", lhs, rhs, rhs_constant=boundary,
                             labels=("∫g·∇p", "boundary - ∫p div g"))
    return claim


def _boundary_claim(g):
    def claim(ctx: CheckContext) -> CheckResult:
        return ctx.boundary_claim(g)
    return claim


def _identity_claim(g):
    def claim(ctx: CheckContext) -> CheckResult:
        div_g = divergence(g, ctx.variables)
        return ctx.expectations("stein", dot(g, ctx.data_score), -div_g,
                                ("E[g·∇log p]", "-E[div g]"))
    return claim


IDENTITY = Identity("stein", derive_stein, "Stein's identity for a test function "
                    "(test_function=, default g_i = x_i + x_i^2)", options=("test_function",))
