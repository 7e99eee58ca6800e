"""The Hyvarinen (integration-by-parts) derivation, made concrete for a model (seeds 002, 003).

From the explicit Fisher divergence J(theta) = 1/2 E_p ||grad log p - s_theta||^2 to the tractable
objective E_p[1/2 ||s_theta||^2 + tr grad s_theta] + C: expand the square, drop the constant,
cancel p in the cross term, integrate by parts in each coordinate with the boundary term written
out for the model's domain, and end with the model's own integrand and, where the stationarity
equations solve in closed form, the estimator in sample moments.
"""

from __future__ import annotations

import numpy as np
import sympy

from ..checks.boundary import symbolic_edge_terms
from ..checks.finite_differences import TOLERANCES, fd_gradient, fd_hessian
from ..checks.result import CheckResult
from ..derivation import Derivation, Step
from ..notation import Bracket, Dot, Expectation, Notation, SquaredNorm
from .closed_form import stationary_point
from .context import CheckContext

P = Notation("p", "p(x)", "p(x)")
GRAD_LOG_P = Notation("grad_log_p", "∇ₓ log p(x)", r"\nabla_x \log p(x)")
S = Notation("s", "s_θ(x)", r"s_\theta(x)")
TRACE = Notation("trace", "tr ∇ₓ s_θ(x)", r"\operatorname{tr} \nabla_x s_\theta(x)")
J = Notation("J", "J(θ)", r"J(\theta)")
C = Notation("C", "C", "C")
P_THETA = Notation("p_theta", "p_θ(x)", r"p_\theta(x)")
GRAD_LOG_P_THETA = Notation("grad_log_p_theta", "∇ₓ log p_θ(x)", r"\nabla_x \log p_\theta(x)")


def _vector(items):
    items = list(items)
    return items[0] if len(items) == 1 else sympy.Matrix(items)


def edge_values(m, g=None) -> tuple:
    """Symbolic boundary terms of p g_i (g defaults to the score) for data in the model family
    (p = f/Z): per coordinate [f g_i]_{lo}^{hi} / Z with the parameters left symbolic, and
    whether all vanish."""
    Z = sympy.Function("Z")(*m.params) if m.params else sympy.Symbol("Z")
    g = list(m.score if g is None else g)
    terms = symbolic_edge_terms(m, g)
    values, vanish = [], True
    for k, (v, gi) in enumerate(zip(m.variables, g)):
        lo_term, hi_term = terms[2 * k]["term"], terms[2 * k + 1]["term"]
        f = sympy.exp(m.log_density)
        ends = [sympy.Limit(f * gi, v, m.domain[v][1], "-") if hi_term is None else hi_term,
                sympy.Limit(f * gi, v, m.domain[v][0], "+") if lo_term is None else lo_term]
        value = sympy.simplify((ends[0] - ends[1]) / Z)
        vanish = vanish and value == 0
        values.append(value)
    return values, vanish


