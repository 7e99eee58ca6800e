"""Derivations made concrete for a user's model, rendered and checked step by step.

Invariant: the identities are a registry, ``IDENTITIES`` (name -> :class:`Identity`), built
from one module per identity, each defining ``IDENTITY``; :func:`derive`, the command line and
the docs read it. A new identity is one module plus its entry in ``MODULES``.

>>> import scoresym as ss
>>> model = ss.zoo.get("gaussian_1d").model
>>> d = ss.derive(model)
>>> d.steps[-1].title, d.result
('The estimator in closed form', {mu: mean(x), s2: -mean(x)**2 + mean(x**2)})
>>> all(r.ok for r in d.check({"mu": 0.5, "s2": 2.0}))
True
>>> list(IDENTITIES)
['hyvarinen', 'stein', 'dsm', 'ssm', 'ksd']
"""

from __future__ import annotations

from ..errors import ScoresymInputError
from . import dsm, hyvarinen, ksd, ssm, stein
from .derivation import Derivation, Step
from .identity import Identity

#: The registry's entries: one module per identity, each defining IDENTITY.
MODULES = (hyvarinen, stein, dsm, ssm, ksd)
IDENTITIES = {module.IDENTITY.name: module.IDENTITY for module in MODULES}


def derive(model, identity: str = "hyvarinen", test_function=None, weight=None) -> Derivation:
    """The derivation of ``identity`` for ``model`` (see ``IDENTITIES``): "hyvarinen"
    (integration by parts, seeds 002 and 003; with ``weight``, generalized score matching),
    "stein" (with ``test_function``, default g_i = x_i + x_i^2), "dsm" (check with ``sigma=``),
    "ssm" or "ksd" (the kernel Stein discrepancy from Stein's identity)."""
    if identity not in IDENTITIES:
        raise ScoresymInputError(f"identity must be one of {', '.join(IDENTITIES)}, "
                                 f"got {identity!r}")
    entry = IDENTITIES[identity]
    given = {"test_function": test_function, "weight": weight}
    for option, value in given.items():
        if value is not None and option not in entry.options:
            takers = [name for name, e in IDENTITIES.items() if option in e.options]
            raise ScoresymInputError(f"a {option.replace('_', ' ')} applies to the "
                                     f"{' and '.join(takers)} derivation only")
    return entry.build(model, **{option: given[option] for option in entry.options})


__all__ = ["Derivation", "IDENTITIES", "Identity", "Step", "derive"]
