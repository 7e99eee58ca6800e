"""A two-sample test: the maximum mean discrepancy (Gretton et al. 2012) with a Gaussian kernel,
its null distribution by permutation.

Invariant: the statistic is the unbiased MMD^2 (U-statistic: diagonal terms left out), the
bandwidth the median distance of the pooled sample, fixed before permuting; the p-value
(1 + #{permuted >= observed}) / (1 + permutations) is exact-level (never below the test's size
under the null), and the critical value is the permutations' (1 - alpha) quantile.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> same = mmd_test(rng.standard_normal((300, 2)), rng.standard_normal((300, 2)), seed=1)
>>> shifted = mmd_test(rng.standard_normal((300, 2)), rng.standard_normal((300, 2)) + 0.5,
...                    seed=1)
>>> bool(same["p_value"] > 0.05), bool(shifted["p_value"] < 0.01)
(True, True)
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist, pdist

from ..codegen.functions import finite_points, real_array
from ..errors import ScoresymInputError
from ..randomness import generator


def median_bandwidth(Z: np.ndarray, max_points: int = 2000) -> float:
    """The median pairwise distance of (up to ``max_points`` of) the rows of Z."""
    distances = pdist(Z[:max_points])
    positive = distances[distances > 0]
    return float(np.median(positive)) if positive.size else 1.0


def mmd_test(X, Y, n_permutations: int = 200, alpha: float = 0.05, seed=None,
             bandwidth: float | None = None) -> dict:
    """{statistic, critical, p_value, bandwidth, reject}: the unbiased MMD^2 between the rows
    of X and Y with k(a, b) = exp(-||a - b||^2 / (2 h^2)), against ``n_permutations`` random
    relabellings of the pooled sample. Memory: one (n + m)^2 kernel matrix."""
    X, Y = _sample("X", X), _sample("Y", Y)
    if X.shape[1] != Y.shape[1]:
        raise ScoresymInputError(f"the two samples have different dimensions: {X.shape[1]} "
                                 f"and {Y.shape[1]}")
    Z = np.vstack([X, Y])
    h = median_bandwidth(Z) if bandwidth is None else float(bandwidth)
    K = np.exp(-cdist(Z, Z, "sqeuclidean") / (2 * h * h))
    np.fill_diagonal(K, 0.0)
    n = len(X)
    rng = generator(seed)
    labels = np.zeros((n_permutations + 1, len(Z)))
    labels[0, :n] = 1.0
    for row in labels[1:]:
        row[rng.permutation(len(Z))[:n]] = 1.0
    values = _unbiased_mmd2(K, labels, n)
    observed, null = float(values[0]), values[1:]
    p_value = (1 + np.sum(null >= observed)) / (1 + n_permutations)
    critical = float(np.quantile(null, 1 - alpha))
    return {"statistic": observed, "critical": critical, "p_value": float(p_value),
            "bandwidth": h, "reject": bool(p_value <= alpha), "null": null}


def _unbiased_mmd2(K: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """MMD_u^2 for each row u of ``labels`` (1 on the n points of the first sample, 0 on the m
    others), K with a zero diagonal: with r = K 1 and T = 1^T K 1,

        sum_XX = u^T K u,   sum_YY = T - 2 u^T r + u^T K u,   sum_XY = u^T r - u^T K u,

    MMD_u^2 = sum_XX / (n (n - 1)) + sum_YY / (m (m - 1)) - 2 sum_XY / (n m); all the
    relabellings in one matrix product K U^T."""
    m = K.shape[0] - n
    r = K.sum(axis=1)
    uKu = np.einsum("pn,np->p", labels, K @ labels.T)
    ur = labels @ r
    xx = uKu / (n * (n - 1))
    yy = (r.sum() - 2 * ur + uKu) / (m * (m - 1))
    xy = (ur - uKu) / (n * m)
    return xx + yy - 2 * xy


def _sample(name: str, X) -> np.ndarray:
    """An (n, d) sample with n >= 2 (a vector is n points in d = 1)."""
    array = real_array(X, name)
    return finite_points(array[:, None] if array.ndim == 1 else array, name, minimum=2)
