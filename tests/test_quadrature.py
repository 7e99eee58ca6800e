"""Quadrature of expectations under user densities: singular edges, heavy and skewed tails, 2-D;
checked against independent references (SciPy's distributions, closed forms, mpmath at 30
digits), through Stein's identity and the Fisher divergence where they hold and where they do
not, and failing fast and clearly where an integral does not exist.

Each density is typed as a user types it, with its positive parameters declared. Every case
must finish within SECONDS, and every value must lie within the tolerance the checks would give
it (QUAD_SAFETY x the integrator's error estimate, at least QUAD_FLOOR of its scale), which must
itself be small (no more than LOOSEST of the scale).
"""

from __future__ import annotations

import functools
import time

import mpmath
import numpy as np
import pytest
from scipy import special, stats

from scoresym import Model, ScoresymInputError, zoo
from scoresym.budget import BUDGETS
from scoresym.checks.fisher import check_fisher
from scoresym.checks.stein import check_stein
from scoresym.numerics.expectation import (
    QUAD_FLOOR,
    QUAD_SAFETY,
    integrate_over_domain,
    quadrature_expectation,
    quadrature_result,
)

SECONDS = 30.0  # each case, the model's compilation included: a guard against hangs
LOOSEST = 1e-7  # a tolerance looser than this (relative to the scale) is not a verdict

# name -> (f as a user types it, variables, parameters, positive parameters, domain)
DENSITIES = {
    "beta": ("x**(a-1)*(1-x)**(b-1)", "x", "a b", "a b", {"x": (0, 1)}),
    "weibull": ("x**(k-1)*exp(-(x/lam)**k)", "x", "k lam", "k lam", {"x": (0, "oo")}),
    "gamma": ("x**(k-1)*exp(-x/theta)", "x", "k theta", "k theta", {"x": (0, "oo")}),
    "lognormal": ("exp(-(log(x)-m)**2/(2*s**2))/x", "x", "m s", "s", {"x": (0, "oo")}),
    "inverse_gamma": ("x**(-a-1)*exp(-b/x)", "x", "a b", "a b", {"x": (0, "oo")}),
    "student_t": ("(1 + ((x-m)/s)**2/nu)**(-(nu+1)/2)", "x", "nu m s", "nu s", None),
    "logistic": ("exp(-(x-m)/s)/(1+exp(-(x-m)/s))**2", "x", "m s", "s", None),
    "gumbel": ("exp(-(x-m)/s - exp(-(x-m)/s))", "x", "m s", "s", None),
    "skew_normal": ("exp(-x**2/2)*(1+erf(a*x/sqrt(2)))", "x", "a", None, None),
    "gaussian_2d": ("exp(-(x1**2 - 2*r*x1*x2 + x2**2)/(2*(1 - r**2)))", "x1 x2", "r", None,
                    None),
    "banana": ("exp(-x1**2/2 - (x2 - b*x1**2)**2/2)", "x1 x2", "b", "b", None),
}


@functools.cache
def model(name: str) -> Model:
    text, variables, params, positive, domain = DENSITIES[name]
    return Model.from_string(text, variables, params, positive=positive, domain=domain,
                             name=name)


def timed(run):
    """run(), asserted to return within SECONDS."""
    start = time.perf_counter()
    value = run()
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS, f"took {elapsed:.2f} s"
    return value


# --- moments against SciPy ---------------------------------------------------------------------

