"""Cross-consistency of the score-matching losses: SSM against ESM, Hutchinson variances, DSM
against ESM as sigma -> 0, and the DSM fit of a Gaussian's variance.

Invariant: every comparison is between two independently computed quantities whose agreement the
mathematics predicts, with a Monte Carlo standard error; each check can fail (unscaled sphere
projections, a DSM with the wrong target, a Gaussian fitted by DSM that ignores the noise).

>>> import numpy as np
>>> A = np.array([[2.0, 0.5], [0.5, 1.0]])
>>> hutchinson_variance(A, "gaussian"), hutchinson_variance(A, "rademacher")
(11.0, 1.0)
"""

from __future__ import annotations

import autograd
import numpy as np
import scipy.optimize

from ..codegen.functions import as_points, param_values
from ..errors import ScoresymInputError
from ..randomness import generator, independent_seeds
from ..losses import (_projected_hessian, _score_function, draw_projections, dsm_loss, esm_loss,
                      ssm_loss)
from ..numerics.expectation import mc_tolerance, monte_carlo_mean, resolve_samples
from ..numerics.result import CheckResult
from .stein import DEFAULT_SIGMAS


def _samples(m, params, samples, n, seed):
    return as_points(samples, m.dim) if samples is not None else \
        resolve_samples(m, params, None, n, seed)


def _mc_result(name, lhs_values, rhs_values, sigmas, details, labels=("lhs", "rhs")):
    """A Monte Carlo CheckResult for E[lhs] = E[rhs] from paired per-sample values."""
    difference, stderr = monte_carlo_mean(np.asarray(lhs_values) - np.asarray(rhs_values))
    lhs, rhs = float(np.mean(lhs_values)), float(np.mean(rhs_values))
    return CheckResult(name, lhs, rhs, abs(float(difference)),
                       mc_tolerance(stderr, sigmas, lhs, rhs), stderr=float(stderr),
                       method="mc", details=details, lhs_label=labels[0], rhs_label=labels[1])


def check_ssm_esm(m, params, samples=None, n_projections: int = 64, projection="rademacher",
                  variance_reduced: bool = False, seed=None, n: int = 1000,
                  sigmas: float = DEFAULT_SIGMAS) -> CheckResult:
    """SSM averaged over ``n_projections`` projections per sample agrees with ESM, per sample
    paired, within ``sigmas`` standard errors (E_v[v v^T] = I makes E_v[SSM] = ESM)."""
    data_seed, projection_seed = independent_seeds(seed, 2)
    X = _samples(m, params, samples, n, data_seed)
    ssm = ssm_loss(m, X, n_projections=n_projections, projection=projection,
                   variance_reduced=variance_reduced, seed=projection_seed, per_sample=True,
                   **params)
    esm = esm_loss(m, X, per_sample=True, **params)
    law = projection if isinstance(projection, str) else getattr(projection, "__name__", "custom")
    return _mc_result(f"ssm_esm[{m.name or 'model'}, {law}{', vr' if variance_reduced else ''}]",
                      ssm, esm, sigmas, {"projection": law, "n_projections": n_projections,
                                         "samples": len(X)}, ("SSM", "ESM"))


def hutchinson_variance(A, projection: str):
    """Var_v[v^T A v] for symmetric A (last two axes), in closed form for each projection law:
    Gaussian 2 ||A||_F^2; Rademacher 2 sum_{i != j} A_ij^2; sphere of radius sqrt(d)
    2 (d ||A||_F^2 - (tr A)^2) / (d + 2)."""
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
                     sigmas: float = DEFAULT_SIGMAS) -> CheckResult:
    """The empirical variance of v^T A v over ``n_draws`` projections against its closed form.

    The standard error of a sample variance is that of the mean of (q - mean q)^2.
    """
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1] or not np.allclose(A, A.T):
        raise ScoresymInputError("A must be a symmetric square matrix")
    V = draw_projections(projection, 1, n_draws, A.shape[0], generator(seed))[0]
    q = np.einsum("ni,ij,nj->n", V, A, V)
    squares = (q - q.mean()) ** 2
    closed = float(hutchinson_variance(A, projection))
    return _mc_result(f"hutchinson[{projection}, d={A.shape[0]}]", squares,
                      np.full(n_draws, closed), sigmas,
                      {"mean": float(q.mean()), "trace": float(np.trace(A))},
                      ("empirical variance", "closed form"))


def check_trace_variance(m, params, samples=None, projection="rademacher",
                         n_projections: int = 32, seed=None, n: int = 200,
                         sigmas: float = DEFAULT_SIGMAS) -> CheckResult:
    """Per sample, the variance over projections of SSM's trace term v^T (grad s) v (autograd)
    against the closed form at the compiled Hessian. With Rademacher projections and a diagonal
    Hessian both are exactly zero."""
    data_seed, projection_seed = independent_seeds(seed, 2)
    X = _samples(m, params, samples, n, data_seed)
    score = _score_function(m.lambdify("autograd").log_density, dict(params))
    V = draw_projections(projection, n_projections, len(X), m.dim, generator(projection_seed))
    terms = np.array([np.asarray(_projected_hessian(score, X, v)) for v in V])  # (M, n)
    empirical = terms.var(axis=0, ddof=1)
    closed = hutchinson_variance(m.lambdify().hessian(X, **params), projection)
    return _mc_result(f"trace_variance[{m.name or 'model'}, {projection}]", empirical, closed,
                      sigmas, {"projection": projection, "n_projections": n_projections,
                               "samples": len(X)}, ("empirical", "closed form"))


