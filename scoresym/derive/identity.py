"""What a derivation identity supplies (see :mod:`scoresym.derive`): a name, how to build the
derivation for a model, and the options it takes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    """``build(model, **options)`` -> Derivation, ``options`` naming the keyword arguments of
    :func:`scoresym.derive` it takes ("weight", "test_function"); ``check_options`` those of
    ``Derivation.check`` beyond the parameters ("sigma")."""

    name: str
    build: Callable
    summary: str
    options: tuple = ()
    check_options: tuple = ()