def derive_hyvarinen(m) -> Derivation:
    """The Hyvarinen derivation for model ``m``; see the module docstring."""
    xs, d = m.variables, m.dim
    data_score = Notation("grad_log_p", "∇ₓ log p(x)", r"\nabla_x \log p(x)")
    Z = sympy.Function("Z")(*m.params) if m.params else sympy.Symbol("Z")
    p_of_x = sympy.Function("p")(*xs)
    boundary_values, vanishes = edge_values(m)
    where = "; ".join(f"{v} in ({lo}, {hi})" for v, (lo, hi) in m.domain.items())

    def region(expr):
        return sympy.Integral(expr, *[(v, *m.domain[v]) for v in xs])

    steps = [
        Step("The model", P_THETA, sympy.exp(m.log_density) / Z,
             "Normalize f by Z(θ), the integral of f over the domain, which score matching never "
             "needs."),
        Step("log Z drops out of the score", GRAD_LOG_P_THETA, _vector(m.score),
             "Z(θ) does not depend on x, so its log has zero x-gradient: the score is that of f.",
             claim=_score_claim),
        Step("The explicit objective", J, Expectation(SquaredNorm(GRAD_LOG_P - S) / 2, "p"),
             "Score matching minimizes the Fisher divergence between the data score and the "
             "model score, which needs the unknown data score."),
        Step("Expand the square", J,
             Expectation(SquaredNorm(GRAD_LOG_P) / 2, "p") - Expectation(Dot(GRAD_LOG_P, S), "p")
             + Expectation(SquaredNorm(S) / 2, "p"),
             "‖a - b‖² = ‖a‖² - 2 a·b + ‖b‖² inside the expectation.",
             claim=_expand_claim),
        Step("The first term is a constant", C, Expectation(SquaredNorm(GRAD_LOG_P) / 2, "p"),
             "It involves the data alone, not θ, so minimizing J(θ) ignores it."),
        Step("In the cross term, p cancels", Expectation(Dot(GRAD_LOG_P, S), "p"),
             sympy.Add(*[region(sympy.Derivative(p_of_x, v) * s) for v, s in zip(xs, m.score)]),
             "Write the data score as ∇p / p; the density in the expectation cancels it.",
             claim=_cancel_claim),
        Step("Integrate by parts in each coordinate",
             sympy.Add(*[region(sympy.Derivative(p_of_x, v) * s) for v, s in zip(xs, m.score)]),
             sympy.Add(*[Bracket(p_of_x * s, v, *m.domain[v]) for v, s in zip(xs, m.score)])
             - sympy.Add(*[region(p_of_x * sympy.diff(s, v)) for v, s in zip(xs, m.score)]),
             f"The integral of u v' is [u v] minus the integral of u' v, over {where}.",
             claim=_parts_claim),
        Step("The boundary term",
             sympy.Add(*[Bracket(p_of_x * s, v, *m.domain[v]) for v, s in zip(xs, m.score)]),
             sympy.Add(*boundary_values),
             "It vanishes when p s goes to zero at every edge of the domain." if vanishes else
             "It does not vanish here: p s stays non-zero at an edge of the domain, so the "
             "integration by parts leaves this term and the tractable objective is invalid.",
             claim=_boundary_claim, expected_ok=vanishes),
        Step("The cross term is the trace", -Expectation(Dot(GRAD_LOG_P, S), "p"),
             Expectation(TRACE, "p"),
             "Drop the boundary term: -E[∇log p · s] = E[tr ∇s] by the previous two steps."
             if vanishes else "This needs the boundary term to vanish; here it does not, so "
             "the two sides differ by it.",
             claim=_trace_claim, expected_ok=vanishes),
        Step("The tractable objective", J,
             Expectation(SquaredNorm(S) / 2 + TRACE, "p") + C,
             "Only the model's score and its derivatives remain; the data enter through samples.",
             claim=_tractable_claim, expected_ok=vanishes),
        Step("The integrand of this model", SquaredNorm(S) / 2 + TRACE, m.hyvarinen,
             "Substitute the score and its Jacobian trace (the Laplacian of log f).",
             claim=_integrand_claim),
    ]
    stationary = stationary_point(m)
    if stationary is not None:
        hats = [Notation(f"hat_{p.name}", sympy.pretty(p) + "\u0302", rf"\hat{{{sympy.latex(p)}}}")
                for p in m.params]
        steps.append(Step(
            "The estimator in closed form", _vector(hats),
            _vector(stationary.solution[p] for p in m.params),
            "Replace E_p by the sample mean: the objective depends on the data only through "
            "sample moments; setting its θ-gradient to zero gives the estimator.",
            claim=_closed_form_claim(stationary)))
    result = stationary.solution if stationary is not None else m.hyvarinen
    failing = [str(k) for k, step in enumerate(steps, 1) if not step.expected_ok]
    notes = [] if vanishes else [
        f"The boundary term does not vanish for this model ({sympy.Add(*boundary_values)}), so "
        f"steps {', '.join(failing)} fail their checks: plain score matching is invalid here."]
    del data_score, d
    return Derivation("Score matching by integration by parts", steps, result,
                      lambda params, **options: CheckContext(m, params, **options), notes,
                      subject=m.log_density)


# --- the numeric claims -------------------------------------------------------------------------

def _score_claim(ctx: CheckContext) -> CheckResult:
    f = ctx.model.lambdify().log_density
    domain = [ctx.model.domain[v] for v in ctx.variables]
    return ctx.pointwise("score of log(f/Z)", lambda X: fd_gradient(f, X, ctx.params, domain),
                         list(ctx.ops.score), tolerance=TOLERANCES["score"],
                         labels=("finite differences", "score"), method="finite differences")


def _half_norm(vector) -> sympy.Expr:
    return sympy.Rational(1, 2) * sympy.Add(*[e**2 for e in vector])


