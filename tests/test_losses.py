"""Score-matching losses: ESM against the compiled symbolic Hyvarinen integrand and closed forms,
SSM against ESM within Monte Carlo standard errors, DSM against hand computations with the same
draws, gradients against closed forms and central finite differences."""

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from autograd import elementwise_grad
from scipy.optimize import minimize_scalar

from scoresym import Model, ScoresymInputError, zoo
from scoresym.losses import draw_projections, dsm_loss, esm_loss, loss_gradient, ssm_loss

Z = 5.0  # Monte Carlo tolerance, in standard errors
LAWS = ["rademacher", "gaussian", "sphere"]


def points(b, n, seed=0):
    """n standard normal points, folded into (0.1, oo) for models on the half-line."""
    X = np.random.default_rng(seed).standard_normal((n, b.model.dim))
    half_line = [lo == 0 for lo, _ in b.model.domain.values()]
    return np.where(half_line, np.abs(X) + 0.1, X)


def mean_and_se(values, axis=0):
    values = np.asarray(values)
    return values.mean(axis), values.std(axis, ddof=1) / np.sqrt(values.shape[axis])


# --- ESM --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", zoo.names())
def test_esm_per_sample_equals_the_compiled_symbolic_hyvarinen_integrand(name):
    b = zoo.get(name)
    X = points(b, 200, seed=1)
    reference = b.model.lambdify().hyvarinen(X, **b.truth)
    values = esm_loss(b.model, X, per_sample=True, **b.truth)
    assert isinstance(values, np.ndarray) and values.shape == (200,)
    np.testing.assert_allclose(values, reference, rtol=1e-10, atol=1e-10)
    mean = esm_loss(b.model, X, **b.truth)
    assert type(mean) is float and mean == pytest.approx(reference.mean(), rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("mu, s2", [(0.5, 2.0), (-1.0, 0.3), (3.0, 10.0)])
def test_esm_of_the_1d_gaussian_is_the_closed_form(mu, s2):
    m = zoo.get("gaussian_1d").model
    x = np.linspace(-4.0, 4.0, 41)
    closed = -1 / s2 + (x - mu) ** 2 / (2 * s2**2)
    np.testing.assert_allclose(esm_loss(m, x, per_sample=True, mu=mu, s2=s2), closed,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["gaussian_full_3d", "logcosh_3d"])
def test_elementwise_grad_twice_is_not_the_trace_but_esm_is_exact(name):
    """Regression for the trap: elementwise_grad of the score sums Hessian rows, so its sum over
    coordinates is sum_ij H_ij, which differs from tr H whenever H has off-diagonal entries."""
    b = zoo.get(name)
    X = points(b, 100, seed=2)
    f = b.model.lambdify("autograd").log_density
    score = elementwise_grad(lambda Y: f(Y, **b.truth))
    wrong = np.sum(elementwise_grad(score)(X), axis=1)
    compiled = b.model.lambdify()
    exact_trace = compiled.laplacian(X, **b.truth)
    H = compiled.hessian(X, **b.truth)
    np.testing.assert_allclose(wrong, H.sum(axis=(1, 2)), atol=1e-10)     # what the trap computes
    assert np.max(np.abs(wrong - exact_trace)) > 0.1                      # ... is not the trace
    s = compiled.score(X, **b.truth)
    esm = esm_loss(b.model, X, per_sample=True, **b.truth)
    np.testing.assert_allclose(esm - 0.5 * np.sum(s**2, axis=1), exact_trace, atol=1e-10)
    if name == "gaussian_full_3d":  # H = -Lambda: the off-diagonal sum is 4 * 0.6
        np.testing.assert_allclose(wrong - exact_trace, 2.4, atol=1e-10)


W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4], [-0.6, 0.1, 0.7]])

