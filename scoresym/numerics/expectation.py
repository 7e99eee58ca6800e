"""Expectations under a model's normalized density: adaptive quadrature (d <= 2) or Monte Carlo.

Invariant: quadrature integrates the unnormalized density f and f*h together over the model's
domain with ``scipy.integrate.cubature`` (vectorized Gauss-Kronrod, infinite limits allowed), so
E[h] = int f h / int f carries the integrator's own error estimate. Monte Carlo estimates carry
the standard error of their mean. Nothing here knows what h means; the checks do.

>>> from scoresym import zoo
>>> b = zoo.get("gaussian_1d")
>>> mean, err = quadrature_expectation(b.model, b.truth, lambda X: X**2)
>>> round(float(mean[0]), 10), bool(err[0] < 1e-8)   # E[x^2] = s2 + mu^2 = 2.25
(2.25, True)
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize
from scipy.integrate import cubature

from ..errors import ScoresymInputError
from .result import CheckResult

QUAD_MAX_DIM = 2
QUAD_RTOL = 1e-10
#: Absolute error target of the integrator: integrands are scaled so their integrals are O(1)
#: (the density is divided by its peak), and an integral that is exactly zero can only meet an
#: absolute target.
QUAD_ATOL = 1e-13


def quadrature_expectation(model, params: dict, integrand, rtol: float = QUAD_RTOL) -> tuple:
    """(E[h], error estimate) for h = integrand(X) of shape (n, k), under f / int f.

    Raises ScoresymInputError for d > 2 (use Monte Carlo) and when the integrator does not
    converge.
    """
    log_density = model.lambdify().log_density
    _require_quadrature(model)
    shift = log_density_peak(model, params)

    def weighted(X):
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            weight = np.exp(log_density(X, **params) - shift)
            values = np.asarray(integrand(X), dtype=float).reshape(len(X), -1)
            products = np.where(weight[:, None] > 0, weight[:, None] * values, 0.0)
        return np.column_stack([weight, products])

    estimate, error = integrate_over_domain(model, weighted, rtol)
    Z, numerators = estimate[0], estimate[1:]
    means = numerators / Z
    return means, (error[1:] + np.abs(means) * error[0]) / Z


def integrate_over_domain(model, integrand, rtol: float = QUAD_RTOL) -> tuple:
    """(int h dx, error estimate) over the model's domain for h = integrand(X) of shape (n, k),
    by ``scipy.integrate.cubature`` (d <= 2)."""
    _require_quadrature(model)
    lo, hi = _limits(model)

    def values(X):
        return np.asarray(integrand(X), dtype=float).reshape(len(X), -1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = cubature(values, lo, hi, rtol=rtol, atol=QUAD_ATOL, max_subdivisions=20_000)
    if result.status != "converged" or not np.all(np.isfinite(result.estimate)):
        raise ScoresymInputError(
            f"quadrature did not converge for {model.name or 'the model'} "
            f"(the integrand may not be integrable over its domain)")
    return np.asarray(result.estimate), np.asarray(result.error)


def _require_quadrature(model) -> None:
    if model.dim > QUAD_MAX_DIM:
        raise ScoresymInputError(
            f"quadrature needs d <= {QUAD_MAX_DIM}, the model has d = {model.dim}: use method='mc'")


def log_density_mode(model, params: dict) -> tuple:
    """(x, log f(x)) at the maximum of log f over the domain, located by L-BFGS-B with the
    compiled score from the middle of the domain (or its start, where the search fails)."""
    f = model.lambdify()
    lo, hi = _limits(model)
    start = np.array([_start(a, b) for a, b in zip(lo, hi)])
    bounds = [(None if np.isinf(a) else a, None if np.isinf(b) else b) for a, b in zip(lo, hi)]

    def negative(x):
        X = x[None, :]
        return -float(f.log_density(X, **params)[0]), -f.score(X, **params)[0]

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = scipy.optimize.minimize(negative, start, jac=True, method="L-BFGS-B",
                                        bounds=bounds)
        candidates = [(found.x, -found.fun),
                      (start, float(f.log_density(start[None, :], **params)[0]))]
    finite = [(x, value) for x, value in candidates if np.isfinite(value)]
    if not finite:
        raise ScoresymInputError("the log density is not finite anywhere it was evaluated")
    return max(finite, key=lambda candidate: candidate[1])


def log_density_peak(model, params: dict) -> float:
    """max log f over the domain (used to scale integrands)."""
    return log_density_mode(model, params)[1]


def _limits(model) -> tuple:
    bounds = [model.domain[v] for v in model.variables]
    return [float(lo) for lo, _ in bounds], [float(hi) for _, hi in bounds]


def _start(lo: float, hi: float) -> float:
    if np.isinf(lo) and np.isinf(hi):
        return 0.0
    if np.isinf(hi):
        return lo + 1.0
    if np.isinf(lo):
        return hi - 1.0
    return 0.5 * (lo + hi)


#: Monte Carlo tolerance, in standard errors of the paired difference.
DEFAULT_N_STDERR = 4.0


#: Quadrature tolerance: this many times the integrator's error estimate ...
QUAD_SAFETY = 100.0


#: ... but never below this relative floor (floating-point cancellation between the sides).
QUAD_FLOOR = 1e-9


def quadrature_tolerance(errors, values) -> float:
    """QUAD_SAFETY x the integrator's error estimates, floored at QUAD_FLOOR x the scale."""
    scale = max([1.0] + [abs(v) for v in values])
    return max(QUAD_SAFETY * float(np.sum(errors)), QUAD_FLOOR * scale)


