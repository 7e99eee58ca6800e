"""The numpy backend: NumPy and scipy.special; nothing is traced."""

from __future__ import annotations

import functools
import types

import numpy

from .backend import Backend


def namespace() -> dict:
    import scipy.special

    def log_erfc(w):
        """log erfc(w) = log 2 + log Phi(-w sqrt 2), finite where erfc(w) underflows."""
        return numpy.log(2.0) + scipy.special.log_ndtr(-numpy.sqrt(2.0) * w)

    return {"numpy": numpy, "scipy": types.SimpleNamespace(special=scipy.special),
            "_erfcx": scipy.special.erfcx, "_log_erfc": log_erfc, "_erfcx_gap": erfcx_gap,
            "_power_of_two_scale": power_of_two_scale}


def power_of_two_scale(*columns):
    """2**e, the least power of two above max |column| (e at most 1023), or 1 where that
    maximum is at most 1: x / 2**e is exact, and at most 1 in size.

    >>> power_of_two_scale(numpy.array([0.5, 3.0, -1e300]), numpy.array([0.1, 0.0, 1.0]))
    array([1.00000000e+000, 4.00000000e+000, 1.33938576e+300])
    """
    largest = functools.reduce(numpy.maximum, [numpy.abs(c) for c in columns], 1.0)
    exponent = numpy.minimum(numpy.frexp(largest)[1], 1023)
    return numpy.where(largest <= 1.0, 1.0, numpy.ldexp(1.0, exponent))


#: From this w on, erfcx_gap sums the asymptotic series (its terms fall below 1e-19 of the
#: first before the 20th); below it, the direct difference loses at most 2 w**2 ulps.
GAP_SERIES_FROM = 8.0


def erfcx_gap(w):
    """sqrt(pi) w - 1/erfcx(w). Far out it is (sqrt(pi) w erfcx(w) - 1) / erfcx(w), whose
    numerator sum_{k>=1} (-1)**k (2k-1)!! / (2 w**2)**k is summed term by term (the two terms
    of the difference agree to 1 part in 2 w**2).

    >>> # mpmath at 40 digits: -8.862269254518718e-07 and -5.317423258300145
    >>> float(erfcx_gap(1e6)), float(erfcx_gap(-3.0))
    (-8.86226925451871...e-07, -5.317423258300145)
    """
    import scipy.special

    w = numpy.asarray(w, dtype=float)
    far = w >= GAP_SERIES_FROM
    w_far = numpy.where(far, w, GAP_SERIES_FROM)
    with numpy.errstate(over="ignore"):
        t = 1.0 / (2.0 * w_far**2)
        direct = numpy.sqrt(numpy.pi) * w - 1.0 / scipy.special.erfcx(w)
    series = numpy.zeros_like(t)
    for k in range(20, 1, -1):
        series = (-1) ** k * scipy.special.factorial2(2 * k - 1) + t * series
    series = -1.0 + t * series
    # t / erfcx(w) as 1 / (2 w (w erfcx(w))): w**2 overflows from 1.3e154, w erfcx(w) does not
    return numpy.where(far, series / (2.0 * w_far * (w_far * scipy.special.erfcx(w_far))),
                       direct)


BACKEND = Backend("numpy", namespace, lambda value: False)
