"""Annealed Langevin dynamics (Song and Ermon 2019) and the exact noised scores that check it.

A Gaussian mixture sum_k w_k N(mu_k, v_k I) convolved with N(0, sigma^2 I) is the mixture with
variances v_k + sigma^2: :class:`GaussianMixture` gives it as a scoresym Model with the noise
level ``sigma`` as a parameter, so its score at every level is derived symbolically and
compiled, and a sampler can be checked against it with no learned network in between.

Invariant: annealed Langevin runs the levels sigma_1 > ... > sigma_L in order, T steps each, with
step alpha_i = epsilon sigma_i^2 / sigma_L^2 and x <- x + alpha_i/2 s(x, sigma_i) + sqrt(alpha_i) z;
its output targets the LAST level's noised density p_{sigma_L}, not p itself. Every draw comes
from ``numpy.random.default_rng(seed)``.

>>> import numpy as np
>>> mix = GaussianMixture([0.2, 0.8], [[-1.5, 0.0], [1.5, 0.5]], [1.0, 1.0])
>>> X = annealed_langevin(mix.noised_score, mix.sample(2000, seed=0, sigma=5.0),
...                      [5.0, 2.0, 1.0], step_size=0.05, steps_per_level=50, seed=1)
>>> X.shape
(2000, 2)
"""

from __future__ import annotations

import math
from functools import cached_property

import numpy as np
import sympy
from scipy.special import logsumexp

from .codegen.functions import positive_int
from .errors import ScoresymInputError
from .losses import ScoreField, positive_number
from .model import Model
from .randomness import generator

#: The ladder the package's own checks use: it starts above the distance between the modes of
#: its mixture (so the chain mixes between them) and ends at half the components' scale.
LADDER = {"largest": 5.0, "smallest": 0.5, "levels": 20, "step_size": 0.05,
          "steps_per_level": 100}


