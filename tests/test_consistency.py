"""check_autodiff and the cross-consistency checks: each passes on correct mathematics and fails
on a planted mistake (a sign flip, unscaled sphere projections, the wrong DSM target)."""

import itertools

import autograd
import autograd.numpy as anp
import numpy as np
import pytest

from scoresym import ScoresymInputError, zoo
from scoresym.checks.autodiff import check_autodiff
from scoresym.checks.dsm_limit import check_dsm_limit
from scoresym.checks.dsm_variance import check_dsm_gaussian_variance
from scoresym.checks.hutchinson import check_hutchinson, hutchinson_variance
from scoresym.checks.ssm_esm import check_ssm_esm
from scoresym.checks.trace_variance import check_trace_variance
from scoresym.codegen.functions import CompiledFunction


@pytest.mark.parametrize("name", zoo.names())
def test_autodiff_agrees_to_machine_precision(name):
    b = zoo.get(name)
    r = check_autodiff(b.model, b.truth, seed=2)
    assert r.ok, str(r)
    assert max(r.details["errors"].values()) < 1e-12


def test_autodiff_fails_on_a_sign_flipped_score():
    b = zoo.gaussian_mixture_2d()
    m = b.model
    m.lambdify().score = CompiledFunction("score", -m.score, m.variables, m.params, "vector")
    r = check_autodiff(m, b.truth, seed=0)
    assert not r.ok and r.details["worst"] == "score"


SSM_CASES = list(itertools.product(["gaussian_full_3d", "gaussian_mixture_2d", "logcosh_3d"],
                                   ["rademacher", "gaussian", "sphere"]))


@pytest.mark.parametrize("name, projection", SSM_CASES)
def test_ssm_agrees_with_esm_within_four_standard_errors(name, projection):
    b = zoo.get(name)
    r = check_ssm_esm(b.model, b.truth, projection=projection, n_projections=16, n=400, seed=5)
    assert r.ok, str(r)
    assert r.stderr > 0


def unit_sphere(rng, shape):
    """The mistake the sqrt(d) scaling prevents: E[v v^T] = I/d."""
    g = rng.standard_normal(shape)
    return g / np.linalg.norm(g, axis=2, keepdims=True)


def test_ssm_with_unscaled_sphere_projections_fails():
    b = zoo.get("gaussian_full_3d")
    r = check_ssm_esm(b.model, b.truth, projection=unit_sphere, n_projections=16, n=400, seed=5)
    assert not r.ok and r.error > 10 * r.stderr


def known_matrix():
    return np.array([[2.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 0.7]])


def test_hutchinson_closed_forms_by_exact_enumeration_and_quadrature():
    A = known_matrix()
    # Rademacher: all 8 sign vectors are equally likely, so the variance is an exact average.
    q = [np.array(v) @ A @ np.array(v) for v in itertools.product([-1, 1], repeat=3)]
    assert np.var(q) == pytest.approx(hutchinson_variance(A, "rademacher"), rel=1e-14)
    assert hutchinson_variance(A, "rademacher") == pytest.approx(2 * 2 * (0.25 + 0.09 + 0.04))
    # Gaussian: Gauss-Hermite (probabilists') with 3 nodes per axis is exact for degree 4.
    nodes, weights = np.polynomial.hermite_e.hermegauss(3)
    weights = weights / weights.sum()
    grid = np.array(list(itertools.product(nodes, repeat=3)))
    w = np.prod(np.array(list(itertools.product(weights, repeat=3))), axis=1)
    qg = np.einsum("ni,ij,nj->n", grid, A, grid)
    variance = np.sum(w * qg**2) - np.sum(w * qg) ** 2
    assert variance == pytest.approx(hutchinson_variance(A, "gaussian"), rel=1e-12)
    assert hutchinson_variance(A, "gaussian") == pytest.approx(2 * np.sum(A**2))
    # Sphere of radius sqrt(2) in d = 2: average over the circle.
    B = A[:2, :2]
    t = np.linspace(0, 2 * np.pi, 4096, endpoint=False)
    v = np.sqrt(2) * np.stack([np.cos(t), np.sin(t)], 1)
    qs = np.einsum("ni,ij,nj->n", v, B, v)
    assert np.var(qs) == pytest.approx(hutchinson_variance(B, "sphere"), rel=1e-12)


@pytest.mark.parametrize("projection", ["rademacher", "gaussian", "sphere"])
def test_hutchinson_empirical_variance_matches_the_closed_form(projection):
    r = check_hutchinson(known_matrix(), projection, n_draws=20_000, seed=3)
    assert r.ok, str(r)
    assert r.details["mean"] == pytest.approx(r.details["trace"], abs=5 * r.stderr ** 0.5 + 0.05)


def test_rademacher_on_a_diagonal_matrix_has_zero_variance():
    r = check_hutchinson(np.diag([1.0, -2.0, 3.0]), "rademacher", n_draws=100, seed=0)
    assert r.ok and r.lhs == 0.0 and r.rhs == 0.0


