"""Score fields (a network's output as the score): ESM, DSM, SSM and NCSN against closed forms
for a linear field, against the seed's reference code ported to NumPy (values exact, gradients by
complex-step differentiation), and their errors on bad input."""

import autograd.numpy as anp
import numpy as np
import pytest

import scoresym as ss
from scoresym import ScoresymInputError, nets
from scoresym.losses import (
    ScoreField,
    dsm_loss,
    esm_loss,
    float_leaves,
    geometric_sigmas,
    loss_gradient,
    ncsn_loss,
    ssm_loss,
)

Z = 5.0  # Monte Carlo tolerance, in standard errors


# --- a linear field s(x) = A x + b: everything in closed form ----------------------------------

def linear(X, p):
    return anp.dot(X, p["A"].T) + p["b"]


LINEAR = ScoreField(linear, name="linear")
RNG = np.random.default_rng(7)
A = np.array([[-1.0, 0.4], [-0.3, -2.0]])  # not symmetric: a free field, not a gradient
B = np.array([0.5, -0.2])
P = {"A": A, "b": B}
X = RNG.standard_normal((50, 2))


def esm_closed(X, A, b):
    s = X @ A.T + b
    return 0.5 * np.sum(s**2, axis=1) + np.trace(A)


def dsm_expected_closed(X, A, b, sigma):
    """E_eps 1/2 ||A(x + sigma eps) + b + eps/sigma||^2
    = 1/2 ||Ax + b||^2 + sigma^2/2 ||A||_F^2 + tr A + d/(2 sigma^2)."""
    s = X @ A.T + b
    d = X.shape[1]
    return (0.5 * np.sum(s**2, axis=1) + 0.5 * sigma**2 * np.sum(A**2) + np.trace(A)
            + d / (2 * sigma**2))


