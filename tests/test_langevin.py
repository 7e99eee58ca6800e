"""Annealed Langevin dynamics against the exact noised mixture: its symbolic score against the
closed form, the sampler reproducing the weights within their standard error and passing a
two-sample test, the checks failing on a chain that does not mix and on a wrong score, the MMD
test calibrated, and a learned noise-conditional network sampling the mixture."""

import numpy as np
import pytest
from scipy.special import logsumexp

from scoresym import ScoresymInputError, nets
from scoresym.checks.langevin import (
    MIXTURE,
    NOT_MIXING,
    check_annealed_langevin,
    check_mode_weight,
    check_two_sample,
    langevin_draws,
)
from scoresym.langevin import GaussianMixture, annealed_langevin
from scoresym.losses import geometric_sigmas, ncsn_loss
from scoresym.numerics.two_sample import mmd_test


def closed_form_score(mix, X, sigma):
    """sum_k r_k(x) (mu_k - x) / (v_k + sigma^2), the responsibilities r_k by log-sum-exp."""
    v = mix.variances + sigma**2
    log_terms = (np.log(mix.weights) - 0.5 * mix.dim * np.log(v)
                 - ((X[:, None] - mix.means) ** 2).sum(2) / (2 * v))
    r = np.exp(log_terms - logsumexp(log_terms, axis=1, keepdims=True))
    return np.einsum("nk,nkd->nd", r / v, mix.means[None] - X[:, None])


@pytest.mark.parametrize("mix", [
    MIXTURE,
    GaussianMixture([0.3, 0.3, 0.4], [[0, 0, 0], [3, 0, 1], [0, -2, 2]], [0.5, 1.0, 2.0]),
])
@pytest.mark.parametrize("sigma", [0.05, 0.5, 5.0])
def test_the_symbolic_noised_score_is_the_closed_form(mix, sigma):
    X = np.random.default_rng(0).standard_normal((200, mix.dim)) * 4
    X[:3] = 1e3  # far out, where the plain formula's exponentials underflow
    np.testing.assert_allclose(mix.noised_score(X, sigma), closed_form_score(mix, X, sigma),
                               rtol=1e-10, atol=1e-12)


def test_responsibilities_average_to_the_weights_under_the_mixture():
    X = MIXTURE.sample(50000, seed=2, sigma=0.5)
    r = MIXTURE.responsibilities(X, 0.5)
    se = r.std(0, ddof=1) / np.sqrt(len(X))
    assert np.all(np.abs(r.mean(0) - MIXTURE.weights) <= 4 * se)


@pytest.fixture(scope="module")
def exact_chain():
    return langevin_draws(MIXTURE, n=8000, seed=0)


def test_annealed_langevin_with_the_exact_score_reproduces_the_weights(exact_chain):
    result = check_mode_weight(MIXTURE, exact_chain["X"], exact_chain["sigma"])
    assert result.ok, str(result)
    assert result.stderr < 0.004 and result.lhs == pytest.approx(0.2, abs=4 * result.stderr)


def test_annealed_langevin_with_the_exact_score_passes_the_two_sample_test(exact_chain):
    result = check_two_sample(MIXTURE, exact_chain["X"][:2000], exact_chain["sigma"], seed=1)
    assert result.ok and result.details["p_value"] > 0.01, str(result)


def test_a_ladder_far_below_the_modes_distance_fails_both_checks():
    draws = langevin_draws(MIXTURE, n=4000, seed=0, **NOT_MIXING)
    weight = check_mode_weight(MIXTURE, draws["X"], draws["sigma"])
    assert not weight.ok and abs(weight.lhs - 0.2) > 0.1, str(weight)
    assert not check_two_sample(MIXTURE, draws["X"][:2000], draws["sigma"], seed=1).ok


def test_a_wrong_score_fails_the_weight_check():
    """The score of a 0.3/0.7 mixture, checked against the 0.2/0.8 one: the check fails, and
    its statistic is what exact draws of the 0.3/0.7 mixture give (the mean responsibility
    under the 0.2/0.8 mixture, not 0.3: points between the modes count for less)."""
    wrong = GaussianMixture([0.3, 0.7], MIXTURE.means, MIXTURE.variances)
    result = check_annealed_langevin(MIXTURE, score=wrong.noised_score, n=4000, seed=0)
    exact = MIXTURE.responsibilities(wrong.sample(200_000, seed=1, sigma=0.5), 0.5)[:, 0]
    assert not result.ok, str(result)
    assert abs(result.lhs - exact.mean()) < 4 * result.stderr, (result.lhs, exact.mean())