def _gradient(loss, names, values, **arguments) -> np.ndarray:
    """d loss / d params by autograd, the params passed by name."""
    return np.asarray(autograd.grad(
        lambda theta: loss(**arguments, **{k: theta[i] for i, k in enumerate(names)}))(
        np.asarray(values, dtype=float)))


def check_dsm_limit(m, params, samples=None, sigmas_noise=(0.2, 0.1), batches: int = 20,
                    seed=None, n: int = 4000, sigmas: float = DEFAULT_SIGMAS,
                    dsm=dsm_loss) -> CheckResult:
    """DSM's parameter gradient tends to ESM's as sigma -> 0 (Vincent 2011).

    Per batch of samples, the gradient difference g_DSM(sigma) - g_ESM at two noise levels
    s1 < s2 (antithetic noise, common random numbers) is extrapolated to sigma = 0 by Richardson,
    (s2^2 D(s1) - s1^2 D(s2)) / (s2^2 - s1^2), since the bias is O(sigma^2). The check passes when
    the extrapolated difference is zero within ``sigmas`` batch-means standard errors, for every
    parameter. ``dsm`` is the DSM loss under test (default :func:`scoresym.losses.dsm_loss`).
    """
    if not m.params:
        raise ScoresymInputError("check_dsm_limit needs a model with parameters")
    data_seed, noise_seed = independent_seeds(seed, 2)
    X = _samples(m, params, samples, n, data_seed)
    names = [p.name for p in m.params]
    values = param_values(params, m.params)
    s1, s2 = sorted(sigmas_noise)
    rng = generator(noise_seed)
    limits, differences = [], []
    for batch in np.array_split(X, batches):
        noise_seed = int(rng.integers(2**31))
        esm = _gradient(esm_loss, names, values, logp=m, X=batch)
        D = [_gradient(dsm, names, values, logp=m, X=batch, sigma=s, seed=noise_seed,
                       antithetic=True) - esm for s in (s1, s2)]
        differences.append(D)
        limits.append((s2**2 * D[0] - s1**2 * D[1]) / (s2**2 - s1**2))
    limit, stderr = monte_carlo_mean(np.array(limits))
    z = np.abs(limit) / np.where(stderr > 0, stderr, np.inf)
    j = int(np.argmax(np.where(np.isfinite(z), z, 0.0)))
    D = np.mean(differences, axis=0)  # (2, p)
    details = {"parameter": names[j], "sigmas": (s1, s2), "limit": dict(zip(names, limit)),
               "stderr": dict(zip(names, stderr)),
               "difference_at": {s1: dict(zip(names, D[0])), s2: dict(zip(names, D[1]))}}
    esm_grad = _gradient(esm_loss, names, values, logp=m, X=X)
    lhs, rhs = float(esm_grad[j] + limit[j]), float(esm_grad[j])
    return CheckResult(f"dsm_limit[{m.name or 'model'}]", lhs, rhs, float(abs(limit[j])),
                       mc_tolerance(stderr[j], sigmas, lhs, rhs),
                       stderr=float(stderr[j]), method="mc", details=details,
                       lhs_label=f"dDSM/d{names[j]} (sigma->0)", rhs_label=f"dESM/d{names[j]}")


def check_dsm_gaussian_variance(m, X, sigma: float = 0.5, replicates: int = 20, seed=None,
                                sigmas: float = DEFAULT_SIGMAS, dsm=dsm_loss) -> CheckResult:
    """For Gaussian data and the 1-D Gaussian model (params mu, s2), DSM's minimizer of s2 (mu at
    the sample mean) is the noised variance v + sigma^2, v the biased sample variance: it fits
    q_sigma, not p. Over ``replicates`` noise draws, the mean minimizer must equal v + sigma^2
    within ``sigmas`` standard errors; details hold ESM's minimizer, which is v itself."""
    if sorted(p.name for p in m.params) != ["mu", "s2"] or m.dim != 1:
        raise ScoresymInputError("check_dsm_gaussian_variance needs a 1-D Gaussian model with "
                                 "params mu and s2 (scoresym.zoo.gaussian_1d)")
    X = as_points(X, 1)
    mu, v = float(X.mean()), float(X.var())
    rng = generator(independent_seeds(seed, 1)[0])  # not the stream X may come from

    def argmin(loss):
        return scipy.optimize.minimize_scalar(loss, bounds=(1e-3 * v, 10 * (v + sigma**2)),
                                              method="bounded", options={"xatol": 1e-10}).x

    fits = [argmin(lambda s2, r=int(rng.integers(2**31)): dsm(m, X, sigma, seed=r,
                                                               antithetic=True, mu=mu, s2=s2))
            for _ in range(replicates)]
    esm_fit = argmin(lambda s2: esm_loss(m, X, mu=mu, s2=s2))
    details = {"sigma": sigma, "sample_variance": v, "esm_minimizer": esm_fit,
               "dsm_minimizers": fits}
    return _mc_result(f"dsm_variance[{m.name or 'model'}, sigma={sigma}]", fits,
                      np.full(replicates, v + sigma**2), sigmas, details,
                      ("DSM argmin s2", "v + sigma^2"))
