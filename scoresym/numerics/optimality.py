"""What makes a fit's end point a minimum, shared by every fit: the mean gradient 0 within a
small share of its sampling standard error, and a positive definite Hessian in theta judged
whatever the parameters' scales.

>>> rng = np.random.default_rng(0)
>>> g = rng.standard_normal((1000, 2))
>>> stationary(g - g.mean(axis=0)), stationary(g + 1.0)
(True, False)
"""

from __future__ import annotations

import numpy as np

#: At a stationary point the mean gradient is below this many of its standard errors: the
#: optimization error is negligible beside the sampling error.
STATIONARY_IN_STDERR = 1e-3
#: Why an end point that is not stationary is not a minimum.
NOT_STATIONARY = "the mean gradient is not 0 within 1e-3 of its standard error"


def stationary(gradients: np.ndarray) -> bool:
    """Whether the mean of the per-point gradients (n, p) is 0 to within STATIONARY_IN_STDERR
    of its standard error, in every coordinate (and they are finite)."""
    if not np.all(np.isfinite(gradients)):
        return False
    return mean_is_zero(gradients.mean(axis=0), gradients.std(axis=0), len(gradients))


def mean_is_zero(mean: np.ndarray, std: np.ndarray, n: int) -> bool:
    """:func:`stationary` from the gradients' mean, standard deviation (1/n) and count: what a
    reduction over chunked data provides.

    >>> one = np.ones(1)
    >>> mean_is_zero(1e-9 * one, one, 100), mean_is_zero(one, one, 100)
    (True, False)
    """
    return bool(np.all(np.abs(mean) <= STATIONARY_IN_STDERR * std / np.sqrt(n) + 1e-12))


def weakest_direction(G: np.ndarray, names: list) -> tuple:
    """(None, []) where the symmetric part of G is positive definite; else the smallest
    eigenvalue of D G D, D = diag(1/sqrt(|G_ii|)) (the definiteness of G, judged whatever the
    parameters' scales: a variance of 1e6 beside a slope of 1e-4), 0 where it is within 1e-10
    of the largest, and the parameters along the eigenvectors of every such weak eigenvalue
    (components above 0.1).

    >>> weakest_direction(np.diag([1e-18, 1e6]), ["s", "b"])  # definite, only badly scaled
    (None, [])
    >>> weakest_direction(np.array([[1.0, 1.0], [1.0, 1.0]]), ["s", "b"])
    (0.0, ['s', 'b'])
    """
    symmetric = 0.5 * (G + G.T)
    diagonal = np.abs(np.diag(symmetric))
    d = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    eigenvalues, vectors = np.linalg.eigh(symmetric * np.outer(d, d))
    scale = max(1e-300, float(np.max(np.abs(eigenvalues))))
    weak = eigenvalues <= 1e-10 * scale
    if not np.any(weak):
        return None, []
    involved = [names[i] for i in sorted({i for j in np.flatnonzero(weak)
                                          for i in np.flatnonzero(np.abs(vectors[:, j]) > 0.1)})]
    lowest = float(eigenvalues[0]) if eigenvalues[0] < -1e-10 * scale else 0.0
    return lowest, involved
