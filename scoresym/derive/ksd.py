"""The kernel Stein discrepancy derived for a model (Liu, Lee and Jordan 2016; Chwialkowski,
Strathmann and Gretton 2016): from Stein's identity with the test function g = k(x, y) in each
coordinate, the reproducing property of the kernel's RKHS, and the closed form of the supremum,
KSD^2 = E_{x, y ~ q} u_p(x, y), written out with this model's score and the IMQ kernel.
"""

from __future__ import annotations

import numpy as np
import sympy

from ..checks.ksd import check_ksd
from ..checks.stein import check_stein
from ..numerics.result import CheckResult
from ..numerics.stein_kernel import IMQ, stein_kernel
from ..symbolic.notation import Notation
from ..symbolic.operators import simplified_within_budget
from .claims import GRAD_LOG_P, vector
from .context import CheckContext
from .derivation import Derivation, Step
from .identity import Identity

KSD2 = Notation("ksd2", "KSD²(q, p)", r"\mathrm{KSD}^2(q, p)")
SUP = Notation("sup", "sup_{‖g‖_H ≤ 1} (E_q[gᵀ∇ₓlog p + ∇ₓ·g])²",
               r"\sup_{\|g\|_{\mathcal{H}^d} \le 1} \left(\mathbb{E}_q[g^\top \nabla_x \log p "
               r"+ \nabla_x \cdot g]\right)^2")
XI = Notation("xi", "‖E_q[∇ₓlog p(x) k(x, ·) + ∇ₓk(x, ·)]‖²_H",
              r"\left\|\mathbb{E}_q[\nabla_x \log p(x) k(x, \cdot) + \nabla_x k(x, \cdot)]"
              r"\right\|^2_{\mathcal{H}^d}")
U_P = Notation("u_p", "E_{x,y∼q} u_p(x, y)", r"\mathbb{E}_{x, y \sim q}\, u_p(x, y)")
STEIN_K = Notation("stein_k", "E_p[∇ₓlog p(x) k(x, y) + ∇ₓk(x, y)]",
                   r"\mathbb{E}_p[\nabla_x \log p(x) k(x, y) + \nabla_x k(x, y)]")
ZERO = Notation("zero", "0", "0")


def imq_kernel(xs, ys) -> sympy.Expr:
    """(1 + |x - y|^2)^(-1/2), the IMQ kernel with c = 1 and beta = -1/2, as SymPy."""
    return (1 + sum((x - y) ** 2 for x, y in zip(xs, ys))) ** sympy.Rational(-1, 2)


def stein_kernel_symbolic(model, xs, ys, k) -> sympy.Expr:
    """u_p(x, y) = s(x).s(y) k + s(x).grad_y k + s(y).grad_x k + tr grad_x grad_y k, with the
    model's score at x and at y (its variables renamed) and k any expression in both."""
    s = list(model.score)
    s_x = [e.xreplace(dict(zip(model.variables, xs))) for e in s]
    s_y = [e.xreplace(dict(zip(model.variables, ys))) for e in s]
    return (sum(a * b for a, b in zip(s_x, s_y)) * k
            + sum(a * sympy.diff(k, y) for a, y in zip(s_x, ys))
            + sum(b * sympy.diff(k, x) for b, x in zip(s_y, xs))
            + sum(sympy.diff(k, x, y) for x, y in zip(xs, ys)))


