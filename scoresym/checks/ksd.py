"""The kernel Stein discrepancy test as a check: a model against draws from itself (not
rejected) and against draws from another parameter value (rejected).

Invariant: the row's lhs is the U-statistic of KSD^2 and its tolerance the wild bootstrap's
critical value, chosen so that ``ok`` (statistic <= critical) is exactly "not rejected at
alpha" (p > alpha); the p-value is in the details.

>>> from scoresym import zoo
>>> b = zoo.get("gaussian_1d")
>>> check_ksd(b.model, b.truth, b.sample(300, seed=0), seed=0).ok
True
"""

from __future__ import annotations

from .. import zoo
from ..errors import ScoresymInputError
from ..ksd import ksd_test, require_stein_identity
from ..numerics.result import CheckResult
from .check import Check, Planned, Subject


def check_ksd(model, params: dict, X, kernel: str = "imq", n_bootstrap: int = 500,
              alpha: float = 0.05, seed=None, **kernel_options) -> CheckResult:
    """H0: the points X are draws from the model at ``params``, by :func:`scoresym.ksd_test`;
    ok when not rejected. With u the U-statistic of KSD^2 = E_{x, y ~ q} u_p(x, y) and c the
    wild bootstrap's critical value at level alpha:

        ok = (u <= c) = (p-value > alpha),   with lhs = u and tolerance = c.

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_1d")
    >>> X = b.sample(300, seed=0)
    >>> check_ksd(b.model, b.truth, X, seed=0).ok                    # the model's own draws
    True
    >>> check_ksd(b.model, {"mu": 2.0, "s2": 2.0}, X, seed=0).ok     # another mean
    False
    """
    test = ksd_test(model, params, X, kernel=kernel, n_bootstrap=n_bootstrap, alpha=alpha,
                    seed=seed, **kernel_options)
    return CheckResult(f"ksd[{test.kernel}]", test.statistic, 0.0, test.statistic,
                       test.critical, method="ksd",
                       details={"p_value": test.p_value, "alpha": alpha, "n": test.n,
                                "n_bootstrap": n_bootstrap, "reject": test.reject},
                       lhs_label="KSD^2 (U)", rhs_label="0")


def _applicable(subject: Subject) -> bool:
    """Whether the test's requirements hold at the truth (f vanishing at finite edges, E|s|^2
    finite): the exponential and a Gamma of shape 1.5 do not meet them."""
    try:
        require_stein_identity(subject.model, subject.truth)
    except ScoresymInputError:
        return False
    return True


#: The suite's level and bootstrap size: a row at the truth fails by chance 0.2% of the time.
SUITE_ALPHA, SUITE_BOOTSTRAP = 0.002, 999


def moved(truth: dict) -> dict:
    """The parameter values the suite's "perturbed model" row tests against: x 1.5 + 0.5
    (positive stays positive), far enough to be rejected at n = 300."""
    return {k: 1.5 * v + 0.5 for k, v in truth.items()}


def _plan(subject: Subject) -> list:
    if not subject.has_sampler or not _applicable(subject):
        return []
    model, truth, seed = subject.model, subject.truth, subject.seed
    options = {"alpha": SUITE_ALPHA, "n_bootstrap": SUITE_BOOTSTRAP, "seed": seed}
    rows = [Planned("ksd", lambda: check_ksd(model, truth, subject.points, **options))]
    if truth and subject.name in zoo.names():  # its power is measured for the built-ins only
        rows.append(Planned("ksd, perturbed model", lambda: check_ksd(
            model, moved(truth), subject.points, **options), expected_ok=False))
    return rows


CHECK = Check("ksd", check_ksd, "draws from the model pass its kernel Stein discrepancy test, "
              "draws from another parameter value fail it", plan=_plan)
