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
    "ssm" or "ksd" (the kernel Stein discrepancy from Stein's identity).

    The identities, for the model's score s(x) = grad_x log f(x) (p = f / Z):

    - hyvarinen: 1/2 E_p ||s - grad log p||^2 = E_p[1/2 ||s||^2 + tr grad_x s] + const,
      minimized in closed form where it can be;
    - stein: E_p[g(x)^T s(x)] = -E_p[div g(x)];
    - dsm: E[1/2 ||s(x + sigma eps) + eps/sigma||^2] = 1/2 E ||s - grad log q_sigma||^2 + const;
    - ssm: E_v[v^T (grad_x s) v + 1/2 (v^T s)^2] = tr grad_x s + 1/2 ||s||^2 when E[v v^T] = I;
    - ksd: KSD^2(q, p) = E_{x, y ~ q} u_p(x, y), zero at q = p.

    >>> import scoresym as ss
    >>> d = derive(ss.zoo.get("gaussian_1d").model)
    >>> d.result                                       # the score-matching estimator
    {mu: mean(x), s2: -mean(x)**2 + mean(x**2)}
    >>> d.check({"mu": 0.5, "s2": 2.0}).ok            # every step's claim as expected
    True
    >>> derive(ss.zoo.get("gaussian_1d").model, "stein", test_function="x**2").result
    Eq(E_p[x**2*(mu - x)/s2], -E_p[2*x])
    """
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
