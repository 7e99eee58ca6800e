"""The corpus of user densities: strings as users type them, each built twice, with and
without positivity declarations, and held to the mathematics.

One table, CASES: per density its string, its true parameters, an independent reference (SciPy
or NumPy: log-density and exact draws), where it is a density (a predicate on the parameter
values, with probe points that ``model.conditions.holds`` must get right), where the boundary
term of score matching p s (or p w s with a weight) vanishes at every edge (likewise for
``scoresym.boundary_conditions``), a test function g for Stein's identity and, on a bounded
domain, a weight that makes score matching valid. The tests below run over the table.

The predicates were derived by hand and checked with one-sided limits and quadrature; where
they differ from a first guess, the docstring of the predicate says why (Weibull and Gumbel are
densities for a negative shape or scale too; the quartic family is one at t4 = 0 when t2 < 0;
Gamma's p s at 0 vanishes only for k > 2, not at k = 1).
"""

from __future__ import annotations

import math
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import sympy
from scipy import special, stats
from scipy.stats.sampling import NumericalInversePolynomial

import scoresym as ss
from scoresym import ScoresymInputError, cli

SECONDS = 60.0      # every call into scoresym returns within this: a guard against hangs;
                    # the time of each call is measured by benchmarks/user_densities.py
N_DRAWS = 3000      # exact draws at the truth, for fits, Monte Carlo and probe points
N_STDERR = 4.0      # a fit recovers each parameter within this many standard errors


# --- references: an independent log-density and exact draws ----------------------------------

@dataclass(frozen=True)
class Reference:
    """log p up to a constant over points (n, d), and exact draws ``sample(rng, n)`` (n, d)."""

    logpdf: Callable
    sample: Callable


def frozen(dist, d: int = 1) -> Reference:
    """A frozen SciPy distribution (univariate, or multivariate in d dimensions)."""
    logpdf = (lambda X: dist.logpdf(X[:, 0])) if d == 1 else dist.logpdf
    return Reference(logpdf, lambda rng, n: np.reshape(dist.rvs(size=n, random_state=rng),
                                                       (n, d)))


def inverted(logpdf, domain=(-np.inf, np.inf), center=0.0) -> Reference:
    """A 1-D log-density written in NumPy, drawn from by SciPy's numerical inversion (PINV)."""
    class Density:
        def pdf(self, x):
            with np.errstate(divide="ignore"):  # log 0 at a finite edge
                return np.exp(logpdf(x))

    def sample(rng, n):
        generator = NumericalInversePolynomial(Density(), center=center, domain=domain,
                                               random_state=rng)
        return generator.rvs(n).reshape(n, 1)

    return Reference(lambda X: logpdf(X[:, 0]), sample)


def tilted(base, tilt, bound: float, d: int = 1) -> Reference:
    """base(x) exp(tilt(X)) with tilt <= bound: drawn by rejection from the frozen ``base``."""
    def logpdf(X):
        return base.logpdf(X[:, 0] if d == 1 else X) + tilt(X)

    def sample(rng, n):
        kept = np.empty((0, d))
        while len(kept) < n:
            X = np.reshape(base.rvs(size=2 * n, random_state=rng), (2 * n, d))
            kept = np.vstack([kept, X[rng.uniform(size=2 * n) < np.exp(tilt(X) - bound)]])
        return kept[:n]

    return Reference(logpdf, sample)


def gaussian_sum(means, variances) -> Reference:
    """sum_k exp(-(x - m_k)^2 / (2 v_k)) = sum_k sqrt(2 pi v_k) N(x; m_k, v_k): a mixture whose
    weights are proportional to sqrt(v_k)."""
    means, sd = np.asarray(means, float), np.sqrt(np.asarray(variances, float))
    weights = sd / sd.sum()

    def sample(rng, n):
        k = rng.choice(len(means), size=n, p=weights)
        return (means[k] + sd[k] * rng.standard_normal(n)).reshape(n, 1)

    return Reference(lambda X: special.logsumexp(stats.norm.logpdf(X, means, sd), b=weights,
                                                 axis=1), sample)


def banana(s: float, b: float) -> Reference:
    """x ~ N(0, s), y | x ~ N(b x^2, 1)."""
    def sample(rng, n):
        x = math.sqrt(s) * rng.standard_normal(n)
        return np.column_stack([x, b * x**2 + rng.standard_normal(n)])

    return Reference(lambda X: stats.norm.logpdf(X[:, 0], 0, math.sqrt(s))
                     + stats.norm.logpdf(X[:, 1] - b * X[:, 0] ** 2), sample)


def von_mises(k: float, m: float) -> Reference:
    """SciPy's von Mises, wrapped onto (-pi, pi)."""
    def wrap(x):
        return np.mod(x + np.pi, 2 * np.pi) - np.pi

    return Reference(lambda X: stats.vonmises(k).logpdf(wrap(X[:, 0] - m)),
                     lambda rng, n: wrap(stats.vonmises(k, loc=m).rvs(size=n, random_state=rng)
                                         ).reshape(n, 1))


def correlated_gaussian(r: float, s: float) -> Reference:
    """exp(-(x^2 - 2 r x y + y^2) / (2 s)): precision [[1, -r], [-r, 1]] / s."""
    return frozen(stats.multivariate_normal(cov=s / (1 - r**2) * np.array([[1, r], [r, 1]])), 2)


