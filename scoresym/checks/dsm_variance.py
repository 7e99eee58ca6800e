"""DSM fits the noised density: for Gaussian data its minimizer of the variance is v + sigma^2.

Invariant: over independent noise draws, DSM's minimizer of s2 (mu at the sample mean) matches
v + sigma^2 within standard errors, v the biased sample variance; ESM's minimizer, v itself,
is in the details. A DSM that ignores the noise fails it.
"""

from __future__ import annotations

import numpy as np
import scipy.optimize

from ..codegen.functions import as_points
from ..errors import ScoresymInputError
from ..losses import dsm_loss, esm_loss
from ..numerics.expectation import DEFAULT_N_STDERR, mc_result
from ..numerics.result import CheckResult
from ..randomness import generator, independent_seeds
from .check import Check, Planned, Subject


def check_dsm_gaussian_variance(model, X, sigma: float = 0.5, replicates: int = 20, seed=None,
                                n_stderr: float = DEFAULT_N_STDERR, dsm=dsm_loss) -> CheckResult:
    """For Gaussian data and the 1-D Gaussian model (params mu, s2), DSM's minimizer of s2 (mu at
    the sample mean) is the noised variance v + sigma^2, v the biased sample variance: it fits
    q_sigma, not p. Over ``replicates`` noise draws, the mean minimizer must equal v + sigma^2
    within ``n_stderr`` standard errors; details hold ESM's minimizer, which is v itself.

    In formulas, with v = mean_i (x_i - mean x)^2:

        argmin_s2 DSM(mu = mean x, s2; sigma) = v + sigma^2,   argmin_s2 ESM(mu = mean x, s2) = v.

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_1d")
    >>> X = b.sample(200, seed=0)
    >>> r = check_dsm_gaussian_variance(b.model, X, sigma=0.5, replicates=4, seed=0)
    >>> r.ok, round(r.rhs - float(X.var()), 6)                    # v + sigma^2 - v
    (True, 0.25)
    >>> bool(abs(r.details["esm_minimizer"] - X.var()) < 1e-6)
    True
    """
    if sorted(p.name for p in model.params) != ["mu", "s2"] or model.dim != 1:
        raise ScoresymInputError("check_dsm_gaussian_variance needs a 1-D Gaussian model with "
                                 "params mu and s2 (scoresym.zoo.gaussian_1d)")
    X = as_points(X, 1)
    mu, v = float(X.mean()), float(X.var())
    rng = generator(independent_seeds(seed, 1)[0])  # not the stream X may come from

    def argmin(loss):
        return scipy.optimize.minimize_scalar(loss, bounds=(1e-3 * v, 10 * (v + sigma**2)),
                                              method="bounded", options={"xatol": 1e-10}).x

    noise_seeds = [int(seed) for seed in rng.integers(2**31, size=replicates)]
    fits = [argmin(lambda s2, r=r: dsm(model, X, sigma, seed=r, antithetic=True, mu=mu, s2=s2))
            for r in noise_seeds]
    esm_fit = argmin(lambda s2: esm_loss(model, X, mu=mu, s2=s2))
    details = {"sigma": sigma, "sample_variance": v, "esm_minimizer": esm_fit,
               "dsm_minimizers": fits}
    return mc_result(f"dsm_variance[{model.name or 'model'}, sigma={sigma}]", fits,
                      np.full(replicates, v + sigma**2), n_stderr, details,
                      ("DSM argmin s2", "v + sigma^2"))


def _plan(subject: Subject) -> list:
    if subject.name != "gaussian_1d":  # it needs Gaussian data and the Gaussian model
        return []
    return [Planned("dsm fits q_sigma", lambda: check_dsm_gaussian_variance(
        subject.model, subject.points, sigma=0.5, replicates=6 if subject.quick else 20,
        seed=subject.seed))]


CHECK = Check("dsm-variance", check_dsm_gaussian_variance, "DSM fits the noised density: a "
              "Gaussian's variance comes out as v + sigma^2", plan=_plan)