def test_the_mmd_statistic_and_its_permutations_are_the_u_statistic_by_hand():
    """MMD_u^2 from its three kernel means with the diagonals left out, for the samples and for
    the first relabelling the test drew (same seed, same permutation)."""
    from scipy.spatial.distance import cdist

    rng = np.random.default_rng(0)
    X, Y, h = rng.standard_normal((30, 2)), rng.standard_normal((40, 2)) + 0.3, 1.3

    def by_hand(A, B):
        def k(P, Q):
            return np.exp(-cdist(P, Q, "sqeuclidean") / (2 * h * h))
        Kaa, Kbb = k(A, A), k(B, B)
        return ((Kaa.sum() - np.trace(Kaa)) / (len(A) * (len(A) - 1))
                + (Kbb.sum() - np.trace(Kbb)) / (len(B) * (len(B) - 1)) - 2 * k(A, B).mean())

    test = mmd_test(X, Y, n_permutations=5, bandwidth=h, seed=3)
    assert test["statistic"] == pytest.approx(by_hand(X, Y), rel=1e-12)
    Z, order = np.vstack([X, Y]), np.random.default_rng(3).permutation(70)
    first = np.zeros(70, bool)
    first[order[:30]] = True
    assert test["null"][0] == pytest.approx(by_hand(Z[first], Z[~first]), rel=1e-10)


def test_the_mmd_test_holds_its_level_and_has_power():
    """Rejections at alpha = 0.05 over 200 null replications within 3 binomial standard
    errors; a shift of 0.5 in 2-D rejected at n = 200."""
    rng = np.random.default_rng(0)
    rejections = [mmd_test(rng.standard_normal((40, 2)), rng.standard_normal((40, 2)),
                           n_permutations=99, seed=k)["reject"] for k in range(200)]
    assert abs(np.mean(rejections) - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / 200)
    shifted = mmd_test(rng.standard_normal((200, 2)), rng.standard_normal((200, 2)) + 0.5, seed=0)
    assert shifted["reject"] and shifted["p_value"] < 0.01


def test_a_conditional_network_trained_by_ncsn_samples_the_mixture():
    """NCSN end to end: a noise-conditional MLP trained on 4,000 draws by multi-noise DSM
    (lambda = sigma^2), then annealed Langevin with the network: its score is near the exact
    noised score at every level, and the chain's weight is within 4 standard errors of 0.2."""
    sigmas = geometric_sigmas(5.0, 0.5, 20)
    data = MIXTURE.sample(4000, seed=0)
    field = nets.conditional_score_network()

    def objective(p, batch, rng):
        return ncsn_loss(field, batch, sigmas, params=p, seed=rng)

    result = nets.train(objective, nets.init(0, [3, 64, 64, 2]), data, steps=2000,
                        step_size=3e-3, batch_size=256, seed=1)
    for sigma in (5.0, 1.5, 0.5):
        Y = MIXTURE.sample(2000, seed=3, sigma=sigma)
        net = field.function(Y, np.full((2000, 1), sigma), result.params)
        exact = MIXTURE.noised_score(Y, sigma)
        relative = np.mean(np.sum((net - exact) ** 2, 1)) / np.mean(np.sum(exact**2, 1))
        assert relative < 0.1, (sigma, relative)
    draws = langevin_draws(MIXTURE, score=field, params=result.params, n=3000, seed=2)
    weight = check_mode_weight(MIXTURE, draws["X"], draws["sigma"])
    assert weight.ok, str(weight)


@pytest.mark.parametrize("call, fragment", [
    (lambda: GaussianMixture([0.5, 0.6], [[0], [1]], [1, 1]), "sum to 1"),
    (lambda: GaussianMixture([0.5, 0.5], [[0], [1]], [1, -1]), "variances positive"),
    (lambda: GaussianMixture([0.5, 0.5], [[0]], [1, 1]), "2 means"),
    (lambda: annealed_langevin(MIXTURE.noised_score, np.zeros(3), [1.0]), "X0"),
    (lambda: annealed_langevin(MIXTURE.noised_score, np.zeros((3, 2)), []), "sigmas"),
    (lambda: annealed_langevin(lambda X, s: X[:, :1], np.zeros((3, 2)), [1.0]), "shape"),
    (lambda: annealed_langevin(nets.score_network(), np.zeros((3, 2)), [1.0]), "conditional"),
    (lambda: annealed_langevin(MIXTURE.noised_score, np.zeros((3, 2)), [1.0], params=[1]),
     "params"),
    (lambda: annealed_langevin(lambda X, s: X * 1e3, np.ones((3, 2)), [1.0], step_size=1.0,
                               steps_per_level=200),
     "diverged"),
    (lambda: mmd_test(np.zeros((5, 2)), np.zeros((5, 3))), "dimensions"),
])
def test_bad_input_is_refused_by_name(call, fragment):
    with pytest.raises(ScoresymInputError, match=fragment):
        call()
