"""Finite differences of a compiled log-density, and pointwise comparison of two arrays.

Invariant: differences use only the function they difference; steps scale with max(1, |x|) and
never cross a finite edge of the domain. Errors are relative, |a - b| / max(1, |b|).

>>> import numpy as np
>>> fd_gradient(lambda X: -np.sum(X**2, axis=1) / 2, np.array([[1.0, -2.0]]), {}).round(8)
array([[-1.,  2.]])
"""

from __future__ import annotations

import numpy as np

from .result import CheckResult

STEP_FIRST = 1e-5   # about eps**(1/3): central first differences


STEP_SECOND = 1e-4  # about eps**(1/4): central second differences


def probe_points(model, n: int, rng, margin: float = 1e-2) -> np.ndarray:
    """n points inside the model's domain, of moderate size: (n, d).

    Unbounded coordinates are N(0, 1.5^2); a half-line starts ``margin`` inside its edge and
    adds an Exponential(1); a finite interval is uniform on its inner part.
    """
    columns = []
    for variable in model.variables:
        lo, hi = (float(b) for b in model.domain[variable])
        if np.isinf(lo) and np.isinf(hi):
            columns.append(1.5 * rng.standard_normal(n))
        elif np.isinf(hi):
            columns.append(lo + margin + rng.exponential(1.0, n))
        elif np.isinf(lo):
            columns.append(hi - margin - rng.exponential(1.0, n))
        else:
            width = hi - lo
            columns.append(rng.uniform(lo + margin * width, hi - margin * width, n))
    return np.column_stack(columns)


def step_scale(X: np.ndarray, domain=None) -> np.ndarray:
    """The length scale of each coordinate for a difference step: max(1, |x|), but never more
    than the distance to a finite edge of the domain (a list of (lo, hi), one per column), so
    steps stay inside and resolve a density's behaviour near its edge."""
    scale = np.maximum(1.0, np.abs(X))
    for i, (lo, hi) in enumerate(domain or ()):
        distance = np.minimum(X[:, i] - float(lo), float(hi) - X[:, i])
        scale[:, i] = np.minimum(scale[:, i], distance)
    return scale


def fd_gradient(log_density, X: np.ndarray, params: dict, domain=None) -> np.ndarray:
    """Central differences (f(x + h e_i) - f(x - h e_i)) / 2h, h = STEP_FIRST x step_scale."""
    n, d = X.shape
    out = np.empty((n, d))
    scale = step_scale(X, domain)
    for i in range(d):
        h = STEP_FIRST * scale[:, i]
        step = np.zeros_like(X)
        step[:, i] = h
        out[:, i] = (log_density(X + step, **params) - log_density(X - step, **params)) / (2 * h)
    return out


def fd_laplacian(log_density, X: np.ndarray, params: dict) -> np.ndarray:
    """sum_i (f(x + h e_i) - 2 f(x) + f(x - h e_i)) / h_i^2, (n,): the Laplacian by the 3-point
    rule on the diagonal alone (2d + 1 evaluations, where the Hessian takes 2d^2 + 1).

    >>> fd_laplacian(lambda X: -np.sum(X**2, axis=1) / 2, np.array([[1.0, -2.0]]), {}).round(6)
    array([-2.])
    """
    h = STEP_SECOND * step_scale(X)
    f0 = log_density(X, **params)
    total = np.zeros(X.shape[0])
    for i in range(X.shape[1]):
        step = np.zeros_like(X)
        step[:, i] = h[:, i]
        total += (log_density(X + step, **params) - 2 * f0
                  + log_density(X - step, **params)) / h[:, i] ** 2
    return total


def fd_hessian(log_density, X: np.ndarray, params: dict, domain=None) -> np.ndarray:
    """Central second differences of f, (n, d, d): the 3-point rule on the diagonal and the
    4-point rule (f(++) - f(+-) - f(-+) + f(--)) / 4 h_i h_j off it."""
    n, d = X.shape
    h = STEP_SECOND * step_scale(X, domain)
    f0 = log_density(X, **params)
    out = np.empty((n, d, d))

    def at(*shifts):
        step = np.zeros_like(X)
        for i, sign in shifts:
            step[:, i] += sign * h[:, i]
        return log_density(X + step, **params)

    for i in range(d):
        out[:, i, i] = (at((i, 1)) - 2 * f0 + at((i, -1))) / h[:, i] ** 2
        for j in range(i + 1, d):
            value = (at((i, 1), (j, 1)) - at((i, 1), (j, -1)) - at((i, -1), (j, 1))
                     + at((i, -1), (j, -1))) / (4 * h[:, i] * h[:, j])
            out[:, i, j] = out[:, j, i] = value
    return out


def relative_error(compiled: np.ndarray, reference: np.ndarray, scale=None) -> tuple:
    """(max relative error, compiled value there, reference value there): |compiled -
    reference| / max(1, |scale|), the scale being the reference itself unless given (the size
    of the terms a reference is the sum of, where they cancel)."""
    compiled, reference = np.asarray(compiled, float), np.asarray(reference, float)
    scale = np.abs(reference) if scale is None else np.abs(np.asarray(scale, float))
    errors = np.abs(compiled - reference) / np.maximum(1.0, scale)
    errors = np.where(np.isfinite(errors), errors, np.inf)
    k = np.unravel_index(np.argmax(errors), errors.shape)
    return float(errors[k]), float(compiled[k]), float(reference[k])


def compare_quantities(name: str, pairs: dict, tolerances: dict, method: str,
                       details: dict) -> CheckResult:
    """One CheckResult over several (compiled, reference[, scale]) pairs (see
    :func:`relative_error`): each quantity's largest relative error is compared with its own
    tolerance; lhs, rhs and error come from the quantity that is
    worst relative to its tolerance, and details["errors"] holds every quantity's error."""
    errors, worst = {}, None
    for quantity, (compiled, reference, *scale) in pairs.items():
        error, lhs, rhs = relative_error(compiled, reference, *scale)
        errors[quantity] = error
        ratio = error / tolerances[quantity]
        if worst is None or not ratio <= worst[0]:
            worst = (ratio, quantity, lhs, rhs, error)
    _, quantity, lhs, rhs, error = worst
    return CheckResult(f"{name}", lhs, rhs, error, tolerances[quantity], method=method,
                       details={**details, "worst": quantity, "errors": errors,
                                "tolerances": dict(tolerances)},
                       lhs_label=f"{quantity} (compiled)", rhs_label="reference")


def differenced_log_density(model):
    """The compiled log f without its terms free of x: the same derivatives, but a constant
    such as log(10**4000) = 9210.3 no longer costs the differences their last digits.

    >>> from scoresym import Model
    >>> m = Model.from_string("10**4000 * exp(-x**2)", "x")
    >>> differenced_log_density(m).expr
    -x**2
    """
    # a log-sum-exp's shift m = max_k a_k(x) is a symbol in the stable form, but varies with x
    shifts = tuple(model.stable_operators[1])

    def varying(ops):
        return ops.log_density.as_independent(*model.variables, *shifts, as_Add=True)[1]

    return model.compiled().compile("log_density_in_x", varying, "scalar")
