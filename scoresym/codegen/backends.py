"""The backends generated code runs on, as a registry: name -> Backend.

Invariant: a backend supplies the modules that generated code calls ``numpy`` and ``scipy``
(``scipy.special`` at least), and recognizes its own traced values (which argument checks must
pass through untouched). A new backend is one module defining ``BACKEND`` plus its entry in
``MODULES`` below.

>>> sorted(BACKENDS)
['autograd', 'numpy']
>>> backend("jax")
Traceback (most recent call last):
...
scoresym.errors.ScoresymInputError: backend must be one of autograd, numpy, got 'jax'
"""

from __future__ import annotations

from ..errors import ScoresymInputError
from . import backend_autograd, backend_numpy
from .backend import Backend

#: The registry's entries: one module per backend, each defining BACKEND.
MODULES = (backend_numpy, backend_autograd)
BACKENDS = {module.BACKEND.name: module.BACKEND for module in MODULES}


def backend(name: str) -> Backend:
    """The registered backend called ``name``."""
    if name not in BACKENDS:
        raise ScoresymInputError(f"backend must be one of {', '.join(sorted(BACKENDS))}, "
                                 f"got {name!r}")
    return BACKENDS[name]


def backend_modules(name: str) -> dict:
    """The modules generated code sees as ``numpy`` and ``scipy`` for backend ``name``."""
    return backend(name).namespace()


def is_traced(value) -> bool:
    """True for any backend's traced values, which must pass through untouched."""
    return any(b.is_traced(value) for b in BACKENDS.values())
