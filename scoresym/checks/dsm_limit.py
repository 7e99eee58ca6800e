"""DSM's parameter gradient tends to ESM's as the noise level sigma -> 0 (Vincent 2011).

Invariant: the gap at two noise levels is extrapolated to sigma = 0 by Richardson (the bias is
O(sigma^2)), per batch, with batch-means standard errors; the noise comes from its own stream.
A DSM with the wrong target (-eps/sigma^2) fails it.
"""

from __future__ import annotations

import autograd
import numpy as np

from ..codegen.functions import param_values
from ..errors import ScoresymInputError
from ..losses import dsm_loss, esm_loss
from ..numerics.expectation import (
    DEFAULT_N_STDERR,
    mc_tolerance,
    monte_carlo_mean,
    resolve_samples,
)
from ..numerics.result import CheckResult
from ..randomness import independent_seeds
from .check import Check, Planned, Subject


def _batch_gradients(loss, names, values, which, **arguments) -> np.ndarray:
    """(batches, p): d loss / d params of each batch's mean loss, by one autograd pass over all
    the points. Each batch gets its own copy of the parameters (row i sees copy which[i]), so
    the gradient of the mean over all n points in copy b is n_b / n times batch b's gradient."""
    counts = np.bincount(which)
    copies = np.tile(np.asarray(values, dtype=float), (len(counts), 1))
    gradient = autograd.grad(lambda T: loss(**arguments, **{
        k: T[which, i] for i, k in enumerate(names)}))(copies)
    return np.asarray(gradient) * (len(which) / counts)[:, None]


def check_dsm_limit(model, params, samples=None, noise_levels=(0.2, 0.1), batches: int = 20,
                    seed=None, n: int = 4000, n_stderr: float = DEFAULT_N_STDERR,
                    dsm=dsm_loss) -> CheckResult:
    """DSM's parameter gradient tends to ESM's as sigma -> 0 (Vincent 2011).

    Per batch of samples, the gradient difference g_DSM(sigma) - g_ESM at two noise levels
    s1 < s2 (antithetic noise, common random numbers) is extrapolated to sigma = 0 by Richardson,
    (s2^2 D(s1) - s1^2 D(s2)) / (s2^2 - s1^2), since the bias is O(sigma^2). The check passes when
    the extrapolated difference is zero within ``n_stderr`` batch-means standard errors, for every
    parameter. ``dsm`` is the DSM loss under test (default :func:`scoresym.losses.dsm_loss`).

    In formulas, with D(sigma) = grad_theta DSM(theta; sigma) - grad_theta ESM(theta):

        lim_{sigma -> 0} D(sigma) = (s2^2 D(s1) - s1^2 D(s2)) / (s2^2 - s1^2) + O(s1^2 s2^2) = 0.

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_1d")
    >>> X, away = b.sample(400, seed=0), {"mu": 0.0, "s2": 1.0}   # a nonzero ESM gradient
    >>> check_dsm_limit(b.model, away, X, batches=10, seed=0).ok
    True
    >>> def doubled(logp, X, sigma, **options):                   # a wrong DSM: 2 x the loss
    ...     return 2 * dsm_loss(logp, X, sigma, **options)
    >>> check_dsm_limit(b.model, away, X, batches=10, seed=0, dsm=doubled).ok
    False
    """
    if not model.params:
        raise ScoresymInputError("check_dsm_limit needs a model with parameters")
    data_seed, noise_seed = independent_seeds(seed, 2)
    X = resolve_samples(model, params, samples, n, data_seed)
    names = [p.name for p in model.params]
    values = param_values(params, model.params)
    s1, s2 = sorted(noise_levels)
    which = np.repeat(np.arange(batches), [len(b) for b in np.array_split(X, batches)])
    esm = _batch_gradients(esm_loss, names, values, which, logp=model, X=X)
    D = [_batch_gradients(dsm, names, values, which, logp=model, X=X, sigma=s,
                          seed=noise_seed, antithetic=True) - esm for s in (s1, s2)]
    limits = (s2**2 * D[0] - s1**2 * D[1]) / (s2**2 - s1**2)  # (batches, p)
    limit, stderr = monte_carlo_mean(limits)
    z = np.abs(limit) / np.where(stderr > 0, stderr, np.inf)
    j = int(np.argmax(np.where(np.isfinite(z), z, 0.0)))
    D = [d.mean(axis=0) for d in D]
    details = {"parameter": names[j], "n_stderr": (s1, s2), "limit": dict(zip(names, limit)),
               "stderr": dict(zip(names, stderr)),
               "difference_at": {s1: dict(zip(names, D[0])), s2: dict(zip(names, D[1]))}}
    esm_grad = np.bincount(which) @ esm / len(X)  # the gradient over all points
    lhs, rhs = float(esm_grad[j] + limit[j]), float(esm_grad[j])
    return CheckResult(f"dsm_limit[{model.name or 'model'}]", lhs, rhs, float(abs(limit[j])),
                       mc_tolerance(stderr[j], n_stderr, lhs, rhs),
                       stderr=float(stderr[j]), method="mc", details=details,
                       lhs_label=f"dDSM/d{names[j]} (sigma->0)", rhs_label=f"dESM/d{names[j]}")


def _plan(subject: Subject) -> list:
    # on a bounded domain the noise of DSM leaves the support of the model
    if not (subject.model.params and subject.has_sampler and subject.unbounded):
        return []
    return [Planned("dsm -> esm", lambda: check_dsm_limit(
        subject.model, subject.truth, subject.points, seed=subject.seed,
        batches=10 if subject.quick else 20))]


CHECK = Check("dsm-limit", check_dsm_limit, "DSM's parameter gradient -> ESM's as sigma -> 0",
              plan=_plan)
