"""The kernel Stein discrepancy (KSD): the Stein kernel of a score and a radial kernel, its U- and
V-statistics, and their wild bootstrap, computed in blocks of rows.

Stein's identity E_p[s_p(x) g(x) + div g(x)] = 0 holds for every g in the unit ball of a
kernel's RKHS; the supremum of |E_q[...]| over that ball is KSD(q, p), and by the reproducing
property (g = k(x, .) in each argument) KSD^2 = E_{x, y ~ q} u_p(x, y) with

    u_p(x, y) = s(x).s(y) k + s(x).grad_y k + s(y).grad_x k + tr grad_x grad_y k.

For a radial kernel k(x, y) = phi(r^2), r^2 = |x - y|^2, delta = x - y, phi' and phi''
derivatives in r^2: grad_x k = 2 phi' delta = -grad_y k and tr grad_x grad_y k =
-4 phi'' r^2 - 2 d phi', so

    u_p(x, y) = phi s(x).s(y) + 2 phi' (s(y) - s(x)).delta - 4 phi'' r^2 - 2 d phi'.

Kernels: Gaussian RBF phi(t) = exp(-t / (2 h^2)); IMQ phi(t) = (c^2 + t)^beta, beta in (-1, 0)
(Gorham and Mackey 2017: it detects non-convergence where the RBF does not).

Invariant: the n x n matrix of u_p is never held at once, only (block x block) pieces; the
U-statistic leaves the diagonal out (unbiased for KSD^2, can be negative), the V-statistic keeps
it. The wild bootstrap of the U-statistic, sum_{i != j} w_i w_j u_p(x_i, x_j) / (n (n - 1)) with
Rademacher w (Chwialkowski, Strathmann and Gretton 2016), is computed in the same pass.

>>> import numpy as np
>>> X = np.random.default_rng(0).standard_normal((500, 1))
>>> u, v, _ = stein_statistics(IMQ(), X, -X)          # data from p = N(0, 1) itself
>>> bool(abs(u) < 0.01), bool(v > u)
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from ..errors import ScoresymInputError

#: Rows per block: (block x block) floats for each of a few temporaries.
BLOCK = 1024


@dataclass(frozen=True)
class RBF:
    """k(x, y) = exp(-|x - y|^2 / (2 h^2)), h the bandwidth."""

    bandwidth: float = 1.0

    def __post_init__(self):
        if not (isinstance(self.bandwidth, (int, float)) and math.isfinite(self.bandwidth)
                and self.bandwidth > 0):
            raise ScoresymInputError(f"the RBF bandwidth must be a positive number, got "
                                     f"{self.bandwidth!r}")

    def radial(self, r2):
        """phi, phi', phi'' at r^2 (derivatives in r^2)."""
        a = 1.0 / (2.0 * self.bandwidth**2)
        phi = np.exp(-a * r2)
        return phi, -a * phi, a * a * phi

    def __str__(self) -> str:
        return f"RBF(h = {self.bandwidth:.4g})"


@dataclass(frozen=True)
class IMQ:
    """k(x, y) = (c^2 + |x - y|^2)^beta, c > 0 and -1 < beta < 0."""

    c: float = 1.0
    beta: float = -0.5

    def __post_init__(self):
        for name, value in (("c", self.c), ("beta", self.beta)):
            if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                    and math.isfinite(value)):
                raise ScoresymInputError(f"the IMQ kernel's {name} must be a finite number, got "
                                         f"{value!r}")
        if not self.c > 0 or not -1 < self.beta < 0:
            raise ScoresymInputError(f"the IMQ kernel needs c > 0 and -1 < beta < 0, got c = "
                                     f"{self.c:g}, beta = {self.beta:g}")

    def radial(self, r2):
        """phi, phi', phi'' at r^2 (derivatives in r^2)."""
        base = self.c**2 + r2
        phi = base**self.beta
        phi1 = self.beta * phi / base
        return phi, phi1, (self.beta - 1.0) * phi1 / base

    def __str__(self) -> str:
        return f"IMQ(c = {self.c:g}, beta = {self.beta:g})"


def stein_kernel(kernel, X, S, Y, T) -> np.ndarray:
    """u_p(x_i, y_j) for the rows of X (scores S) against the rows of Y (scores T): an
    (len(X), len(Y)) array, from phi s(x).s(y) + 2 phi' (s(y) - s(x)).(x - y) - 4 phi'' r^2
    - 2 d phi'.

    >>> import numpy as np
    >>> x = np.array([[0.5]])
    >>> float(stein_kernel(RBF(1.0), x, -x, x, -x)[0, 0])  # u_p(x, x) = s^2 + d / h^2
    1.25
    """
    r2 = np.maximum(cdist(X, Y, "sqeuclidean"), 0.0)
    phi, phi1, phi2 = kernel.radial(r2)
    # (t_j - s_i).(x_i - y_j) = t_j.x_i - t_j.y_j - s_i.x_i + s_i.y_j
    cross = (X @ T.T - np.sum(T * Y, axis=1)[None, :] - np.sum(S * X, axis=1)[:, None]
             + S @ Y.T)
    return phi * (S @ T.T) + 2.0 * phi1 * cross - 4.0 * phi2 * r2 - 2.0 * X.shape[1] * phi1


def stein_statistics(kernel, X, S, weights=None, block: int = BLOCK) -> tuple:
    """(U-statistic, V-statistic, bootstrap U-statistics) of KSD^2 for the points X with scores
    S, in blocks of ``block`` rows; ``weights`` (n, B) gives B wild-bootstrap replicates
    sum_{i != j} w_i w_j u_ij / (n (n - 1)) (None: no bootstrap, an empty array). The
    symmetry u_ij = u_ji halves the work: each block pair above the diagonal counts twice."""
    n = len(X)
    if n < 2:
        raise ScoresymInputError(f"the kernel Stein discrepancy needs at least 2 points, got {n}")
    total, diagonal = 0.0, 0.0
    boot = np.zeros(0 if weights is None else weights.shape[1])
    for i in range(0, n, block):
        rows = slice(i, i + block)
        for j in range(i, n, block):
            cols = slice(j, j + block)
            H = stein_kernel(kernel, X[rows], S[rows], X[cols], S[cols])
            twice = 1.0 if i == j else 2.0
            total += twice * H.sum()
            if i == j:
                diagonal += np.trace(H)
            if weights is not None:
                boot += twice * np.sum(weights[rows] * (H @ weights[cols]), axis=0)
    # w_i^2 = 1: the bootstrap's diagonal is the statistic's
    return ((total - diagonal) / (n * (n - 1)), total / (n * n),
            (boot - diagonal) / (n * (n - 1)))
