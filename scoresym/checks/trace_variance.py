"""Per sample, the variance over projections of SSM's trace term against Hutchinson's closed form.

Invariant: the projected Hessian v^T (grad s) v comes from autograd (one backward pass for
every projection of every point: rows are independent), the closed form from the compiled
symbolic Hessian, and the projections from their own random stream, independent of the data's.
"""

from __future__ import annotations

import numpy as np

from ..losses import draw_projections
from ..numerics.ad import projected_hessian, score_function
from ..numerics.expectation import DEFAULT_N_STDERR, mc_result, resolve_samples
from ..numerics.result import CheckResult
from ..randomness import generator, independent_seeds
from .check import Check, Planned, Subject
from .hutchinson import hutchinson_variance


def check_trace_variance(model, params, samples=None, projection="rademacher",
                         n_projections: int = 32, seed=None, n: int = 200,
                         n_stderr: float = DEFAULT_N_STDERR) -> CheckResult:
    """Per sample, the variance over projections of SSM's trace term v^T (grad s) v (autograd)
    against the closed form at the compiled Hessian. With Rademacher projections and a diagonal
    Hessian both are exactly zero. Per sample x, with H = grad_x s(x), it checks

        Var_v[v^T H v] = hutchinson_variance(H, projection)

    (:func:`~scoresym.checks.hutchinson.hutchinson_variance`: 2 sum_{i != j} H_ij^2 for
    Rademacher projections).

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_full_3d")            # H = -Lambda: off-diagonal -0.6 twice
    >>> r = check_trace_variance(b.model, b.truth, n=20, n_projections=64, seed=0)
    >>> r.ok, round(r.rhs, 6)                      # 2 sum_{i != j} H_ij^2 = 2 (4 x 0.36)
    (True, 2.88)
    """
    data_seed, projection_seed = independent_seeds(seed, 2)
    X = resolve_samples(model, params, samples, n, data_seed)
    score = score_function(model.lambdify("autograd").log_density, dict(params))
    V = draw_projections(projection, n_projections, len(X), model.dim, generator(projection_seed))
    # rows are independent: all M projections of every point in one backward pass
    M, n_points, d = V.shape
    terms = np.asarray(projected_hessian(score, np.tile(X, (M, 1)), V.reshape(M * n_points, d)))
    terms = terms.reshape(M, n_points)
    empirical = terms.var(axis=0, ddof=1)
    closed = hutchinson_variance(model.lambdify().hessian(X, **params), projection)
    return mc_result(f"trace_variance[{model.name or 'model'}, {projection}]", empirical, closed,
                      n_stderr, {"projection": projection, "n_projections": n_projections,
                               "samples": len(X)}, ("empirical", "closed form"))


def _plan(subject: Subject) -> list:
    return [Planned("trace variance", lambda: check_trace_variance(
        subject.model, subject.truth, subject.points[:100], seed=subject.seed))]


CHECK = Check("trace-variance", check_trace_variance, "variance of SSM's trace term over "
              "projections = Hutchinson's closed form", plan=_plan)