class GaussianMixture:
    """sum_k w_k N(mu_k, v_k I) in d dimensions, exact at every noise level sigma.

    >>> mix = GaussianMixture([0.5, 0.5], [[0.0], [4.0]], [1.0, 1.0])
    >>> mix.model().log_density.has(sympy.Symbol("sigma", positive=True))
    True
    >>> float(mix.noised_score(np.array([[2.0]]), 1.0)[0, 0])   # midway: the pulls cancel
    0.0
    """

    def __init__(self, weights, means, variances):
        self.weights = _probabilities(weights)
        self.means = np.atleast_2d(np.asarray(means, dtype=float))
        self.variances = np.asarray(variances, dtype=float).reshape(-1)
        K = len(self.weights)
        if self.means.shape[0] != K or self.variances.shape != (K,):
            raise ScoresymInputError(
                f"a mixture of {K} components needs {K} means (rows) and {K} variances, got "
                f"means of shape {self.means.shape} and {self.variances.size} variances")
        if not (np.all(np.isfinite(self.means)) and np.all(np.isfinite(self.variances))
                and np.all(self.variances > 0)):
            raise ScoresymInputError("means must be finite and variances positive and finite")
        self.dim = self.means.shape[1]

    def __repr__(self) -> str:
        return (f"GaussianMixture(weights={self.weights.tolist()}, means="
                f"{self.means.tolist()}, variances={self.variances.tolist()})")

    def model(self) -> Model:
        """The noised density sum_k w_k (v_k + sigma^2)^(-d/2) exp(-||x - mu_k||^2 /
        (2 (v_k + sigma^2))) as a Model in x1..xd with the parameter sigma > 0.

        >>> GaussianMixture([1.0], [[0.0]], [1.0]).model().score     # one component
        Matrix([[-x1/(sigma**2 + 1)]])
        """
        return self._model

    @cached_property
    def _model(self) -> Model:
        xs = sympy.symbols(f"x1:{self.dim + 1}", real=True)
        sigma = sympy.Symbol("sigma", positive=True)
        terms = []
        for w, mu, v in zip(self.weights, self.means, self.variances):
            scale = sympy.nsimplify(v) + sigma**2
            distance = sum((x - sympy.nsimplify(m)) ** 2 for x, m in zip(xs, mu))
            terms.append(sympy.nsimplify(w) * scale ** sympy.Rational(-self.dim, 2)
                         * sympy.exp(-distance / (2 * scale)))
        return Model.from_expression(sympy.Add(*terms), list(xs), [sigma],
                                     name="noised Gaussian mixture")

    @cached_property
    def _compiled(self):
        return self._model.compiled()

    def noised_score(self, X, sigma):
        """The symbolic score of the mixture convolved with N(0, sigma^2 I), compiled:

            s(x, sigma) = sum_k r_k(x) (mu_k - x) / (v_k + sigma^2),

        r_k the responsibilities (:meth:`responsibilities`).

        >>> mix = GaussianMixture([0.3, 0.7], [[0.0], [4.0]], [1.0, 2.0])
        >>> X = np.array([[1.0], [3.0]])
        >>> r = mix.responsibilities(X, 0.5)
        >>> by_hand = r[:, :1] * (0.0 - X) / 1.25 + r[:, 1:] * (4.0 - X) / 2.25
        >>> bool(np.allclose(mix.noised_score(X, 0.5), by_hand))
        True
        """
        return self._compiled.score(X, sigma=float(sigma))

    def sample(self, n: int, seed=None, sigma: float = 0.0) -> np.ndarray:
        """n draws from the mixture convolved with N(0, sigma^2 I): component k with
        probability w_k, then x = mu_k + sqrt(v_k + sigma^2) z, z ~ N(0, I).

        >>> mix = GaussianMixture([0.5, 0.5], [[0.0], [4.0]], [1.0, 1.0])
        >>> X = mix.sample(20000, seed=0, sigma=1.0)    # mean 2, variance 4 + 1 + 1 = 6
        >>> bool(abs(X.mean() - 2.0) < 0.05 and abs(X.var() - 6.0) < 0.2)
        True
        """
        n = positive_int("n", n)
        rng = generator(seed)
        k = rng.choice(len(self.weights), size=n, p=self.weights)
        scale = np.sqrt(self.variances[k] + float(sigma) ** 2)[:, None]
        return self.means[k] + scale * rng.standard_normal((n, self.dim))

    def responsibilities(self, X, sigma: float = 0.0) -> np.ndarray:
        """(n, K): the posterior probability of each component at each point, under the
        mixture noised by sigma. Their mean over draws from that mixture is the weights.

            r_k(x) = w_k N(x; mu_k, (v_k + sigma^2) I) / sum_j w_j N(x; mu_j, (v_j + sigma^2) I)

        >>> mix = GaussianMixture([0.5, 0.5], [[0.0], [4.0]], [1.0, 1.0])
        >>> mix.responsibilities(np.array([[2.0]]), sigma=1.0)     # midway: equal
        array([[0.5, 0.5]])
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        v = self.variances + float(sigma) ** 2
        squared = ((X[:, None, :] - self.means[None]) ** 2).sum(axis=2)
        log_terms = np.log(self.weights) - 0.5 * self.dim * np.log(v) - squared / (2 * v)
        return np.exp(log_terms - logsumexp(log_terms, axis=1, keepdims=True))


def annealed_langevin(score, X0, sigmas, step_size: float = LADDER["step_size"],
                      steps_per_level: int = LADDER["steps_per_level"], seed=None,
                      params=None) -> np.ndarray:
    """Annealed Langevin dynamics from the points X0 (n, d): at each level sigma_i, T steps of
    x <- x + alpha_i/2 s(x, sigma_i) + sqrt(alpha_i) z with alpha_i = step_size sigma_i^2 /
    sigma_L^2 and z ~ N(0, I). ``score`` is a callable s(X, sigma) -> (n, d) or a conditional
    :class:`~scoresym.losses.ScoreField` with its ``params``.

    The output targets p convolved with N(0, sigma_L^2 I). The first level should exceed the
    distance between modes for the chain to move between them; the step must be small against
    the smallest level's scale (ULA's bias is O(alpha)).

    For data N(0, I) the noised score is s(x, sigma) = -x / (1 + sigma^2): from points far off
    at 5 the chain forgets its start and ends near N(0, (1 + sigma_L^2) I):

    >>> X0 = np.full((2000, 1), 5.0)
    >>> X = annealed_langevin(lambda X, sigma: -X / (1 + sigma**2), X0, [2.0, 1.0, 0.5],
    ...                       step_size=0.05, steps_per_level=100, seed=0)
    >>> bool(abs(X.mean()) < 0.1 and abs(X.var() - 1.25) < 0.15)
    True
    """
    field = _score_at_level(score, params)
    X = np.array(X0, dtype=float)
    if X.ndim != 2 or not np.all(np.isfinite(X)):
        raise ScoresymInputError(f"X0 must be an (n, d) array of finite starting points, got "
                                 f"shape {X.shape}")
    ladder = np.asarray(sigmas, dtype=float).reshape(-1)
    if ladder.size == 0 or not np.all(np.isfinite(ladder) & (ladder > 0)):
        raise ScoresymInputError("sigmas must be a non-empty sequence of positive noise levels")
    step_size = positive_number("step_size", step_size)
    T = positive_int("steps_per_level", steps_per_level)
    rng = generator(seed)
    for sigma in ladder:
        alpha = step_size * (sigma / ladder[-1]) ** 2
        for step in range(T):
            with np.errstate(over="ignore", invalid="ignore"):
                X += 0.5 * alpha * field(X, sigma) + math.sqrt(alpha) * rng.standard_normal(
                    X.shape)
            if not np.all(np.isfinite(X)):
                raise ScoresymInputError(
                    f"annealed Langevin diverged at sigma = {sigma:g}, step {step + 1} (step "
                    f"alpha = {alpha:g}): lower step_size")
    return X


def _score_at_level(score, params):
    """s(X, sigma) -> (n, d) as a NumPy array, from a callable or a conditional ScoreField."""
    if isinstance(score, ScoreField):
        if not score.conditional:
            raise ScoresymInputError("annealed Langevin needs the score at every noise level: "
                                     "a conditional ScoreField s(X, sigma, params)")

        def field(X, sigma):
            return np.asarray(score.function(X, np.full((len(X), 1), sigma), params))
        return field
    if not callable(score):
        raise ScoresymInputError(f"score must be a callable s(X, sigma) or a conditional "
                                 f"ScoreField, got {type(score).__name__}")
    if params is not None:
        raise ScoresymInputError("params are for a ScoreField; a callable s(X, sigma) closes "
                                 "over its own")

    def checked(X, sigma):
        value = np.asarray(score(X, sigma), dtype=float)
        if value.shape != X.shape:
            raise ScoresymInputError(f"score(X, sigma) must return shape {X.shape}, got "
                                     f"{value.shape}")
        return value
    return checked


def _probabilities(weights) -> np.ndarray:
    w = np.asarray(weights, dtype=float).reshape(-1)
    if w.size == 0 or not np.all(np.isfinite(w) & (w > 0)) or abs(w.sum() - 1) > 1e-12:
        raise ScoresymInputError(f"weights must be positive and sum to 1, got {w.tolist()}")
    return w
