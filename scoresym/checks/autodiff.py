"""The compiled symbolic operators against HIPS autograd on the autograd-backend log-density.

Invariant: the reference side never uses the symbolic derivatives: autograd differentiates the
compiled log f (autograd backend) for the score, takes the exact trace of its Jacobian with d
backward passes for the Laplacian, and :func:`scoresym.losses.esm_loss` gives the Hyvarinen mean.
Agreement is to near machine precision (relative 1e-10).

>>> from scoresym import zoo
>>> b = zoo.get("student_t")
>>> check_autodiff(b.model, b.truth, b.sample(50, seed=0)).ok
True
"""

from __future__ import annotations

import numpy as np

from ..codegen.functions import as_points, param_values
from ..losses import esm_loss
from ..matrix_model import MatrixModel
from ..numerics.ad import hessian_trace, score_function
from ..numerics.differences import compare_quantities, probe_points
from ..numerics.expectation import resolve_samples
from ..randomness import generator
from .check import Check, CommandLine, Planned, Subject

TOLERANCES = {"score": 1e-10, "laplacian": 1e-10, "hyvarinen_mean": 1e-10}


def check_autodiff(model, params, samples=None, n: int = 200, seed=None):
    """Compiled score, Laplacian and mean Hyvarinen integrand against autograd at ``samples``
    (default: n draws from the model's sampler, or n probe points inside the domain when it has
    none: the comparison is pointwise, any points will do). A model in matrix notation is
    checked on n standard normal points (:func:`check_matrix_model_autodiff`).

    Each quantity, compiled from the symbolic derivatives, against autograd on log f alone,
    within a relative error of 1e-10 (:data:`TOLERANCES`):

        s(x) = grad_x log f(x),   lap(x) = tr grad_x s(x),   mean_i [1/2 ||s(x_i)||^2 + lap(x_i)].

    >>> from scoresym import zoo
    >>> b = zoo.get("student_t")
    >>> r = check_autodiff(b.model, b.truth, b.sample(20, seed=0))
    >>> r.ok, sorted(r.details["errors"]), bool(max(r.details["errors"].values()) < 1e-12)
    (True, ['hyvarinen_mean', 'laplacian', 'score'], True)
    """
    if isinstance(model, MatrixModel):
        return check_matrix_model_autodiff(model, params, samples, n, seed)
    param_values(params, model.params)  # name what is missing, unknown or not a number
    if samples is not None:
        X = as_points(samples, model.dim)
    elif model.sampler is not None:
        X = resolve_samples(model, params, None, n, seed)
    else:
        X = probe_points(model, n, generator(seed))
    f = model.lambdify()
    score = score_function(model.lambdify("autograd").log_density, dict(params))
    pairs = {
        "score": (f.score(X, **params), score(X)),
        "laplacian": (f.laplacian(X, **params), hessian_trace(score, X, model.dim)),
        "hyvarinen_mean": (np.mean(f.hyvarinen(X, **params)), esm_loss(model, X, **params)),
    }
    return compare_quantities(f"autodiff[{model.name or 'model'}]", pairs, TOLERANCES, "autograd",
                              {"points": X.shape[0]})


def check_matrix_model_autodiff(model: MatrixModel, params: dict, samples=None, n: int = 200,
                                seed=None):
    """A model in matrix notation: its score, Laplacian and mean Hyvarinen integrand against
    autograd's derivatives of its log-density (the matrix-product code on autograd.numpy).

    >>> import numpy as np
    >>> m = MatrixModel.from_string("sum(log(1 + exp(W @ x + c))) - sum(x**2)/2", "x", "W c",
    ...                             shapes={"x": (2,), "W": (3, 2), "c": (3,)})
    >>> p = {"W": np.arange(6.0).reshape(3, 2) / 4, "c": np.array([0.5, -1.0, 2.0])}
    >>> check_matrix_model_autodiff(m, p, seed=0).ok
    True
    """
    X = generator(seed).standard_normal((n, model.dim)) if samples is None else \
        as_points(samples, model.dim)
    arrays = {k: np.asarray(v, dtype=float) for k, v in params.items()}
    ours = model.compiled("numpy")
    arrays = ours.checked(X, arrays)
    differentiable = model.compiled("autograd")
    score = score_function(differentiable.log_density, arrays)
    s, laplacian = score(X), hessian_trace(score, X, model.dim)
    pairs = {
        "score": (model.score(X, **arrays), s),
        "laplacian": (model.laplacian(X, **arrays), laplacian),
        "hyvarinen_mean": (np.mean(model.hyvarinen(X, **arrays)),
                           np.mean(0.5 * np.sum(s * s, axis=1) + laplacian)),
    }
    return compare_quantities(f"autodiff[{model.text}]", pairs, TOLERANCES, "autograd",
                              {"points": X.shape[0]})


def _plan(subject: Subject) -> list:
    return [Planned("autodiff", lambda: check_autodiff(subject.model, subject.truth,
                                                         subject.points[:200]))]


def _command_line(model, params: dict, options: CommandLine):
    return check_autodiff(model, params, options.samples, n=min(options.n, 2000),
                          seed=options.seed)


CHECK = Check("autodiff", check_autodiff, "compiled score, Laplacian and mean Hyvarinen "
              "integrand against HIPS autograd", plan=_plan, command_line=_command_line)