# (density, parameters, the same distribution in SciPy, the moments that exist)
MOMENTS = [
    ("beta", {"a": 0.5, "b": 0.5}, stats.beta(0.5, 0.5), (1, 2)),
    ("beta", {"a": 0.7, "b": 3.0}, stats.beta(0.7, 3.0), (1, 2)),
    ("beta", {"a": 2.5, "b": 3.5}, stats.beta(2.5, 3.5), (1, 2)),
    ("weibull", {"k": 0.7, "lam": 1.3}, stats.weibull_min(0.7, scale=1.3), (1, 2)),
    ("weibull", {"k": 1.5, "lam": 1.3}, stats.weibull_min(1.5, scale=1.3), (1, 2)),
    ("weibull", {"k": 2.5, "lam": 1.3}, stats.weibull_min(2.5, scale=1.3), (1, 2)),
    ("gamma", {"k": 0.5, "theta": 2.0}, stats.gamma(0.5, scale=2.0), (1, 2)),
    ("lognormal", {"m": 0.3, "s": 0.7}, stats.lognorm(0.7, scale=np.exp(0.3)), (1, 2)),
    ("lognormal", {"m": -1.0, "s": 1.5}, stats.lognorm(1.5, scale=np.exp(-1.0)), (1, 2)),
    ("inverse_gamma", {"a": 3.5, "b": 2.0}, stats.invgamma(3.5, scale=2.0), (1, 2)),
    ("inverse_gamma", {"a": 1.5, "b": 2.0}, stats.invgamma(1.5, scale=2.0), (1,)),
    ("student_t", {"nu": 2.5, "m": 1.0, "s": 2.0}, stats.t(2.5, loc=1.0, scale=2.0), (1, 2)),
    ("student_t", {"nu": 5.0, "m": -1.0, "s": 0.5}, stats.t(5.0, loc=-1.0, scale=0.5), (1, 2)),
    ("logistic", {"m": 0.3, "s": 1.2}, stats.logistic(loc=0.3, scale=1.2), (1, 2)),
    ("logistic", {"m": 40.0, "s": 0.1}, stats.logistic(loc=40.0, scale=0.1), (1, 2)),
    ("gumbel", {"m": 0.3, "s": 1.2}, stats.gumbel_r(loc=0.3, scale=1.2), (1, 2)),
    ("gumbel", {"m": -5.0, "s": 3.0}, stats.gumbel_r(loc=-5.0, scale=3.0), (1, 2)),
    ("skew_normal", {"a": 3.0}, stats.skewnorm(3.0), (1, 2)),
    ("skew_normal", {"a": -1.0}, stats.skewnorm(-1.0), (1, 2)),
]


def ids(case) -> str:
    return f"{case[0]}-" + "-".join(f"{k}={v:g}" for k, v in case[1].items())


@pytest.mark.parametrize("case", MOMENTS, ids=ids)
def test_moments_agree_with_scipy(case):
    name, params, dist, orders = case
    means, errors = timed(lambda: quadrature_expectation(
        model(name), params, lambda X: np.column_stack([X[:, 0] ** k for k in orders])))
    for mean, error, k in zip(means, errors, orders):
        reference = dist.moment(k)
        assert abs(mean - reference) <= 1e-9 * abs(reference), (k, mean, reference)
        within_tolerance(mean, reference, error)


def within_tolerance(value: float, reference: float, error: float) -> None:
    """The reference lies within the tolerance a check would allow, and that is tight."""
    scale = max(1.0, abs(reference))
    tolerance = max(QUAD_SAFETY * error, QUAD_FLOOR * scale)
    assert abs(value - reference) <= tolerance, (value, reference, tolerance)
    assert tolerance <= LOOSEST * scale, f"tolerance {tolerance:.3g} is not a verdict"


# --- expectations without closed forms, against mpmath at 30 digits ---------------------------

# (density, parameters, h for NumPy, the same h for mpmath, where to split mpmath's integral)
MPMATH = [
    ("beta", {"a": 0.5, "b": 0.5}, lambda x: np.log1p(x), mpmath.log1p, (0, 0.5, 1)),
    ("weibull", {"k": 0.7, "lam": 1.3}, lambda x: 1 / (1 + x), lambda x: 1 / (1 + x),
     (0, 1, 10, mpmath.inf)),
    ("gamma", {"k": 0.5, "theta": 2.0}, np.sqrt, mpmath.sqrt, (0, 1, mpmath.inf)),
    ("inverse_gamma", {"a": 1.5, "b": 2.0}, lambda x: np.exp(-x), mpmath.exp,
     (0, 0.5, 5, mpmath.inf)),
    ("student_t", {"nu": 2.5, "m": 1.0, "s": 2.0}, np.arctan, mpmath.atan,
     (-mpmath.inf, -10, 1, 10, mpmath.inf)),
    ("skew_normal", {"a": 3.0}, np.cos, mpmath.cos, (-mpmath.inf, 0, mpmath.inf)),
    # below x = -30 the density is below exp(-7e10): mpmath would spend minutes on exp(-exp(t))
    ("gumbel", {"m": 0.3, "s": 1.2}, lambda x: np.tanh(x), mpmath.tanh,
     (-30, 0, mpmath.inf)),
]


