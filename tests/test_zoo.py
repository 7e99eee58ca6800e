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


def full_gaussian_moments(b, d: int) -> tuple:
    """(precision, linear term) of ``zoo.gaussian_full(d)`` at its truth, from the parameters."""
    t = b.truth
    precision = np.array([[t[f"L{min(i, j) + 1}_{max(i, j) + 1}"] for j in range(d)]
                          for i in range(d)])
    return precision, np.array([t[f"b{i + 1}"] for i in range(d)])


@pytest.mark.parametrize("d", [2, 3])
def test_full_gaussian_sampler_has_the_mean_and_covariance_of_its_truth(d):
    b = zoo.gaussian_full(d)
    precision, linear = full_gaussian_moments(b, d)
    mean, cov = np.linalg.solve(precision, linear), np.linalg.inv(precision)
    n = 200_000
    X = b.sample(n, seed=0)
    # Standard errors of the sample mean and of each sample covariance entry of a Gaussian:
    # Var[(x_i - m_i)(x_j - m_j)] = S_ii S_jj + S_ij^2. Each of the d + d^2 estimates is allowed
    # 5 standard errors (a false alarm has probability below 1e-5 in all).
    mean_se = np.sqrt(np.diag(cov) / n)
    cov_se = np.sqrt((np.outer(np.diag(cov), np.diag(cov)) + cov**2) / n)
    assert np.all(np.abs(X.mean(axis=0) - mean) < 5 * mean_se), (X.mean(axis=0) - mean) / mean_se
    centred = X - mean
    assert np.all(np.abs(centred.T @ centred / n - cov) < 5 * cov_se), \
        (centred.T @ centred / n - cov) / cov_se


@pytest.mark.parametrize("d", [2, 3])
def test_full_gaussian_sampler_is_the_cholesky_transform_of_standard_normals(d):
    """Exactly mean + Z C^T, C the (unique) Cholesky factor of the covariance: the draws of a
    seed do not depend on how LAPACK signs an SVD's singular vectors, as
    Generator.multivariate_normal's do."""
    b = zoo.gaussian_full(d)
    precision, linear = full_gaussian_moments(b, d)
    cov = np.linalg.inv(precision)
    Z = np.random.default_rng(7).standard_normal((1000, d))
    np.testing.assert_array_equal(b.sample(1000, seed=7),
                                  cov @ linear + Z @ np.linalg.cholesky(cov).T)


@pytest.mark.parametrize("change, fragment", [
    ({"L1_1": -2.0}, "precision matrix of L1_1, L1_2, L1_3, L2_2, L2_3, L3_3 must be positive "
                     "definite"),
    ({"L1_2": 3.0}, "must be positive definite"),
    ({"L2_2": float("nan")}, "parameter L2_2 must be a finite real number"),
])
def test_full_gaussian_sampler_refuses_a_precision_that_is_not_positive_definite(change,
                                                                                  fragment):
    b = zoo.gaussian_full(3)
    with pytest.raises(ScoresymInputError, match=fragment):
        b.sample(5, seed=0, params={**b.truth, **change})


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
