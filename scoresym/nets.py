"""Score networks on autograd, a toolkit rather than a framework: parameters are plain lists of
(W, b) arrays, a network is a pure function of them (as in JAX's stax), and training is
autograd's own Adam over minibatches.

Invariant: ``apply(params, X)`` maps (n, d_in) to (n, d_out) with W of shape (d_in, d_out) and
a linear last layer; ``init`` draws every weight from ``numpy.random.default_rng(seed)``, so the
same seed gives the same network; ``train`` draws its minibatches and each step's randomness
from one stream spawned from its seed.

>>> import numpy as np
>>> params = init(0, [2, 16, 16, 2])               # the seed's ScoreNetwork(2, [16, 16])
>>> [W.shape for W, b in params]
[(2, 16), (16, 16), (16, 2)]
>>> apply(params, np.zeros((5, 2))).shape
(5, 2)
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.misc import flatten
from autograd.misc.optimizers import adam

from .codegen.functions import finite_points, positive_int
from .errors import ScoresymInputError
from .losses import ScoreField, float_leaves, positive_number
from .randomness import generator, independent_seeds


def silu(Z):
    """SiLU (swish), z sigmoid(z) = z / (1 + exp(-z)), written through tanh so that it does not
    overflow: z (1 + tanh(z/2)) / 2.

    >>> z = np.array([-1.0, 0.0, 2.0])
    >>> bool(np.allclose(silu(z), z / (1 + np.exp(-z))))
    True
    >>> silu(np.array([-800.0, 800.0])).tolist() == [0.0, 800.0]     # no overflow
    True
    """
    return 0.5 * Z * (1.0 + anp.tanh(0.5 * Z))


def softplus(Z):
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-abs(z))), finite for every z.

    >>> z = np.array([-1.0, 0.0, 2.0])
    >>> bool(np.allclose(softplus(z), np.log1p(np.exp(z))))
    True
    >>> softplus(np.array([-1000.0, 1000.0]))       # no overflow: ~exp(z) and ~z
    array([   0., 1000.])
    """
    return anp.maximum(Z, 0.0) + anp.log1p(anp.exp(-anp.abs(Z)))


ACTIVATIONS = {"silu": silu, "tanh": anp.tanh, "softplus": softplus}


def init(seed, sizes, scale: str = "torch") -> list:
    """[(W, b)] for an MLP with layer widths ``sizes`` (input first, output last).

    ``scale="torch"``: W and b uniform on (-1/sqrt(m), 1/sqrt(m)), m the layer's input width
    (PyTorch's nn.Linear, which the seed's ScoreNetwork uses); ``"normal"``: W ~ N(0, 1/m),
    b = 0.

    >>> [b.shape for W, b in init(1, [3, 8, 3])]
    [(8,), (3,)]
    """
    sizes = [positive_int("layer width", m) for m in _sequence("sizes", sizes)]
    if len(sizes) < 2:
        raise ScoresymInputError(f"sizes needs an input and an output width, got {sizes}")
    rng = generator(seed)
    layers = []
    for m, k in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / math.sqrt(m)
        if scale == "torch":
            layers.append((rng.uniform(-bound, bound, (m, k)), rng.uniform(-bound, bound, k)))
        elif scale == "normal":
            layers.append((rng.standard_normal((m, k)) * bound, np.zeros(k)))
        else:
            raise ScoresymInputError(f"scale must be 'torch' or 'normal', got {scale!r}")
    return layers


def apply(params, X, activation: str = "silu"):
    """The MLP's output: hidden layers h = act(h W + b), a linear last layer.

    >>> import numpy as np
    >>> W, b = np.array([[2.0]]), np.array([1.0])
    >>> apply([(W, b)], np.array([[3.0]]))           # one linear layer: 3 * 2 + 1
    array([[7.]])
    """
    act = _activation(activation)
    for W, b in params[:-1]:
        X = act(anp.dot(X, W) + b)
    W, b = params[-1]
    return anp.dot(X, W) + b


def score_network(activation: str = "silu") -> ScoreField:
    """The MLP as a score field s(X, params) = apply(params, X): the network's output IS the
    score (a free vector field, as in the seed's ScoreNetwork and in NCSN), ready for
    ``esm_loss``, ``dsm_loss`` and ``ssm_loss`` with ``params=``.

    >>> import numpy as np, scoresym as ss
    >>> net, params = score_network(), init(0, [2, 16, 16, 2])
    >>> X = np.random.default_rng(0).standard_normal((64, 2))
    >>> value = ss.esm_loss(net, X, params=params)
    >>> grads = ss.loss_gradient("esm", net, X, params)  # same structure as params
    >>> [g[0].shape for g in grads]
    [(2, 16), (16, 16), (16, 2)]
    """
    act = _activation(activation)

    def mlp_score(X, params):
        return apply(params, X, act)
    return ScoreField(mlp_score, name=f"MLP ({activation})")