def derive_ksd(model) -> Derivation:
    """The KSD derivation for ``model`` (IMQ kernel, c = 1, beta = -1/2, in the display)."""
    d = model.dim
    xs = model.variables
    ys = sympy.symbols(f"y1:{d + 1}", real=True) if d > 1 else (sympy.Symbol("y", real=True),)
    k = imq_kernel(xs, ys)
    u = stein_kernel_symbolic(model, xs, ys, k)
    steps = [
        Step("The kernel Stein discrepancy", KSD2, SUP,
             "The largest violation of Stein's identity over the test functions g in the unit "
             "ball of a kernel's RKHS (d copies of it): zero when q = p."),
        Step("Stein's identity with g = k(·, y)", STEIN_K, ZERO,
             "For every fixed y, each coordinate of g(x) = k(x, y) is a test function whose "
             "boundary term vanishes (k is bounded, p decays): here the IMQ kernel "
             f"k(x, y) = {k}.", claim=_stein_claim(k, ys)),
        Step("The reproducing property", SUP, XI,
             "E_q[gᵀ∇log p + ∇·g] = ⟨g, E_q[∇log p(x) k(x, ·) + ∇ₓk(x, ·)]⟩_H for g in H^d, "
             "so the supremum over the unit ball is the norm of that mean embedding."),
        Step("The Stein kernel", XI, U_P,
             "Expand the squared norm with ⟨k(x, ·), k(y, ·)⟩ = k(x, y): u_p(x, y) = "
             "s(x)ᵀs(y) k + s(x)ᵀ∇_y k + s(y)ᵀ∇ₓk + tr ∇ₓ∇_y k. For this model, with s = "
             f"{list(model.score)}: u_p = {simplified_within_budget(u)}.",
             claim=_kernel_claim(u, xs, ys)),
        Step("The score of p is that of f", GRAD_LOG_P, vector(model.score),
             "log Z has no x-gradient: the KSD needs no normalizing constant."),
        Step("KSD² vanishes at q = p", U_P, ZERO,
             "Under p every g in the ball satisfies Stein's identity, so the U-statistic of "
             "draws from the model is not rejected by the wild-bootstrap test.",
             claim=_zero_claim),
    ]
    return Derivation("The kernel Stein discrepancy", steps, sympy.Eq(KSD2, U_P, evaluate=False),
                      lambda params, **options: CheckContext(model, params, **options),
                      subject=model.log_density)


def _stein_claim(k, ys):
    def claim(ctx: CheckContext) -> CheckResult:
        y0 = ctx.data_samples[0]
        g = k.xreplace({y: sympy.Float(float(v), 17) for y, v in zip(ys, y0)})
        return check_stein(ctx.model, ctx.params, [g] * ctx.model.dim, samples=ctx.samples,
                           seed=ctx.seed, n=ctx.n, n_stderr=ctx.n_stderr)
    return claim


def _kernel_claim(u, xs, ys):
    """The symbolic u_p (SymPy differentiation of k) against the compiled radial form at 20
    pairs of the data's points."""
    def claim(ctx: CheckContext) -> CheckResult:
        X = ctx.data_samples[:20]
        Y = ctx.data_samples[20:40]
        at = u.xreplace({p: sympy.Float(float(ctx.params[p.name]), 17)
                         for p in ctx.model.params})
        f = sympy.lambdify([*xs, *ys], at, "numpy")
        symbolic = np.array([float(f(*x, *y)) for x, y in zip(X, Y)])
        score = ctx.model.compiled().score
        compiled = np.diag(stein_kernel(IMQ(), X, score(X, **ctx.params), Y,
                                        score(Y, **ctx.params)))
        error = float(np.max(np.abs(symbolic - compiled)))
        scale = float(np.max(np.abs(symbolic)))
        return CheckResult("stein kernel (symbolic vs compiled)", scale, float(np.max(np.abs(
            compiled))), error, 1e-10 * max(1.0, scale), method="exact",
            details={"pairs": len(X)}, lhs_label="max |u_p| (SymPy)",
            rhs_label="max |u_p| (radial form)")
    return claim


def _zero_claim(ctx: CheckContext) -> CheckResult:
    return check_ksd(ctx.model, ctx.params, ctx.data_samples[:2000], seed=ctx.seed, alpha=0.002,
                     n_bootstrap=999)


IDENTITY = Identity("ksd", derive_ksd, "the kernel Stein discrepancy: Stein's identity with "
                    "g = k(x, y), the reproducing property and the Stein kernel")
