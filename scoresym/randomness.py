"""Random number generators from user seeds, and independent streams from one seed.

Invariant: every random draw in scoresym comes from ``numpy.random.default_rng`` of a seed the
caller gave (None: fresh entropy), so results are reproducible for a seed. Where one computation
needs several random inputs (data and projections, data and noise), each has its own stream,
spawned from the seed by ``numpy.random.SeedSequence``: statistically independent, so that an
estimator is never evaluated on projections that are the very normals the data were drawn from.

>>> a, b = independent_seeds(0, 2)
>>> bool(generator(a).standard_normal() != generator(b).standard_normal())
True
"""

from __future__ import annotations

import numpy

from .errors import ScoresymInputError


def generator(seed) -> numpy.random.Generator:
    """``numpy.random.default_rng(seed)``; a seed that is not None, a non-negative int, a
    SeedSequence or a Generator is refused clearly.

    >>> generator(-1)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: seed must be None, a non-negative int ... got -1
    """
    if isinstance(seed, bool) or (isinstance(seed, (int, numpy.integer)) and seed < 0):
        raise ScoresymInputError(f"seed must be None, a non-negative int or a numpy Generator, "
                                 f"got {seed!r}")
    try:
        return numpy.random.default_rng(seed)
    except (TypeError, ValueError):
        raise ScoresymInputError(f"seed must be None, a non-negative int or a numpy Generator, "
                                 f"got {seed!r}") from None


def independent_seeds(seed, k: int) -> list:
    """k independent child seeds of ``seed`` (SeedSequence.spawn); a Generator passes its own
    spawned generators and a SeedSequence its children. Each is accepted wherever a seed is,
    so streams nest: ``independent_seeds(independent_seeds(0, 2)[0], 3)``.

    >>> len(independent_seeds(independent_seeds(3, 2)[0], 4))
    4
    """
    if isinstance(seed, (numpy.random.Generator, numpy.random.SeedSequence)):
        return seed.spawn(k)
    generator(seed)  # validates
    return numpy.random.SeedSequence(seed).spawn(k)