def conditional_score_network(activation: str = "silu") -> ScoreField:
    """A noise-conditional score field for NCSN: s(x, sigma) = apply(params, [x, log sigma]) /
    sigma. The input carries the level, and dividing by sigma gives the output the scale of the
    noised data's score, ~ 1/sigma (Song and Ermon 2020). Its input width is d + 1.

    >>> import numpy as np
    >>> field, params = conditional_score_network(), init(0, [3, 32, 2])
    >>> field.function(np.zeros((4, 2)), np.full((4, 1), 0.5), params).shape
    (4, 2)
    """
    act = _activation(activation)

    def noise_conditional_mlp(X, sigma, params):
        inputs = anp.concatenate([X, anp.log(sigma) * anp.ones((X.shape[0], 1))], axis=1)
        return apply(params, inputs, act) / sigma
    return ScoreField(noise_conditional_mlp, conditional=True,
                      name=f"noise-conditional MLP ({activation})")


@dataclass
class TrainResult:
    """What ``train`` returns: the final parameters, the minibatch loss at every step, and the
    wall time.

    ``losses[t]`` is the minibatch loss before Adam's step t; the repr shows the mean of the
    last min(50, steps) of them.

    >>> TrainResult([], np.array([3.0, 2.0, 1.0]), seconds=0.5, steps=3)
    TrainResult(3 steps in 0.50 s, mean loss over the last 3 steps 2)
    """

    params: list
    losses: np.ndarray
    seconds: float
    steps: int

    def __repr__(self) -> str:
        last = self.losses[-min(50, len(self.losses)):]
        return (f"TrainResult({self.steps} steps in {self.seconds:.2f} s, mean loss over the "
                f"last {len(last)} steps {float(np.mean(last)):.6g})")


def train(loss, params, X, steps: int = 1000, step_size: float = 1e-3, batch_size: int = 128,
          seed=None, callback=None, progress: bool = False) -> TrainResult:
    """Minimize ``loss(params, batch, rng)`` by Adam (``autograd.misc.optimizers.adam``) over
    minibatches of ``batch_size`` rows of X drawn without replacement at each step.

    ``rng`` is a numpy Generator for the step's own randomness (pass it as the loss's ``seed``:
    DSM's noise, SSM's projections, NCSN's levels). ``callback(step, params, loss)`` runs after
    every step; ``progress=True`` draws a progress bar on stderr. A loss or gradient that becomes
    NaN or inf stops training with an error naming the step (lower ``step_size``).

    >>> import numpy as np, scoresym as ss
    >>> X = np.random.default_rng(0).standard_normal((500, 2))
    >>> net = score_network()
    >>> def dsm(p, batch, rng):
    ...     return ss.dsm_loss(net, batch, 0.5, seed=rng, params=p)
    >>> result = train(dsm, init(0, [2, 16, 2]), X, steps=200, step_size=1e-2, seed=0)
    >>> result.losses.shape
    (200,)
    """
    if not callable(loss):
        raise ScoresymInputError(f"loss must be a function loss(params, batch, rng), got "
                                 f"{type(loss).__name__}")
    steps = positive_int("steps", steps)
    step_size = positive_number("step_size", step_size)
    X = finite_points(X)
    batch_size = min(positive_int("batch_size", batch_size), len(X))
    params = float_leaves(params)
    batches, noise = (generator(s) for s in independent_seeds(seed, 2))
    losses = np.empty(steps)
    bar = _ProgressBar(steps) if progress else None
    state = {"value": None}

    def objective(p, step):
        rows = batches.choice(len(X), size=batch_size, replace=False)
        return loss(p, X[rows], noise)

    value_and_grad = autograd.value_and_grad(objective)

    def gradient(p, step):
        value, g = value_and_grad(p, step)
        value = float(value)
        if not (math.isfinite(value) and np.all(np.isfinite(flatten(g)[0]))):
            what = f"the loss is {value}" if not math.isfinite(value) else "its gradient overflows"
            raise ScoresymInputError(f"training diverged at step {step}: {what}; lower "
                                     f"step_size (now {step_size:g})")
        losses[step] = state["value"] = value
        return g

    def after_step(p, step, g):
        if bar is not None:
            bar.update(step + 1, state["value"])
        if callback is not None:
            callback(step, p, state["value"])

    start = time.perf_counter()
    try:
        params = adam(gradient, params, callback=after_step, num_iters=steps,
                      step_size=step_size)
    finally:
        if bar is not None:
            bar.close()
    return TrainResult(params, losses, time.perf_counter() - start, steps)


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn about 100 times in all."""

    def __init__(self, total: int, width: int = 30):
        self.total, self.width, self.every = total, width, max(1, total // 100)

    def update(self, done: int, value) -> None:
        if done % self.every and done != self.total:
            return
        filled = self.width * done // self.total
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done}/{self.total}"
                         f"  loss {value:.5g}")
        sys.stderr.flush()

    def close(self) -> None:
        sys.stderr.write("\n")
        sys.stderr.flush()


def _activation(activation):
    if callable(activation):
        return activation
    if activation not in ACTIVATIONS:
        raise ScoresymInputError(f"activation must be one of {', '.join(ACTIVATIONS)}, got "
                                 f"{activation!r}")
    return ACTIVATIONS[activation]


def _sequence(name: str, value) -> list:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ScoresymInputError(f"{name} must be a sequence of layer widths, got {value!r}")
    return list(value)