def precision_3d(a: float, c: float) -> np.ndarray:
    """The quadratic form a (x^2 + y^2 + z^2) + 2 c (x y + y z) as a matrix."""
    return np.array([[a, c, 0.0], [c, a, c], [0.0, c, a]])


# --- where a condition holds ------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """Where a condition holds: a predicate on the parameter values, and probe points (each an
    override of the truth; the truth itself is always probed) where scoresym must agree."""

    predicate: Callable
    probes: tuple = ()


def always(p: dict) -> bool:
    return True


def never(p: dict) -> bool:
    return False


def positive(*names):
    return lambda p: all(p[n] > 0 for n in names)


def nonzero(name: str):
    return lambda p: p[name] != 0


def beta_edges(p: dict) -> bool:
    """p s -> 0 at both edges of (0, 1) for x^(a-1) (1-x)^(b-1) (and for Kumaraswamy's
    x^(a-1) (1-x^a)^(b-1), the same near each edge): at 0, p s ~ (a-1) x^(a-2) - (b-1) x^(a-1),
    zero in the limit iff a > 2 or a = b = 1 (a = 1 alone leaves -(b-1)); at 1 likewise in b."""
    return (p["a"] > 2 and p["b"] > 2) or p["a"] == p["b"] == 1


def beta_edges_weighted(p: dict) -> bool:
    """x (1-x) p s ~ (a-1) x^(a-1) - (b-1) x^a at 0: zero in the limit iff a >= 1; at 1, b >= 1."""
    return p["a"] >= 1 and p["b"] >= 1


def weibull_density(p: dict) -> bool:
    """x^(k-1) exp(-(x/lam)^k) is integrable on (0, oo) for every k != 0 when lam > 0: for
    k < 0 it is the Frechet density (exp(-(x/lam)^k) -> 0 at 0, x^(k-1) integrable at oo)."""
    return p["lam"] > 0 and p["k"] != 0


def weibull_edges(p: dict) -> bool:
    """p s = (k-1) x^(k-2) e - k x^(2k-2) lam^-k e at 0: zero in the limit iff k > 2 (k = 1
    leaves -1/lam); for k < 0 the factor exp(-(x/lam)^k) kills both terms."""
    return p["k"] > 2 or p["k"] < 0


def weibull_edges_weighted(p: dict) -> bool:
    """x p s = (k-1) x^(k-1) e - k x^(2k-1) lam^-k e at 0: zero in the limit iff k >= 1
    (or k < 0)."""
    return p["k"] >= 1 or p["k"] < 0


def quartic_density(p: dict) -> bool:
    """exp(t1 x + t2 x^2 - t4 x^4) is integrable iff t4 > 0, or t4 = 0 and t2 < 0 (Gaussian)."""
    return p["t4"] > 0 or (p["t4"] == 0 and p["t2"] < 0)


def t3d_density(p: dict) -> bool:
    """(1 + Q/5)^-4 is integrable iff Q is positive definite: the eigenvalues of
    [[a, c, 0], [c, a, c], [0, c, a]] are a and a +- sqrt(2) c."""
    return p["a"] > math.sqrt(2) * abs(p["c"])


def gamma_edges(p: dict) -> bool:
    """p s = (k-1) x^(k-2) e^(-lam x) - lam x^(k-1) e^(-lam x) at 0: zero iff k > 2 (at k = 1
    it is -lam, at k = 2 it is 1)."""
    return p["k"] > 2


# --- the corpus -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """A user's density, how it is typed, and what the mathematics says about it."""

    id: str
    density: str
    params: str
    truth: dict
    reference: Callable                 # params -> Reference
    integrable: Rule                    # f is a density (integrable, real and >= 0)
    vanishes: Rule                      # p s -> 0 at every edge of the domain
    positive: str                       # declared in the "declared" variant
    variables: str = "x"
    domain: tuple | None = None         # the interval of x, where it is not the real line
    stein: str = "x"                    # a test function whose boundary term vanishes
    weight: str | None = None           # a weight of generalized score matching
    weighted: Rule | None = None        # p w s -> 0 at every edge
    init: dict | None = None            # where a fit should start (mixtures)
    sign_free: tuple = ()               # parameters f identifies only up to sign
    text: tuple = ()                    # what step 1 of the derivation names
    derive_at: tuple = ()               # more points to check the derivation at
    periodic: bool = False              # f and s agree at both edges: their terms cancel

    @property
    def dim(self) -> int:
        return len(self.variables.split())

    @property
    def fit_weight(self) -> str | None:
        """The weight of the fit: none where plain score matching is valid at the truth (its
        boundary term vanishes, or cancels between the edges of a periodic density)."""
        return None if self.bracket_vanishes(self.truth) else self.weight

    def bracket_vanishes(self, params: dict) -> bool:
        """[p s] over the domain is zero: p s vanishes at every edge, or (periodic f) the two
        edges' terms cancel, so integration by parts leaves no boundary term."""
        return self.periodic or self.vanishes.predicate(params)

    def at(self, override: dict) -> dict:
        return {**self.truth, **override}

    def nearby(self) -> dict:
        """Other parameter values, still valid: the model's side of a Fisher check."""
        return {k: 1.1 * v + 0.05 for k, v in self.truth.items()}


