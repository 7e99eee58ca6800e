"""SSM averaged over projections agrees with ESM, sample by sample.

Invariant: E_v[v v^T] = I makes E_v[SSM] = ESM for every projection law; the two are computed
independently (SSM by one backward pass per projection, ESM by the exact trace) and compared
paired, within a number of Monte Carlo standard errors. Unscaled sphere projections fail it.

>>> from scoresym import zoo
>>> b = zoo.get("gaussian_1d")
>>> check_ssm_esm(b.model, b.truth, n=200, n_projections=4, seed=0).ok
True
"""

from __future__ import annotations

from ..losses import esm_loss, ssm_loss
from ..numerics.expectation import DEFAULT_N_STDERR, mc_result, resolve_samples
from ..numerics.result import CheckResult
from ..randomness import independent_seeds
from .check import Check, Planned, Subject


def check_ssm_esm(model, params, samples=None, n_projections: int = 64, projection="rademacher",
                  variance_reduced: bool = False, seed=None, n: int = 1000,
                  n_stderr: float = DEFAULT_N_STDERR) -> CheckResult:
    """SSM averaged over ``n_projections`` projections per sample agrees with ESM, per sample
    paired, within ``n_stderr`` standard errors (E_v[v v^T] = I makes E_v[SSM] = ESM):

        E_v[v^T (grad_x s) v + 1/2 (v^T s)^2] = tr grad_x s + 1/2 ||s||^2   per sample x.

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_1d")                 # in 1-D, v = +-1: SSM = ESM exactly
    >>> r = check_ssm_esm(b.model, b.truth, n=100, n_projections=2, seed=0)
    >>> r.ok, bool(r.error < 1e-12)
    (True, True)
    """
    data_seed, projection_seed = independent_seeds(seed, 2)
    X = resolve_samples(model, params, samples, n, data_seed)
    ssm = ssm_loss(model, X, n_projections=n_projections, projection=projection,
                   variance_reduced=variance_reduced, seed=projection_seed, per_sample=True,
                   **params)
    esm = esm_loss(model, X, per_sample=True, **params)
    law = projection if isinstance(projection, str) else getattr(projection, "__name__", "custom")
    return mc_result(f"ssm_esm[{model.name or 'model'}, {law}{', vr' if variance_reduced else ''}]",
                      ssm, esm, n_stderr, {"projection": law, "n_projections": n_projections,
                                         "samples": len(X)}, ("SSM", "ESM"))


def _plan(subject: Subject) -> list:
    return [Planned("ssm = esm", lambda: check_ssm_esm(
        subject.model, subject.truth, subject.points[:subject.n // 2],
        n_projections=8 if subject.quick else 32, seed=subject.seed))]


CHECK = Check("ssm-esm", check_ssm_esm, "SSM averaged over projections = ESM, sample by sample",
              plan=_plan)