def mpmath_expectation(name: str, params: dict, h, points) -> float:
    """int f h / int f at 30 digits, f from the density's string with mpmath's functions."""
    text = DENSITIES[name][0]
    namespace = {"exp": mpmath.exp, "log": mpmath.log, "erf": mpmath.erf, "sqrt": mpmath.sqrt}
    with mpmath.workdps(30):
        def f(x):
            return eval(text, {**namespace, **{k: mpmath.mpf(v) for k, v in params.items()},
                               "x": x})

        if name == "skew_normal":  # 1 + erf(z) cancels for z << 0: write it as erfc(-z)
            def f(x):
                return mpmath.exp(-x**2 / 2) * mpmath.erfc(-params["a"] * x / mpmath.sqrt(2))
        mass = mpmath.quad(f, points)
        return float(mpmath.quad(lambda x: f(x) * h(x), points) / mass)


@pytest.mark.parametrize("case", MPMATH, ids=ids)
def test_expectations_agree_with_mpmath(case):
    name, params, h, h_mp, points = case
    (mean,), (error,) = timed(lambda: quadrature_expectation(model(name), params,
                                                             lambda X: h(X[:, 0])))
    reference = mpmath_expectation(name, params, h_mp, points)
    assert abs(mean - reference) <= 1e-9 * max(1.0, abs(reference)), (mean, reference)
    within_tolerance(mean, reference, error)


# --- 2-D: closed forms -----------------------------------------------------------------------

# (density, parameters, h, closed form of E[h])
TWO_D = [
    ("gaussian_2d", {"r": 0.8}, lambda X: X**2, [1.0, 1.0]),
    ("gaussian_2d", {"r": 0.8}, lambda X: X[:, 0] * X[:, 1], [0.8]),
    ("gaussian_2d", {"r": -0.95}, lambda X: (X[:, 0] + X[:, 1]) ** 2, [2 - 2 * 0.95]),
    ("banana", {"b": 0.5}, lambda X: X, [0.0, 0.5]),                    # E[x2] = b E[x1^2]
    ("banana", {"b": 0.5}, lambda X: X**2, [1.0, 1 + 3 * 0.25]),        # 1 + b^2 E[x1^4]
    ("banana", {"b": 1.5}, lambda X: X[:, 0] ** 2 * X[:, 1], [1.5 * 3]),  # b E[x1^4]
]


@pytest.mark.parametrize("case", TWO_D, ids=lambda c: f"{c[0]}-{c[1]}-{c[3]}")
def test_two_dimensional_expectations_agree_with_closed_forms(case):
    name, params, h, closed = case
    means, errors = timed(lambda: quadrature_expectation(model(name), params, h))
    for mean, error, reference in zip(means, errors, closed):
        assert abs(mean - reference) <= 1e-9 * max(1.0, abs(reference)), (mean, reference)
        within_tolerance(mean, reference, error)


# --- Stein's identity: holds where the boundary term vanishes --------------------------------

