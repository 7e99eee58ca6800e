"""Score-matching fits of models in matrix notation, with the parameters as arrays.

    objective(theta) = mean_i [ |score(x_i)|^2 / 2 + Laplacian(x_i) ],

evaluated with matrix products (:mod:`scoresym.codegen.matrix_code`) and differentiated in
theta by autograd through those products: per optimizer step one value and one gradient (one
forward and one backward pass, O(n d k) work), the Hessian in theta once, at the end, for the
convergence check and the sandwich's standard errors, and the per-point gradients once, in one
backward pass over a copy of the parameters per point (rows in chunks).

>>> import numpy as np, scoresym as ss
>>> m = ss.Model.from_string("-x @ L @ x / 2 + b @ x", "x", "L b",
...                          shapes={"x": (2,), "L": (2, 2), "b": (2,)}, kind="log")
>>> X = np.random.default_rng(0).multivariate_normal([1, -1], [[1, .3], [.3, 2]], 5000)
>>> r = ss.fit(m, X)
>>> bool(np.allclose(r.params["L"], np.linalg.inv(np.cov(X.T, bias=True)), rtol=1e-6))
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.optimize

from .codegen.functions import as_points
from .errors import ScoresymInputError
from .numerics.optimality import NOT_STATIONARY, stationary, weakest_direction

#: Above this many parameters the Hessian in theta (p x p) and the sandwich are not formed:
#: standard errors are reported as unavailable, and ``converged`` rests on the gradient alone.
MAX_SANDWICH_PARAMETERS = 2_500
#: Rows per chunk for the per-point gradients (a copy of the parameters per row).
GRADIENT_CHUNK = 1_000


@dataclass
class MatrixFitResult:
    """A fit of a MatrixModel: ``params`` and ``stderr`` {name: array of the parameter's
    shape} (float for a scalar), ``cov`` over the flattened free parameters (None above
    MAX_SANDWICH_PARAMETERS), and how it ended."""

    params: dict
    stderr: dict
    cov: np.ndarray | None
    objective: float
    converged: bool
    iterations: int
    gradient_norm: float
    min_eigenvalue: float | None
    n: int
    details: dict = field(default_factory=dict)
    method: str = "optimize"

    def summary(self) -> str:
        lines = [f"score matching (matrix model, {self.method}), n = {self.n}, objective = "
                 f"{self.objective:.6g}, converged = {self.converged}",
                 f"iterations = {self.iterations}, |gradient| = {self.gradient_norm:.3g}, "
                 f"smallest Hessian eigenvalue = "
                 + ("not formed" if self.min_eigenvalue is None
                    else f"{self.min_eigenvalue:.4g}")]
        if self.details.get("convergence"):
            lines.append(f"not converged: {self.details['convergence']}")
        for name, value in self.params.items():
            shape = np.shape(value)
            se = self.stderr.get(name)
            largest = "n/a" if se is None else f"{float(np.max(se)):.3g}"
            head = np.array2string(np.ravel(value)[:4], precision=4, separator=", ")
            lines.append(f"{name} {shape or 'scalar'}: {head}{' ...' if np.size(value) > 4 else ''}"
                         f" (largest stderr {largest})")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


class _Packing:
    """Free parameters <-> one flat vector theta (in the model's order). A matrix that enters
    only quadratic forms u^T M u is identified only through M + M^T: it is fitted as a
    symmetric matrix, its upper triangle in theta."""

    def __init__(self, model, fixed: dict):
        self.names = [k for k in model.param_names if k not in fixed]
        self.shapes = {k: model.shapes[k] for k in self.names}
        self.symmetric = set(model.symmetric_params) & set(self.names)
        self.sizes = [self._size(k) for k in self.names]

    def _size(self, name) -> int:
        shape = self.shapes[name]
        if name in self.symmetric:
            return shape[0] * (shape[0] + 1) // 2
        return int(np.prod(shape)) if shape else 1

    def unpack(self, theta, batch=None):
        """{name: array}; with ``batch`` = n, theta is (n, p) and each array gets a leading
        axis of n."""
        out, start = {}, 0
        for name, size in zip(self.names, self.sizes):
            piece = theta[..., start:start + size]
            shape = self.shapes[name]
            if name in self.symmetric:
                piece = piece[..., _triangle_index(shape[0]).ravel()]
            out[name] = (piece.reshape((batch,) + shape) if batch else piece.reshape(shape)) \
                if shape else (piece[..., 0] if batch else piece[0])
            start += size
        return out

    def pack_gradient(self, gradient: dict, batch: bool = False) -> np.ndarray:
        """The gradient in theta from the gradient in each full parameter ({name: array},
        with a leading axis of points where ``batch``): for a symmetric M, the entry (i, j)
        of its triangle moves M_ij and M_ji, so its derivative is dM_ij + dM_ji (dM_ii on the
        diagonal)."""
        pieces = []
        for k in self.names:
            value = np.asarray(gradient[k], dtype=float)
            if k in self.symmetric:
                both = value + np.swapaxes(value, -1, -2)
                rows, columns = np.triu_indices(value.shape[-1])
                value = both[..., rows, columns] - np.where(rows == columns,
                                                            value[..., rows, columns], 0.0)
            pieces.append(value.reshape(len(value), -1) if batch else np.ravel(value))
        return np.concatenate(pieces, axis=-1)

    def pack(self, values: dict) -> np.ndarray:
        pieces = []
        for k in self.names:
            value = np.asarray(values[k], dtype=float)
            if k in self.symmetric:
                value = 0.5 * (value + value.T)[np.triu_indices(value.shape[0])]
            pieces.append(np.ravel(value))
        return np.concatenate(pieces)


def _triangle_index(d: int) -> np.ndarray:
    """(d, d): the position in the packed upper triangle of entry (i, j) = (j, i)."""
    index = np.zeros((d, d), dtype=int)
    rows, columns = np.triu_indices(d)
    index[rows, columns] = np.arange(len(rows))
    index[columns, rows] = np.arange(len(rows))
    return index


def fit_matrix_model(model, X, init=None, fixed=None) -> MatrixFitResult:
    """Minimize the Hyvarinen objective of ``model`` (a MatrixModel) over its free parameters:
    L-BFGS-B with autograd's exact gradient from ``init`` ({name: array}; default the
    identity for square matrices, 0 for other matrices and vectors, 1 for scalars), then, where
    that stops short of a stationary point, Newton steps with the exact Hessian.
    ``fixed``: {name: value} held fixed. ``converged`` means what it means for every fit
    (:mod:`scoresym.numerics.optimality`): the mean gradient 0 within 1e-3 of its standard
    error and the Hessian in theta positive definite."""

    X = as_points(X, model.dim)
    if len(X) < 2 or not np.all(np.isfinite(X)):
        raise ScoresymInputError("fit needs at least 2 points, all finite")
    fixed = _values(model, fixed or {}, "fixed")
    packing = _Packing(model, fixed)
    if not packing.names:
        raise ScoresymInputError("every parameter is fixed: nothing to fit")
    start = {**_default_start(model, packing), **_values(model, init or {}, "init")}
    objective = _Objective(model, X, fixed, packing)
    theta0 = packing.pack({k: start[k] for k in packing.names})
    if not np.isfinite(objective.checked(theta0)[0]):
        raise ScoresymInputError("the objective is not finite at the starting values; give "
                                 "others with init={...}")
    if model.quadratic_in_params and theta0.size <= MAX_SANDWICH_PARAMETERS:
        return _solved(model, objective, fixed, packing, theta0)
    theta, iterations = _descend(objective, theta0)
    per_point, hessian = objective.per_point(theta), None
    if theta.size <= MAX_SANDWICH_PARAMETERS:
        hessian = objective.hessian(theta)
        if not stationary(per_point):
            theta, steps = _newton(objective.checked, objective.hessian, theta)
            iterations += steps
            per_point, hessian = objective.per_point(theta), objective.hessian(theta)
    return _result(model, packing, fixed, theta, objective.checked(theta)[0], per_point,
                   hessian, iterations, len(X))


#: L-BFGS-B stops early once every coordinate of the mean gradient is below this many of its
#: standard errors (estimated at the start: 100 times below what ``converged`` asks, which is
#: checked afterwards with the standard errors at the end).
EARLY_STOP_IN_STDERR = 1e-5


class _Stop(Exception):
    pass


def _descend(objective, theta0) -> tuple:
    """(theta, iterations) of L-BFGS-B with the exact gradient, stopped once the gradient is
    below EARLY_STOP_IN_STDERR of the per-point gradients' standard error at the start (ICA
    at n = 10,000: 12 iterations instead of 13 at d = 2, 33 instead of 36 at d = 5, none saved
    at d = 10, where at 1e-4 it stopped after 457 of 503 with W 1.1e-6 from the end point)."""
    per_point = objective.per_point(theta0)
    stderr = per_point.std(axis=0) / np.sqrt(len(per_point))
    last = {"theta": theta0, "iterations": 0}

    def small_enough(theta):
        last["theta"], last["iterations"] = np.array(theta), last["iterations"] + 1
        if np.all(np.abs(objective.checked(theta)[1]) <= EARLY_STOP_IN_STDERR * stderr):
            raise _Stop

    try:
        found = scipy.optimize.minimize(objective.checked, theta0, jac=True,
                                        method="L-BFGS-B", callback=small_enough,
                                        options={"maxiter": 10_000, "gtol": 1e-12,
                                                 "ftol": 1e-15})
    except _Stop:
        return last["theta"], last["iterations"]
    return found.x, int(found.nit)


class _Objective:
    """The mean Hyvarinen objective in theta: its value and gradient and per-point gradients
    by the structure's chain rule (NumPy) where it applies
    (:meth:`~scoresym.codegen.matrix_code.MatrixOperators.objective_gradient`: 1.7x faster
    than autograd's for ICA at d = 10), else by autograd through the compiled matrix products;
    the Hessian by autograd."""

    def __init__(self, model, X, fixed, packing):
        self.X, self.fixed, self.packing = X, fixed, packing
        self.traced = model.compiled("autograd")
        numpy_ops = model.compiled("numpy")
        self.structured = numpy_ops if numpy_ops.structured_gradient else None
        self._last = None

    def params(self, theta) -> dict:
        return {**self.fixed, **self.packing.unpack(theta)}

    def mean(self, theta):
        return self.traced.hyvarinen(self.X, **self.params(theta)).mean()

    def value_and_gradient(self, theta) -> tuple:
        if self.structured is not None:
            value, gradient = self.structured.objective_gradient(self.X, self.params(theta))
            return value, self.packing.pack_gradient(gradient)
        import autograd

        return autograd.value_and_grad(self.mean)(theta)

    def checked(self, theta) -> tuple:
        """(value, gradient), or (inf, 0) where either is not finite; the last one is kept
        (L-BFGS-B's callback asks again for the point it has just evaluated)."""
        theta = np.asarray(theta, dtype=float)
        if self._last is not None and np.array_equal(self._last[0], theta):
            return self._last[1]
        with np.errstate(all="ignore"):
            value, gradient = self.value_and_gradient(theta)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            out = np.inf, np.zeros_like(theta)
        else:
            out = float(value), np.asarray(gradient, dtype=float)
        self._last = (theta.copy(), out)
        return out

    def hessian(self, theta) -> np.ndarray:
        """(p, p): autograd's exact Hessian through the compiled matrix products (measured
        faster than central differences of the structured gradient: 1.7 s against 2.5 s for
        ICA at d = 10, n = 10,000)."""
        import autograd

        return autograd.hessian(self.mean)(theta)

    def per_point(self, theta) -> np.ndarray:
        """(n, p): each point's gradient of its own h in theta, in chunks of GRADIENT_CHUNK
        rows (by the structure, or by one backward pass over a copy of theta per point)."""
        import autograd

        rows = []
        for start in range(0, len(self.X), GRADIENT_CHUNK):
            block = self.X[start:start + GRADIENT_CHUNK]
            with np.errstate(all="ignore"):
                if self.structured is not None:
                    _, gradient = self.structured.objective_gradient(
                        block, self.params(theta), per_point=True)
                    rows.append(self.packing.pack_gradient(gradient, batch=True))
                    continue

                def total(copies, block=block):
                    params = {**self.fixed, **self.packing.unpack(copies, len(block))}
                    return self.traced.hyvarinen(block, **params).sum()

                rows.append(autograd.grad(total)(np.tile(theta, (len(block), 1))))
        return np.concatenate(rows)


def _solved(model, objective, fixed, packing, theta0):
    """A fit whose objective is quadratic in theta: theta = theta0 - G^-1 g(theta0), G the
    (constant) Hessian, the per-point gradients at the solution for the sandwich."""
    G = objective.hessian(theta0)
    gradient = objective.checked(theta0)[1]
    try:
        theta = theta0 - np.linalg.solve(0.5 * (G + G.T), gradient)
    except np.linalg.LinAlgError:
        raise ScoresymInputError("the objective's Hessian in the parameters is singular: the "
                                 "data do not identify them") from None
    per_point = objective.per_point(theta)
    result = _result(model, packing, fixed, theta, objective.checked(theta)[0], per_point, G,
                     0, len(objective.X))
    result.method = "closed_form"
    return result


def _values(model, values, what: str) -> dict:
    if not isinstance(values, dict):
        raise ScoresymInputError(f"{what} must be a dict {{name: value}}")
    unknown = sorted(set(values) - set(model.param_names))
    if unknown:
        raise ScoresymInputError(f"{what} names unknown parameter(s): {', '.join(unknown)}")
    out = {}
    for name, value in values.items():
        array = np.asarray(value, dtype=float)
        if array.shape != model.shapes[name] or not np.all(np.isfinite(array)):
            raise ScoresymInputError(f"{what}: {name} must be finite, of shape "
                                     f"{model.shapes[name]}, got shape {array.shape}")
        out[name] = array if array.shape else float(array)
    return out


def _default_start(model, packing) -> dict:
    start = {}
    for name in packing.names:
        shape = model.shapes[name]
        if not shape:
            start[name] = 1.0
        elif len(shape) == 2 and shape[0] == shape[1]:
            start[name] = np.eye(shape[0])
        else:
            start[name] = np.zeros(shape)
    return start


def _newton(checked, hessian, theta, steps: int = 50) -> tuple:
    """scipy's trust-region Newton method ("trust-exact") with the exact Hessian."""
    with np.errstate(all="ignore"):
        found = scipy.optimize.minimize(checked, theta, jac=True, hess=hessian,
                                        method="trust-exact",
                                        options={"maxiter": steps, "gtol": 1e-12})
    better = found.fun <= checked(theta)[0]
    return (found.x if better else theta), int(found.nit)


def _result(model, packing, fixed, theta, value, per_point, hessian, iterations,
            n) -> MatrixFitResult:
    mean_gradient = per_point.mean(axis=0)
    params = {**packing.unpack(theta), **fixed}
    params = {k: params[k] for k in model.param_names}
    why, cov, lowest = "" if stationary(per_point) else NOT_STATIONARY, None, None
    if hessian is None:
        stderr = {k: None for k in packing.names}
    else:
        symmetric = 0.5 * (hessian + hessian.T)
        lowest = float(np.linalg.eigvalsh(symmetric)[0])
        if not why and weakest_direction(symmetric, list(range(theta.size)))[0] is not None:
            why = f"the Hessian in the parameters is not positive definite (smallest " \
                  f"eigenvalue {lowest:.3g}): not a minimum, or a flat direction"
        J = np.cov(per_point.T, bias=False).reshape(theta.size, theta.size)
        try:
            G_inv = np.linalg.inv(symmetric)
            cov = G_inv @ J @ G_inv / n
            stderr = packing.unpack(np.sqrt(np.clip(np.diag(cov), 0, None)))
        except np.linalg.LinAlgError:
            stderr = {k: None for k in packing.names}
    stderr = {k: stderr.get(k) for k in packing.names}
    return MatrixFitResult(params, stderr, cov, float(value), not why, iterations,
                           float(np.linalg.norm(mean_gradient)), lowest, n,
                           {"convergence": why, "fixed": dict(fixed),
                            "sandwich": "G^-1 J G^-1 / n, J the per-point gradients' "
                                        "covariance with 1/(n - 1)"})
