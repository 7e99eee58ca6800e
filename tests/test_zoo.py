"""Built-in models: complete truths, exact samplers with the right moments, clear lookups."""

import numpy as np
import pytest
from scipy import stats

from scoresym import Model, ScoresymInputError, zoo


@pytest.mark.parametrize("name", zoo.names())
def test_truth_names_every_parameter(name):
    b = zoo.get(name)
    assert set(b.truth) == {p.name for p in b.model.params}
    assert b.model.name == b.name


SAMPLED = [name for name in zoo.names() if zoo.get(name).has_sampler]


@pytest.mark.parametrize("name", SAMPLED)
def test_sampler_shape_and_determinism(name):
    b = zoo.get(name)
    X = b.sample(50, seed=4)
    assert X.shape == (50, b.model.dim)
    np.testing.assert_array_equal(X, b.sample(50, seed=4))


MOMENTS = [
    # (name, reference distribution of the first coordinate at the truth)
    ("gaussian_1d", lambda t: stats.norm(t["mu"], np.sqrt(t["s2"]))),
    ("student_t", lambda t: stats.t(5, t["mu"], t["s"])),
    ("exponential", lambda t: stats.expon(scale=1 / t["lam"])),
]


@pytest.mark.parametrize("name, reference", MOMENTS)
def test_sampler_matches_scipy_stats(name, reference):
    b = zoo.get(name)
    X = b.sample(4000, seed=11)[:, 0]
    result = stats.kstest(X, reference(b.truth).cdf)
    assert result.pvalue > 1e-3


def test_full_gaussian_sampler_has_the_precision_of_its_truth():
    b = zoo.get("gaussian_full_3d")
    X = b.sample(200_000, seed=0)
    t = b.truth
    precision = np.array([[t[f"L{min(i, j) + 1}_{max(i, j) + 1}"] for j in range(3)]
                          for i in range(3)])
    mean = np.linalg.solve(precision, [t["b1"], t["b2"], t["b3"]])
    cov = np.linalg.inv(precision)
    standard_error = np.sqrt(np.diag(cov) / len(X))
    assert np.all(np.abs(X.mean(0) - mean) < 4 * standard_error)
    np.testing.assert_allclose(np.cov(X.T), cov, atol=0.02)


def test_unknown_names_and_missing_samplers_are_clear():
    with pytest.raises(ScoresymInputError, match="no built-in model 'nope'"):
        zoo.get("nope")
    with pytest.raises(ScoresymInputError, match="has no sampler"):
        zoo.Builtin("bare", Model.from_string("-x**2", "x", kind="log"), {}, "no").sample(3)


def test_logcosh_accepts_a_given_matrix_and_checks_its_shape():
    b = zoo.logcosh(2, W=[[1.0, 0.5], [0.0, 2.0]])
    assert b.model.dim == 2
    with pytest.raises(ScoresymInputError, match="W must have shape"):
        zoo.logcosh(2, W=np.eye(3))


def test_quartic_rejection_sampler_matches_the_numerical_cdf():
    from scipy import integrate

    b = zoo.get("quartic_1d")
    t = b.truth
    density = lambda x: np.exp(t["t1"] * x + t["t2"] * x**2 - t["t4"] * x**4)  # noqa: E731
    Z = integrate.quad(density, -np.inf, np.inf)[0]
    cdf = np.vectorize(lambda x: integrate.quad(density, -np.inf, x)[0] / Z)
    X = b.sample(3000, seed=5)[:, 0]
    assert stats.kstest(X, cdf).pvalue > 1e-3


def test_logcosh_rejection_sampler_matches_a_one_dimensional_reference():
    """For d = 1, f(x) = sech(w x) exp(-x^2/2): compare the sampler with the numerical CDF."""
    from scipy import integrate

    b = zoo.logcosh(1, W=[[1.7]])
    density = lambda x: np.exp(-x**2 / 2 - np.logaddexp(1.7 * x, -1.7 * x))  # noqa: E731
    Z = integrate.quad(density, -np.inf, np.inf)[0]
    cdf = np.vectorize(lambda x: integrate.quad(density, -np.inf, x)[0] / Z)
    assert stats.kstest(b.sample(3000, seed=6)[:, 0], cdf).pvalue > 1e-3
