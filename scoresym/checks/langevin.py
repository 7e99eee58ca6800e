"""Annealed Langevin sampling against the exact noised mixture: the mode weights within their
standard error, and a two-sample test against exact draws.

Invariant: the chain's target is the mixture convolved with N(0, sigma_L^2 I) (the last level),
which is again a Gaussian mixture; under it the mean posterior responsibility of component k is
exactly w_k, so the mean over the chain's points estimates w_k with the standard error of a
mean. The two-sample MMD test compares the chain's points with independent exact draws of the
same noised mixture. Both fail on a chain that does not mix between the modes.

>>> r = check_annealed_langevin(n=500, seed=0, steps_per_level=20)
>>> r.name, r.ok
('langevin_weight[noised mixture, component 1]', True)
"""

from __future__ import annotations

import numpy as np

from ..langevin import LADDER, GaussianMixture, annealed_langevin
from ..losses import geometric_sigmas
from ..numerics.expectation import DEFAULT_N_STDERR, mc_result
from ..numerics.result import CheckResult
from ..numerics.two_sample import mmd_test
from ..randomness import independent_seeds
from .check import Check, Planned, Suite

#: The mixture of the package's checks: weights 0.2 and 0.8, unit variances, modes 3.04 apart.
MIXTURE = GaussianMixture([0.2, 0.8], [[-1.5, 0.0], [1.5, 0.5]], [1.0, 1.0])


def langevin_draws(mixture: GaussianMixture = MIXTURE, score=None, params=None, n: int = 4000,
                   seed=None, largest: float = LADDER["largest"],
                   smallest: float = LADDER["smallest"], levels: int = LADDER["levels"],
                   step_size: float = LADDER["step_size"],
                   steps_per_level: int = LADDER["steps_per_level"]) -> dict:
    """Annealed Langevin draws with ``score`` (default: the mixture's exact noised score,
    derived symbolically) from uniform starting points over the mixture's extent, and the
    settings they were drawn with:

        sigmas = geometric_sigmas(largest, smallest, levels),
        X = annealed_langevin(score, X0, sigmas, step_size, steps_per_level),

    X0 uniform on the box [min mu - 3 largest, max mu + 3 largest]; X targets the mixture
    convolved with N(0, sigma_L^2 I), sigma_L = ``smallest``.

    >>> d = langevin_draws(n=200, seed=0, levels=5, steps_per_level=10)
    >>> d["X"].shape, d["sigma"], len(d["sigmas"])
    ((200, 2), 0.5, 5)
    """
    start_seed, chain_seed = independent_seeds(seed, 2)
    sigmas = geometric_sigmas(largest, smallest, levels)
    low, high = mixture.means.min(0) - 3 * largest, mixture.means.max(0) + 3 * largest
    X0 = np.random.default_rng(start_seed).uniform(low, high, (int(n), mixture.dim))
    score = mixture.noised_score if score is None else score
    X = annealed_langevin(score, X0, sigmas, step_size, steps_per_level, chain_seed, params)
    return {"X": X, "sigma": float(sigmas[-1]), "sigmas": sigmas, "step_size": step_size,
            "steps_per_level": steps_per_level}


def check_mode_weight(mixture: GaussianMixture, X, sigma: float, component: int = 0,
                      n_stderr: float = DEFAULT_N_STDERR) -> CheckResult:
    """Mean posterior responsibility of ``component`` over the points X (targeting the mixture
    noised by sigma) against its weight, within ``n_stderr`` standard errors:

        mean_i r_k(x_i) = w_k,   r_k(x) = w_k N(x; mu_k, (v_k + sigma^2) I)
                                          / sum_j w_j N(x; mu_j, (v_j + sigma^2) I).

    >>> X = MIXTURE.sample(2000, seed=0, sigma=0.5)          # exact draws: weights 0.2, 0.8
    >>> check_mode_weight(MIXTURE, X, 0.5).ok, check_mode_weight(MIXTURE, X, 0.5, 1).ok
    (True, True)
    >>> check_mode_weight(MIXTURE, X[X[:, 0] > 0], 0.5).ok    # one mode's points only
    False
    """
    r = mixture.responsibilities(X, sigma)[:, component]
    weight = float(mixture.weights[component])
    return mc_result(f"langevin_weight[noised mixture, component {component + 1}]", r,
                     np.full(len(r), weight), n_stderr,
                     {"sigma_L": sigma, "points": len(r)}, ("mean responsibility", "weight"))