# (density, parameters, test function g, E[g.s] = -E[div g] in closed form, or None)
STEIN_HOLDS = [
    ("beta", {"a": 0.5, "b": 0.5}, "x*(1-x)", 0.0),      # -E[1 - 2x]
    ("beta", {"a": 0.7, "b": 3.0}, "x", -1.0),
    ("beta", {"a": 0.7, "b": 3.0}, "x*(1-x)", -(1 - 2 * 0.7 / 3.7)),
    ("beta", {"a": 2.5, "b": 3.5}, "x", -1.0),
    ("beta", {"a": 2.5, "b": 3.5}, "1", 0.0),
    ("weibull", {"k": 0.7, "lam": 1.3}, "x", -1.0),
    ("weibull", {"k": 1.5, "lam": 1.3}, "x", -1.0),
    ("weibull", {"k": 1.5, "lam": 1.3}, "1", 0.0),
    ("weibull", {"k": 2.5, "lam": 1.3}, "x", -1.0),
    ("weibull", {"k": 2.5, "lam": 1.3}, "1", 0.0),
    ("gamma", {"k": 0.5, "theta": 2.0}, "x", -1.0),
    ("lognormal", {"m": 0.3, "s": 0.7}, "x", -1.0),
    ("lognormal", {"m": 0.3, "s": 0.7}, "1", 0.0),
    ("inverse_gamma", {"a": 3.5, "b": 2.0}, "x", -1.0),
    ("inverse_gamma", {"a": 3.5, "b": 2.0}, "1", 0.0),
    ("inverse_gamma", {"a": 1.5, "b": 2.0}, "x**2", -2 * 2.0 / 0.5),  # -2 E[x] = -2 b/(a-1)
    ("student_t", {"nu": 2.5, "m": 1.0, "s": 2.0}, "x", -1.0),
    ("student_t", {"nu": 2.5, "m": 1.0, "s": 2.0}, "1", 0.0),
    ("student_t", {"nu": 5.0, "m": -1.0, "s": 0.5}, "x", -1.0),
    ("student_t", {"nu": 5.0, "m": -1.0, "s": 0.5}, "x**3", -3 * (1 + 0.25 * 5 / 3)),
    ("logistic", {"m": 0.3, "s": 1.2}, "x", -1.0),
    ("logistic", {"m": 0.3, "s": 1.2}, "1", 0.0),
    ("gumbel", {"m": 0.3, "s": 1.2}, "x", -1.0),
    ("gumbel", {"m": 0.3, "s": 1.2}, "1", 0.0),
    ("skew_normal", {"a": 3.0}, "x", -1.0),
    ("skew_normal", {"a": 3.0}, "1", 0.0),
    ("skew_normal", {"a": -1.0}, "x**2", -2 * stats.skewnorm(-1.0).mean()),
    ("gaussian_2d", {"r": 0.8}, None, None),
    ("gaussian_2d", {"r": 0.8}, "x1*x2, 1", -0.0),       # -E[x2]
    ("banana", {"b": 0.5}, None, None),
    ("banana", {"b": 0.5}, "x2, x1", 0.0),
]


@pytest.mark.parametrize("case", STEIN_HOLDS, ids=lambda c: f"{c[0]}-{c[1]}-g={c[2]}")
def test_stein_holds_where_the_boundary_term_vanishes(case):
    name, params, g, closed = case
    r = timed(lambda: check_stein(model(name), params, g, method="quad"))
    assert r.ok, str(r)
    assert r.tolerance <= LOOSEST * max(1.0, abs(r.lhs), abs(r.rhs)), str(r)
    if closed is not None:
        assert r.rhs == pytest.approx(closed, rel=1e-9, abs=1e-10)
        assert r.lhs == pytest.approx(closed, rel=1e-9, abs=1e-10)


def test_stein_fails_where_the_boundary_term_stays():
    """Exponential on (0, oo) with g = 1: E[g s] = -lam, while -E[div g] = 0."""
    b = zoo.get("exponential")
    r = timed(lambda: check_stein(b.model, b.truth, "1", method="quad"))
    assert not r.ok and "FAILED" in str(r)
    assert r.lhs == pytest.approx(-b.truth["lam"], rel=1e-12) and r.rhs == 0


@pytest.mark.parametrize("name, params", [("weibull", {"k": 1.5, "lam": 1.3}),
                                          ("gumbel", {"m": 0.3, "s": 1.2}),
                                          ("banana", {"b": 0.5})])
def test_stein_fails_with_the_wrong_sign_of_the_score(name, params):
    """The integrals of Stein's identity for g = x_d^2 e_d with -s in place of s: E[g (-s_d)] =
    E[2 x_d] while -E[div g] = -E[2 x_d], and E[x_d] is not 0 here. The check must fail."""
    m = model(name)
    score = m.lambdify().score

    def sides(X):
        x = X[:, -1]
        return np.column_stack([x**2 * -score(X, **params)[:, -1], 2 * x])

    (lhs, div), errors = timed(lambda: quadrature_expectation(m, params, sides))
    r = quadrature_result("wrong sign", lhs, -div, errors)
    assert not r.ok and r.error > 1e3 * r.tolerance, str(r)