# (built-in, the same log density written as a plain autograd callable)
CALLABLES = [
    (zoo.get("gaussian_1d"), lambda X, mu, s2: -(X[:, 0] - mu) ** 2 / (2 * s2)),
    (zoo.logcosh(3, W=W),
     lambda X: -anp.sum(anp.log(anp.cosh(anp.dot(X, W.T))), axis=1) - anp.sum(X**2, axis=1) / 2),
    (zoo.get("gaussian_mixture_2d"),
     lambda X, a1, a2, b1, b2: anp.logaddexp(-((X[:, 0] - a1) ** 2 + (X[:, 1] - a2) ** 2) / 2,
                                             -((X[:, 0] - b1) ** 2 + (X[:, 1] - b2) ** 2) / 2)),
]


@pytest.mark.parametrize("b, logp", CALLABLES, ids=[b.name for b, _ in CALLABLES])
def test_esm_accepts_a_plain_autograd_callable(b, logp):
    X = points(b, 150, seed=3)
    by_model = esm_loss(b.model, X, per_sample=True, **b.truth)
    by_callable = esm_loss(logp, X, per_sample=True, **b.truth)
    np.testing.assert_allclose(by_callable, by_model, rtol=1e-10, atol=1e-10)
    if b.model.dim == 1:  # 1-D X is read as (n, 1)
        np.testing.assert_allclose(esm_loss(logp, X[:, 0], per_sample=True, **b.truth), by_model,
                                   rtol=1e-12)


# --- SSM --------------------------------------------------------------------------------------

def per_projection(b, X, K, seed, **options):
    """(K, n) single-projection SSM values: X tiled K times, one independent v per row."""
    values = ssm_loss(b.model, np.tile(X, (K, 1)), n_projections=1, seed=seed, per_sample=True,
                      **options, **b.truth)
    return values.reshape(K, len(X))


@pytest.mark.parametrize("variance_reduced", [False, True])
@pytest.mark.parametrize("projection", LAWS)
@pytest.mark.parametrize("name", ["gaussian_full_3d", "logcosh_3d", "gaussian_mixture_2d"])
def test_ssm_averages_to_esm_per_sample_within_standard_errors(name, projection,
                                                                variance_reduced):
    b = zoo.get(name)
    X = points(b, 40, seed=4)
    esm = esm_loss(b.model, X, per_sample=True, **b.truth)
    values = per_projection(b, X, 2000, seed=5, projection=projection,
                            variance_reduced=variance_reduced)
    mean, se = mean_and_se(values)
    assert np.all(se > 1e-6)  # off-diagonal Hessians: every law has variance here
    assert np.max(np.abs(mean - esm) / se) < Z