def test_esm_of_a_linear_field_is_its_closed_form_per_sample():
    np.testing.assert_allclose(esm_loss(LINEAR, X, params=P, per_sample=True),
                               esm_closed(X, A, B), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("sigma", [0.1, 0.5, 2.0])
def test_dsm_expectation_over_the_noise_by_gauss_hermite_is_the_closed_form(sigma):
    """The noise integral by a tensor Gauss-Hermite rule (exact for this quadratic), each node
    passed to dsm_loss as its noise."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(6)
    weights = weights / weights.sum()
    total = np.zeros(len(X))
    for e1, w1 in zip(nodes, weights):
        for e2, w2 in zip(nodes, weights):
            eps = np.tile([e1, e2], (len(X), 1))
            total += w1 * w2 * dsm_loss(LINEAR, X, sigma, noise=eps, params=P, per_sample=True)
    np.testing.assert_allclose(total, dsm_expected_closed(X, A, B, sigma), rtol=1e-12)


def test_ssm_with_given_projections_is_v_a_v_plus_half_the_squared_projection():
    V = RNG.standard_normal((3, len(X), 2))
    s = X @ A.T + B
    by_hand = np.mean([np.einsum("ni,ij,nj->n", v, A, v) + 0.5 * np.sum(v * s, axis=1) ** 2
                       for v in V], axis=0)
    np.testing.assert_allclose(ssm_loss(LINEAR, X, projections=V, params=P, per_sample=True),
                               by_hand, rtol=1e-14)
    one = ssm_loss(LINEAR, X, projections=V[0], params=P, per_sample=True)  # (n, d): one
    np.testing.assert_allclose(one, np.einsum("ni,ij,nj->n", V[0], A, V[0])
                               + 0.5 * np.sum(V[0] * s, axis=1) ** 2, rtol=1e-14)


@pytest.mark.parametrize("projection", ["rademacher", "gaussian", "sphere"])
def test_ssm_of_a_free_field_averages_to_esm_within_standard_errors(projection):
    values = ssm_loss(LINEAR, X, n_projections=1, projection=projection, seed=3, params=P,
                      per_sample=True)
    draws = np.array([ssm_loss(LINEAR, X[:5], projection=projection, seed=k, params=P,
                               per_sample=True) for k in range(2000)])
    mean, se = draws.mean(0), draws.std(0, ddof=1) / np.sqrt(len(draws))
    assert values.shape == (50,)
    assert np.all(np.abs(mean - esm_closed(X[:5], A, B)) <= Z * se + 1e-12)


def test_esm_gradient_of_a_linear_field_is_the_closed_form():
    """d/dA mean(1/2 ||Ax + b||^2 + tr A) = mean((Ax + b) x^T) + I; d/db = mean(Ax + b)."""
    g = loss_gradient("esm", LINEAR, X, P)
    s = X @ A.T + B
    np.testing.assert_allclose(g["A"], s.T @ X / len(X) + np.eye(2), rtol=1e-13)
    np.testing.assert_allclose(g["b"], s.mean(0), rtol=1e-13)
    assert set(g) == {"A", "b"}


def test_dsm_expectation_gradient_matches_over_gauss_hermite_nodes():
    """The noise-averaged DSM gradient in b is mean(Ax + b) (the closed form's derivative)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(4)
    weights = weights / weights.sum()
    total = 0.0
    for e1, w1 in zip(nodes, weights):
        for e2, w2 in zip(nodes, weights):
            eps = np.tile([e1, e2], (len(X), 1))
            total = total + w1 * w2 * loss_gradient("dsm", LINEAR, X, P, sigma=0.3,
                                                    noise=eps)["b"]
    np.testing.assert_allclose(total, (X @ A.T + B).mean(0), rtol=1e-12, atol=1e-14)


# --- the seed's reference code (PyTorch), ported to NumPy ------------------------------------

def reference_score_and_jacobian(params, x):
    """The seed's ScoreNetwork (Linear, SiLU, ..., Linear) and its Jacobian ds/dx, propagated
    forward by hand (what the reference's D backward passes compute). Complex-safe."""
    h, J = x, np.broadcast_to(np.eye(x.shape[1]), (len(x), x.shape[1], x.shape[1]))
    for W, b in params[:-1]:
        z = h @ W + b
        J = np.einsum("nid,ik->nkd", J, W)
        sig = 1.0 / (1.0 + np.exp(-z))
        h, J = z * sig, J * (sig * (1 + z * (1 - sig)))[:, :, None]
    W, b = params[-1]
    return h @ W + b, np.einsum("nid,ik->nkd", J, W)


def reference_esm(params, x):
    s, J = reference_score_and_jacobian(params, x)
    return np.mean(0.5 * np.sum(s * s, axis=1) + np.trace(J, axis1=1, axis2=2))


def reference_dsm(params, x, noise, sigma):
    s, _ = reference_score_and_jacobian(params, x + sigma * noise)
    target = -noise / sigma
    return 0.5 * np.mean(np.sum((s - target) ** 2, axis=1))


def reference_ssm(params, x, V):
    s, J = reference_score_and_jacobian(params, x)
    total = 0.0
    for v in V:
        vs = np.sum(v * s, axis=1)
        vjp = np.einsum("nk,nkd->nd", v, J)
        total = total + np.mean(0.5 * vs**2 + np.sum(vjp * v, axis=1))
    return total / len(V)


def complex_step_gradient(loss, params, h=1e-30):
    """d loss / d every weight, by Im loss(theta + i h e_j) / h: exact to rounding."""
    gradient = []
    for k, (W, b) in enumerate(params):
        layer = []
        for array in (W, b):
            g = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                shifted = [(W_.astype(complex), b_.astype(complex)) for W_, b_ in params]
                target = shifted[k][0] if array is W else shifted[k][1]
                target[index] += 1j * h
                g[index] = loss(shifted).imag / h
            layer.append(g)
        gradient.append(tuple(layer))
    return gradient


REFERENCE_CASES = [  # (sizes, loss, options)
    ([2, 16, 16, 2], "esm", {}),
    ([2, 16, 16, 2], "dsm", {"sigma": 0.1}),
    ([2, 16, 16, 2], "dsm", {"sigma": 0.5}),
    ([2, 16, 16, 2], "ssm", {"M": 1}),
    ([2, 16, 16, 2], "ssm", {"M": 4}),
    ([3, 8, 3], "esm", {}),
    ([3, 8, 3], "ssm", {"M": 2}),
]


@pytest.mark.parametrize("sizes, loss, options", REFERENCE_CASES)
def test_losses_and_gradients_equal_the_seeds_reference_port(sizes, loss, options):
    rng = np.random.default_rng(len(sizes) + sizes[1])
    params = nets.init(1, sizes)
    x = rng.standard_normal((12, sizes[0]))
    net = nets.score_network("silu")
    if loss == "esm":
        def ref(p):
            return reference_esm(p, x)
        ours = {}
    elif loss == "dsm":
        noise = rng.standard_normal(x.shape)

        def ref(p):
            return reference_dsm(p, x, noise, options["sigma"])
        ours = {"sigma": options["sigma"], "noise": noise}
    else:
        V = rng.integers(0, 2, (options["M"], *x.shape)) * 2.0 - 1.0

        def ref(p):
            return reference_ssm(p, x, V)
        ours = {"projections": V}
    value = ss.losses.LOSSES[loss](net, x, params=params, **ours)
    assert value == pytest.approx(ref(params), rel=1e-12, abs=1e-13)
    gradient = loss_gradient(loss, net, x, params, **ours)
    expected = complex_step_gradient(ref, params)
    for (gW, gb), (eW, eb) in zip(gradient, expected):
        np.testing.assert_allclose(gW, eW, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(gb, eb, rtol=1e-10, atol=1e-12)


def test_a_wrong_trace_is_caught_by_the_reference():
    """The reference check can fail: ESM with the Jacobian's row sums instead of its diagonal
    (elementwise_grad twice) is not the reference's value."""
    params = nets.init(2, [2, 16, 2])
    x = np.random.default_rng(0).standard_normal((10, 2))
    s, J = reference_score_and_jacobian(params, x)
    row_sums = np.mean(0.5 * np.sum(s * s, axis=1) + J.sum(axis=(1, 2)))
    ours = esm_loss(nets.score_network(), x, params=params)
    assert ours == pytest.approx(reference_esm(params, x), rel=1e-12)
    assert abs(ours - row_sums) > 1e-3


# --- NCSN ------------------------------------------------------------------------------------

def exact_gaussian_field():
    """The noised score of N(0, I) data: -x / (1 + sigma^2)."""
    return ScoreField(lambda Y, s, p: -Y / (1.0 + s**2), conditional=True)


def test_ncsn_per_sample_is_sigma_weighted_dsm_by_hand():
    sigmas = geometric_sigmas(2.0, 0.1, 4)
    levels = np.arange(len(X)) % 4
    eps = RNG.standard_normal(X.shape)
    field = ScoreField(lambda Y, s, p: anp.dot(Y, p.T) * s, conditional=True)
    values = ncsn_loss(field, X, sigmas, params=A, levels=levels, noise=eps, per_sample=True)
    sig = sigmas[levels][:, None]
    noisy = X + sig * eps
    by_hand = 0.5 * sig[:, 0] ** 2 * np.sum((noisy @ A.T * sig + eps / sig) ** 2, axis=1)
    np.testing.assert_allclose(values, by_hand, rtol=1e-13)


def test_ncsn_at_the_exact_noised_score_has_its_expected_value_per_level():
    """At s = -x/(1 + sigma^2) for N(0, I) data each level's loss has mean d/(2(1 + sigma^2))."""
    data = np.random.default_rng(0).standard_normal((40000, 3))
    sigmas = np.array([3.0, 1.0, 0.2])
    for level, sigma in enumerate(sigmas):
        values = ncsn_loss(exact_gaussian_field(), data, sigmas, levels=np.full(40000, level),
                           seed=1, per_sample=True)
        se = values.std(ddof=1) / np.sqrt(len(values))
        assert abs(values.mean() - 3 / (2 * (1 + sigma**2))) <= Z * se


def test_ncsn_is_smallest_at_the_exact_noised_score():
    """Scaling the exact field by c != 1 raises the loss (same draws)."""
    data = np.random.default_rng(1).standard_normal((20000, 2))
    sigmas = geometric_sigmas(2.0, 0.2, 5)
    field = ScoreField(lambda Y, s, c: -c * Y / (1.0 + s**2), conditional=True)
    values = {c: ncsn_loss(field, data, sigmas, params=c, seed=4) for c in (0.8, 1.0, 1.25)}
    assert values[1.0] < values[0.8] and values[1.0] < values[1.25]
    assert loss_gradient_at(field, data, sigmas) == pytest.approx(0.0, abs=0.02)


def loss_gradient_at(field, data, sigmas):
    import autograd
    return float(autograd.grad(lambda c: ncsn_loss(field, data, sigmas, params=c, seed=4))(1.0))


def test_geometric_sigmas_are_a_geometric_ladder():
    s = geometric_sigmas(5.0, 0.5, 20)
    assert s[0] == 5.0 and s[-1] == pytest.approx(0.5) and len(s) == 20
    np.testing.assert_allclose(s[1:] / s[:-1], (0.1) ** (1 / 19))


# --- containers and bad input ----------------------------------------------------------------

def test_params_may_be_any_autograd_container():
    field = ScoreField(lambda Y, p: Y * p[0]["scale"] + p[1])
    params = [{"scale": np.array(-1.0)}, np.array([0.1, 0.2])]
    g = loss_gradient("esm", field, X, params)
    assert isinstance(g, list) and set(g[0]) == {"scale"} and g[1].shape == (2,)
    s = -X + params[1]
    assert float(g[0]["scale"]) == pytest.approx(np.mean(np.sum(s * X, axis=1)) + 2, rel=1e-13)


def test_float_leaves_keeps_the_structure_and_makes_floats():
    out = float_leaves(([(np.eye(2, dtype=int), [0, 1])], {"c": 3}))
    assert isinstance(out, tuple) and out[0][0][0].dtype == float and out[1]["c"].shape == ()


BAD = [
    (lambda: esm_loss(LINEAR, X), "params="),
    (lambda: esm_loss(LINEAR, X, params=P, mu=1.0), "unexpected keyword"),
    (lambda: esm_loss(ScoreField(lambda Y, p: Y[:, :1]), X, params=None), "same shape"),
    (lambda: esm_loss(exact_gaussian_field(), X, params=None), "ncsn_loss"),
    (lambda: esm_loss(lambda Y: -Y, X), "ScoreField"),
    (lambda: dsm_loss(LINEAR, X, 0.1, noise=np.zeros((3, 2)), params=P), "noise must have"),
    (lambda: dsm_loss(LINEAR, X, 0.1, noise=np.full(X.shape, np.nan), params=P), "NaN"),
    (lambda: ssm_loss(LINEAR, X, projections=np.zeros((2, 3, 2)), params=P), "projections"),
    (lambda: ssm_loss(LINEAR, X, projections="x", params=P), "projections"),
    (lambda: loss_gradient("esm", LINEAR, X, {"A": A, "b": [np.nan, 0]}), "NaN"),
    (lambda: loss_gradient("esm", LINEAR, X, {"A": "a", "b": B}), "params['A']"),
    (lambda: ScoreField(3), "ScoreField needs a function"),
    (lambda: ncsn_loss(LINEAR, X, [1.0], params=P), "conditional"),
    (lambda: ncsn_loss(exact_gaussian_field(), X, [1.0, -1.0]), "positive"),
    (lambda: ncsn_loss(exact_gaussian_field(), X, [1.0], levels=np.ones(3, int)), "levels"),
    (lambda: geometric_sigmas(0.5, 5.0, 3), "largest"),
]


@pytest.mark.parametrize("call, fragment", BAD)
def test_bad_input_is_a_scoresym_input_error_naming_the_problem(call, fragment):
    with pytest.raises(ScoresymInputError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        call()