def monte_carlo_mean(values: np.ndarray) -> tuple:
    """(mean, standard error of the mean) over the first axis."""
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    if n < 2:
        raise ScoresymInputError(f"Monte Carlo needs at least 2 samples, got {n}")
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(n)


#: Monte Carlo tolerances never go below this relative floor: two sides equal up to rounding
#: (a zero-variance estimator, say) must not fail on a standard error of 1e-17.
MC_FLOOR = 1e-12


def mc_tolerance(stderr: float, n_stderr: float, *values) -> float:
    """``n_stderr`` standard errors, floored at MC_FLOOR x max(1, |values|)."""
    scale = max([1.0] + [abs(float(v)) for v in values])
    return max(n_stderr * float(stderr), MC_FLOOR * scale)


def resolve_samples(model, params: dict, samples, n: int, seed) -> np.ndarray:
    """The given samples as (n, d), or n draws from the model's sampler at ``params``."""
    from ..codegen.functions import as_points

    if samples is not None:
        X = as_points(samples, model.dim)
        bad = np.flatnonzero(~np.all(np.isfinite(X), axis=1))
        if len(bad):
            raise ScoresymInputError(f"samples hold NaN or infinite values ({len(bad)} row(s), "
                                     f"the first is row {bad[0]}: {X[bad[0]].tolist()})")
        if len(X) < 2:
            raise ScoresymInputError(f"Monte Carlo needs at least 2 samples, got {len(X)}")
        return X
    if model.sampler is None:
        raise ScoresymInputError(
            f"model {model.name or model.log_density} has no sampler: pass samples=... "
            f"or use method='quad'")
    return model.sample(n, params, seed)


def resolve_method(method: str, model, samples) -> str:
    """'quad' or 'mc'; 'auto' means quadrature when d <= 2 and no samples are given."""
    if method == "auto":
        return "quad" if samples is None and model.dim <= QUAD_MAX_DIM else "mc"
    if method not in ("quad", "mc"):
        raise ScoresymInputError(f"method must be 'auto', 'quad' or 'mc', got {method!r}")
    return method


def quadrature_result(name: str, lhs: float, rhs: float, errors, details=None,
                      labels=("lhs", "rhs"), scale=None) -> CheckResult:
    """A quadrature CheckResult for lhs = rhs, with the tolerance of
    :func:`quadrature_tolerance` from the integrator's ``errors`` (and the values that set the
    scale of its floor, by default the two sides)."""
    lhs, rhs = float(lhs), float(rhs)
    tolerance = quadrature_tolerance(errors, (lhs, rhs) if scale is None else scale)
    return CheckResult(name, lhs, rhs, abs(lhs - rhs), tolerance, method="quad",
                       details=dict(details or {}), lhs_label=labels[0], rhs_label=labels[1])


def mc_result(name, lhs_values, rhs_values, n_stderr, details, labels=("lhs", "rhs")):
    """A Monte Carlo CheckResult for E[lhs] = E[rhs] from paired per-sample values: the error
    is the mean paired difference, the tolerance ``n_stderr`` of its standard errors."""
    difference, stderr = monte_carlo_mean(np.asarray(lhs_values) - np.asarray(rhs_values))
    lhs, rhs = float(np.mean(lhs_values)), float(np.mean(rhs_values))
    return CheckResult(name, lhs, rhs, abs(float(difference)),
                       mc_tolerance(stderr, n_stderr, lhs, rhs), stderr=float(stderr),
                       method="mc", details=details, lhs_label=labels[0], rhs_label=labels[1])