def test_hutchinson_refuses_a_non_symmetric_matrix():
    with pytest.raises(ScoresymInputError, match="symmetric"):
        check_hutchinson(np.array([[1.0, 2.0], [0.0, 1.0]]))


@pytest.mark.parametrize("name", ["gaussian_iso_3d", "quartic_1d", "student_t"])
def test_rademacher_trace_term_has_zero_variance_for_diagonal_hessians(name):
    b = zoo.get(name) if name != "gaussian_iso_3d" else zoo.gaussian_isotropic(3)
    r = check_trace_variance(b.model, b.truth, projection="rademacher", n=50, seed=1)
    assert r.ok and abs(r.lhs) < 1e-20 and r.rhs == 0.0


@pytest.mark.parametrize("projection", ["rademacher", "gaussian", "sphere"])
def test_trace_term_variance_matches_the_closed_form_for_a_full_hessian(projection):
    b = zoo.get("gaussian_full_3d")
    r = check_trace_variance(b.model, b.truth, projection=projection, n=100, seed=1)
    assert r.ok, str(r)
    assert r.rhs > 0


@pytest.mark.parametrize("name", ["gaussian_1d", "student_t", "gaussian_full_3d"])
def test_dsm_gradient_tends_to_the_esm_gradient(name):
    b = zoo.get(name)
    r = check_dsm_limit(b.model, b.truth, n=2000, seed=0)
    assert r.ok, str(r)


@pytest.mark.parametrize("loss", ["esm", "dsm"])
def test_batch_gradients_in_one_pass_are_each_batch_s_own(loss):
    """The DSM-limit check's one autograd pass (a parameter copy per batch) against a gradient
    of each batch's loss taken alone."""
    from scoresym.checks.dsm_limit import _batch_gradients
    from scoresym.losses import dsm_loss, esm_loss

    b = zoo.get("gaussian_mixture_2d")
    X = b.sample(90, seed=1)
    names = [p.name for p in b.model.params]
    values = [b.truth[k] for k in names]
    which = np.repeat(np.arange(4), [25, 25, 20, 20])
    f, extra = (esm_loss, {}) if loss == "esm" else (dsm_loss, {"sigma": 0.3, "seed": 5})
    together = _batch_gradients(f, names, values, which, logp=b.model, X=X, **extra)
    for batch in range(4):
        rows = which == batch

        def batch_loss(t, rows=rows):
            params = dict(zip(names, t))
            if loss == "esm":
                return esm_loss(b.model, X[rows], **params)
            # DSM's noise for these rows: the rows of the noise drawn for all of X
            return anp.mean(dsm_loss(b.model, X, 0.3, seed=5, per_sample=True, **params)[rows])

        alone = autograd.grad(batch_loss)(np.array(values))
        assert together[batch] == pytest.approx(alone, rel=1e-12, abs=1e-14)


def dsm_pitfall(logp, X, sigma, seed=None, antithetic=False, **params):
    """DSM with the target -eps/sigma^2 instead of -eps/sigma: the wrong scaling."""
    f = logp.lambdify("autograd").log_density

    def score(Y):
        return autograd.grad(lambda Z: anp.sum(f(Z, **params)))(Y)

    eps = np.random.default_rng(seed).standard_normal(np.shape(X))
    sides = [eps, -eps] if antithetic else [eps]
    total = sum(anp.mean(0.5 * anp.sum((score(X + sigma * e) + e / sigma**2) ** 2, axis=1))
                for e in sides)
    return total / len(sides)


def test_dsm_limit_fails_with_the_wrong_target():
    b = zoo.get("gaussian_1d")
    r = check_dsm_limit(b.model, b.truth, n=2000, seed=0, dsm=dsm_pitfall)
    assert not r.ok and r.error > 10 * r.stderr


def test_dsm_fits_the_noised_variance_and_esm_the_sample_variance():
    b = zoo.get("gaussian_1d")
    X = b.sample(2000, seed=3, params={"mu": 0.0, "s2": 1.0})
    r = check_dsm_gaussian_variance(b.model, X, sigma=0.5, replicates=12, seed=0)
    assert r.ok, str(r)
    v = r.details["sample_variance"]
    assert r.details["esm_minimizer"] == pytest.approx(v, abs=1e-6)
    assert r.lhs - v == pytest.approx(0.25, abs=4 * r.stderr + 0.01)  # the noise sigma^2 shows


def test_dsm_variance_check_fails_for_the_wrong_target():
    b = zoo.get("gaussian_1d")
    X = b.sample(2000, seed=3, params={"mu": 0.0, "s2": 1.0})
    r = check_dsm_gaussian_variance(b.model, X, sigma=0.5, replicates=6, seed=0, dsm=dsm_pitfall)
    assert not r.ok


def test_dsm_variance_check_needs_the_gaussian_model():
    b = zoo.get("student_t")
    with pytest.raises(ScoresymInputError, match="1-D Gaussian model"):
        check_dsm_gaussian_variance(b.model, b.sample(10, seed=0))
