"""The autograd backend: autograd.numpy and autograd.scipy.special, so that HIPS autograd
differentiates generated code; its traced values (ArrayBox) pass through argument checks."""

from __future__ import annotations

import types

from . import backend_numpy
from .backend import Backend


def namespace() -> dict:
    import autograd.numpy

    erfcx, log_erfc, erfcx_gap = _stable_erfc_primitives()
    return {"numpy": autograd.numpy, "scipy": types.SimpleNamespace(special=_Special()),
            "_erfcx": erfcx, "_log_erfc": log_erfc, "_erfcx_gap": erfcx_gap,
            "_power_of_two_scale": _power_of_two_scale}


def _power_of_two_scale(*columns):
    """The numpy backend's power of two, of the values under any autograd tracer: it is
    constant between powers of two, so its derivative is 0 wherever it has one."""
    from autograd.tracer import getval

    return backend_numpy.power_of_two_scale(*[getval(c) for c in columns])


class _Special:
    """autograd.scipy.special, imported when generated code first calls one of its functions
    (importing it imports all of scipy.stats: half a second that most models never need).

    >>> float(_Special().erf(0.5))
    0.5204998778130465
    """

    def __getattr__(self, name: str):
        import autograd.scipy.special

        return getattr(autograd.scipy.special, name)


def _stable_erfc_primitives() -> tuple:
    """erfcx, log erfc and the gap sqrt(pi) w - 1/erfcx(w) as autograd primitives (autograd
    has none of them): d erfcx(w)/dw = 2 w erfcx(w) - 2/sqrt(pi), d log erfc(w)/dw =
    -2 / (sqrt(pi) erfcx(w)), d gap/dw = sqrt(pi) + 2 w gap - 2 gap**2 / sqrt(pi).

    >>> import autograd, numpy
    >>> erfcx, log_erfc, gap = _stable_erfc_primitives()
    >>> w = 30.0
    >>> float(log_erfc(w)), float(autograd.grad(log_erfc)(w))  # erfc(30) underflows; mpmath:
    ...                                                        # -903.97411711064, -60.03329639876
    (-903.9741171106442, -60.03329639875622)
    """
    import autograd.numpy as np
    import scipy.special
    from autograd.extend import defvjp, primitive

    root_pi = np.sqrt(np.pi)

    @primitive
    def erfcx(w):
        return scipy.special.erfcx(w)

    @primitive
    def log_erfc(w):
        return np.log(2.0) + scipy.special.log_ndtr(-np.sqrt(2.0) * w)

    @primitive
    def gap(w):
        return backend_numpy.erfcx_gap(w)

    defvjp(erfcx, lambda value, w: lambda g: g * (2 * w * value - 2 / root_pi))
    defvjp(log_erfc, lambda value, w: lambda g: g * (-2 / (root_pi * erfcx(w))))
    defvjp(gap, lambda value, w: lambda g: g * (root_pi + 2 * w * value
                                                - 2 * value**2 / root_pi))
    return erfcx, log_erfc, gap


def is_traced(value) -> bool:
    return type(value).__module__.startswith("autograd")


BACKEND = Backend("autograd", namespace, is_traced)
