"""scoresym.nets: initialization against PyTorch's law, the MLP against a hand computation,
training that lowers the loss, is reproducible for a seed, reports progress and refuses bad
input."""

import autograd.numpy as anp
import numpy as np
import pytest

import scoresym as ss
from scoresym import ScoresymInputError, nets


def test_init_follows_pytorchs_linear_law_and_is_reproducible():
    params = nets.init(0, [4, 300, 2])
    W, b = params[0]
    assert W.shape == (4, 300) and b.shape == (300,)
    assert np.all(np.abs(W) <= 0.5) and np.all(np.abs(b) <= 0.5)
    # uniform on (-1/2, 1/2): variance 1/12, within 5 standard errors over 1,200 draws
    assert abs(W.var() - 1 / 12) < 5 * np.sqrt(1 / 180 / 1200)
    again = nets.init(0, [4, 300, 2])
    assert all(np.array_equal(a, c) for (a, _), (c, _) in zip(params, again))
    W, b = nets.init(0, [100, 50], scale="normal")[0]
    assert np.all(b == 0) and abs(W.std() - 0.1) < 0.005


@pytest.mark.parametrize("activation, act", [
    ("silu", lambda z: z / (1 + np.exp(-z))),
    ("tanh", np.tanh),
    ("softplus", lambda z: np.log1p(np.exp(z))),
])
def test_apply_is_the_mlp_by_hand(activation, act):
    params = nets.init(3, [2, 5, 4, 2])
    X = np.random.default_rng(0).standard_normal((7, 2)) * 3
    h = X
    for W, b in params[:-1]:
        h = act(h @ W + b)
    W, b = params[-1]
    np.testing.assert_allclose(nets.apply(params, X, activation), h @ W + b, rtol=1e-13)


def test_silu_and_softplus_stay_finite_far_out():
    z = np.array([-1e4, -800.0, 0.0, 800.0, 1e4])
    np.testing.assert_allclose(nets.silu(z), [0.0, 0.0, 0.0, 800.0, 1e4], atol=1e-300)
    np.testing.assert_allclose(nets.softplus(z), [0.0, 0.0, np.log(2), 800.0, 1e4])


def gaussian_data(n=2000, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 2)) * [1.0, 2.0] + [1.0, -1.0]


@pytest.mark.parametrize("loss", ["esm", "dsm", "ssm"])
def test_training_the_seeds_score_network_learns_a_gaussians_score(loss):
    """The seed's ScoreNetwork(2, [16, 16]) trained by each loss: the relative Fisher distance to
    the true score N(mu, diag(1, 4)) falls from about 1 to under 0.1 (DSM learns the score of the
    data noised by sigma = 0.3, 0.01 away in that distance)."""
    X = gaussian_data()
    net = nets.score_network()
    options = {"dsm": {"sigma": 0.3}, "ssm": {"n_projections": 1}, "esm": {}}[loss]

    def objective(p, batch, rng):
        seeded = {} if loss == "esm" else {"seed": rng}
        return ss.losses.LOSSES[loss](net, batch, params=p, **options, **seeded)

    params = nets.init(0, [2, 16, 16, 2])
    result = nets.train(objective, params, X, steps=600, step_size=1e-2, batch_size=128, seed=1)
    true = -(X - [1.0, -1.0]) / [1.0, 4.0]

    def fisher(p):
        return np.mean(np.sum((nets.apply(p, X) - true) ** 2, 1)) / np.mean(np.sum(true**2, 1))
    assert fisher(params) > 0.5
    assert fisher(result.params) < 0.1
    assert np.mean(result.losses[-50:]) < np.mean(result.losses[:50])


def test_training_is_reproducible_for_a_seed_and_calls_back_every_step(capsys):
    X = gaussian_data(300)
    net = nets.score_network("tanh")
    seen = []

    def objective(p, batch, rng):
        return ss.dsm_loss(net, batch, 0.3, seed=rng, params=p)

    def run(progress=False):
        return nets.train(objective, nets.init(0, [2, 8, 2]), X, steps=30, batch_size=32, seed=5,
                          callback=lambda step, p, value: seen.append((step, value)),
                          progress=progress)
    first, second = run(), run(progress=True)
    np.testing.assert_array_equal(first.losses, second.losses)
    assert [s for s, _ in seen[:30]] == list(range(30))
    assert [v for _, v in seen[:30]] == list(first.losses)
    bar = capsys.readouterr().err
    assert "30/30" in bar and "loss" in bar
    assert "30 steps" in repr(first)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow the test provokes
@pytest.mark.parametrize("objective, fragment", [
    (lambda p, batch, rng: -anp.exp(anp.sum(p[0][0])), "the loss is -inf"),   # unbounded below
    (lambda p, batch, rng: anp.sum(anp.sqrt(p[0][0] ** 2)), "gradient overflows"),  # at 0
])
def test_a_diverging_run_stops_with_an_error_naming_the_step_size(objective, fragment):
    params = [(np.zeros((2, 4)), np.zeros(4)), (np.zeros((4, 2)), np.zeros(2))]
    with pytest.raises(ScoresymInputError, match=f"{fragment}.*lower step_size"):
        nets.train(objective, params, gaussian_data(200), steps=50, step_size=100.0, seed=0)


@pytest.mark.parametrize("call, fragment", [
    (lambda: nets.init(0, [2]), "input and an output"),
    (lambda: nets.init(0, "22"), "sequence of layer widths"),
    (lambda: nets.init(0, [2, 0, 2]), "layer width"),
    (lambda: nets.init(0, [2, 2], scale="he"), "scale"),
    (lambda: nets.apply(nets.init(0, [2, 2]), np.zeros((1, 2)), "relu6"), "activation"),
    (lambda: nets.train(3, [], np.zeros((2, 2))), "loss must be a function"),
    (lambda: nets.train(lambda p, b, r: 0.0, nets.init(0, [2, 2]), np.zeros(3)), "(n, d)"),
    (lambda: nets.train(lambda p, b, r: 0.0, nets.init(0, [2, 2]), [[np.nan, 0]]), "NaN"),
    (lambda: nets.train(lambda p, b, r: 0.0, nets.init(0, [2, 2]), np.zeros((2, 2)),
                        steps=0), "steps"),
])
def test_bad_input_is_refused_by_name(call, fragment):
    with pytest.raises(ScoresymInputError, match=fragment.replace("(", r"\(").replace(")", r"\)")):
        call()
