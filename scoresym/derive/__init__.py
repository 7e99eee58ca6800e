"""Derivations made concrete for a user's model, rendered and checked step by step.

>>> import scoresym as ss
>>> m = ss.zoo.get("gaussian_1d").model
>>> d = ss.derive(m)
>>> d.steps[-1].title, d.result
('The estimator in closed form', {mu: mean(x), s2: -mean(x)**2 + mean(x**2)})
>>> all(r.ok for r in d.check({"mu": 0.5, "s2": 2.0}))
True
"""

from __future__ import annotations

from ..errors import ScoresymInputError
from .dsm import derive_dsm
from .hyvarinen import derive_hyvarinen
from .ssm import derive_ssm
from .stein import derive_stein

IDENTITIES = ("hyvarinen", "stein", "dsm", "ssm")


def derive(m, identity: str = "hyvarinen", test_function=None, weight=None):
    """The derivation of ``identity`` for model ``m``: "hyvarinen" (integration by parts, seeds
    002 and 003; with ``weight``, generalized score matching), "stein" (with ``test_function``,
    default g_i = x_i + x_i^2), "dsm" (check with ``sigma=``) or "ssm". Returns a
    :class:`scoresym.derivation.Derivation`."""
    if weight is not None and identity != "hyvarinen":
        raise ScoresymInputError("a weight applies to the hyvarinen derivation only")
    if identity == "hyvarinen":
        return derive_hyvarinen(m, weight)
    if identity == "stein":
        return derive_stein(m, test_function)
    if identity == "dsm":
        return derive_dsm(m)
    if identity == "ssm":
        return derive_ssm(m)
    raise ScoresymInputError(f"identity must be one of {', '.join(IDENTITIES)}, got {identity!r}")


__all__ = ["IDENTITIES", "derive"]