EVERYWHERE = Rule(always)  # on the real line, p s -> 0 wherever f is a density
HALF_LINE = (0, "oo")

CASES = [
    Case("gaussian_mu_s2", "exp(-(x - mu)**2/(2*s2))", "mu s2", {"mu": 0.5, "s2": 2.0},
         lambda p: frozen(stats.norm(p["mu"], math.sqrt(p["s2"]))),
         Rule(positive("s2"), ({"mu": 0, "s2": 1}, {"mu": 0, "s2": -1}, {"s2": 0},
                               {"mu": -3, "s2": 0.01})),
         Rule(always, ({"mu": -2, "s2": 0.3},)), "s2", text=("s2 > 0",)),
    Case("gaussian_mu_s", "exp(-(x - mu)**2/(2*s**2))", "mu s", {"mu": -0.3, "s": 1.4},
         lambda p: frozen(stats.norm(p["mu"], abs(p["s"]))),
         Rule(nonzero("s"), ({"s": -1.4}, {"s": 0})), EVERYWHERE, "s", sign_free=("s",)),
    Case("exponential", "exp(-lam*x)", "lam", {"lam": 1.5},
         lambda p: frozen(stats.expon(scale=1 / p["lam"])),
         Rule(positive("lam"), ({"lam": -1}, {"lam": 0}, {"lam": 0.2})),
         Rule(never, ({"lam": 3},)), "lam", domain=HALF_LINE, weight="x",
         weighted=Rule(always, ({"lam": 3},)), text=("lam > 0",)),
    Case("gamma_k_below_1", "x**(k - 1)*exp(-lam*x)", "k lam", {"k": 0.7, "lam": 1.5},
         lambda p: frozen(stats.gamma(p["k"], scale=1 / p["lam"])),
         Rule(positive("k", "lam"), ({"k": -0.5}, {"lam": -1}, {"k": 0}, {"k": 3})),
         Rule(gamma_edges, ({"k": 3.5}, {"k": 1}, {"k": 2}, {"k": 1.5}, {"k": 2.5})),
         "k lam", domain=HALF_LINE, weight="x**2", weighted=Rule(always, ({"k": 0.3},)),
         text=("k > 0", "lam > 0")),
    Case("gamma_k_above_2", "x**(k - 1)*exp(-lam*x)", "k lam", {"k": 3.5, "lam": 2.0},
         lambda p: frozen(stats.gamma(p["k"], scale=1 / p["lam"])),
         Rule(positive("k", "lam"), ({"k": -0.5}, {"lam": 0})),
         Rule(gamma_edges, ({"k": 1}, {"k": 2}, {"k": 2.2})),
         "k lam", domain=HALF_LINE, weight="x",
         weighted=Rule(lambda p: p["k"] >= 1, ({"k": 1}, {"k": 0.7}, {"k": 1.5})),
         text=("k > 0", "lam > 0")),
    *[Case(f"beta_{a}_{b}", "x**(a - 1)*(1 - x)**(b - 1)", "a b", {"a": a, "b": b},
           lambda p: frozen(stats.beta(p["a"], p["b"])),
           Rule(positive("a", "b"), ({"a": -0.5}, {"b": 0}, {"a": 2, "b": 5}, {"a": 1, "b": 1})),
           Rule(beta_edges, ({"a": 2.5, "b": 3.5}, {"a": 1.5, "b": 3.5}, {"a": 0.5, "b": 0.5},
                             {"a": 1, "b": 1}, {"a": 1, "b": 3}, {"a": 3, "b": 1},
                             {"a": 2, "b": 3})),
           "a b", domain=(0, 1), stein="x*(1 - x)", weight=weight, weighted=weighted,
           text=("a > 0", "b > 0"), derive_at=derive_at)
      for a, b, weight, weighted, derive_at in [
          (0.5, 0.5, "x**2*(1 - x)**2", Rule(always, ({"a": 0.2, "b": 3},)), ()),
          (2.5, 3.5, "x*(1 - x)", Rule(beta_edges_weighted, (
              {"a": 1, "b": 1}, {"a": 0.5, "b": 2}, {"a": 1, "b": 3}, {"a": 2, "b": 0.7})),
           ({"a": 3, "b": 4}, {"a": 1.5, "b": 3})),
          (0.7, 3.0, "x**2*(1 - x)**2", Rule(always, ({"a": 0.2, "b": 0.4},)), ())]],
    *[Case(f"weibull_{k}", "x**(k - 1)*exp(-(x/lam)**k)", "k lam", {"k": k, "lam": 1.3},
           lambda p: frozen(stats.weibull_min(p["k"], scale=p["lam"])),
           Rule(weibull_density, ({"k": -1.5}, {"k": 0}, {"lam": -1}, {"lam": 0})),
           Rule(weibull_edges, ({"k": 2.5}, {"k": 1}, {"k": 2}, {"k": 1.5}, {"k": 0.7},
                                {"k": -1.5})),
           "k lam", domain=HALF_LINE, weight=weight, weighted=weighted,
           text=("lam > 0",))
      for k, weight, weighted in [
          (0.7, "x**2", Rule(always, ({"k": 0.3},))),
          (1.5, "x", Rule(weibull_edges_weighted, ({"k": 1}, {"k": 0.7}, {"k": 0.5}, {"k": 3},
                                                   {"k": -1.5}))),
          (2.5, "x", Rule(weibull_edges_weighted, ({"k": 1}, {"k": 0.5})))]],
    Case("log_normal", "exp(-(log(x) - m)**2/(2*s**2))/x", "m s", {"m": 0.2, "s": 0.6},
         lambda p: frozen(stats.lognorm(abs(p["s"]), scale=math.exp(p["m"]))),
         Rule(nonzero("s"), ({"s": -0.6}, {"s": 0})), Rule(always, ({"m": -1, "s": 2},)), "s",
         domain=HALF_LINE, sign_free=("s",)),
    Case("inverse_gamma", "x**(-a - 1)*exp(-b/x)", "a b", {"a": 3.0, "b": 2.0},
         lambda p: frozen(stats.invgamma(p["a"], scale=p["b"])),
         Rule(positive("a", "b"), ({"a": -1}, {"b": -1}, {"b": 0}, {"a": 0},
                                   {"a": 0.5, "b": 0.1})),
         Rule(always, ({"a": 0.5, "b": 0.1},)), "a b", domain=HALF_LINE,
         text=("a > 0", "b > 0")),
    Case("logistic", "exp(-(x - m)/s)/(1 + exp(-(x - m)/s))**2", "m s", {"m": 1.0, "s": 0.7},
         lambda p: frozen(stats.logistic(p["m"], abs(p["s"]))),
         Rule(nonzero("s"), ({"s": -0.7}, {"s": 0})), EVERYWHERE, "s", sign_free=("s",)),
    # s < 0 is the Gumbel density reflected: integrable, a density, and not the same one
    Case("gumbel", "exp(-(x - m)/s - exp(-(x - m)/s))", "m s", {"m": -0.5, "s": 1.2},
         lambda p: frozen(stats.gumbel_r(p["m"], p["s"])),
         Rule(nonzero("s"), ({"s": -1.2}, {"s": 0})), EVERYWHERE, "s"),
    Case("skew_normal", "exp(-x**2/2)*(1 + erf(a*x/sqrt(2)))", "a", {"a": 3.0},
         lambda p: frozen(stats.skewnorm(p["a"])),
         Rule(always, ({"a": -3}, {"a": 0})), EVERYWHERE, "a"),
    Case("student_t_nu5", "(1 + ((x - m)/s)**2/5)**(-3)", "m s", {"m": 0.5, "s": 1.5},
         lambda p: frozen(stats.t(5, p["m"], abs(p["s"]))),
         Rule(nonzero("s"), ({"s": -1.5}, {"s": 0})), EVERYWHERE, "s", sign_free=("s",)),
    Case("student_t_nu2.5", "(1 + ((x - m)/s)**2/2.5)**(-1.75)", "m s", {"m": 0.0, "s": 0.8},
         lambda p: frozen(stats.t(2.5, p["m"], abs(p["s"]))),
         Rule(nonzero("s"), ({"s": -0.8}, {"s": 0})), EVERYWHERE, "s", sign_free=("s",)),
    Case("student_t_nu_free", "(1 + (x - m)**2/nu)**(-(nu + 1)/2)", "m nu",
         {"m": 0.3, "nu": 4.0}, lambda p: frozen(stats.t(p["nu"], p["m"])),
         Rule(positive("nu"), ({"nu": -2}, {"nu": 0}, {"nu": 0.5})), EVERYWHERE, "nu",
         text=("nu > 0",)),
    # the hyperbolic density: SciPy's genhyperbolic with p = 1, a = 1/s, b = 0
    Case("laplace_smooth", "exp(-sqrt(1 + (x - m)**2)/s)", "m s", {"m": 0.4, "s": 0.9},
         lambda p: frozen(stats.genhyperbolic(1, 1 / p["s"], 0, loc=p["m"])),
         Rule(positive("s"), ({"s": -1}, {"s": 0})), EVERYWHERE, "s", text=("s > 0",)),
    Case("cauchy", "1/(1 + ((x - m)/s)**2)", "m s", {"m": -1.0, "s": 2.0},
         lambda p: frozen(stats.cauchy(p["m"], abs(p["s"]))),
         Rule(nonzero("s"), ({"s": -2}, {"s": 0})), EVERYWHERE, "s", sign_free=("s",)),
    Case("generalized_normal_smooth", "exp(-(1 + ((x - m)/s)**2)**(b/2))", "m s b",
         {"m": 0.3, "s": 1.2, "b": 1.5},
         lambda p: inverted(lambda x: -(1 + ((x - p["m"]) / p["s"]) ** 2) ** (p["b"] / 2),
                            center=p["m"]),
         Rule(lambda p: p["b"] > 0 and p["s"] != 0,
              ({"b": -1}, {"b": 0}, {"s": -1.2}, {"s": 0}, {"b": 0.3})),
         EVERYWHERE, "s b", sign_free=("s",), text=("b > 0",)),
    # p s = -k sin(x - m) p at x = +-pi is zero only for k = 0 (at these m); the two edges'
    # terms cancel exactly (f is periodic), so the derivation and Fisher's identity hold
    Case("von_mises", "exp(k*cos(x - m))", "k m", {"k": 2.0, "m": 0.5},
         lambda p: von_mises(p["k"], p["m"]),
         Rule(always, ({"k": -2}, {"k": 0}, {"m": 3})),
         Rule(lambda p: p["k"] == 0, ({"k": 0}, {"k": 0.5, "m": -1})), "k",
         domain=("-pi", "pi"), stein="(pi - x)*(pi + x)", weight="(pi - x)*(pi + x)",
         weighted=Rule(always, ({"k": 0.5, "m": -1},)),
         periodic=True),
    Case("correlated_gaussian_2d", "exp(-(x**2 - 2*r*x*y + y**2)/(2*s))", "r s",
         {"r": 0.5, "s": 1.5}, lambda p: correlated_gaussian(p["r"], p["s"]),
         Rule(lambda p: p["s"] > 0 and abs(p["r"]) < 1,
              ({"r": 1}, {"r": -1.2}, {"s": -1}, {"s": -1, "r": 2}, {"r": -0.9},
               {"r": 0.99, "s": 0.1})),
         Rule(always, ({"r": -0.9},)), "s", variables="x y", stein="x, y", text=("s > 0",)),
    Case("banana_2d", "exp(-x**2/(2*s) - (y - b*x**2)**2/2)", "s b", {"s": 1.2, "b": 0.5},
         lambda p: banana(p["s"], p["b"]),
         Rule(positive("s"), ({"s": -1}, {"s": 0}, {"b": -2}, {"b": 0})),
         Rule(always, ({"b": -1},)), "s b", variables="x y", stein="x, y", text=("s > 0",)),
    Case("student_t_3d", "(1 + (a*(x**2 + y**2 + z**2) + 2*c*(x*y + y*z))/5)**(-4)", "a c",
         {"a": 1.0, "c": 0.4},
         lambda p: frozen(stats.multivariate_t(np.zeros(3),
                                               np.linalg.inv(precision_3d(p["a"], p["c"])), 5), 3),
         Rule(t3d_density, ({"c": 0.8}, {"c": -0.6}, {"a": -1}, {"c": 0.7}, {"c": 0.71},
                            {"a": 0.5, "c": 0}, {"a": 0, "c": 0})),
         EVERYWHERE, "a c", variables="x y z", stein="x, y, z"),
    Case("mixture_2", "exp(-(x - m1)**2/(2*s2)) + exp(-(x - m2)**2/(2*s2))", "m1 m2 s2",
         {"m1": -1.5, "m2": 1.5, "s2": 0.8},
         lambda p: gaussian_sum([p["m1"], p["m2"]], [p["s2"]] * 2),
         Rule(positive("s2"), ({"s2": -1}, {"s2": 0}, {"m1": 1.5})), EVERYWHERE, "s2",
         init={"m1": -1.0, "m2": 1.0, "s2": 1.0}, text=("s2 > 0",)),
    Case("mixture_3",
         "exp(-(x + 3)**2/(2*s1)) + exp(-x**2/(2*s2)) + exp(-(x - 3)**2/(2*s3))", "s1 s2 s3",
         {"s1": 0.5, "s2": 1.0, "s3": 0.7},
         lambda p: gaussian_sum([-3, 0, 3], [p["s1"], p["s2"], p["s3"]]),
         Rule(positive("s1", "s2", "s3"), ({"s1": -1}, {"s3": 0}, {"s2": 5})), EVERYWHERE,
         "s1 s2 s3", text=("s1 > 0", "s2 > 0", "s3 > 0")),
    Case("cos_2d", "exp(-(x**2 + y**2)/2 + a*cos(w*x + y))", "a w", {"a": 0.8, "w": 1.5},
         lambda p: tilted(stats.multivariate_normal(np.zeros(2)),
                          lambda X: p["a"] * np.cos(p["w"] * X[:, 0] + X[:, 1]), abs(p["a"]), 2),
         Rule(always, ({"a": -0.8}, {"w": 0}, {"a": 5})), EVERYWHERE, "a w", variables="x y",
         stein="x, y", init={"a": 0.5, "w": 1.2}),
    Case("erf_inside", "exp(-x**2/(2*s2) + erf(c*(x - m)))", "s2 c m",
         {"s2": 1.5, "c": 1.2, "m": 0.4},
         lambda p: tilted(stats.norm(0, math.sqrt(p["s2"])),
                          lambda X: special.erf(p["c"] * (X[:, 0] - p["m"])), 1.0),
         Rule(positive("s2"), ({"s2": -1}, {"c": -1}, {"c": 0})), EVERYWHERE, "s2 c",
         init={"s2": 1.2, "c": 1.0, "m": 0.2}, text=("s2 > 0",)),
    Case("quartic", "exp(t1*x + t2*x**2 - t4*x**4)", "t1 t2 t4",
         {"t1": 0.5, "t2": 1.0, "t4": 0.5},
         lambda p: inverted(lambda x: p["t1"] * x + p["t2"] * x**2 - p["t4"] * x**4, center=1.0),
         Rule(quartic_density, ({"t4": -0.5}, {"t4": 0}, {"t4": 0, "t2": -1}, {"t4": 0, "t2": 0},
                                {"t4": 0.01, "t2": 5})),
         EVERYWHERE, "t4"),
    Case("truncated_normal", "exp(-(x - mu)**2/(2*s2))", "mu s2", {"mu": 0.5, "s2": 1.0},
         lambda p: frozen(stats.truncnorm(-p["mu"] / math.sqrt(p["s2"]), np.inf, p["mu"],
                                          math.sqrt(p["s2"]))),
         Rule(positive("s2"), ({"s2": -1}, {"mu": -3}, {"s2": 0})),
         Rule(lambda p: p["mu"] == 0, ({"mu": 0}, {"mu": -1})), "s2", domain=HALF_LINE,
         weight="x", weighted=Rule(always, ({"mu": -1},)), text=("s2 > 0",)),
    Case("pareto", "x**(-a - 1)", "a", {"a": 2.5}, lambda p: frozen(stats.pareto(p["a"])),
         Rule(positive("a"), ({"a": -1}, {"a": 0}, {"a": 0.1})), Rule(never, ({"a": 0.1},)),
         "a", domain=(1, "oo"), stein="x - 1", weight="x - 1",
         weighted=Rule(always, ({"a": 0.1},)), text=("a > 0",)),
    Case("kumaraswamy", "x**(a - 1)*(1 - x**a)**(b - 1)", "a b", {"a": 1.5, "b": 3.0},
         lambda p: inverted(lambda x: (p["a"] - 1) * np.log(x)
                            + (p["b"] - 1) * np.log1p(-x ** p["a"]), (0, 1), 0.4),
         Rule(positive("a", "b"), ({"a": -1}, {"b": -1}, {"a": 0}, {"a": 0.3, "b": 0.3})),
         Rule(beta_edges, ({"a": 2.5, "b": 2.5}, {"a": 1, "b": 1}, {"a": 3, "b": 1.5},
                           {"a": 1, "b": 3})),
         "a b", domain=(0, 1), stein="x*(1 - x)", weight="x*(1 - x)",
         weighted=Rule(beta_edges_weighted, ({"a": 1, "b": 3}, {"a": 0.7, "b": 3},
                                             {"a": 1.5, "b": 0.5})),
         text=("a > 0", "b > 0")),
    Case("rayleigh", "x*exp(-x**2/(2*s2))", "s2", {"s2": 1.3},
         lambda p: frozen(stats.rayleigh(scale=math.sqrt(p["s2"]))),
         Rule(positive("s2"), ({"s2": -1}, {"s2": 0})), Rule(never, ({"s2": 4},)), "s2",
         domain=HALF_LINE, weight="x", weighted=Rule(always, ({"s2": 4},)), text=("s2 > 0",)),
    Case("maxwell", "x**2*exp(-x**2/(2*s2))", "s2", {"s2": 0.8},
         lambda p: frozen(stats.maxwell(scale=math.sqrt(p["s2"]))),
         Rule(positive("s2"), ({"s2": -1}, {"s2": 0})), Rule(always, ({"s2": 4},)), "s2",
         domain=HALF_LINE, text=("s2 > 0",)),
]