def check_two_sample(mixture: GaussianMixture, X, sigma: float, seed=None,
                     alpha: float = 0.01, n_permutations: int = 200) -> CheckResult:
    """MMD^2 between the points X and as many exact draws of the mixture noised by sigma,
    against the permutation null's (1 - alpha) quantile. With Y the exact draws and k the
    Gaussian kernel at the median distance, the U-statistic

        MMD^2 = mean_{i != j} k(x_i, x_j) + mean_{i != j} k(y_i, y_j) - 2 mean_{i, j} k(x_i, y_j)

    passes when it does not exceed that quantile.

    >>> X = MIXTURE.sample(500, seed=0, sigma=0.5)
    >>> check_two_sample(MIXTURE, X, 0.5, seed=0).ok, check_two_sample(MIXTURE, X + 1.0, 0.5,
    ...                                                                   seed=0).ok
    (True, False)
    """
    exact = mixture.sample(len(X), seed=seed, sigma=sigma)
    test = mmd_test(X, exact, n_permutations=n_permutations, alpha=alpha, seed=seed)
    return CheckResult("langevin_two_sample[noised mixture]", test["statistic"], 0.0,
                       max(test["statistic"], 0.0), max(test["critical"], 0.0),
                       method="mmd",
                       details={"p_value": test["p_value"], "bandwidth": test["bandwidth"],
                                "points": len(X), "alpha": alpha,
                                "test": "MMD^2 (U-statistic, Gaussian kernel at the median "
                                        "distance) against its permutation null"},
                       lhs_label="MMD^2", rhs_label="0")


def check_annealed_langevin(mixture: GaussianMixture = MIXTURE, score=None, params=None,
                            n: int = 4000, seed=None, n_stderr: float = DEFAULT_N_STDERR,
                            **ladder) -> CheckResult:
    """Annealed Langevin with ``score`` (default: the exact noised score) reproduces the first
    component's weight; the two-sample test's p-value is in the details. ``ladder``: largest,
    smallest, levels, step_size, steps_per_level (defaults: :data:`LADDER`).

    With X the chain's points (:func:`langevin_draws`) and r_1 the first component's posterior
    responsibility under the mixture noised by sigma_L (:func:`check_mode_weight`):

        mean_i r_1(x_i) = w_1   within ``n_stderr`` standard errors.

    >>> check_annealed_langevin(n=500, seed=0, steps_per_level=20).ok
    True
    >>> stuck = {**NOT_MIXING, "steps_per_level": 20}          # largest level 0.5: no mixing
    >>> check_annealed_langevin(n=300, seed=0, **stuck).ok
    False
    """
    draws_seed, test_seed = independent_seeds(seed, 2)
    draws = langevin_draws(mixture, score, params, n, draws_seed, **ladder)
    result = check_mode_weight(mixture, draws["X"], draws["sigma"], 0, n_stderr)
    two_sample = check_two_sample(mixture, draws["X"][:2000], draws["sigma"], test_seed)
    result.details.update({"two_sample_p_value": two_sample.details["p_value"],
                           "two_sample_ok": two_sample.ok})
    return result


#: A ladder whose largest level (0.5) is far below the distance between the modes: the chain
#: stays where it starts, and the weight comes out wrong.
NOT_MIXING = {"largest": 0.5, "smallest": 0.05, "levels": 10, "step_size": 2e-5}


def _plan_once(suite: Suite) -> list:
    n = 2000 if suite.quick else 8000
    cache = {}

    def draws(key, **ladder):
        if key not in cache:
            cache[key] = langevin_draws(MIXTURE, n=n, seed=suite.seed, **ladder)
        return cache[key]

    def rows(key, expected, **ladder):
        label = "" if expected else ", no mixing"
        return [Planned(f"langevin weight{label}", lambda: check_mode_weight(
                    MIXTURE, draws(key, **ladder)["X"], draws(key, **ladder)["sigma"]),
                    expected_ok=expected),
                Planned(f"langevin mmd{label}", lambda: check_two_sample(
                    MIXTURE, draws(key, **ladder)["X"][:2000], draws(key, **ladder)["sigma"],
                    seed=suite.seed), expected_ok=expected)]
    return rows("ladder", True) + rows("not mixing", False, **NOT_MIXING)


CHECK = Check("langevin", check_annealed_langevin, "annealed Langevin with the exact noised "
              "score reproduces the mixture's weights", plan_once=_plan_once,
              once_subject="(mixture)")
