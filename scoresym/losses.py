"""Score-matching losses of a model's parameters, on HIPS autograd: ESM, DSM and SSM.

Each loss is a mean over the points X (rows, shape (n, d)) of a per-sample loss built from the
score s(x) = grad_x log p(x), computed by autograd as ``grad(lambda Y: sum(log p(Y)))(X)``: rows
are independent, so one backward pass gives every row's score.

Invariant:

- ESM (Hyvarinen) is 1/2 ||s||^2 + tr grad_x s with the trace EXACT: d backward passes, pass i
  keeping column i of grad_x s_i. (Differentiating the score elementwise a second time would give
  the Hessian's row sums, not its diagonal.)
- SSM uses the SAME projection v in both terms v^T (grad_x s) v + 1/2 (v^T s)^2, and every
  projection law has E[v v^T] = I (so the sphere is scaled by sqrt(d)); then E_v[SSM] = ESM.
- DSM compares s(x + sigma eps) with the conditional score -eps/sigma of the Gaussian kernel.
- Randomness comes only from ``numpy.random.defaultgenerator(seed)``: a loss is deterministic for a
  given seed. Only the parameters are differentiated: a loss is a float (or, with
  ``per_sample=True``, an (n,) array) unless a parameter is an autograd tracer, in which case the
  traced value is returned so ``autograd.grad`` can run through it.

>>> import numpy as np
>>> from scoresym import zoo
>>> m = zoo.get("gaussian_1d").model
>>> X = np.array([[0.0], [1.0], [2.0]])
>>> esm_loss(m, X, per_sample=True, mu=1.0, s2=2.0)    # -1/s2 + (x - mu)^2 / (2 s2^2)
array([-0.375, -0.5  , -0.375])
"""

from __future__ import annotations

import math
import numbers

import autograd
import autograd.numpy as anp
import numpy

from .codegen.backends import is_traced
from .codegen.functions import as_points, positive_int, scalar_param
from .errors import ScoresymInputError
from .model import Model
from .numerics.ad import hessian_trace, projected_hessian, score_function
from .randomness import generator

PROJECTIONS = ("rademacher", "gaussian", "sphere")


# --- the score and its derivatives -----------------------------------------------------------

def _log_density_function(logp, n: int):
    """log p as ``f(X, **params) -> (n,)`` on the autograd backend (a callable's output shape is
    checked on every call)."""
    if isinstance(logp, Model):
        return logp.lambdify("autograd").log_density
    if callable(logp):
        def log_density(Y, **params):
            value = logp(Y, **params)
            if numpy.shape(value) != (n,):
                raise ScoresymInputError(
                    f"logp must map points of shape (n, d) to log-densities of shape (n,) = "
                    f"({n},), got shape {numpy.shape(value)}")
            return value
        return log_density
    raise ScoresymInputError(
        f"logp must be a scoresym.Model or a callable logp(X, **params) written with "
        f"autograd.numpy, got {type(logp).__name__}")


def _half_squared_norm(s):
    """1/2 ||s||^2 per row."""
    return 0.5 * anp.sum(s**2, axis=1)


# --- per-sample losses (traceable in the params) -----------------------------------------------

def _esm_per_sample(score, X, d: int):
    """1/2 ||s(x)||^2 + tr grad_x s(x) per row (the Hyvarinen integrand)."""
    return _half_squared_norm(score(X)) + hessian_trace(score, X, d)


def _dsm_per_sample(score, X, sigma: float, eps, antithetic: bool):
    """1/2 ||s(x + sigma eps) + eps/sigma||^2 per row; antithetic: averaged over eps and -eps."""
    def one_side(e):
        return _half_squared_norm(score(X + sigma * e) + e / sigma)

    if antithetic:
        return 0.5 * (one_side(eps) + one_side(-eps))
    return one_side(eps)