# --- helpers ----------------------------------------------------------------------------------

def variants(keep=lambda case, declared: True) -> list:
    """(case, declared) pairs, typed without positivity declarations and with them."""
    return [pytest.param(case, declared, id=f"{case.id}-{'declared' if declared else 'typed'}")
            for case in CASES for declared in (False, True) if keep(case, declared)]


def timed(call, *args, **kwargs):
    """call(*args, **kwargs), which must return (or raise) within SECONDS."""
    start = time.perf_counter()
    try:
        return call(*args, **kwargs)
    finally:
        elapsed = time.perf_counter() - start
        assert elapsed < SECONDS, f"{getattr(call, '__name__', call)} took {elapsed:.1f} s"


class Corpus:
    """Each model built once (its symbolic work and compiled code are cached on it), and each
    case's exact draws at the truth."""

    def __init__(self):
        self.models, self.samples = {}, {}

    def model(self, case: Case, declared: bool):
        key = (case.id, declared)
        if key not in self.models:
            domain = None if case.domain is None else {"x": case.domain}
            self.models[key] = timed(ss.Model.from_string, case.density, case.variables,
                                     case.params, domain=domain, name=case.id,
                                     positive=case.positive if declared else None)
        return self.models[key]

    def draws(self, case: Case) -> np.ndarray:
        if case.id not in self.samples:
            rng = np.random.default_rng(zlib.crc32(case.id.encode()))
            self.samples[case.id] = case.reference(case.truth).sample(rng, N_DRAWS)
        return self.samples[case.id]


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus()