def _dot(a, b) -> sympy.Expr:
    return sympy.Add(*[u * v for u, v in zip(a, b)])


def _expand_claim(ctx):
    s, q = ctx.ops.score, ctx.data_score
    fisher = _half_norm([a - b for a, b in zip(q, s)])
    return ctx.expectations("expand the square", fisher,
                            _half_norm(q) - _dot(q, s) + _half_norm(s), ("J", "expanded"))


def _cancel_claim(ctx):
    s, q = ctx.ops.score, ctx.data_score
    p = ctx.density()
    gradient_p = [sympy.diff(p, v) for v in ctx.variables]
    return ctx.expectation_vs_integral("p cancels", _dot(q, s), _dot(gradient_p, s),
                                       ("E[∇log p·s]", "∫∇p·s"))


def _parts_claim(ctx):
    s = ctx.ops.score
    p = ctx.density()
    lhs = _dot([sympy.diff(p, v) for v in ctx.variables], s)
    rhs = -sympy.Add(*[p * sympy.diff(si, v) for si, v in zip(s, ctx.variables)])
    boundary, _ = ctx.boundary_total(list(ctx.model.score))
    return ctx.integrals("integration by parts", lhs, rhs, rhs_constant=boundary,
                         labels=("∫∇p·s", "boundary - ∫p tr∇s"))


def _boundary_claim(ctx):
    ctx.require_quadrature("the normalized density at the edges")
    total, terms = ctx.boundary_total(list(ctx.model.score))
    failing = [f"{t['variable']} -> {t['edge']}: {t['term']}" for t in terms if t["term"] != 0]
    return CheckResult("boundary term", total, 0.0, abs(total), 1e-12, method="sympy.limit",
                       details={"not_vanishing": failing}, lhs_label="boundary",
                       rhs_label="required")


def _trace_claim(ctx):
    s, q = ctx.ops.score, ctx.data_score
    trace = sympy.Add(*[sympy.diff(si, v) for si, v in zip(s, ctx.variables)])
    return ctx.expectations("cross term = trace", -_dot(q, s), trace,
                            ("-E[∇log p·s]", "E[tr ∇s]"))


def _tractable_claim(ctx):
    s, q = ctx.ops.score, ctx.data_score
    fisher = _half_norm([a - b for a, b in zip(q, s)])
    return ctx.expectations("tractable objective", fisher, ctx.ops.hyvarinen + _half_norm(q),
                            ("J", "E[½‖s‖² + tr∇s] + C"))


def _integrand_claim(ctx):
    f = ctx.model.lambdify().log_density

    def by_differences(X):
        domain = [ctx.model.domain[v] for v in ctx.variables]
        gradient = fd_gradient(f, X, ctx.params, domain)
        trace = np.trace(fd_hessian(f, X, ctx.params, domain), axis1=1, axis2=2)
        return (0.5 * np.sum(gradient**2, axis=1) + trace)[:, None]

    return ctx.pointwise("the model's integrand", by_differences, [ctx.ops.hyvarinen],
                         tolerance=TOLERANCES["hyvarinen"],
                         labels=("finite differences", "formula"), method="finite differences")


def _closed_form_claim(stationary):
    def claim(ctx):
        import scipy.optimize

        X = ctx.data_samples
        names = [p.name for p in ctx.model.params]
        closed = stationary.evaluate(X)
        hyvarinen = ctx.model.lambdify().hyvarinen
        start = np.array([ctx.params[k] for k in names])

        def objective(theta):
            return float(np.mean(hyvarinen(X, **dict(zip(names, theta)))))

        found = scipy.optimize.minimize(objective, start, method="Nelder-Mead",
                                        options={"xatol": 1e-10, "fatol": 1e-14,
                                                 "maxiter": 20_000, "maxfev": 40_000})
        numeric = dict(zip(names, found.x))
        errors = {k: abs(closed[k] - numeric[k]) / max(1.0, abs(closed[k])) for k in names}
        worst = max(errors, key=errors.get)
        return CheckResult("closed form", closed[worst], float(numeric[worst]), errors[worst],
                           1e-6, method="minimize",
                           details={"closed_form": closed, "numeric": numeric,
                                    "samples": len(X)},
                           lhs_label=f"{worst} (closed form)", rhs_label="numeric minimum")

    return claim
