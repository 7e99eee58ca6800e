"""Goodness of fit by the kernel Stein discrepancy, on the model's exact score: ``ksd`` (the
statistic) and ``ksd_test`` (its wild-bootstrap test). No normalizing constant is needed: only
s(x) = grad_x log f enters (see :mod:`scoresym.numerics.stein_kernel` for the formulas).

Invariant: the test's p-value is (1 + #{bootstrap >= observed}) / (1 + B), never below the
test's level under the null; ``reject`` is p <= alpha, and ``ok`` means not rejected. Every draw
comes from ``numpy.random.default_rng(seed)``.

>>> import numpy as np, scoresym as ss
>>> m = ss.zoo.get("gaussian_1d").model
>>> X = np.random.default_rng(0).normal(0.5, np.sqrt(2.0), (400, 1))
>>> ksd_test(m, {"mu": 0.5, "s2": 2.0}, X, seed=1).ok            # data from the model
True
>>> ksd_test(m, {"mu": 2.0, "s2": 2.0}, X, seed=1).reject        # the mean 1.06 SD off
True
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import sympy

from .codegen.functions import as_points, finite_points, positive_int
from .errors import ScoresymInputError
from .matrix_model import MatrixModel
from .model import Model
from .numerics.stein_kernel import BLOCK, IMQ, RBF, stein_statistics
from .numerics.two_sample import median_bandwidth
from .randomness import generator
from .symbolic.asymptotics import integrable
from .symbolic.boundary import exact_values
from .symbolic.conditions import field_products, vanishes_at

KERNELS = {"imq": IMQ, "rbf": RBF}


@dataclass
class KSDTest:
    """The outcome of a KSD goodness-of-fit test: the U-statistic of KSD^2, its p-value by the
    wild bootstrap, the level, and whether the model is rejected (``ok``: not rejected).

    With u the statistic and null the B bootstrap replicates:

        p_value = (1 + #{b : null_b >= u}) / (1 + B),   reject = p_value <= alpha,

    and ``critical`` the value c with reject exactly when u > c; ``bool(test)`` is ``test.ok``.

    >>> import numpy as np, scoresym as ss
    >>> b = ss.zoo.get("gaussian_1d")
    >>> t = ss.ksd_test(b.model, b.truth, b.sample(200, seed=0), n_bootstrap=99, seed=0)
    >>> bool(t.p_value == (1 + np.sum(t.null >= t.statistic)) / (1 + t.n_bootstrap))
    True
    >>> t.ok, t.ok == (t.statistic <= t.critical)
    (True, True)
    """

    statistic: float
    p_value: float
    alpha: float
    reject: bool
    kernel: str
    n: int
    n_bootstrap: int
    null: np.ndarray = field(repr=False)
    seconds: float = 0.0
    critical: float = math.inf  # reject exactly when statistic > critical

    @property
    def ok(self) -> bool:
        return not self.reject

    def __bool__(self) -> bool:
        return self.ok

    def _repr_html_(self) -> str:
        """Jupyter's display: the verdict in colour and the one-line summary."""
        import html

        colour = "#b2182b" if self.reject else "#1b7837"
        return (f"<div><b style='color:{colour}'>{'rejected' if self.reject else 'not rejected'}"
                f"</b> <code>{html.escape(str(self))}</code></div>")

    def __str__(self) -> str:
        verdict = "rejected" if self.reject else "not rejected"
        return (f"KSD test ({self.kernel}, n = {self.n}): KSD^2 (U) = {self.statistic:.6g}, "
                f"p = {self.p_value:.4g} with {self.n_bootstrap} wild-bootstrap draws, alpha = "
                f"{self.alpha:g}: the model is {verdict}")


def stein_kernel_of(kernel="imq", X=None, **options):
    """A kernel object from a name ("imq": c = 1, beta = -1/2 by default; "rbf": bandwidth by
    the median heuristic on X unless ``bandwidth`` is given) or an RBF/IMQ instance:

        IMQ  k(x, y) = (c^2 + ||x - y||^2)^beta,   c > 0, -1 < beta < 0;
        RBF  k(x, y) = exp(-||x - y||^2 / (2 h^2)),   h = median ||x_i - x_j|| by default.

    >>> import numpy as np
    >>> stein_kernel_of("imq"), stein_kernel_of("imq", beta=-0.25)
    (IMQ(c=1.0, beta=-0.5), IMQ(c=1.0, beta=-0.25))
    >>> stein_kernel_of("rbf", np.array([[0.0], [1.0], [3.0]]))    # distances 1, 2, 3
    RBF(bandwidth=2.0)
    """
    if isinstance(kernel, (RBF, IMQ)):
        if options:
            raise ScoresymInputError(f"kernel options {sorted(options)} are for a kernel given "
                                     f"by name; this one is {kernel}")
        return kernel
    if kernel not in KERNELS:
        raise ScoresymInputError(f"kernel must be one of {', '.join(KERNELS)} (or an RBF/IMQ "
                                 f"object), got {kernel!r}")
    allowed = {"imq": {"c", "beta"}, "rbf": {"bandwidth"}}[kernel]
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ScoresymInputError(f"unknown option(s) for the {kernel} kernel: "
                                 f"{', '.join(unknown)} (it takes {', '.join(sorted(allowed))})")
    if kernel == "rbf" and options.get("bandwidth") is None:
        options["bandwidth"] = median_bandwidth(X)
    return KERNELS[kernel](**{k: _number(k, v) for k, v in options.items()})


def ksd(model, params, X, kernel="imq", statistic: str = "u", block: int = BLOCK,
        **kernel_options) -> float:
    """The U-statistic (``statistic="u"``, unbiased for KSD^2, may be negative) or V-statistic
    (``"v"``, >= 0) of the kernel Stein discrepancy between the points X (n, d) and the model
    at ``params``. ``model``: a Model, a MatrixModel, or a score function s(X) -> (n, d).

    With s the model's score and k the kernel (:func:`stein_kernel_of`), the Stein kernel

        u_p(x, y) = s(x)^T s(y) k(x, y) + s(x)^T grad_y k + s(y)^T grad_x k + tr grad_x grad_y k

    gives KSD^2 = E_{x, y ~ q} u_p(x, y), estimated by the mean of u_p(x_i, x_j) over i != j
    (U) or over all i, j (V); it is 0 when q = p.

    >>> import numpy as np, scoresym as ss
    >>> m = ss.zoo.get("gaussian_1d").model
    >>> X = np.random.default_rng(0).normal(0.5, np.sqrt(2.0), (1000, 1))
    >>> bool(abs(ksd(m, {"mu": 0.5, "s2": 2.0}, X)) < 1e-3)
    True
    """
    if statistic not in ("u", "v"):
        raise ScoresymInputError(f"statistic must be 'u' or 'v', got {statistic!r}")
    X, S = _points_and_scores(model, params, X)
    k = stein_kernel_of(kernel, X, **kernel_options)
    u, v, _ = stein_statistics(k, X, S, block=positive_int("block", block))
    return float(u if statistic == "u" else v)


def ksd_test(model, params, X, kernel="imq", n_bootstrap: int = 500, alpha: float = 0.05,
             seed=None, block: int = BLOCK, **kernel_options) -> KSDTest:
    """Test H0: the points X (n, d) are draws from the model at ``params``, by the U-statistic
    of KSD^2 against ``n_bootstrap`` wild-bootstrap replicates with Rademacher weights
    (Chwialkowski, Strathmann and Gretton 2016). Cost: one pass over n^2 / 2 pairs, each
    block multiplied by the (block x B) weights.

    With u the U-statistic of :func:`ksd` and Rademacher weights w_b, the replicates and the
    p-value are

        null_b = sum_{i != j} w_bi w_bj u_p(x_i, x_j) / (n (n - 1)),
        p = (1 + #{b : null_b >= u}) / (1 + B),   reject = p <= alpha.

    >>> import numpy as np, scoresym as ss
    >>> m = ss.zoo.get("gaussian_1d").model
    >>> X = np.random.default_rng(0).laplace(0.5, 1.0, (400, 1))      # variance 2, not normal
    >>> r = ksd_test(m, {"mu": 0.5, "s2": 2.0}, X, seed=1)
    >>> r.n, r.n_bootstrap, 0 < r.p_value <= 1
    (400, 500, True)
    """
    n_bootstrap = positive_int("n_bootstrap", n_bootstrap)
    alpha = _number("alpha", alpha)
    if not 0 < alpha < 1:
        raise ScoresymInputError(f"alpha must be in (0, 1), got {alpha:g}")
    start = time.perf_counter()
    X, S = _points_and_scores(model, params, X)
    k = stein_kernel_of(kernel, X, **kernel_options)
    weights = generator(seed).choice([-1.0, 1.0], size=(len(X), n_bootstrap))
    u, _, null = stein_statistics(k, X, S, weights, block=positive_int("block", block))
    p_value = (1 + int(np.sum(null >= u))) / (1 + n_bootstrap)
    return KSDTest(float(u), float(p_value), alpha, bool(p_value <= alpha), str(k), len(X),
                   n_bootstrap, null, time.perf_counter() - start,
                   critical_value(null, alpha))


def stein_witness(model, params, X, T, kernel="imq", **kernel_options) -> tuple:
    """The Stein witness function at the points T (m, d) and its standard error: the direction
    in the RKHS in which the data X break Stein's identity for the model most,

        xi(t) = E_q[s(x) k(x, t) + grad_x k(x, t)],   estimated by the mean over the rows of X,

    (xi / ||xi|| is the optimal test function g; ||xi||^2_H = KSD^2). Where xi is far from 0
    the data and the model differ. Returns (xi, stderr), each (m, d).

    >>> import numpy as np, scoresym as ss
    >>> m = ss.zoo.get("gaussian_1d").model
    >>> X = np.random.default_rng(0).normal(0.5, np.sqrt(2.0), (4000, 1))
    >>> xi, se = stein_witness(m, {"mu": 0.5, "s2": 2.0}, X, np.array([[0.0], [2.0]]))
    >>> bool(np.all(np.abs(xi) < 4 * se))                 # data from the model: xi = 0
    True
    """
    X, S = _points_and_scores(model, params, X)
    T = np.asarray(T, dtype=float).reshape(-1, X.shape[1])
    k = stein_kernel_of(kernel, X, **kernel_options)
    r2 = np.maximum(((X[:, None, :] - T[None, :, :]) ** 2).sum(axis=2), 0.0)
    phi, phi1, _ = k.radial(r2)                                   # (n, m)
    terms = (S[:, None, :] * phi[:, :, None]
             + 2.0 * phi1[:, :, None] * (X[:, None, :] - T[None, :, :]))  # (n, m, d)
    return terms.mean(axis=0), terms.std(axis=0, ddof=1) / np.sqrt(len(X))


def critical_value(null: np.ndarray, alpha: float) -> float:
    """The bootstrap value c with p <= alpha exactly when the statistic exceeds c: with
    m = floor(alpha (B + 1)) - 1, p <= alpha iff at most m replicates reach the statistic, iff
    it exceeds the (m + 1)-th largest (inf when B is too small to ever reject).

    >>> critical_value(np.arange(19.0), 0.1)        # m = 1: above the second largest, 17
    17.0
    """
    m = math.floor(alpha * (len(null) + 1) + 1e-9) - 1
    if m < 0 or m >= len(null):
        return math.inf
    return float(np.sort(null)[::-1][m])


def _points_and_scores(model, params, X) -> tuple:
    """(X as (n, d) floats, the model's score there), every score finite."""
    if isinstance(model, (Model, MatrixModel)):
        if not isinstance(params, dict):
            raise ScoresymInputError(f"params must be a dict {{name: value}}, got "
                                     f"{type(params).__name__}")
        X = as_points(X, model.dim)
        if isinstance(model, Model):
            model.require_conditions(params, f"the parameter values {_shown(params)}")
            require_stein_identity(model, params)
            S = model.lambdify().score(X, **params)
        else:
            S = model.score(X, **params)
    elif callable(model):
        X = finite_points(X)
        S = np.asarray(model(X), dtype=float)
        if S.shape != X.shape:
            raise ScoresymInputError(f"the score function must map X of shape {X.shape} to "
                                     f"scores of the same shape, got {S.shape}")
    else:
        raise ScoresymInputError(f"model must be a scoresym Model, a MatrixModel or a score "
                                 f"function s(X) -> (n, d), got {type(model).__name__}")
    if not np.all(np.isfinite(X)):
        raise ScoresymInputError("X holds NaN or inf")
    bad = np.flatnonzero(~np.all(np.isfinite(S), axis=1))
    if bad.size:
        raise ScoresymInputError(f"the score is not finite at row {bad[0]} of X "
                                 f"({X[bad[0]].tolist()}): the KSD needs it at every point")
    return X, S


def require_stein_identity(model: Model, params: dict) -> None:
    """Refuse (ScoresymInputError) a model at values where the KSD's Stein identity fails. On a
    domain with a finite edge, Stein's identity with g = k(x, .) needs f k -> 0 there (k is
    bounded and positive), so f must vanish at the edge (the exponential density does not:
    the test would reject the true model), and E|s|^2 must be finite there. At each finite
    edge e of each coordinate x_i:

        lim_{x_i -> e} f(x) = 0   and   f s_i^2 integrable near e.

    >>> import scoresym as ss
    >>> require_stein_identity(ss.zoo.get("gamma").model, {"k": 3.0, "lam": 1.0})  # passes
    >>> try:
    ...     require_stein_identity(ss.zoo.get("exponential").model, {"lam": 1.5})
    ... except ss.ScoresymInputError as error:                     # f(0) = 1, not 0
    ...     print("here f does not vanish at an edge" in str(error))
    True
    """
    if all(math.isinf(lo) and math.isinf(hi) for lo, hi in model.bounds):
        return
    verdict = vanishes_at(model, params, field_products(model, [1] * model.dim))
    if verdict is not True:
        why = "does not vanish" if verdict is False else "could not be shown to vanish"
        raise ScoresymInputError(
            f"the kernel Stein discrepancy needs f to vanish at the edges of the domain (its "
            f"Stein identity integrates f k by parts); here f {why} at an edge at "
            f"{_shown(params)}, so the test would reject even the true model")
    _require_square_integrable_score(model, params)


def _require_square_integrable_score(model: Model, params: dict) -> None:
    """E_p |s_i|^2 < oo near every finite edge (f s_i^2 integrable there, by the edge
    asymptotics at these values): u_p(x, x) = k(x, x) |s(x)|^2 + ... must have a finite mean
    for the statistic to converge and the wild bootstrap to hold its level (a Gamma with shape
    k <= 2 has s ~ (k - 1)/x at 0: rejected 30% of the time at its own truth)."""
    values = exact_values(model, params)
    log_f = model.log_density.xreplace(values)
    for variable, s in zip(model.variables, model.score):
        s = sympy.sympify(s).xreplace(values)
        if s == 0:
            continue
        lo, hi = model.domain[variable]
        for edge, direction in ((lo, "+"), (hi, "-")):
            if edge in (-sympy.oo, sympy.oo):
                continue
            verdict = integrable(log_f + sympy.log(s**2), variable, edge, direction)
            if verdict is not sympy.true:
                why = "is not" if verdict is sympy.false else "could not be shown to be"
                raise ScoresymInputError(
                    f"the kernel Stein discrepancy needs E|s|^2 finite; f s^2 {why} integrable "
                    f"as {variable} -> {edge} at {_shown(params)} (the score grows too fast "
                    f"there), so the statistic's variance is infinite and the test's level "
                    f"does not hold")


def _shown(params: dict) -> str:
    return ", ".join(f"{k}={v:g}" if isinstance(v, (int, float)) else f"{k}=..."
                     for k, v in params.items())


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value):
        raise ScoresymInputError(f"{name} must be a finite number, got {value!r}")
    return float(value)