def is_density(case: Case, declared: bool, params: dict) -> bool:
    """f is a density at ``params``, and the declared parameters are positive there."""
    signs = not declared or all(params[n] > 0 for n in case.positive.split())
    return signs and case.integrable.predicate(params)


def probed(case: Case, rule: Rule) -> list:
    """The truth and each of the rule's probe points."""
    return [case.truth, *map(case.at, rule.probes)]


def disagreements(conditions, points: list, expected) -> list:
    """The points where ``conditions.holds`` does not give the verdict ``expected(point)``."""
    wrong = []
    for point in points:
        got = timed(conditions.holds, point)
        if got is not expected(point):
            wrong.append(f"{point}: holds() -> {got!r}, expected {expected(point)}")
    return wrong


def boundary_rules(case: Case) -> list:
    """(weight, where p w s vanishes): plain, and weighted where the case has a weight."""
    return [(None, case.vanishes)] + ([(case.weight, case.weighted)] if case.weight else [])


def bound(value) -> float:
    return {"oo": math.inf, "pi": math.pi, "-pi": -math.pi}.get(value, value) * 1.0


def inner_points(case: Case, X: np.ndarray) -> np.ndarray:
    """Eight points well inside the domain: quantiles of the draws in 1-D, else draws."""
    if case.dim == 1:
        return np.quantile(X[:, 0], np.linspace(0.1, 0.9, 8))[:, None]
    return X[:8]


