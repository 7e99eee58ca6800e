"""Score matching recovers the truth: fitted on exact draws at the true parameters, every
estimate lies within 4 sandwich standard errors of the truth.

Invariant: the fit is the package's own (weighted where the model needs a weight), started away
from the truth (0.8 truth + 0.1: a mixture's symmetric start is a saddle); the tolerance is
stated in the fit's own standard errors, so a biased estimator or dishonest standard errors fail.

>>> from scoresym import zoo
>>> check_fit_recovery(zoo.get("gaussian_1d"), n=1000, seed=0).ok
True
"""

from __future__ import annotations

from ..estimate import fit
from ..numerics.result import CheckResult
from .check import Check, Planned, Subject

N_STDERR = 4.0


def check_fit_recovery(builtin, n: int = 4000, seed=None,
                       n_stderr: float = N_STDERR) -> CheckResult:
    """Fit ``builtin.model`` to n draws at ``builtin.truth``; the parameter farthest from the
    truth, in standard errors, is compared with ``n_stderr`` standard errors:

        ok = max_k abs(theta_hat_k - theta_k) / stderr_k <= n_stderr.

    >>> from scoresym import zoo
    >>> r = check_fit_recovery(zoo.get("gaussian_1d"), n=500, seed=0)
    >>> r.ok, r.lhs_label, r.rhs                   # the worst parameter and its truth
    (True, 'mu estimate', 0.5)
    >>> bool(r.error <= 4 * r.stderr)
    True
    """
    init = {k: 0.8 * v + 0.1 for k, v in builtin.truth.items()}
    r = fit(builtin.model, builtin.sample(n, seed=seed), weight=builtin.fit_weight, init=init)
    z = {k: abs(r.params[k] - builtin.truth[k]) / r.stderr[k] for k in r.names}
    worst = max(z, key=z.get)
    return CheckResult(f"fit[{builtin.name}]", r.params[worst], builtin.truth[worst],
                       abs(r.params[worst] - builtin.truth[worst]), n_stderr * r.stderr[worst],
                       stderr=r.stderr[worst], method=r.method,
                       details={"params": r.params, "stderr": r.stderr,
                                "weight": builtin.fit_weight},
                       lhs_label=f"{worst} estimate", rhs_label="truth")


def _plan(subject: Subject) -> list:
    if not (subject.model.params and subject.has_sampler):
        return []
    return [Planned("fit recovers truth", lambda: check_fit_recovery(
        subject.builtin, 1000 if subject.quick else 4000, subject.seed))]


CHECK = Check("fit-recovery", check_fit_recovery, "score matching recovers the truth within 4 "
              "standard errors", plan=_plan)