def _ssm_per_sample(score, X, V, variance_reduced: bool):
    """Mean over projections v of v^T (grad_x s) v + 1/2 (v^T s)^2 (SSM-VR: + 1/2 ||s||^2)."""
    s = score(X)
    total = 0.0
    for v in V:
        second = _half_squared_norm(s) if variance_reduced else 0.5 * anp.sum(v * s, axis=1) ** 2
        total = total + projected_hessian(score, X, v) + second
    return total / len(V)


# --- the public losses ------------------------------------------------------------------------

def esm_loss(logp, X, per_sample=False, **params):
    """Explicit (Hyvarinen) score matching: mean over rows of 1/2 ||s(x)||^2 + tr grad_x s(x).

    The trace is exact (d backward passes). ``logp`` is a :class:`~scoresym.model.Model` or a
    callable ``logp(X, **params)`` mapping (n, d) to (n,) written with ``autograd.numpy``.

    >>> import numpy as np
    >>> from scoresym import zoo
    >>> m = zoo.get("gaussian_1d").model
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> round(esm_loss(m, X, mu=1.0, s2=2.0), 12)        # mean of -1/s2 + (x - mu)^2/(2 s2^2)
    -0.416666666667
    >>> logp = lambda Y, mu: -(Y[:, 0] - mu)**2 / 2       # a callable: (x - mu)^2/2 - 1
    >>> esm_loss(logp, [0.0, 1.0, 2.0], per_sample=True, mu=1.0)
    array([-0.5, -1. , -0.5])
    """
    f, X, d, params = _prepare(logp, X, params, ("logp", "X", "per_sample"))
    _flag("per_sample", per_sample)
    return _result(_esm_per_sample(score_function(f, params), X, d), per_sample, params)


def dsm_loss(logp, X, sigma, seed=None, antithetic=False, per_sample=False, **params):
    """Denoising score matching (Vincent 2011) with a Gaussian kernel of scale sigma.

    With eps ~ N(0, I) of shape (n, d) from ``numpy.random.defaultgenerator(seed)`` and
    x~ = x + sigma eps, the per-sample loss is 1/2 ||s(x~) + eps/sigma||^2: the target
    -eps/sigma = -(x~ - x)/sigma^2 is the score of the kernel N(x~; x, sigma^2 I). With
    ``antithetic=True`` each row averages the losses at eps and -eps (unbiased; the zero-mean
    O(1/sigma) term s(x) . eps/sigma cancels).

    >>> import numpy as np
    >>> from scoresym import zoo
    >>> m = zoo.get("gaussian_1d").model
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> eps = np.random.default_rng(0).standard_normal((3, 1))
    >>> by_hand = 0.5 * ((1.0 - (X + 0.5 * eps)) / 2.0 + eps / 0.5)[:, 0] ** 2
    >>> np.allclose(dsm_loss(m, X, 0.5, seed=0, per_sample=True, mu=1.0, s2=2.0), by_hand)
    True
    >>> dsm_loss(m, X, 0.5, seed=0, mu=1.0, s2=2.0) == dsm_loss(m, X, 0.5, seed=0, mu=1.0, s2=2.0)
    True
    """
    f, X, d, params = _prepare(logp, X, params,
                               ("logp", "X", "sigma", "seed", "antithetic", "per_sample"))
    sigma = positive_number("sigma", sigma)
    _flag("antithetic", antithetic)
    _flag("per_sample", per_sample)
    eps = generator(seed).standard_normal(X.shape)
    if isinstance(logp, Model):
        _require_perturbed_inside(logp, X, sigma, eps, antithetic)
    values = _dsm_per_sample(score_function(f, params), X, sigma, eps, antithetic)
    return _result(values, per_sample, params)