# (density, parameters, g, the edge where f g s is not integrable)
STEIN_DIVERGES = [
    ("beta", {"a": 0.5, "b": 0.5}, "1", "x -> 0"),
    ("beta", {"a": 0.5, "b": 0.5}, "x", "x -> 1"),
    ("weibull", {"k": 0.7, "lam": 1.3}, "1", "x -> 0"),
    ("gamma", {"k": 0.5, "theta": 2.0}, "1", "x -> 0"),
]


@pytest.mark.parametrize("case", STEIN_DIVERGES, ids=lambda c: f"{c[0]}-{c[1]}-g={c[2]}")
def test_stein_with_a_non_integrable_side_fails_naming_the_expectation_and_edge(case):
    """f g s ~ |x - e|^(a - 2) at the edge: E[g.s] does not exist, so the identity fails. The
    quadrature stops at once; the limit (x - e) f g s -> +-oo proves the side infinite, and the
    check fails (a verdict, as Fisher's does) naming the expectation and the edge."""
    name, params, g, edge = case
    r = timed(lambda: check_stein(model(name), params, g, method="quad"))
    assert not r.ok and r.error == np.inf, str(r)
    assert "E[g.s] is infinite: " in r.details["reason"], r.details
    assert f"as {edge}" in r.details["reason"], r.details


@pytest.mark.parametrize("case", STEIN_DIVERGES[:2], ids=lambda c: f"{c[0]}-{c[1]}-g={c[2]}")
def test_stein_with_a_callable_g_and_a_non_integrable_side_names_the_integral(case):
    """A callable g has no limits to prove the side infinite: the quadrature's error stands,
    naming the integral, the edge and the power."""
    name, params, g, edge = case
    field = {"1": lambda X: X**0, "x": lambda X: X}[g]
    with pytest.raises(ScoresymInputError) as info:
        timed(lambda: check_stein(model(name), params, field, method="quad"))
    message = str(info.value)
    assert "E[h_1] does not converge" in message and f"near {edge}" in message
    assert "method='mc'" in message


# --- the Fisher divergence between two members of a family ----------------------------------

FISHER = [
    ("logistic", {"m": 0.3, "s": 1.2}, {"m": -0.5, "s": 0.8}),
    ("skew_normal", {"a": 2.0}, {"a": -1.0}),
    ("gumbel", {"m": 0.3, "s": 1.2}, {"m": -0.5, "s": 0.8}),
    ("lognormal", {"m": 0.3, "s": 0.7}, {"m": -0.2, "s": 1.1}),
    ("student_t", {"nu": 2.5, "m": 1.0, "s": 2.0}, {"nu": 4.0, "m": 0.0, "s": 1.0}),
    ("banana", {"b": 0.5}, {"b": 0.8}),
]


@pytest.mark.parametrize("case", FISHER, ids=lambda c: f"{c[0]}-{c[1]}->{c[2]}")
def test_fisher_identity_holds_between_members_of_a_family(case):
    name, data_params, params = case
    m = model(name)
    r = timed(lambda: check_fisher(m, data_params, m, params, method="quad"))
    assert r.ok, str(r)
    assert r.details["explicit"] > 1e-3  # the two members differ
    assert r.tolerance <= LOOSEST * max(1.0, abs(r.lhs)), str(r)


def test_fisher_of_gaussians_has_its_closed_form():
    """Data N(0, 1), model N(mu, s2): 1/2 E (x - (x - mu)/s2)^2 in closed form."""
    b = zoo.get("gaussian_1d")
    mu, s2 = 0.7, 2.0
    r = check_fisher(b.model, {"mu": 0.0, "s2": 1.0}, b.model, {"mu": mu, "s2": s2},
                     method="quad")
    assert r.ok and r.lhs == pytest.approx(0.5 * ((1 - 1 / s2) ** 2 + mu**2 / s2**2), rel=1e-12)


# --- integrals that cannot be computed: fast, named, why ----------------------------------------

