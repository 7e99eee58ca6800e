"""Compiled derivatives against central finite differences of the compiled log-density.

Invariant: the finite-difference side uses only ``log_density``; the compiled score, Hessian,
Laplacian and Hyvarinen integrand are never used to build their own reference. Errors are
relative, |compiled - fd| / max(1, |fd|) (for the Hyvarinen integrand 1/2 |s|^2 + lap, relative
to the size of its two terms, which may cancel), and the tolerances sit well above the
finite-difference error (first differences ~1e-10, second differences ~1e-7 for O(1)
log-densities) and far below any real mistake.

>>> from scoresym import zoo
>>> b = zoo.get("gaussian_1d")
>>> r = check_finite_differences(b.model, b.truth, seed=0)
>>> r.ok, sorted(r.details["errors"])
(True, ['hessian', 'hyvarinen', 'laplacian', 'score'])
"""

from __future__ import annotations

import numpy as np

from ..codegen.functions import as_points, param_values
from ..matrix_model import MatrixModel
from ..numerics.differences import (
    compare_quantities,
    differenced_log_density,
    fd_gradient,
    fd_hessian,
    fd_laplacian,
    probe_points,
)
from ..numerics.result import CheckResult
from ..randomness import generator
from .check import Check, CommandLine, Planned, Subject

TOLERANCES = {"score": 1e-6, "hessian": 1e-4, "laplacian": 1e-4, "hyvarinen": 1e-4}


def check_finite_differences(model, params: dict, X=None, n: int = 25, seed=None) -> CheckResult:
    """Score, Hessian, Laplacian and Hyvarinen integrand against finite differences.

    One CheckResult: ok when every quantity's largest relative error is within its tolerance
    (:data:`TOLERANCES`); details["errors"] has each quantity's error. A model in matrix
    notation is checked on n standard normal points (it lives on R^d), without the Hessian,
    which it does not compile (:func:`check_matrix_model_differences`).

    The references use only log f, by central differences with a step h per coordinate,

        d log f / dx_i ~ (log f(x + h e_i) - log f(x - h e_i)) / (2 h),

    the Hessian by second differences, the Laplacian its trace; each error is
    max abs(compiled - fd) / max(1, abs(fd)) over the n probe points inside the domain.

    >>> from scoresym import zoo
    >>> b = zoo.get("quartic_1d")
    >>> r = check_finite_differences(b.model, b.truth, n=10, seed=0)
    >>> r.ok, all(r.details["errors"][q] <= TOLERANCES[q] for q in TOLERANCES)
    (True, True)
    """
    if isinstance(model, MatrixModel):
        return check_matrix_model_differences(model, params, X, n, seed)
    param_values(params, model.params)  # name what is missing, unknown or not a number
    f = model.lambdify()
    X = probe_points(model, n, generator(seed)) if X is None else as_points(X, model.dim)
    domain = [model.domain[v] for v in model.variables]
    log_f = differenced_log_density(model)
    grad = fd_gradient(log_f, X, params, domain)
    hess = fd_hessian(log_f, X, params, domain)
    lap = np.trace(hess, axis1=1, axis2=2)
    half_norm = 0.5 * np.sum(grad**2, axis=1)
    references = {"score": (grad,), "hessian": (hess,), "laplacian": (lap,),
                  # its two terms cancel near a singular edge (maxwell: 2e4 - 2e4 = -3.75 at
                  # x = 0.01): the error is relative to their size, which sets the fd error
                  "hyvarinen": (half_norm + lap, np.abs(half_norm) + np.abs(lap))}
    pairs = {q: (getattr(f, q)(X, **params), *reference) for q, reference in references.items()}
    return compare_quantities(f"finite_differences[{model.name or 'model'}]", pairs, TOLERANCES,
                              "finite differences", {"points": X.shape[0]})


def check_matrix_model_differences(model: MatrixModel, params: dict, X=None, n: int = 25,
                                   seed=None) -> CheckResult:
    """A model in matrix notation: its score, Laplacian and Hyvarinen integrand (matrix-product
    code) against central differences of its log-density, the Laplacian by second differences
    on the diagonal.

    >>> import numpy as np
    >>> m = MatrixModel.from_string("-sum(log(cosh(W @ x)))", "x", "W",
    ...                             shapes={"x": (3,), "W": (3, 3)})
    >>> W = np.array([[1.0, 0.5, 0.0], [0.0, 2.0, 0.3], [0.2, 0.0, 1.0]])
    >>> check_matrix_model_differences(m, {"W": W}, seed=0).ok
    True
    """
    X = generator(seed).standard_normal((n, model.dim)) if X is None else \
        as_points(X, model.dim)
    grad = fd_gradient(model.log_density, X, params)
    lap = fd_laplacian(model.log_density, X, params)
    half_norm = 0.5 * np.sum(grad**2, axis=1)
    pairs = {"score": (model.score(X, **params), grad),
             "laplacian": (model.laplacian(X, **params), lap),
             "hyvarinen": (model.hyvarinen(X, **params), half_norm + lap,
                           np.abs(half_norm) + np.abs(lap))}
    tolerances = {q: TOLERANCES[q] for q in pairs}
    return compare_quantities(f"finite_differences[{model.text}]", pairs, tolerances,
                              "finite differences", {"points": X.shape[0]})


def _plan(subject: Subject) -> list:
    return [Planned("finite differences", lambda: check_finite_differences(
        subject.model, subject.truth, n=20, seed=subject.seed))]


def _command_line(model, params: dict, options: CommandLine):
    return check_finite_differences(model, params, X=options.samples, seed=options.seed)


CHECK = Check("finite-differences", check_finite_differences,
              "compiled score, Hessian, Laplacian and Hyvarinen integrand against central "
              "differences of log f", plan=_plan, command_line=_command_line)