def ssm_loss(logp, X, n_projections=1, projection="rademacher", variance_reduced=False,
             seed=None, per_sample=False, **params):
    """Sliced score matching (Song et al. 2019): mean over rows and M projections of
    v^T (grad_x s(x)) v + 1/2 (v^T s(x))^2, the same v in both terms.

    ``v = draw_projections(projection, n_projections, n, d, numpy.random.defaultgenerator(seed))``
    has E[v v^T] = I, so E_v of the loss is the ESM loss. ``variance_reduced=True`` (SSM-VR)
    uses 1/2 ||s(x)||^2 for the second term. Each projection costs one backward pass.

    >>> import numpy as np
    >>> from scoresym import zoo
    >>> m = zoo.get("gaussian_1d").model
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> round(ssm_loss(m, X, seed=0, mu=1.0, s2=2.0), 12)   # in 1-D, v = +-1 gives ESM exactly
    -0.416666666667
    """
    f, X, d, params = _prepare(logp, X, params,
                               ("logp", "X", "n_projections", "projection", "variance_reduced",
                                "seed", "per_sample"))
    _flag("variance_reduced", variance_reduced)
    _flag("per_sample", per_sample)
    V = draw_projections(projection, n_projections, X.shape[0], d, generator(seed))
    values = _ssm_per_sample(score_function(f, params), X, V, variance_reduced)
    return _result(values, per_sample, params)


def draw_projections(projection, n_projections, n, d, rng):
    """Projections v of shape (n_projections, n, d), one per projection and row, E[v v^T] = I.

    ``"rademacher"``: independent +-1 entries; ``"gaussian"``: N(0, I); ``"sphere"``: uniform on
    the sphere of radius sqrt(d) (the unit sphere has E[v v^T] = I/d). A callable
    ``projection(rng, shape)`` supplies any other law; it must return an array of that shape.

    >>> import numpy as np
    >>> V = draw_projections("sphere", 2, 5, 4, np.random.default_rng(0))
    >>> V.shape, bool(np.allclose(np.linalg.norm(V, axis=2), 2.0))
    ((2, 5, 4), True)
    >>> np.unique(draw_projections("rademacher", 1, 3, 2, np.random.default_rng(0)))
    array([-1.,  1.])
    """
    M = positive_int("n_projections", n_projections)
    shape = (M, int(n), int(d))
    if callable(projection):
        V = projection(rng, shape)
        try:
            V = numpy.asarray(V, dtype=float)
        except (TypeError, ValueError):
            raise ScoresymInputError("projection callable must return an array of real numbers") \
                from None
        if V.shape != shape:
            raise ScoresymInputError(
                f"projection callable must return an array of shape {shape}, got {V.shape}")
        if not numpy.all(numpy.isfinite(V)):
            raise ScoresymInputError("projection callable returned non-finite values")
        return V
    if projection == "rademacher":
        return rng.integers(0, 2, size=shape) * 2.0 - 1.0
    if projection == "gaussian":
        return rng.standard_normal(shape)
    if projection == "sphere":
        g = rng.standard_normal(shape)
        return g * (math.sqrt(d) / numpy.linalg.norm(g, axis=2, keepdims=True))
    raise ScoresymInputError(
        f"projection must be one of {', '.join(PROJECTIONS)} or a callable (rng, shape), "
        f"got {projection!r}")


LOSSES = {"esm": esm_loss, "dsm": dsm_loss, "ssm": ssm_loss}


def loss_gradient(loss, logp, X, params, **loss_options):
    """{name: d/d theta_name of the mean loss} for every parameter in ``params``, by autograd.

    ``loss`` is :func:`esm_loss`, :func:`dsm_loss`, :func:`ssm_loss` or one of the names
    ``"esm"``, ``"dsm"``, ``"ssm"``; ``loss_options`` are passed to it (e.g. ``sigma``, ``seed``).
    One ``autograd.grad`` call over the vector of parameter values.

    >>> import numpy as np
    >>> from scoresym import zoo
    >>> m = zoo.get("gaussian_1d").model
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> g = loss_gradient("esm", m, X, {"mu": 1.0, "s2": 2.0})
    >>> # d/dmu = -mean(x - mu)/s2^2 = 0;  d/ds2 = 1/s2^2 - mean((x - mu)^2)/s2^3 = 1/6
    >>> round(g["mu"], 12), round(g["s2"], 12)
    (0.0, 0.166666666667)
    """
    function = _loss_function(loss)
    if not isinstance(params, dict):
        raise ScoresymInputError(
            f"params must be a dict {{name: value}}, got {type(params).__name__}")
    if "per_sample" in loss_options:
        raise ScoresymInputError("loss_gradient differentiates the mean loss: do not pass "
                                 "per_sample")
    clash = sorted(set(params) & set(loss_options))
    if clash:
        raise ScoresymInputError(f"name(s) given both as params and as loss options: "
                                 f"{', '.join(clash)}")
    names = list(params)
    theta = numpy.array([float(scalar_param(name, params[name])) for name in names])
    if not names:  # nothing to differentiate; evaluating still checks the arguments
        function(logp, X, **loss_options)
        return {}

    def mean_loss(values):
        return function(logp, X, **loss_options,
                        **{name: values[k] for k, name in enumerate(names)})

    gradient = autograd.grad(mean_loss)(theta)
    return {name: float(gradient[k]) for k, name in enumerate(names)}