def reference_gradient(case: Case, logpdf, X: np.ndarray) -> np.ndarray:
    """Fourth-order central differences of ``logpdf``, coordinate by coordinate, with steps
    that stay well inside the domain."""
    h = 1e-3 * np.maximum(1.0, np.abs(X))
    if case.domain is not None:
        lo, hi = map(bound, case.domain)
        h = np.minimum(h, 1e-2 * np.minimum(X - lo, hi - X))
    gradient = np.empty_like(X)
    for k in range(X.shape[1]):
        e = np.zeros_like(X)
        e[:, k] = h[:, k]
        near, far = logpdf(X + e) - logpdf(X - e), logpdf(X + 2 * e) - logpdf(X - 2 * e)
        gradient[:, k] = (8 * near - far) / (12 * h[:, k])
    return gradient


def first_step(text: str) -> str:
    """The heading and step 1 of a derivation's text."""
    return text.split("\n2. ", 1)[0]


def verify_argv(case: Case, declared: bool, params: dict) -> list:
    """``scoresym verify --quick`` for the density as a user types it on the command line."""
    argv = ["verify", "--quick", "--density", case.density, "--variables", case.variables,
            "--params", case.params, "--at", ",".join(f"{k}={v!r}" for k, v in params.items())]
    if declared:
        argv += ["--positive", case.positive]
    if case.domain is not None:
        argv += ["--domain", "x={}:{}".format(*case.domain)]
    return argv


