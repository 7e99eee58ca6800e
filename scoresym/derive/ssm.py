"""Sliced score matching derived for a model (Song et al. 2019; seed 001, section 4).

Hutchinson's estimator E_v[v^T A v] = tr A holds for any A when E[v v^T] = I, shown here for a
symbolic matrix; each projection law is checked for E[v v^T] = I (the unit sphere needs the sqrt(d)
scaling); averaging over v turns SSM into the Hyvarinen objective, and the estimator's variance has
a closed form per law.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy

from ..checks.ssm_esm import check_ssm_esm
from ..checks.trace_variance import check_trace_variance
from ..losses import draw_projections
from ..numerics.expectation import mc_tolerance
from ..numerics.result import CheckResult
from ..randomness import generator
from ..symbolic.notation import Dot, Expectation, Notation, SquaredNorm
from .claims import TRACE, S
from .context import CheckContext
from .derivation import Derivation, Step
from .identity import Identity

V = Notation("v", "v", "v")
VVT = Notation("vvT", "v vᵀ", r"v v^{\top}")
IDENTITY_MATRIX = Notation("I", "I", "I")
J_SSM = Notation("J_ssm", "J_SSM(θ)", r"J_{\mathrm{SSM}}(\theta)")
LAWS = ("rademacher", "gaussian", "sphere")
LAW_TEXT = {"rademacher": "independent ±1 entries", "gaussian": "N(0, I)",
            "sphere": "uniform on the sphere of radius √d (the unit sphere gives I/d)"}


def hutchinson_symbolic(d: int) -> tuple:
    """(v^T A v, E_v[v^T A v] with E[v_i v_j] = delta_ij, tr A) for a symbolic d x d matrix A."""
    A = sympy.Matrix(d, d, lambda i, j: sympy.Symbol(f"a{i + 1}{j + 1}"))
    v = sympy.Matrix(sympy.symbols(f"v1:{d + 1}"))
    quadratic = sympy.expand((v.T * A * v)[0])
    expected = quadratic
    for i, j in itertools.product(range(d), repeat=2):
        moment = 1 if i == j else 0
        expected = expected.subs(v[i] * v[j], moment) if i != j else expected.subs(v[i] ** 2, 1)
    return A, quadratic, sympy.expand(expected), A.trace()


def derive_ssm(model) -> Derivation:
    """The SSM derivation for ``model``."""
    d_show = min(model.dim, 3)
    _, quadratic, _, trace = hutchinson_symbolic(d_show)
    steps = [
        Step("Hutchinson's identity", Expectation(quadratic, "v"), trace,
             f"For a symbolic {d_show} x {d_show} matrix A: vᵀAv = Σ a_ij v_i v_j, and "
             "E[v_i v_j] = δ_ij leaves the diagonal.", claim=_symbolic_claim(d_show)),
    ]
    for law in LAWS:
        steps.append(Step(f"E[v vᵀ] = I for {law} projections", Expectation(VVT, "v"),
                          IDENTITY_MATRIX, f"v with {LAW_TEXT[law]}.",
                          claim=_second_moment_claim(law)))
    steps += [
        Step("The SSM objective", J_SSM,
             Expectation(Dot(V, Notation("Hv", "∇ₓs_θ(x) v", r"\nabla_x s_\theta(x) v"))
                         + Dot(V, S) ** 2 / 2, "p,v"),
             "Project the Jacobian and the score on random directions v: one backward pass per "
             "projection instead of d."),
        Step("Average over the projections", J_SSM, Expectation(SquaredNorm(S) / 2 + TRACE, "p"),
             "E_v[vᵀ∇s v] = tr ∇s and E_v[(vᵀs)²] = sᵀE[vvᵀ]s = ‖s‖²: SSM is the Hyvarinen "
             "objective, with the same v in both terms.", claim=_ssm_claim(False)),
        Step("The variance-reduced form", J_SSM,
             Expectation(Dot(V, Notation("Hv", "∇ₓs_θ(x) v", r"\nabla_x s_\theta(x) v"))
                         + SquaredNorm(S) / 2, "p,v"),
             "Average the second term exactly: ½(vᵀs)² becomes ½‖s‖² (SSM-VR).",
             claim=_ssm_claim(True)),
        Step("The Rademacher estimator's variance",
             Notation("var", "Var_v[vᵀHv]", r"\operatorname{Var}_v[v^{\top} H v]"),
             Notation("var_rad", "2 Σ_{i≠j} H_ij²", r"2 \sum_{i \ne j} H_{ij}^2"),
             "For symmetric H = ∇ₓs_θ(x) and Rademacher v; it is zero when H is diagonal "
             "(Gaussian v: 2‖H‖²_F).", claim=_variance_claim),
    ]
    return Derivation("Sliced score matching", steps, steps[-3].rhs,
                      lambda params, **options: CheckContext(model, params, **options),
                      subject=model.log_density)


def _symbolic_claim(d: int):
    def claim(ctx: CheckContext) -> CheckResult:
        _, _, expected, trace = hutchinson_symbolic(d)
        difference = sympy.simplify(expected - trace)
        error = 0.0 if difference == 0 else float("inf")
        return CheckResult("hutchinson (symbolic)", 0.0, 0.0, error, 0.0, method="symbolic",
                           details={"difference": str(difference)}, lhs_label="E[vᵀAv] - tr A",
                           rhs_label="0")
    return claim


def _second_moment_claim(law: str):
    def claim(ctx: CheckContext) -> CheckResult:
        d = max(ctx.model.dim, 2)
        rng = generator(ctx.seed)
        V = draw_projections(law, 1, 20_000, d, rng)[0]
        outer = V[:, :, None] * V[:, None, :]
        mean = outer.mean(axis=0)
        stderr = outer.std(axis=0, ddof=1) / np.sqrt(len(V))
        deviation = np.abs(mean - np.eye(d))
        k = np.unravel_index(np.argmax(deviation / np.maximum(stderr, 1e-300)), deviation.shape)
        return CheckResult(f"E[vvT] = I ({law})", float(mean[k]), float(np.eye(d)[k]),
                           float(deviation[k]), mc_tolerance(stderr[k], ctx.n_stderr, mean[k]),
                           stderr=float(stderr[k]), method="mc",
                           details={"entry": tuple(int(i) for i in k), "d": d},
                           lhs_label="E[v_i v_j]", rhs_label="δ_ij")
    return claim


def _ssm_claim(variance_reduced: bool):
    def claim(ctx: CheckContext) -> CheckResult:
        return check_ssm_esm(ctx.model, ctx.params, ctx.data_samples[:1000], n_projections=32,
                             variance_reduced=variance_reduced, seed=ctx.seed,
                             n_stderr=ctx.n_stderr)
    return claim


def _variance_claim(ctx: CheckContext) -> CheckResult:
    return check_trace_variance(ctx.model, ctx.params, ctx.data_samples[:100],
                                projection="rademacher", seed=ctx.seed, n_stderr=ctx.n_stderr)


IDENTITY = Identity("ssm", derive_ssm, "sliced score matching: Hutchinson's identity and each "
                    "projection law")
