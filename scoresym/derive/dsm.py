"""Denoising score matching derived for a model (Vincent 2011; seed 001, section 3).

With eps ~ N(0, I) and x~ = x + sigma eps, the Gaussian kernel's conditional score is
-(x~ - x)/sigma^2 = -eps/sigma, the plain score (not a "scaled" one). Expanding the DSM square and
integrating by parts in eps (Stein's identity for the standard normal) shows that DSM is the
Hyvarinen objective on the noised data plus d/(2 sigma^2): it matches the score of q_sigma, and
its minimum is not zero.
"""

from __future__ import annotations

import numpy as np
import sympy

from ..checks.dsm_variance import check_dsm_gaussian_variance
from ..losses import positive_number
from ..numerics.expectation import mc_result
from ..numerics.result import CheckResult
from ..randomness import generator, independent_seeds
from ..symbolic.notation import Dot, Expectation, Notation, SquaredNorm
from .claims import score_claim, vector
from .context import CheckContext
from .derivation import Derivation, NotCheckable, Step
from .identity import Identity

X_TILDE = Notation("x_tilde", "x̃", r"\tilde{x}")
X = Notation("x_vec", "x", "x")
EPS = Notation("eps", "ε", r"\varepsilon")
S_TILDE = Notation("s_tilde", "s_θ(x̃)", r"s_\theta(\tilde{x})")
TRACE_TILDE = Notation("trace_tilde", "tr ∇s_θ(x̃)", r"\operatorname{tr} \nabla s_\theta(\tilde{x})")
J_DSM = Notation("J_dsm", "J_DSM(θ)", r"J_{\mathrm{DSM}}(\theta)")
GRAD_LOG_Q = Notation("grad_log_q", "∇ log q_σ(x̃)", r"\nabla \log q_\sigma(\tilde{x})")
C_SIGMA = Notation("C_sigma", "C_σ", r"C_\sigma")
SIGMA = sympy.Symbol("sigma", positive=True)


class DSMContext(CheckContext):
    """CheckContext with noise: eps ~ N(0, I) and x~ = x + sigma eps on the data samples."""

    def __init__(self, model, params, sigma: float = 0.5, **options):
        super().__init__(model, params, **options)
        self.sigma = positive_number("sigma", sigma)
        rng = generator(independent_seeds(self.seed, 1)[0])  # not the data's stream
        self.eps = rng.standard_normal(self.data_samples.shape)
        self.noised = self.data_samples + self.sigma * self.eps

    def paired(self, name, lhs, rhs, labels) -> CheckResult:
        return mc_result(name, lhs, rhs, self.n_stderr, {"samples": len(lhs), "sigma": self.sigma},
                         labels)

    def at_noised(self, exprs) -> np.ndarray:
        return self.evaluate(list(exprs), self.noised)


def derive_dsm(model) -> Derivation:
    """The DSM derivation for ``model``; check with ``derivation.check(params, sigma=...)``."""
    d = model.dim
    xt, x1 = X_TILDE, X  # one coordinate, for the kernel's score
    kernel = -(xt - x1) ** 2 / (2 * SIGMA**2)
    steps = [
        Step("Noise the data", X_TILDE, X + SIGMA * EPS,
             "Draw ε ~ N(0, I) and add σε: x̃ has the density q_σ, p smoothed by N(0, σ² I)."),
        Step("The kernel's conditional score", sympy.Derivative(kernel, xt),
             -(xt - x1) / SIGMA**2,
             "Per coordinate, log N(x̃; x, σ²I) is -(x̃ - x)²/(2σ²) plus a constant; at "
             "x̃ = x + σε this is -ε/σ, the plain conditional score.",
             claim=_kernel_claim(kernel, xt, x1)),
        Step("The model's score", S_TILDE, vector(model.score),
             "Evaluated at the noised point x̃.", claim=score_claim),
        Step("The DSM objective", J_DSM,
             Expectation(SquaredNorm(S_TILDE + EPS / SIGMA) / 2, "x,ε"),
             "Match the model's score at x̃ to the conditional score -ε/σ."),
        Step("Expand the square", J_DSM,
             Expectation(SquaredNorm(S_TILDE) / 2, "x,ε")
             + Expectation(Dot(EPS, S_TILDE), "x,ε") / SIGMA + d / (2 * SIGMA**2),
             f"E‖ε‖² = d = {d}.", claim=_expand_claim),
        Step("Gaussian integration by parts in ε", Expectation(Dot(EPS, S_TILDE), "x,ε"),
             SIGMA * Expectation(TRACE_TILDE, "x,ε"),
             "Stein's identity for N(0, I): E[ε·h(ε)] = E[div h(ε)], and ∂/∂ε s_θ(x + σε) = "
             "σ ∇s_θ(x̃).", claim=_stein_claim),
        Step("DSM is score matching on the noised data", J_DSM,
             Expectation(SquaredNorm(S_TILDE) / 2 + TRACE_TILDE, "q_σ") + d / (2 * SIGMA**2),
             "Collect the terms: the Hyvarinen objective under q_σ plus a constant.",
             claim=_noised_claim),
        Step("It matches the score of q_σ", J_DSM,
             Expectation(SquaredNorm(S_TILDE - GRAD_LOG_Q) / 2, "q_σ") + C_SIGMA,
             "By the Hyvarinen derivation under q_σ; C_σ = d/(2σ²) - ½E‖∇log q_σ‖² does not "
             "depend on θ, so the minimizer fits q_σ, not p, and the minimum C_σ is not zero."),
    ]
    if model.dim == 1 and sorted(p.name for p in model.params) == ["mu", "s2"]:
        steps.append(Step("For Gaussian data, DSM fits the noised variance",
                          Notation("s2_hat_dsm", "argmin_s2 J_DSM",
                                   r"\arg\min_{s_2} J_{\mathrm{DSM}}"),
                          Notation("v_plus", "s² + σ²", r"s^2 + \sigma^2"),
                          "q_σ = N(μ, s² + σ²) when p = N(μ, s²).", claim=_variance_claim(model)))
    return Derivation("Denoising score matching", steps, steps[6].rhs,
                      lambda params, sigma=0.5, **options: DSMContext(model, params, sigma,
                                                                       **options),
                      subject=model.log_density)


