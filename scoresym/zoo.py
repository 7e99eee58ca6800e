"""Built-in models, each with its true parameters and, where one is exact, a sampler.

Invariant: every entry is a :class:`Builtin` whose ``truth`` names a value for every parameter of
its model. Where an exact sampler exists it is declared with the model (``model.sampler``), takes
``(rng, n, params)`` and returns n draws from the normalized density at ``params`` as an (n, d)
array; ``Builtin.sample(n, seed)`` draws at ``truth``.

>>> b = get("gaussian_1d")
>>> b.model.score[0], b.truth
((mu - x)/s2, {'mu': 0.5, 's2': 2.0})
>>> b.sample(3, seed=0).shape
(3, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from .errors import ScoresymInputError
from .model import Model, draw
from .numerics.sampling import rejection_sample


@dataclass(frozen=True)
class Builtin:
    """A built-in model with its true parameters and an optional exact sampler.

    ``model`` is the unnormalized density f(x; theta), ``truth`` the value theta* of every
    parameter, ``sample(n, seed)`` draws x_1..x_n ~ f(x; theta*) / Z(theta*); the flags say
    which identities hold for it (``hyvarinen_valid``: the boundary term p s vanishes).

    >>> b = get("exponential")                      # f = exp(-lam x) on (0, oo)
    >>> b.truth, b.hyvarinen_valid, b.fit_weight    # p s = -lam p does not vanish at 0
    ({'lam': 1.5}, False, 'x')
    >>> X = b.sample(4000, seed=0)
    >>> X.shape, bool(abs(X.mean() - 1 / 1.5) < 0.03)        # E[x] = 1/lam
    ((4000, 1), True)
    """

    name: str
    model: Model
    truth: dict
    description: str
    hyvarinen_valid: bool = True  # False where the boundary term [p(x) s(x)] does not vanish
    fit_weight: str | None = None  # the weight that makes score matching valid, where one is needed
    sampler: Callable | None = None  # draws for this entry, where the model has no sampler
    edges_vanish: bool | None = None  # p s -> 0 at each edge (None: as hyvarinen_valid); it
    # differs where the two edges' terms cancel (a periodic density) without vanishing
    notes: tuple = ()  # what a report says of this entry (its conditions, the weight chosen)
    stein_test_function: object = None  # g of the Stein row (None: the default x + x**2)
    stein_valid: bool = True  # whether its boundary term vanishes, so the identity must hold

    def __post_init__(self):
        missing = {p.name for p in self.model.params} ^ set(self.truth)
        if missing:
            raise ScoresymInputError(f"truth of {self.name} does not match its params: "
                                     f"{', '.join(sorted(missing))}")

    def sample(self, n: int, seed=None, params=None) -> np.ndarray:
        """n draws from the normalized density at ``params`` (default ``truth``): (n, d).

        >>> b = get("gaussian_1d")                   # N(mu, s2)
        >>> X = b.sample(4000, seed=0, params={"mu": 3.0, "s2": 0.25})
        >>> X.shape, bool(abs(X.mean() - 3.0) < 0.03 and abs(X.var() - 0.25) < 0.02)
        ((4000, 1), True)
        """
        return draw(self.model, self.sampler or self.model.sampler, n,
                    self.truth if params is None else params, seed)

    @property
    def has_sampler(self) -> bool:
        return (self.sampler or self.model.sampler) is not None


def _reals(prefix: str, d: int) -> list:
    return list(sympy.symbols(f"{prefix}1:{d + 1}", real=True))


def gaussian_1d(mu: float = 0.5, s2: float = 2.0) -> Builtin:
    """f(x) = exp(-(x - mu)^2 / (2 s2)), the example of the seeds.

    >>> m = gaussian_1d().model
    >>> m.score[0], m.hyvarinen                      # s = (mu - x)/s2, 1/2 s^2 + ds/dx
    ((mu - x)/s2, -1/s2 + (mu - x)**2/(2*s2**2))
    """
    def sampler(rng, n, p):
        return p["mu"] + np.sqrt(p["s2"]) * rng.standard_normal((n, 1))

    m = Model.from_string("exp(-(x - mu)**2 / (2*s2))", "x", "mu s2", positive="s2",
                          name="gaussian_1d", sampler=sampler)
    return Builtin("gaussian_1d", m, {"mu": mu, "s2": s2}, "1-D Gaussian N(mu, s2)")


def gaussian_isotropic(d: int = 3, s2: float = 1.5) -> Builtin:
    """log f(x) = -||x - mu||^2 / (2 s2), mu in R^d.

    >>> b = gaussian_isotropic(2)
    >>> list(b.model.score), b.truth                 # s = (mu - x)/s2
    ([(mu1 - x1)/s2, (mu2 - x2)/s2], {'mu1': -1.0, 'mu2': 1.0, 's2': 1.5})
    """
    xs, mus = _reals("x", d), _reals("mu", d)
    s2_symbol = sympy.Symbol("s2", positive=True)
    log_f = -sympy.Add(*[(x - m) ** 2 for x, m in zip(xs, mus)]) / (2 * s2_symbol)
    name = f"gaussian_iso_{d}d"
    def sampler(rng, n, p):
        return np.array([p[m.name] for m in mus]) + np.sqrt(p["s2"]) * rng.standard_normal((n, d))

    model = Model(log_f, xs, mus + [s2_symbol], name=name, sampler=sampler)
    mean = np.linspace(-1.0, 1.0, d)
    truth = {**{m.name: float(v) for m, v in zip(mus, mean)}, "s2": s2}
    return Builtin(name, model, truth, f"isotropic Gaussian N(mu, s2 I) in {d}-D")


def gaussian_full(d: int = 3) -> Builtin:
    """log f(x) = -1/2 x^T Lambda x + b^T x with a full symmetric precision matrix Lambda.

    Parameters ``L<i>_<j>`` (i <= j) are the entries of Lambda (diagonal ones positive), ``b<i>``
    the linear term; the mean is Lambda^-1 b.

    >>> import numpy as np
    >>> b = gaussian_full(2)
    >>> list(b.model.score)                          # s = b - Lambda x
    [-L1_1*x1 - L1_2*x2 + b1, -L1_2*x1 - L2_2*x2 + b2]
    >>> t = b.truth
    >>> mean = np.linalg.solve([[t["L1_1"], t["L1_2"]], [t["L1_2"], t["L2_2"]]], [t["b1"], t["b2"]])
    >>> bool(np.allclose(b.model.lambdify().score(mean[None], **t), 0.0))   # s = 0 at the mean
    True
    """
    xs, bs = _reals("x", d), _reals("b", d)
    L = [[None] * d for _ in range(d)]
    for i in range(d):
        for j in range(i, d):
            L[i][j] = L[j][i] = sympy.Symbol(f"L{i + 1}_{j + 1}", positive=(i == j), real=True)
    quadratic = sympy.Add(*[L[i][j] * xs[i] * xs[j] for i in range(d) for j in range(d)])
    log_f = -quadratic / 2 + sympy.Add(*[b * x for b, x in zip(bs, xs)])
    upper = [L[i][j] for i in range(d) for j in range(i, d)]
    name = f"gaussian_full_{d}d"
    off = np.full(d - 1, -0.6)
    precision = np.eye(d) * 2.0 + np.diag(off, 1) + np.diag(off, -1)
    b = np.linspace(0.5, -0.5, d)
    truth = {L[i][j].name: float(precision[i, j]) for i in range(d) for j in range(i, d)}
    truth.update({s.name: float(v) for s, v in zip(bs, b)})

    def sampler(rng, n, p):
        # mean + Z C^T with C the Cholesky factor of the covariance, unique for a positive-definite
        # matrix: a seed gives the same draws (up to rounding) on every machine. The default of
        # Generator.multivariate_normal factors by SVD, whose singular vectors' signs depend on
        # the LAPACK build and CPU kernel, so its draws for a seed differ between machines.
        precision = np.array([[p[L[i][j].name] for j in range(d)] for i in range(d)])
        mean, _, C = _gaussian_moments(precision, np.array([p[s.name] for s in bs]),
                                       [s.name for s in upper])
        return mean + rng.standard_normal((n, d)) @ C.T

    model = Model(log_f, xs, upper + bs, name=name, sampler=sampler)
    return Builtin(name, model, truth, f"Gaussian with full precision matrix in {d}-D")


def _gaussian_moments(precision: np.ndarray, linear: np.ndarray, names: list) -> tuple:
    """(mean, covariance, Cholesky factor C of the covariance) of the Gaussian with this precision
    matrix and linear term; a matrix that is not finite and positive definite is refused, naming
    its parameters."""
    if np.all(np.isfinite(precision)):
        try:
            np.linalg.cholesky(precision)  # raises unless positive definite
            cov = np.linalg.inv(precision)
            return cov @ linear, cov, np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            pass
    raise ScoresymInputError(f"the precision matrix of {', '.join(names)} must be positive "
                             f"definite, got {precision.tolist()}")


def gaussian_mixture_2d() -> Builtin:
    """f(x) = exp(-||x - a||^2 / 2) + exp(-||x - b||^2 / 2): equal weights, unit covariance.

    Its score is r_a(x) (a - x) + r_b(x) (b - x), r the posterior weights of the modes; midway
    between a and b the two pulls cancel:

    >>> import numpy as np
    >>> b = gaussian_mixture_2d()
    >>> b.truth
    {'a1': -1.5, 'a2': 0.0, 'b1': 1.5, 'b2': 0.5}
    >>> bool(np.allclose(b.model.lambdify().score(np.array([[0.0, 0.25]]), **b.truth), 0.0))
    True
    """
    text = "exp(-((x1 - a1)**2 + (x2 - a2)**2)/2) + exp(-((x1 - b1)**2 + (x2 - b2)**2)/2)"
    truth = {"a1": -1.5, "a2": 0.0, "b1": 1.5, "b2": 0.5}

    def sampler(rng, n, p):
        means = np.array([[p["a1"], p["a2"]], [p["b1"], p["b2"]]])
        return means[rng.integers(0, 2, size=n)] + rng.standard_normal((n, 2))

    m = Model.from_string(text, "x1 x2", "a1 a2 b1 b2", name="gaussian_mixture_2d",
                          sampler=sampler)
    return Builtin("gaussian_mixture_2d", m, truth, "two-component Gaussian mixture in 2-D")


def student_t(nu: int = 5, mu: float = 0.0, s: float = 1.0) -> Builtin:
    """f(x) = (1 + (x - mu)^2 / (nu s^2))^(-(nu + 1)/2), location mu and scale s, nu fixed.

    >>> student_t(nu=3).model.log_density            # -(nu + 1)/2 = -2
    -2*log(1 + (-mu + x)**2/(3*s**2))
    >>> student_t().model.score[0]                   # (nu + 1)(mu - x) / (nu s^2 + (x - mu)^2)
    (6*mu - 6*x)/(mu**2 - 2*mu*x + 5*s**2 + x**2)
    """
    text = f"(1 + (x - mu)**2 / ({nu}*s**2))**(-({nu} + 1)/2)"
    def sampler(rng, n, p):
        return p["mu"] + p["s"] * rng.standard_t(nu, size=(n, 1))

    m = Model.from_string(text, "x", "mu s", positive="s", name="student_t", sampler=sampler)
    return Builtin("student_t", m, {"mu": mu, "s": s}, f"Student-t with nu = {nu}")


def logcosh(d: int = 3, W=None, seed: int = 0) -> Builtin:
    """ICA-style model log f(x) = -sum_i log cosh(w_i . x) - ||x||^2 / 2 with a given W (d x d).

    Without W, a seeded Gaussian matrix scaled by 1/sqrt(d), rounded to 3 decimals (exact).

    >>> import numpy as np
    >>> logcosh(2, W=np.eye(2)).model.log_density
    -x1**2/2 - x2**2/2 - log(cosh(x1)) - log(cosh(x2))
    >>> b = logcosh()                                # 3-D, W = mixing_matrix(3, 0), no params
    >>> b.model.params, b.sample(5, seed=0).shape
    ((), (5, 3))
    """
    W = mixing_matrix(d, seed) if W is None else np.asarray(W, dtype=float)
    if W.shape != (d, d):
        raise ScoresymInputError(f"W must have shape ({d}, {d}), got {W.shape}")
    xs = _reals("x", d)
    entries = [[_exact(w) for w in row] for row in W]
    projections = [sympy.Add(*[w * x for w, x in zip(row, xs)]) for row in entries]
    log_f = -sympy.Add(*[sympy.log(sympy.cosh(u)) for u in projections]) \
        - sympy.Add(*[x**2 for x in xs]) / 2
    name = f"logcosh_{d}d"
    W_float = np.array([[float(w) for w in row] for row in entries])

    def sampler(rng, n, p):
        # Exact rejection sampling: f(x) = N(x; 0, I) prod_i sech(w_i . x) up to a constant,
        # and sech <= 1, so a standard normal proposal is accepted with probability
        # prod_i sech(w_i . x).
        return rejection_sample(
            rng, n, lambda k: rng.standard_normal((k, d)),
            lambda X: -np.sum(np.logaddexp(X @ W_float.T, -X @ W_float.T) - np.log(2), axis=1))

    model = Model(log_f, xs, (), name=name, sampler=sampler)
    return Builtin(name, model, {}, f"log-cosh ICA model in {d}-D with fixed W")


def mixing_matrix(d: int, seed: int) -> np.ndarray:
    """The default W of :func:`logcosh`: W = round(Z / sqrt(d), 3), Z a d x d matrix of
    standard normal draws from ``numpy.random.default_rng(seed)``.

    >>> mixing_matrix(2, 0)
    array([[ 0.089, -0.093],
           [ 0.453,  0.074]])
    """
    return np.round(np.random.default_rng(seed).standard_normal((d, d)) / np.sqrt(d), 3)


def _exact(w: float) -> sympy.Expr:
    """A float with at most 3 decimals as an exact Rational, any other float as a Float."""
    scaled = round(w * 1000)
    return sympy.Rational(scaled, 1000) if abs(w * 1000 - scaled) < 1e-9 else sympy.Float(w)


def quartic_1d() -> Builtin:
    """log f(x) = t1 x + t2 x^2 - t4 x^4: an exponential family, linear in its parameters.

    >>> b = quartic_1d()
    >>> b.model.score[0], b.truth                    # s = t1 + 2 t2 x - 4 t4 x^3
    (t1 + 2*t2*x - 4*t4*x**3, {'t1': 0.5, 't2': 1.0, 't4': 0.5})
    """
    m = Model.from_string("t1*x + t2*x**2 - t4*x**4", "x", "t1 t2 t4", kind="log",
                          positive="t4", name="quartic_1d", sampler=_quartic_sampler)
    return Builtin("quartic_1d", m, {"t1": 0.5, "t2": 1.0, "t4": 0.5},
                   "quartic exponential family in 1-D")


def _quartic_sampler(rng, n: int, p: dict) -> np.ndarray:
    """Exact rejection from N(0, 1): log f(x) + x^2/2 = t1 x + (t2 + 1/2) x^2 - t4 x^4 is
    bounded above (t4 > 0); its maximum, found on a grid and refined, bounds the ratio."""
    import scipy.optimize

    if p["t4"] <= 0:
        raise ScoresymInputError("the quartic density needs t4 > 0")
    ratio = lambda x: p["t1"] * x + (p["t2"] + 0.5) * x**2 - p["t4"] * x**4  # noqa: E731
    grid = np.linspace(-20, 20, 40_001)
    start = grid[np.argmax(ratio(grid))]
    best = scipy.optimize.minimize_scalar(lambda x: -ratio(x), bracket=(start - 1e-3, start + 1e-3))
    bound = max(-best.fun, ratio(grid).max()) + 1e-9
    return rejection_sample(rng, n, lambda k: rng.standard_normal((k, 1)),
                            lambda X: ratio(X[:, 0]) - bound)


def exponential(lam: float = 1.5) -> Builtin:
    """f(x) = exp(-lam x) on (0, oo): its boundary term p(x) s(x) does not vanish at 0.

    >>> m = exponential().model
    >>> m.score[0], m.hyvarinen                      # s = -lam: p s -> -lam p(0) != 0 at 0
    (-lam, lam**2/2)
    """
    def sampler(rng, n, p):
        return rng.exponential(1.0 / p["lam"], size=(n, 1))

    m = Model.from_string("exp(-lam*x)", "x", "lam", positive="lam", domain={"x": (0, "oo")},
                          name="exponential", sampler=sampler)
    return Builtin("exponential", m, {"lam": lam},
                   "exponential density on (0, oo), boundary term does not vanish",
                   hyvarinen_valid=False, fit_weight="x")


def truncated_normal(eta1: float = 1.0, eta2: float = 1.0) -> Builtin:
    """f(x) = exp(eta1 x - eta2 x^2 / 2) on (0, oo): a normal N(eta1/eta2, 1/eta2) truncated to
    x > 0, in natural parameters (so the objective is quadratic in them). p(0) > 0 and
    s(0) = eta1 != 0: the boundary term does not vanish; fit it with a weight.

    >>> b = truncated_normal()
    >>> b.model.score[0], b.fit_weight               # s = eta1 - eta2 x, w(x) = x
    (eta1 - eta2*x, 'x')
    >>> bool(b.sample(1000, seed=0).min() > 0)
    True
    """
    def sampler(rng, n, p):
        # inverse CDF of N(0, 1) truncated to z > a = -mean/sd: P(Z > z) = Phi(-z)/Phi(-a),
        # so Z = -Phi^-1(U Phi(-a)), accurate far in the upper tail
        from scipy.special import ndtr, ndtri

        mean, sd = p["eta1"] / p["eta2"], 1.0 / np.sqrt(p["eta2"])
        z = -ndtri(rng.uniform(size=(n, 1)) * ndtr(mean / sd))
        return np.maximum(mean + sd * z, np.nextafter(0.0, 1.0))

    m = Model.from_string("eta1*x - eta2*x**2/2", "x", "eta1 eta2", kind="log",
                          positive="eta2", domain={"x": (0, "oo")}, name="truncated_normal",
                          sampler=sampler)
    return Builtin("truncated_normal", m, {"eta1": eta1, "eta2": eta2},
                   "normal truncated to (0, oo), natural parameters", hyvarinen_valid=False,
                   fit_weight="x")


def gamma(k: float = 1.5, lam: float = 2.0) -> Builtin:
    """f(x) = x^(k - 1) exp(-lam x) on (0, oo). Its boundary term f s = x^(k-2)((k-1) - lam x)
    at 0 does not vanish for k <= 2 and is not zero over the parameter space: fit it with a
    weight.

    >>> b = gamma()
    >>> b.model.score[0], b.truth                    # s = (k - 1)/x - lam
    ((k - lam*x - 1)/x, {'k': 1.5, 'lam': 2.0})
    """
    def sampler(rng, n, p):
        return rng.gamma(p["k"], 1.0 / p["lam"], size=(n, 1))

    m = Model.from_string("x**(k - 1) * exp(-lam*x)", "x", "k lam", positive="k lam",
                          domain={"x": (0, "oo")}, name="gamma", sampler=sampler)
    return Builtin("gamma", m, {"k": k, "lam": lam}, "Gamma density on (0, oo)",
                   hyvarinen_valid=False, fit_weight="x")


#: name -> factory with default arguments.
FACTORIES = {
    "gaussian_1d": gaussian_1d,
    "gaussian_iso_3d": lambda: gaussian_isotropic(3),
    "gaussian_full_3d": lambda: gaussian_full(3),
    "gaussian_mixture_2d": gaussian_mixture_2d,
    "student_t": student_t,
    "logcosh_3d": lambda: logcosh(3),
    "quartic_1d": quartic_1d,
    "exponential": exponential,
    "truncated_normal": truncated_normal,
    "gamma": gamma,
}


def names() -> list:
    """The names of the built-in models, in a fixed order.

    >>> names()[:4]
    ['gaussian_1d', 'gaussian_iso_3d', 'gaussian_full_3d', 'gaussian_mixture_2d']
    >>> len(names()), names() == list(FACTORIES)
    (10, True)
    """
    return list(FACTORIES)


def get(name: str) -> Builtin:
    """The built-in model called ``name`` (see :func:`names`): FACTORIES[name]() with its
    default arguments.

    >>> b = get("gamma")
    >>> b.name, b.model.dim, b.truth
    ('gamma', 1, {'k': 1.5, 'lam': 2.0})
    """
    if name not in FACTORIES:
        raise ScoresymInputError(f"no built-in model {name!r}; choose from {', '.join(FACTORIES)}")
    return FACTORIES[name]()


def all_builtins() -> list:
    """Every built-in model, freshly built: [get(name) for name in names()].

    >>> [b.name for b in all_builtins()] == names()
    True
    """
    return [get(name) for name in FACTORIES]