def names_the_parameter(name: str, text: str) -> bool:
    """``name`` appears in ``text`` as a parameter in a condition: s2 > 0, Ne(s, 0), Abs(r) < 1."""
    return re.search(rf"\b{re.escape(name)}\b\s*[<>=!,)≠≤≥]", text) is not None


def first_violation(case: Case, declared: bool) -> dict | None:
    """The first probe (an override of the truth) at which f is not a density."""
    return next((o for o in case.integrable.probes
                 if not is_density(case, declared, case.at(o))), None)


# --- the corpus itself ------------------------------------------------------------------------

def test_the_corpus_is_large_and_its_entries_are_consistent():
    assert len(CASES) >= 30 and len(variants()) >= 60
    assert len({case.id for case in CASES}) == len(CASES)
    for case in CASES:
        names = set(case.params.split())
        assert set(case.truth) == names and set(case.positive.split()) <= names, case.id
        assert case.integrable.predicate(case.truth), case.id
        rules = [case.integrable, case.vanishes] + ([case.weighted] if case.weighted else [])
        assert all(set(o) <= names for rule in rules for o in rule.probes), case.id
        assert (case.weight is None) == (case.weighted is None), case.id
        assert case.fit_weight is None or case.weighted.predicate(case.truth), case.id
        assert case.domain is not None or case.vanishes.predicate(case.truth), case.id


# --- conditions under which f is a density ----------------------------------------------------

@pytest.mark.parametrize("case, declared", variants())
def test_conditions_are_declared_or_inferred_booleans_in_the_parameters(case, declared, corpus):
    model = corpus.model(case, declared)
    conditions = timed(lambda: model.conditions)
    items = list(conditions)
    assert len(conditions) == len(items)
    for condition in items:
        assert isinstance(condition.expr, sympy.logic.boolalg.Boolean), condition
        assert {s.name for s in condition.expr.free_symbols} <= set(case.params.split())
        assert condition.origin in ("declared", "inferred"), condition
        assert isinstance(condition.reason, str) and condition.reason.strip(), condition
    declared_names = {s.name for c in items if c.origin == "declared" for s in c.expr.free_symbols}
    assert declared_names == (set(case.positive.split()) if declared else set())
    summary = str(conditions)
    assert summary.strip() and "\n" not in summary, summary
    assert timed(conditions.holds, case.truth) is True


@pytest.mark.parametrize("case, declared", variants())
def test_conditions_hold_exactly_where_f_is_a_density(case, declared, corpus):
    conditions = corpus.model(case, declared).conditions
    assert not disagreements(conditions, probed(case, case.integrable),
                             lambda p: is_density(case, declared, p))


# --- the boundary term of score matching ------------------------------------------------------

@pytest.mark.parametrize("case, declared", variants())
def test_boundary_conditions_hold_exactly_where_p_w_s_vanishes(case, declared, corpus):
    model = corpus.model(case, declared)
    wrong = []
    for weight, rule in boundary_rules(case):
        conditions = timed(ss.boundary_conditions, model, weight=weight)
        points = [p for p in probed(case, rule) if is_density(case, declared, p)]
        wrong += [f"weight {weight}: {w}" for w in
                  disagreements(conditions, points, rule.predicate)]
    assert not wrong


