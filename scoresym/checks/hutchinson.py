"""Hutchinson's estimator v^T A v of tr A: its variance over projections against the closed form.

Invariant: the closed forms are exact for symmetric A (Gaussian 2 ||A||_F^2; Rademacher
2 sum_{i != j} A_ij^2; sphere of radius sqrt(d) 2 (d ||A||_F^2 - (tr A)^2) / (d + 2)), and the
empirical variance carries the standard error of a mean of squared deviations.

>>> import numpy as np
>>> A = np.array([[2.0, 0.5], [0.5, 1.0]])
>>> hutchinson_variance(A, "gaussian"), hutchinson_variance(A, "rademacher")
(11.0, 1.0)
"""

from __future__ import annotations

import numpy as np

from ..errors import ScoresymInputError
from ..losses import draw_projections
from ..numerics.expectation import DEFAULT_N_STDERR, mc_result
from ..numerics.result import CheckResult
from ..randomness import generator
from .check import Check, Planned, Suite


def hutchinson_variance(A, projection: str):
    """Var_v[v^T A v] for symmetric A (last two axes), in closed form for each projection law:
    Gaussian 2 ||A||_F^2; Rademacher 2 sum_{i != j} A_ij^2; sphere of radius sqrt(d)
    2 (d ||A||_F^2 - (tr A)^2) / (d + 2).

    >>> A = np.array([[2.0, 0.5], [0.5, 1.0]])     # ||A||_F^2 = 5.5, tr A = 3
    >>> [hutchinson_variance(A, law) for law in ("gaussian", "rademacher", "sphere")]
    [11.0, 1.0, 1.0]
    """
    A = np.asarray(A, dtype=float)
    d = A.shape[-1]
    frobenius = np.sum(A**2, axis=(-2, -1))
    trace = np.trace(A, axis1=-2, axis2=-1)
    if projection == "gaussian":
        variance = 2 * frobenius
    elif projection == "rademacher":
        variance = 2 * (frobenius - np.sum(np.diagonal(A, axis1=-2, axis2=-1) ** 2, axis=-1))
    elif projection == "sphere":
        variance = 2 * (d * frobenius - trace**2) / (d + 2)
    else:
        raise ScoresymInputError(f"no closed-form variance for projection {projection!r}")
    return float(variance) if np.ndim(variance) == 0 else variance


def check_hutchinson(A, projection: str = "rademacher", n_draws: int = 20_000, seed=None,
                     n_stderr: float = DEFAULT_N_STDERR) -> CheckResult:
    """The empirical variance of v^T A v over ``n_draws`` projections against its closed form.

    The standard error of a sample variance is that of the mean of (q - mean q)^2. With
    q_j = v_j^T A v_j over the draws, it checks

        mean_j (q_j - mean q)^2 = Var_v[v^T A v]   (:func:`hutchinson_variance`).

    >>> A = np.array([[2.0, 0.5], [0.5, 1.0]])     # Rademacher: q = 3 +- 1, variance 1
    >>> r = check_hutchinson(A, "rademacher", n_draws=2000, seed=0)
    >>> r.ok, r.rhs, round(r.details["trace"], 6)
    (True, 1.0, 3.0)
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.allclose(A, A.T):
        raise ScoresymInputError("A must be a symmetric square matrix")
    V = draw_projections(projection, 1, n_draws, A.shape[0], generator(seed))[0]
    q = np.einsum("ni,ij,nj->n", V, A, V)
    squares = (q - q.mean()) ** 2
    closed = float(hutchinson_variance(A, projection))
    return mc_result(f"hutchinson[{projection}, d={A.shape[0]}]", squares,
                      np.full(n_draws, closed), n_stderr,
                      {"mean": float(q.mean()), "trace": float(np.trace(A))},
                      ("empirical variance", "closed form"))


#: The matrix of the suite's Hutchinson rows: symmetric, not diagonal, not a multiple of I.
SUITE_MATRIX = np.array([[2.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 0.7]])


def _plan_once(suite: Suite) -> list:
    return [Planned(f"hutchinson {law}", lambda law=law: check_hutchinson(
        SUITE_MATRIX, law, n_draws=20_000, seed=suite.seed))
        for law in ("rademacher", "gaussian", "sphere")]


CHECK = Check("hutchinson", check_hutchinson, "variance of v^T A v over projections = its "
              "closed form", plan_once=_plan_once)
