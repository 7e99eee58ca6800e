"""The numpy backend: NumPy and scipy.special; nothing is traced."""

from __future__ import annotations

import types

from .backend import Backend


def namespace() -> dict:
    import numpy
    import scipy.special

    def log_erfc(w):
        """log erfc(w) = log 2 + log Phi(-w sqrt 2), finite where erfc(w) underflows."""
        return numpy.log(2.0) + scipy.special.log_ndtr(-numpy.sqrt(2.0) * w)

    return {"numpy": numpy, "scipy": types.SimpleNamespace(special=scipy.special),
            "_erfcx": scipy.special.erfcx, "_log_erfc": log_erfc}


BACKEND = Backend("numpy", namespace, lambda value: False)