@pytest.mark.parametrize("case, declared", variants())
def test_check_boundary_agrees_with_the_boundary_conditions(case, declared, corpus):
    model = corpus.model(case, declared)
    wrong = []
    for weight, rule in boundary_rules(case):
        for point in [p for p in probed(case, rule) if is_density(case, declared, p)]:
            result = timed(ss.check_boundary, model, point, weight=weight)
            if result.ok is not rule.predicate(point):
                wrong.append(f"weight {weight} at {point}: {result}")
    assert not wrong


# --- derivations --------------------------------------------------------------------------------

@pytest.mark.parametrize("case, declared", variants())
def test_the_derivation_names_the_conditions_and_checks_as_expected(case, declared, corpus):
    """Derived in both variants; its numeric checks (the same numbers either way) run on the
    density as typed, without declarations, where the conditions had to be inferred."""
    model = corpus.model(case, declared)
    derivation = timed(ss.derive, model)
    step = first_step(timed(derivation.to_text))
    assert all(fragment in step for fragment in case.text), step
    if declared:
        return
    options = {"samples": corpus.draws(case)} if case.dim > 2 else {}
    for point in [case.truth, *map(case.at, case.derive_at)]:
        results = timed(derivation.check, point, **options)
        assert results, "no step was checked"
        assert not [str(r) for r in results
                    if r.details["expected_ok"] is not None and r.ok != r.details["expected_ok"]]
        # decided at the point checked: every step holds, or the boundary steps must fail
        verdicts = {r.details["expected_ok"] for r in results}
        if case.bracket_vanishes(point):
            assert verdicts == {True}, (point, verdicts)
        else:
            assert False in verdicts, (point, verdicts)


# --- checks against independent references -------------------------------------------------------

@pytest.mark.parametrize("case, declared", variants())
def test_the_compiled_score_is_the_gradient_of_the_reference(case, declared, corpus):
    X = inner_points(case, corpus.draws(case))
    compiled = timed(corpus.model(case, declared).lambdify)
    score = timed(compiled.score, X, **case.truth)
    reference = reference_gradient(case, case.reference(case.truth).logpdf, X)
    error = np.abs(score - reference) / np.maximum(1.0, np.abs(reference))
    assert error.max() <= 1e-6, np.column_stack([X, score, reference])


@pytest.mark.parametrize("case, declared", variants())
def test_steins_identity_holds(case, declared, corpus):
    how = {"method": "quad"} if case.dim <= 2 else {"samples": corpus.draws(case)}
    result = timed(ss.check_stein, corpus.model(case, declared), case.truth, case.stein, **how)
    assert result.ok, str(result)


@pytest.mark.parametrize("case, declared", variants(
    lambda case, declared: case.dim <= 2
    and case.bracket_vanishes(case.truth) and case.bracket_vanishes(case.nearby())))
def test_the_fisher_identity_holds_where_the_boundary_term_vanishes(case, declared, corpus):
    model = corpus.model(case, declared)
    result = timed(ss.check_fisher, model, case.truth, model, case.nearby(), method="quad")
    assert result.ok, str(result)


# --- fitting --------------------------------------------------------------------------------------

@pytest.mark.parametrize("case, declared", variants())
def test_the_fit_recovers_the_truth_or_says_why_not(case, declared, corpus):
    model = corpus.model(case, declared)
    try:
        fitted = timed(ss.fit, model, corpus.draws(case), weight=case.fit_weight, init=case.init)
    except ScoresymInputError as error:
        assert len(str(error).strip()) > 20, repr(error)
        return
    far = {}
    for name in fitted.names:
        estimate = abs(fitted.params[name]) if name in case.sign_free else fitted.params[name]
        if not abs(estimate - case.truth[name]) <= N_STDERR * fitted.stderr[name]:
            far[name] = (estimate, fitted.stderr[name])
    assert not far, f"(estimate, stderr) {far}; truth {case.truth}"


@pytest.mark.parametrize("case, declared", variants(
    lambda case, declared: case.fit_weight is not None))
def test_a_plain_fit_is_refused_where_the_boundary_term_stays(case, declared, corpus):
    with pytest.raises(ScoresymInputError, match="weight"):
        timed(ss.fit, corpus.model(case, declared), corpus.draws(case))


# --- the command line ---------------------------------------------------------------------------

@pytest.mark.parametrize("case, declared", variants(lambda case, declared: not declared))
def test_verify_passes_at_the_truth(case, declared, capsys):
    """As a user types the density on the command line, without declarations (with them, the
    same checks run on the same numbers)."""
    status = timed(cli.main, verify_argv(case, declared, case.truth))
    out, err = capsys.readouterr()
    assert status == 0, [row for row in out.splitlines() if row.endswith(("FAIL", "error"))] + [err]
    if case.fit_weight is not None:  # it chose a weight for its fit, and says which
        assert "weight" in out, out


@pytest.mark.parametrize("case, declared", variants(
    lambda case, declared: first_violation(case, declared) is not None))
def test_verify_refuses_parameters_where_f_is_not_a_density(case, declared, capsys):
    override = first_violation(case, declared)
    status = timed(cli.main, verify_argv(case, declared, case.at(override)))
    err = capsys.readouterr().err
    assert status == 2, err
    fragments = [t for t in case.text if t.split()[0] in override]
    assert (all(fragment in err for fragment in fragments) if fragments
            else any(names_the_parameter(name, err) for name in override)), err