@pytest.mark.parametrize("projection", LAWS)
def test_ssm_is_the_mean_over_its_projections(projection):
    b = zoo.get("gaussian_mixture_2d")
    X = points(b, 30, seed=6)
    V = draw_projections(projection, 5, 30, 2, np.random.default_rng(7))
    singles = [ssm_loss(b.model, X, projection=lambda rng, shape, v=v: v[None], per_sample=True,
                        **b.truth) for v in V]
    together = ssm_loss(b.model, X, n_projections=5, projection=projection, seed=7,
                        per_sample=True, **b.truth)
    np.testing.assert_allclose(together, np.mean(singles, axis=0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("b", [zoo.get("gaussian_1d"), zoo.gaussian_isotropic(3)],
                         ids=["gaussian_1d", "gaussian_iso_3d"])
def test_rademacher_on_a_diagonal_hessian_gives_the_trace_with_zero_variance(b, seed):
    """v^T H v = sum_i H_ii v_i^2 = tr H when H is diagonal and v_i = +-1."""
    X = points(b, 100, seed=8)
    esm = esm_loss(b.model, X, per_sample=True, **b.truth)
    vr = ssm_loss(b.model, X, seed=seed, variance_reduced=True, per_sample=True, **b.truth)
    np.testing.assert_allclose(vr, esm, rtol=0, atol=1e-12)
    plain = ssm_loss(b.model, X, seed=seed, per_sample=True, **b.truth)
    if b.model.dim == 1:  # (v s)^2 = s^2 too
        np.testing.assert_allclose(plain, esm, rtol=0, atol=1e-12)
    else:                 # (v . s)^2 is still random in d > 1
        assert np.max(np.abs(plain - esm)) > 1e-3


@pytest.mark.parametrize("projection", LAWS)
@pytest.mark.parametrize("name", ["gaussian_full_3d", "gaussian_mixture_2d"])
def test_ssm_uses_the_same_v_in_both_terms(name, projection):
    b = zoo.get(name)
    X = points(b, 50, seed=9)
    n, d = X.shape
    v = draw_projections(projection, 1, n, d, np.random.default_rng(11))[0]
    compiled = b.model.lambdify()
    H, s = compiled.hessian(X, **b.truth), compiled.score(X, **b.truth)
    vHv = np.einsum("ni,nij,nj->n", v, H, v)
    by_hand = vHv + 0.5 * np.sum(v * s, axis=1) ** 2
    values = ssm_loss(b.model, X, projection=projection, seed=11, per_sample=True, **b.truth)
    np.testing.assert_allclose(values, by_hand, rtol=1e-10, atol=1e-10)
    other = draw_projections(projection, 1, n, d, np.random.default_rng(12))[0]
    mixed = vHv + 0.5 * np.sum(other * s, axis=1) ** 2  # an independent v in the second term
    assert np.max(np.abs(values - mixed)) > 1e-2


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_sphere_projections_have_norm_sqrt_d_and_rademacher_is_plus_minus_one(d):
    rng = np.random.default_rng(d)
    V = draw_projections("sphere", 3, 200, d, rng)
    assert V.shape == (3, 200, d)
    np.testing.assert_allclose(np.linalg.norm(V, axis=2), np.sqrt(d), rtol=0, atol=1e-12)
    R = draw_projections("rademacher", 3, 200, d, rng)
    assert set(np.unique(R)) == {-1.0, 1.0}


def unscaled_sphere(rng, shape):
    g = rng.standard_normal(shape)
    return g / np.linalg.norm(g, axis=2, keepdims=True)


def second_moment_z(V):
    """|E^[v v^T] - I| / SE entrywise (SE 0 where every draw agrees: compare exactly there)."""
    outer = V[:, :, None] * V[:, None, :]
    mean, se = mean_and_se(outer)
    gap = np.abs(mean - np.eye(V.shape[1]))
    return np.where(se > 0, gap / np.where(se > 0, se, 1.0), np.where(gap < 1e-12, 0.0, np.inf))


@pytest.mark.parametrize("projection", LAWS)
def test_projections_have_identity_second_moment_within_standard_errors(projection):
    V = draw_projections(projection, 1, 20000, 3, np.random.default_rng(13))[0]
    assert np.max(second_moment_z(V)) < Z


def test_unscaled_sphere_projections_have_second_moment_i_over_d():
    V = draw_projections(unscaled_sphere, 1, 20000, 3, np.random.default_rng(13))[0]
    assert np.max(second_moment_z(V)) > 50
    mean, se = mean_and_se(V[:, :, None] * V[:, None, :])
    assert np.all(np.abs(np.diag(mean) - 1 / 3) < Z * np.diag(se))


@pytest.mark.parametrize("variance_reduced", [False, True])
def test_unscaled_sphere_projections_make_ssm_disagree_with_esm(variance_reduced):
    """The unit sphere has E[v v^T] = I/d: SSM then estimates 1/2 ||s||^2 (/d) + tr H / d."""
    b = zoo.get("gaussian_full_3d")
    X = points(b, 40, seed=14)
    esm = esm_loss(b.model, X, per_sample=True, **b.truth)

    def z_score(projection):
        values = per_projection(b, X, 2000, seed=15, projection=projection,
                                variance_reduced=variance_reduced)
        mean, se = mean_and_se((values - esm).ravel())  # independent given X
        return mean / se

    assert abs(z_score("sphere")) < Z            # the scaled sphere, same data: agrees
    assert abs(z_score(unscaled_sphere)) > 20    # the unit sphere: must fail


# --- DSM --------------------------------------------------------------------------------------

def test_dsm_is_deterministic_for_a_seed():
    b = zoo.get("gaussian_mixture_2d")
    X = points(b, 100, seed=16)
    first = dsm_loss(b.model, X, 0.3, seed=5, **b.truth)
    assert type(first) is float
    assert first == dsm_loss(b.model, X, 0.3, seed=5, **b.truth)
    assert first != dsm_loss(b.model, X, 0.3, seed=6, **b.truth)
    per = dsm_loss(b.model, X, 0.3, seed=5, per_sample=True, **b.truth)
    assert per.shape == (100,) and per.mean() == pytest.approx(first, rel=1e-14)


@pytest.mark.parametrize("sigma", [0.05, 0.5, 2.0])
def test_dsm_of_the_1d_gaussian_targets_minus_eps_over_sigma(sigma):
    m = zoo.get("gaussian_1d").model
    mu, s2 = 0.3, 1.7
    x = np.random.default_rng(17).standard_normal(300)
    eps = np.random.default_rng(18).standard_normal((300, 1))[:, 0]

    def by_hand(e):
        noised = x + sigma * e
        return 0.5 * ((mu - noised) / s2 + e / sigma) ** 2   # s(x~) - (-eps/sigma)

    values = dsm_loss(m, x, sigma, seed=18, per_sample=True, mu=mu, s2=s2)
    np.testing.assert_allclose(values, by_hand(eps), rtol=1e-12)
    anti = dsm_loss(m, x, sigma, seed=18, antithetic=True, per_sample=True, mu=mu, s2=s2)
    np.testing.assert_allclose(anti, 0.5 * (by_hand(eps) + by_hand(-eps)), rtol=1e-12)


def test_dsm_minus_esm_at_the_noised_points_is_the_cross_term():
    """Per sample, 1/2||s(x~) + eps/sigma||^2 - ESM(x~) = s(x~).eps/sigma + ||eps||^2/(2 sigma^2)
    - tr H(x~), an identity checked with the compiled symbolic score and Laplacian."""
    b = zoo.get("gaussian_mixture_2d")
    X, sigma = points(b, 200, seed=19), 0.4
    eps = np.random.default_rng(20).standard_normal(X.shape)
    noised = X + sigma * eps
    compiled = b.model.lambdify()
    s, trace = compiled.score(noised, **b.truth), compiled.laplacian(noised, **b.truth)
    cross = np.sum(s * eps, axis=1) / sigma + np.sum(eps**2, axis=1) / (2 * sigma**2) - trace
    dsm = dsm_loss(b.model, X, sigma, seed=20, per_sample=True, **b.truth)
    esm = esm_loss(b.model, noised, per_sample=True, **b.truth)
    np.testing.assert_allclose(dsm - esm, cross, rtol=1e-10, atol=1e-10)


def test_antithetic_dsm_is_unbiased_and_removes_the_gradient_noise():
    """At one point repeated, all spread is the noise's. The O(1/sigma) term s(x).eps/sigma
    dominates the per-sample gradient's variance and cancels between eps and -eps; the loss value
    itself is dominated by ||eps||^2/(2 sigma^2), which antithetic draws cannot cancel."""
    b = zoo.get("gaussian_mixture_2d")
    X, sigma, h = np.tile([[0.3, -0.2]], (4000, 1)), 0.1, 1e-5

    def per_sample(antithetic, a1):
        return dsm_loss(b.model, X, sigma, seed=21, antithetic=antithetic, per_sample=True,
                        **{**b.truth, "a1": a1})

    a1 = b.truth["a1"]
    loss = {anti: per_sample(anti, a1) for anti in (False, True)}
    grad = {anti: (per_sample(anti, a1 + h) - per_sample(anti, a1 - h)) / (2 * h)
            for anti in (False, True)}
    for values in (loss, grad):  # same mean: paired differences within Z standard errors
        mean, se = mean_and_se(values[False] - values[True])
        assert abs(mean) < Z * se
    assert loss[True].var() <= loss[False].var()
    assert grad[True].var() < grad[False].var() / 50


def test_minimizing_dsm_gives_the_noised_variance_and_esm_the_sample_variance():
    """Data N(0, 1), model N(mu = 0, s2). ESM is minimized at mean(x^2), the (biased, known-mean)
    sample variance; with mu set to the sample mean, at np.var(x). DSM is minimized at
    mean(x~^2) / mean(x~ eps / sigma), which estimates 1 + sigma^2, the variance of x~."""
    m, sigma, n = zoo.get("gaussian_1d").model, 0.5, 2000
    x = np.random.default_rng(22).standard_normal((n, 1))

    def argmin(f):
        return minimize_scalar(f, bounds=(0.05, 5.0), method="bounded",
                               options={"xatol": 1e-10}).x

    assert argmin(lambda s2: esm_loss(m, x, mu=0.0, s2=s2)) == pytest.approx(
        np.mean(x**2), abs=1e-6)
    assert argmin(lambda s2: esm_loss(m, x, mu=float(x.mean()), s2=s2)) == pytest.approx(
        np.var(x), abs=1e-6)

    best = argmin(lambda s2: dsm_loss(m, x, sigma, seed=23, mu=0.0, s2=s2))
    eps = np.random.default_rng(23).standard_normal((n, 1))
    a, c = (x + sigma * eps) ** 2, (x + sigma * eps) * eps / sigma
    ratio = a.mean() / c.mean()
    assert best == pytest.approx(ratio, abs=1e-6)
    se = np.std(a - ratio * c, ddof=1) / np.sqrt(n) / c.mean()   # delta method
    assert abs(ratio - (1 + sigma**2)) < Z * se
    assert abs(ratio - np.mean(x**2)) > 0.1  # DSM's optimum is not the data's variance


# --- gradients --------------------------------------------------------------------------------

@pytest.mark.parametrize("mu, s2", [(0.5, 2.0), (0.0, 1.0), (-1.0, 0.4)])
def test_esm_gradient_is_the_closed_form(mu, s2):
    b = zoo.get("gaussian_1d")
    x = b.sample(500, seed=24)[:, 0]
    g = loss_gradient("esm", b.model, x, {"mu": mu, "s2": s2})
    assert set(g) == {"mu", "s2"} and all(type(v) is float for v in g.values())
    # d/dmu and d/ds2 of mean(-1/s2 + (x - mu)^2 / (2 s2^2))
    assert g["mu"] == pytest.approx(-np.mean(x - mu) / s2**2, rel=1e-10, abs=1e-12)
    assert g["s2"] == pytest.approx(np.mean(1 / s2**2 - (x - mu) ** 2 / s2**3), rel=1e-10)
    assert loss_gradient(esm_loss, b.model, x, {"mu": mu, "s2": s2}) == g


# (loss, options, model)
GRADIENT_CASES = [
    (esm_loss, {}, "student_t"),
    (dsm_loss, dict(sigma=0.3, seed=2), "gaussian_mixture_2d"),
    (dsm_loss, dict(sigma=0.3, seed=2, antithetic=True), "student_t"),
    ("dsm", dict(sigma=1.0, seed=3), "gaussian_full_3d"),
    (ssm_loss, dict(n_projections=3, seed=4), "gaussian_mixture_2d"),
    (ssm_loss, dict(n_projections=2, seed=4, projection="sphere"), "gaussian_full_3d"),
    ("ssm", dict(n_projections=2, seed=5, projection="gaussian", variance_reduced=True),
     "student_t"),
]


@pytest.mark.parametrize("loss, options, name", GRADIENT_CASES)
def test_loss_gradient_agrees_with_central_finite_differences(loss, options, name):
    b = zoo.get(name)
    X = points(b, 100, seed=25)
    g = loss_gradient(loss, b.model, X, b.truth, **options)
    function = {"esm": esm_loss, "dsm": dsm_loss, "ssm": ssm_loss}.get(loss, loss)
    for p, value in b.truth.items():
        h = 1e-6 * max(1.0, abs(value))
        up = function(b.model, X, **options, **{**b.truth, p: value + h})
        down = function(b.model, X, **options, **{**b.truth, p: value - h})
        assert g[p] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-6), p


def test_autograd_differentiates_a_loss_in_a_param_directly():
    m = zoo.get("gaussian_1d").model
    x = np.array([[0.0], [1.0], [-2.0]])
    g = autograd.grad(lambda s2: esm_loss(m, x, mu=0.0, s2=s2))(1.0)
    assert g == pytest.approx(np.mean(1 - x**2))   # 1/s2^2 - x^2/s2^3 at s2 = 1
    for loss, options in [(dsm_loss, dict(sigma=0.5, seed=1)), (ssm_loss, dict(seed=1))]:
        direct = autograd.grad(
            lambda mu, loss=loss, options=options: loss(m, x, **options, mu=mu, s2=1.5))(0.2)
        assert direct == pytest.approx(
            loss_gradient(loss, m, x, {"mu": 0.2, "s2": 1.5}, **options)["mu"], rel=1e-12)
    # per_sample stays traced inside autograd too
    total = autograd.grad(lambda s2: anp.sum(esm_loss(m, x, per_sample=True, mu=0.0, s2=s2)))(1.0)
    assert total == pytest.approx(3 * g)


def test_loss_gradient_of_a_model_without_params_is_empty():
    b = zoo.get("logcosh_3d")
    assert loss_gradient("ssm", b.model, points(b, 10), {}, seed=0) == {}


# --- bad input --------------------------------------------------------------------------------

G1 = zoo.get("gaussian_1d")
X1 = np.array([[0.0], [1.0]])
TRUTH = G1.truth
SIGMA_MODEL = Model.from_string("-x**2/(2*sigma)", "x", "sigma", kind="log", positive="sigma")

BAD_INPUT = [
    (lambda: esm_loss("x**2", X1, **TRUTH),
     "logp must be a scoresym.Model, a scoresym.ScoreField or a callable"),
    (lambda: esm_loss(3.0, X1), "got float"),
    (lambda: esm_loss(lambda X: anp.sum(X), X1), "log-densities of shape (n,)"),
    (lambda: dsm_loss(G1.model, X1, 0.0, **TRUTH), "sigma must be a positive finite number"),
    (lambda: dsm_loss(G1.model, X1, -0.1, **TRUTH), "sigma must be a positive finite number"),
    (lambda: dsm_loss(G1.model, X1, float("inf"), **TRUTH), "sigma"),
    (lambda: dsm_loss(G1.model, X1, float("nan"), **TRUTH), "sigma"),
    (lambda: dsm_loss(G1.model, X1, "0.1", **TRUTH), "sigma"),
    (lambda: dsm_loss(G1.model, X1, 0.1, seed="abc", **TRUTH), "seed must be"),
    (lambda: ssm_loss(G1.model, X1, projection="uniform", **TRUTH),
     "projection must be one of rademacher, gaussian, sphere"),
    (lambda: ssm_loss(G1.model, X1, n_projections=0, **TRUTH),
     "n_projections must be a positive int"),
    (lambda: ssm_loss(G1.model, X1, n_projections=2.5, **TRUTH), "n_projections"),
    (lambda: ssm_loss(G1.model, X1, projection=lambda rng, shape: np.ones(3), **TRUTH),
     "projection callable must return an array of shape (1, 2, 1)"),
    (lambda: esm_loss(G1.model, X1, mu=0.0), "missing parameter(s): s2"),
    (lambda: esm_loss(G1.model, X1, mu=0.0, s2=1.0, nu=2.0), "unknown parameter(s): nu"),
    (lambda: esm_loss(G1.model, X1, mu=[0.0, 1.0], s2=1.0), "parameter mu must be a scalar"),
    (lambda: esm_loss(zoo.get("logcosh_3d").model, np.zeros((4, 2))), "X must have shape (n, 3)"),
    (lambda: esm_loss(G1.model, np.zeros((0, 1)), **TRUTH), "X holds no points"),
    (lambda: esm_loss(G1.model, X1, per_sample="yes", **TRUTH), "per_sample must be True or False"),
    (lambda: dsm_loss(SIGMA_MODEL, X1, 0.1), "sigma clash with the loss's own keyword"),
    (lambda: loss_gradient("hsm", G1.model, X1, TRUTH), "loss must be esm_loss, dsm_loss"),
    (lambda: loss_gradient("esm", G1.model, X1, TRUTH, per_sample=True), "per_sample"),
    (lambda: loss_gradient("esm", G1.model, X1, [0.5, 2.0]), "params must be a dict"),
    (lambda: autograd.grad(lambda X: esm_loss(G1.model, X, **TRUTH))(X1), "X must be data"),
]


@pytest.mark.parametrize("call, fragment", BAD_INPUT)
def test_bad_input_is_a_scoresym_input_error_naming_the_problem(call, fragment):
    with pytest.raises(ScoresymInputError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert fragment in str(info.value)


def test_a_model_parameter_named_like_a_loss_keyword_is_refused_only_by_that_loss():
    with pytest.raises(ScoresymInputError, match="sigma clash"):
        dsm_loss(SIGMA_MODEL, X1, 0.1)
    # esm_loss has no keyword sigma: there the model's sigma is an ordinary parameter
    assert esm_loss(SIGMA_MODEL, X1, sigma=2.0) == pytest.approx(np.mean(X1[:, 0] ** 2 / 8 - 0.5))


BETA = Model.from_string("x**(a-1)*(1-x)**(b-1)", "x", "a b", domain={"x": (0, 1)})


@pytest.mark.parametrize("loss, options", [
    (esm_loss, {}), (ssm_loss, {"seed": 0}), (dsm_loss, {"sigma": 1e-3, "seed": 0})])
@pytest.mark.parametrize("X, fragment", [
    ([[0.5], [0.0]], "row 1: x = 0 (at the edge 0)"),
    ([[0.5], [1.5]], "row 1: x = 1.5 (outside)"),
])
def test_losses_refuse_points_on_or_outside_the_domain(loss, options, X, fragment):
    """The losses returned NaN at an edge and a number for a point outside (0, 1)."""
    with pytest.raises(ScoresymInputError, match="strictly inside") as info:
        loss(BETA, np.array(X), a=2.0, b=3.0, **options)
    assert fragment in str(info.value)


def test_dsm_refuses_noise_that_leaves_a_bounded_domain():
    X = np.array([[0.5], [0.01]])
    with pytest.raises(ScoresymInputError,
                       match=r"noisy points x [+-] sigma\*eps leave the domain") as info:
        dsm_loss(BETA, X, 0.5, seed=0, antithetic=True, a=2.0, b=3.0)
    assert "smaller sigma" in str(info.value)
    # small noise stays inside, and the loss is the by-hand value there
    value = dsm_loss(BETA, X, 1e-4, seed=0, per_sample=True, a=2.0, b=3.0)
    eps = np.random.default_rng(0).standard_normal(X.shape)
    noisy = X + 1e-4 * eps
    by_hand = 0.5 * (1.0 / noisy - 2.0 / (1.0 - noisy) + eps / 1e-4)[:, 0] ** 2
    assert value == pytest.approx(by_hand, rel=1e-9)