def test_a_divergent_tail_is_named_with_its_power():
    cauchy = model("student_t")
    with pytest.raises(ScoresymInputError) as info:
        timed(lambda: quadrature_expectation(cauchy, {"nu": 1.0, "m": 0.0, "s": 1.0},
                                             lambda X: np.column_stack([X, X**2]),
                                             names=["E[x]", "E[x^2]"]))
    message = str(info.value)
    assert message.startswith("quadrature of E[x] does not converge: near x -> ")
    assert "|x|^-1 " in message and "use method='mc'" in message


def test_a_non_finite_integrand_is_named_with_the_point():
    b = zoo.get("gaussian_1d")
    with pytest.raises(ScoresymInputError) as info:
        timed(lambda: quadrature_expectation(
            b.model, b.truth, lambda X: np.column_stack([X, np.where(abs(X - 1) < 0.2, np.nan, X)]),
            names=["explicit", "implicit"]))
    message = str(info.value)
    assert message.startswith("quadrature of implicit: its integrand is nan at x = ")
    assert "where the density is not negligible" in message


def test_an_overflow_where_the_density_is_negligible_counts_as_zero():
    """0 * exp(4 x^2) is nan for |x| > 13.4, where the N(1/2, 2) density is below 1e-17 of its
    peak: h there cannot matter, and E[1 + 0 exp(4 x^2)] = 1."""
    b = zoo.get("gaussian_1d")
    (mean,), _ = quadrature_expectation(b.model, b.truth,
                                        lambda X: 1 + 0 * np.exp(4 * X[:, 0] ** 2))
    assert mean == pytest.approx(1.0, rel=1e-12)


def test_an_integral_that_does_not_converge_stops_within_its_budget():
    """1/x under a density that does not vanish at 0 (no principal values here): bisection
    cannot reach the target, and the evaluation budget stops it."""
    b = zoo.get("gaussian_mixture_2d")
    with pytest.raises(ScoresymInputError, match=r"quadrature of 1/x1 did not converge within"):
        timed(lambda: quadrature_expectation(b.model, b.truth, lambda X: 1 / (X[:, 0] - 0.3),
                                             names=["1/x1"]))


def test_the_time_budget_names_what_had_not_converged(monkeypatch):
    monkeypatch.setattr(BUDGETS, "quadrature", 0.3)
    b = zoo.get("gaussian_1d")

    def slow(X):
        time.sleep(0.05)
        return np.column_stack([X, 1 / (X - 0.3)])

    with pytest.raises(ScoresymInputError) as info:
        timed(lambda: quadrature_expectation(b.model, {"mu": 0.1, "s2": 1.1}, slow,
                                             names=["E[x]", "E[1/x]"]))
    assert "did not finish within 0.3 s" in str(info.value)
    assert "E[1/x]" in str(info.value)


def test_default_names_and_plain_integrals():
    beta = model("beta")
    with pytest.raises(ScoresymInputError, match=r"quadrature of E\[h_2\] does not converge"):
        quadrature_expectation(beta, {"a": 0.5, "b": 0.5}, lambda X: np.column_stack([X, 1 / X]))
    with pytest.raises(ScoresymInputError, match=r"quadrature of int h_1 does not converge"):
        integrate_over_domain(beta, lambda X: 1 / X, params={"a": 0.5, "b": 0.5})
    # int_0^1 x^-1/2 (1 - x)^-1/2 dx = pi: nodes placed by the density at given parameters,
    # at the model's latest, or (a model never evaluated) around the integrand's largest values
    fresh = Model.from_string(DENSITIES["beta"][0], "x", "a b", domain={"x": (0, 1)})
    for m, params in ((beta, {"a": 0.5, "b": 0.5}), (beta, None), (fresh, None)):
        (value,), (error,) = integrate_over_domain(
            m, lambda X: (X * (1 - X)) ** -0.5, params=params, names=["B(1/2, 1/2)"])
        assert value == pytest.approx(np.pi, rel=1e-11) and error < 1e-8
    (value,), _ = integrate_over_domain(model("gamma"), lambda X: X**-0.5 * np.exp(-X))
    assert value == pytest.approx(special.gamma(0.5), rel=1e-11)
