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
- A score is either grad_x log p of a Model or callable log-density, or a free vector field
  (:class:`ScoreField`, ``s(X, params) -> (n, d)``: an NCSN, a diffusion model's network) whose
  params are any autograd container of arrays; the losses treat both alike.
- Randomness comes only from ``numpy.random.default_rng(seed)``, or from draws passed in
  (``noise=``, ``projections=``): a loss is deterministic for a given seed.
- Only the parameters are differentiated: a loss is a float (or, with ``per_sample=True``, an
  (n,) array) unless a parameter is an autograd tracer, in which case the traced value is
  returned so ``autograd.grad`` can run through it.

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
from .numerics.ad import grad_quietly, hessian_trace, projected_hessian, score_function
from .randomness import generator

PROJECTIONS = ("rademacher", "gaussian", "sphere")


# --- the score and its derivatives -----------------------------------------------------------

class ScoreField:
    """A score field s(X, params) -> (n, d) given directly, not as the gradient of a log-density:
    a network that learns the score (NCSN, diffusion models). Its Jacobian need not be
    symmetric. ``params`` is anything autograd differentiates through: an array, or lists,
    tuples and dicts of arrays. With ``conditional=True`` the function is s(X, sigma, params),
    sigma an (n, 1) array of noise levels (for :func:`ncsn_loss` and annealed Langevin).

    >>> import autograd.numpy as anp, numpy as np
    >>> field = ScoreField(lambda X, p: anp.dot(X, p["A"]) + p["b"])   # s(x) = A^T x + b
    >>> p = {"A": -np.eye(2), "b": np.zeros(2)}
    >>> esm_loss(field, [[1.0, 2.0]], params=p)      # 1/2 ||x||^2 + tr(-I) = 2.5 - 2
    0.5
    """

    def __init__(self, function, conditional: bool = False, name: str | None = None):
        if not callable(function):
            raise ScoresymInputError(
                f"ScoreField needs a function s(X, params), got {type(function).__name__}")
        _flag("conditional", conditional)
        self.function = function
        self.conditional = bool(conditional)
        self.name = name or getattr(function, "__name__", "score field")

    def __repr__(self) -> str:
        kind = "conditional " if self.conditional else ""
        return f"ScoreField({kind}{self.name})"

    def bind(self, params, n: int, d: int, sigma=None):
        """X -> s(X, params) (or s(X, sigma, params)), its output checked to be (n, d)."""
        def score(Y):
            value = (self.function(Y, sigma, params) if self.conditional
                     else self.function(Y, params))
            if numpy.shape(value) != (n, d):
                raise ScoresymInputError(
                    f"the score field {self.name} must map points of shape (n, d) = ({n}, {d}) "
                    f"to scores of the same shape, got shape {numpy.shape(value)}")
            return value
        return score


def _log_density_function(logp, n: int):
    """log p as ``f(X, **params) -> (n,)`` on the autograd backend (a callable's output shape is
    checked on every call)."""
    if isinstance(logp, Model):
        return logp.lambdify("autograd").log_density
    if callable(logp):
        def log_density(Y, **params):
            value = logp(Y, **params)
            if numpy.shape(value) != (n,):
                hint = ("; a function that returns the score itself is a score field: wrap it "
                        "as scoresym.ScoreField(score) and pass params=..."
                        if numpy.ndim(value) == 2 else "")
                raise ScoresymInputError(
                    f"logp must map points of shape (n, d) to log-densities of shape (n,) = "
                    f"({n},), got shape {numpy.shape(value)}{hint}")
            return value
        return log_density
    raise ScoresymInputError(
        f"logp must be a scoresym.Model, a scoresym.ScoreField or a callable logp(X, **params) "
        f"written with autograd.numpy, got {type(logp).__name__}")


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

    ``logp`` is a :class:`~scoresym.model.Model`, a callable ``logp(X, **params)`` mapping (n, d)
    to (n,) written with ``autograd.numpy``, or a :class:`ScoreField` with its parameters as
    ``params=``. The trace is exact: d backward passes through the score, so the cost grows
    with d (for a network, d times one pass; :func:`ssm_loss` costs one pass per projection).

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
    score, X, d, params = _prepare(logp, X, params, ("logp", "X", "per_sample"))
    _flag("per_sample", per_sample)
    return _result(_esm_per_sample(score, X, d), per_sample)


def dsm_loss(logp, X, sigma, seed=None, antithetic=False, per_sample=False, noise=None,
             **params):
    """Denoising score matching (Vincent 2011) with a Gaussian kernel of scale sigma.

    With eps ~ N(0, I) of shape (n, d) from ``numpy.random.default_rng(seed)`` (or the
    array ``noise`` given) and x~ = x + sigma eps, the per-sample loss is
    1/2 ||s(x~) + eps/sigma||^2: the target -eps/sigma = -(x~ - x)/sigma^2 is the score of the
    kernel N(x~; x, sigma^2 I). With ``antithetic=True`` each row averages the losses at eps and
    -eps (unbiased; the zero-mean O(1/sigma) term s(x) . eps/sigma cancels).

    >>> import numpy as np
    >>> from scoresym import zoo
    >>> m = zoo.get("gaussian_1d").model
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> eps = np.random.default_rng(0).standard_normal((3, 1))
    >>> by_hand = 0.5 * ((1.0 - (X + 0.5 * eps)) / 2.0 + eps / 0.5)[:, 0] ** 2
    >>> np.allclose(dsm_loss(m, X, 0.5, seed=0, per_sample=True, mu=1.0, s2=2.0), by_hand)
    True
    >>> dsm_loss(m, X, 0.5, noise=eps, mu=1.0, s2=2.0) == dsm_loss(m, X, 0.5, seed=0, mu=1.0,
    ...                                                            s2=2.0)
    True
    """
    score, X, d, params = _prepare(logp, X, params, ("logp", "X", "sigma", "seed", "antithetic",
                                                     "per_sample", "noise"))
    sigma = positive_number("sigma", sigma)
    _flag("antithetic", antithetic)
    _flag("per_sample", per_sample)
    eps = (generator(seed).standard_normal(X.shape) if noise is None
           else given_draws("noise", noise, X.shape))
    if isinstance(logp, Model):
        _require_perturbed_inside(logp, X, sigma, eps, antithetic)
    return _result(_dsm_per_sample(score, X, sigma, eps, antithetic), per_sample)


def ssm_loss(logp, X, n_projections=1, projection="rademacher", variance_reduced=False,
             seed=None, per_sample=False, projections=None, **params):
    """Sliced score matching (Song et al. 2019): mean over rows and M projections of
    v^T (grad_x s(x)) v + 1/2 (v^T s(x))^2, the same v in both terms.

    ``v = draw_projections(projection, n_projections, n, d, numpy.random.default_rng(seed))``
    has E[v v^T] = I, so E_v of the loss is the ESM loss; or pass the draws themselves as
    ``projections`` (shape (M, n, d), or (n, d) for one). ``variance_reduced=True`` (SSM-VR)
    uses 1/2 ||s(x)||^2 for the second term. Each projection costs one backward pass.

    >>> import numpy as np
    >>> from scoresym import zoo
    >>> m = zoo.get("gaussian_1d").model
    >>> X = np.array([[0.0], [1.0], [2.0]])
    >>> round(ssm_loss(m, X, seed=0, mu=1.0, s2=2.0), 12)   # in 1-D, v = +-1 gives ESM exactly
    -0.416666666667
    >>> round(ssm_loss(m, X, projections=np.ones((3, 1)), mu=1.0, s2=2.0), 12)
    -0.416666666667
    """
    score, X, d, params = _prepare(logp, X, params,
                                   ("logp", "X", "n_projections", "projection",
                                    "variance_reduced", "seed", "per_sample", "projections"))
    _flag("variance_reduced", variance_reduced)
    _flag("per_sample", per_sample)
    if projections is None:
        V = draw_projections(projection, n_projections, X.shape[0], d, generator(seed))
    else:
        V = _given_projections(projections, X.shape)
    return _result(_ssm_per_sample(score, X, V, variance_reduced), per_sample)


def geometric_sigmas(largest, smallest, levels):
    """The noise ladder sigma_1 > ... > sigma_L of NCSN: a geometric sequence from ``largest`` to
    ``smallest`` in ``levels`` steps (sigma_{i+1}/sigma_i constant).

    >>> geometric_sigmas(5.0, 0.5, 3)
    array([5.        , 1.58113883, 0.5       ])
    """
    largest, smallest = positive_number("largest", largest), positive_number("smallest", smallest)
    levels = positive_int("levels", levels)
    if smallest > largest or (levels == 1 and smallest != largest):
        raise ScoresymInputError(f"a noise ladder runs from the largest sigma down to the "
                                 f"smallest in `levels` steps: got largest={largest:g}, "
                                 f"smallest={smallest:g}, levels={levels}")
    return numpy.geomspace(largest, smallest, levels)


def ncsn_loss(score, X, sigmas, params=None, seed=None, levels=None, noise=None,
              per_sample=False):
    """Noise-conditional score matching (NCSN, Song and Ermon 2019): DSM at every level of a
    noise ladder, weighted by lambda(sigma) = sigma^2. Each row draws a level i uniformly (or
    takes ``levels[row]``) and eps ~ N(0, I) (or ``noise[row]``); its loss is

        sigma_i^2 1/2 ||s(x~, sigma_i) + eps/sigma_i||^2 = 1/2 ||sigma_i s(x~, sigma_i) + eps||^2

    with x~ = x + sigma_i eps, so that every level contributes on the same scale.
    ``score`` is a conditional :class:`ScoreField` s(X, sigma, params), sigma an (n, 1) array.
    Its minimizer is the score of the data convolved with N(0, sigma_i^2 I) at every level.

    >>> import autograd.numpy as anp, numpy as np
    >>> exact = ScoreField(lambda X, s, p: -X / (1.0 + s**2), conditional=True)  # data N(0, I)
    >>> X = np.random.default_rng(0).standard_normal((20000, 2))
    >>> # at the exact noised score a level's expected loss is d / (2 (1 + sigma^2))
    >>> value = ncsn_loss(exact, X, geometric_sigmas(2.0, 0.5, 2), seed=1)
    >>> bool(abs(value - (1 / 5 + 1 / 1.25) / 2) < 0.02)
    True
    """
    if not isinstance(score, ScoreField) or not score.conditional:
        raise ScoresymInputError(
            "ncsn_loss needs a conditional score field: "
            "scoresym.ScoreField(s, conditional=True) with s(X, sigma, params)")
    X = _data_points(X)
    n, d = X.shape
    sigmas = _ladder(sigmas)
    _flag("per_sample", per_sample)
    rng = generator(seed)
    if levels is None:
        levels = rng.integers(0, len(sigmas), size=n)
    else:
        levels = _level_indices(levels, n, len(sigmas))
    eps = rng.standard_normal(X.shape) if noise is None else given_draws("noise", noise, X.shape)
    sigma = sigmas[levels][:, None]
    s = score.bind(params, n, d, sigma)(X + sigma * eps)
    return _result(_half_squared_norm(sigma * s + eps), per_sample)


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
    """d/d theta of the mean loss, by autograd: {name: derivative} for a Model or a callable
    log-density (``params`` a dict of scalars), or, for a :class:`ScoreField`, the gradient in
    the same container as ``params`` (lists, tuples, dicts of arrays).

    ``loss`` is :func:`esm_loss`, :func:`dsm_loss`, :func:`ssm_loss` or one of the names
    ``"esm"``, ``"dsm"``, ``"ssm"``; ``loss_options`` are passed to it (e.g. ``sigma``, ``seed``).
    One ``autograd.grad`` call over the parameters.

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
    if "per_sample" in loss_options:
        raise ScoresymInputError("loss_gradient differentiates the mean loss: do not pass "
                                 "per_sample")
    if isinstance(logp, ScoreField):
        if "params" in loss_options:
            raise ScoresymInputError("pass the field's parameters once, as loss_gradient's "
                                     "params")
        theta = float_leaves(params)
        return grad_quietly(lambda p: function(logp, X, params=p, **loss_options), theta)
    if not isinstance(params, dict):
        raise ScoresymInputError(
            f"params must be a dict {{name: value}}, got {type(params).__name__}")
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


def float_leaves(params):
    """``params`` with every leaf a float64 array (lists, tuples and dicts kept), or a
    ScoresymInputError naming the first leaf that is not real and finite.

    >>> import numpy as np
    >>> float_leaves({"w": [[1, 2]], "layers": [(np.eye(1), np.zeros(1))]})
    {'w': array([[1., 2.]]), 'layers': [(array([[1.]]), array([0.]))]}
    """
    def leaf(value, where):
        if isinstance(value, dict):
            return {key: leaf(v, f"{where}[{key!r}]") for key, v in value.items()}
        if _is_container(value):
            return type(value)(leaf(v, f"{where}[{k}]") for k, v in enumerate(value))
        if not _is_real_array(value):
            raise ScoresymInputError(f"params{where} must be an array of real numbers, got "
                                     f"{type(value).__name__}")
        array = numpy.array(value, dtype=float)
        if not numpy.all(numpy.isfinite(array)):
            raise ScoresymInputError(f"params{where} holds NaN or inf")
        return array
    return leaf(params, "")


# --- argument checks --------------------------------------------------------------------------

def _prepare(logp, X, params: dict, keywords: tuple):
    """(score function X -> (n, d), points (n, d), d, params) after checking every argument."""
    if isinstance(logp, ScoreField):
        return _prepare_field(logp, X, params)
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
    return score_function(f, params), points, points.shape[1], params


def _prepare_field(field: ScoreField, X, keywords: dict):
    """The same for a score field, whose parameters come as the one keyword ``params``."""
    if field.conditional:
        raise ScoresymInputError(
            f"{field!r} is conditional on the noise level, s(X, sigma, params): use ncsn_loss, "
            f"or a field s(X, params) with esm_loss, dsm_loss and ssm_loss")
    extra = sorted(set(keywords) - {"params"})
    if extra:
        raise ScoresymInputError(
            f"a ScoreField takes its parameters as one argument, params=...; unexpected "
            f"keyword(s): {', '.join(extra)}")
    if "params" not in keywords:
        raise ScoresymInputError("pass the score field's parameters as params=... "
                                 "(None if it has none)")
    points = _data_points(X)
    n, d = points.shape
    return field.bind(keywords["params"], n, d), points, d, keywords["params"]


def _data_points(X):
    """X as an (n, d) float array of data (1-D: n points in d = 1), at least one row."""
    if is_traced(X):
        raise ScoresymInputError(
            "X must be data, not a traced value: losses are differentiated with respect to "
            "params only")
    shape = numpy.shape(X) if _is_real_array(X) else ()
    points = as_points(X, shape[-1] if len(shape) >= 2 else 1, backend="autograd")
    if points.shape[0] == 0:
        raise ScoresymInputError("X holds no points: pass at least one row")
    return points


def _is_container(value) -> bool:
    """A list or tuple holding arrays or containers (a network's layers), as opposed to nested
    lists of numbers, which are one array."""
    return isinstance(value, (list, tuple)) and any(
        isinstance(v, (numpy.ndarray, dict)) or _is_container(v) for v in value)


def _is_real_array(value) -> bool:
    """True when numpy reads ``value`` as a (non-ragged) array of real numbers."""
    if is_traced(value):
        return True
    try:
        return numpy.asarray(value).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


def given_draws(name: str, value, shape: tuple):
    """Draws passed in by the caller (DSM's noise, SSM's projections) as a float array of the
    shape the loss needs, finite; else a ScoresymInputError naming ``name``."""
    if not _is_real_array(value):
        raise ScoresymInputError(f"{name} must be an array of real numbers of shape {shape}")
    array = numpy.asarray(value, dtype=float)
    if array.shape != tuple(shape):
        raise ScoresymInputError(f"{name} must have shape {tuple(shape)}, got {array.shape}")
    if not numpy.all(numpy.isfinite(array)):
        raise ScoresymInputError(f"{name} holds NaN or inf")
    return array


def _given_projections(projections, shape: tuple):
    """Projections passed in, as (M, n, d): an (n, d) array is one projection."""
    if _is_real_array(projections) and numpy.ndim(projections) == 2:
        projections = numpy.asarray(projections, dtype=float)[None]
    M = numpy.shape(projections)[0] if _is_real_array(projections) and numpy.ndim(
        projections) == 3 else 0
    if M == 0:
        raise ScoresymInputError(f"projections must be an array of shape (M, n, d) = (M, "
                                 f"{shape[0]}, {shape[1]}) with M >= 1, or (n, d) for one")
    return given_draws("projections", projections, (M, *shape))


def _ladder(sigmas):
    """The noise levels as a 1-D float array of positive finite numbers."""
    if not _is_real_array(sigmas) or numpy.ndim(sigmas) != 1 or len(sigmas) == 0:
        raise ScoresymInputError("sigmas must be a non-empty 1-D sequence of noise levels, "
                                 "e.g. geometric_sigmas(5.0, 0.5, 20)")
    array = numpy.asarray(sigmas, dtype=float)
    if not numpy.all(numpy.isfinite(array) & (array > 0)):
        raise ScoresymInputError(f"every noise level must be positive and finite, got "
                                 f"{array.tolist()}")
    return array


def _level_indices(levels, n: int, count: int):
    array = numpy.asarray(levels) if _is_real_array(levels) else None
    if (array is None or array.shape != (n,) or array.dtype.kind not in "iu"
            or numpy.any(array < 0) or numpy.any(array >= count)):
        raise ScoresymInputError(f"levels must be {n} integers in [0, {count}), one level of "
                                 f"the ladder per row")
    return array


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


def _result(values, per_sample: bool):
    """The traced value inside autograd; otherwise a float mean, or an (n,) array."""
    if is_traced(values):
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