# --- argument checks --------------------------------------------------------------------------

def _prepare(logp, X, params: dict, keywords: tuple):
    """(log p function, points (n, d), d, params) after checking every argument."""
    if is_traced(X):
        raise ScoresymInputError(
            "X must be data, not a traced value: losses are differentiated with respect to "
            "params only")
    if isinstance(logp, Model):
        clash = sorted({p.name for p in logp.params} & set(keywords))
        if clash:
            raise ScoresymInputError(
                f"model parameter(s) {', '.join(clash)} clash with the loss's own keyword "
                f"arguments; rename them in the model")
        d = logp.dim
    else:
        try:
            shape = numpy.shape(X)
        except ValueError:  # ragged input: as_points names the problem
            shape = ()
        d = shape[-1] if len(shape) >= 2 else 1
    points = as_points(X, d, backend="autograd")
    if points.shape[0] == 0:
        raise ScoresymInputError("X holds no points: pass at least one row")
    if isinstance(logp, Model):
        logp.require_inside(points)
    f = _log_density_function(logp, points.shape[0])
    if not isinstance(logp, Model):
        params = {name: scalar_param(name, value) for name, value in params.items()}
    return f, points, points.shape[1], params


def _require_perturbed_inside(model: Model, X, sigma: float, eps, antithetic: bool) -> None:
    """DSM evaluates the score at x + sigma eps (and x - sigma eps): on a bounded domain those
    points can leave it, where log p is not defined; refuse them by name."""
    for sign in (1.0, -1.0) if antithetic else (1.0,):
        try:
            model.require_inside(X + sign * sigma * eps)
        except ScoresymInputError as error:
            raise ScoresymInputError(
                f"DSM's noisy points x {'+' if sign > 0 else '-'} sigma*eps leave the domain "
                f"({error}); Gaussian noise of scale sigma = {sigma:g} does not fit a bounded "
                f"domain: use a smaller sigma, or ESM or SSM") from None


def _result(values, per_sample: bool, params: dict):
    """The traced value inside autograd; otherwise a float mean, or an (n,) array."""
    if any(is_traced(v) for v in params.values()):
        return values if per_sample else anp.mean(values)
    values = numpy.asarray(values, dtype=float)
    return values if per_sample else float(numpy.mean(values))


def _loss_function(loss):
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]
    if any(loss is f for f in LOSSES.values()):
        return loss
    raise ScoresymInputError(
        f"loss must be esm_loss, dsm_loss, ssm_loss or one of the names "
        f"{', '.join(map(repr, LOSSES))}, got {loss!r}")


def _flag(name: str, value) -> None:
    if not isinstance(value, (bool, numpy.bool_)):
        raise ScoresymInputError(f"{name} must be True or False, got {value!r}")


def positive_number(name: str, value) -> float:
    """``value`` as a float if it is a positive finite real number (a noise level, a scale),
    else a ScoresymInputError naming ``name``."""
    if isinstance(value, (bool, numpy.bool_)) or not isinstance(value, numbers.Real):
        raise ScoresymInputError(f"{name} must be a positive finite number, got {value!r}")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ScoresymInputError(f"{name} must be a positive finite number, got {value!r}")
    return value