def _kernel_claim(kernel, xt, x1):
    def claim(ctx: DSMContext) -> CheckResult:
        lhs = sympy.diff(kernel, xt).xreplace({SIGMA: sympy.Float(ctx.sigma)})
        X0, E0 = ctx.data_samples[:, 0], ctx.eps[:, 0]
        values = np.array([float(lhs.xreplace({xt: a + ctx.sigma * e, x1: a}))
                           for a, e in zip(X0[:50], E0[:50])])
        target = -E0[:50] / ctx.sigma
        error = float(np.max(np.abs(values - target) / np.maximum(1, np.abs(target))))
        return CheckResult("conditional score", float(values[0]), float(target[0]), error,
                           1e-12, method="pointwise", lhs_label="∂/∂x̃ log N",
                           rhs_label="-ε/σ")
    return claim


def _score_and_trace(ctx: DSMContext):
    s = list(ctx.ops.score)
    trace = sympy.Add(*[sympy.diff(si, v) for si, v in zip(s, ctx.variables)])
    values = ctx.at_noised(s + [trace])
    return values[:, :-1], values[:, -1]


def _dsm_per_sample(ctx, score):
    return 0.5 * np.sum((score + ctx.eps / ctx.sigma) ** 2, axis=1)


def _expand_claim(ctx: DSMContext) -> CheckResult:
    score, _ = _score_and_trace(ctx)
    d = score.shape[1]
    rhs = (0.5 * np.sum(score**2, axis=1) + np.sum(ctx.eps * score, axis=1) / ctx.sigma
           + d / (2 * ctx.sigma**2))
    return ctx.paired("expand the DSM square", _dsm_per_sample(ctx, score), rhs,
                      ("J_DSM", "expanded"))


def _stein_claim(ctx: DSMContext) -> CheckResult:
    score, trace = _score_and_trace(ctx)
    return ctx.paired("gaussian integration by parts", np.sum(ctx.eps * score, axis=1),
                      ctx.sigma * trace, ("E[ε·s(x̃)]", "σE[tr∇s(x̃)]"))


def _noised_claim(ctx: DSMContext) -> CheckResult:
    score, trace = _score_and_trace(ctx)
    d = score.shape[1]
    rhs = 0.5 * np.sum(score**2, axis=1) + trace + d / (2 * ctx.sigma**2)
    return ctx.paired("DSM = ESM on q_sigma + d/(2σ²)", _dsm_per_sample(ctx, score), rhs,
                      ("J_DSM", "E_q[½‖s‖² + tr∇s] + d/2σ²"))


def _variance_claim(model):
    def claim(ctx: DSMContext) -> CheckResult:
        if ctx.data_model.dim != 1:
            raise NotCheckable("needs 1-D data")
        return check_dsm_gaussian_variance(model, ctx.data_samples[:4000], sigma=ctx.sigma,
                                           replicates=8, seed=ctx.seed)
    return claim


IDENTITY = Identity("dsm", derive_dsm, "denoising score matching: the conditional score "
                    "-eps/sigma, and DSM as score matching on the noised data",
                    check_options=("sigma",))
