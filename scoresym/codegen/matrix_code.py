"""Compiled operators of a model in matrix notation: matrix products over the data, with the
scalar functions of its structure (and their derivatives, from SymPy) compiled elementwise.

For log f = sum of terms (see :mod:`scoresym.symbolic.matrix_notation`), with A = X W^T
scale + offsets (n, k) and U = phi(A) elementwise:

    ridge  sum_k g(a_k):   score  scale g'(A) W,      Laplacian scale^2 g''(A) (W o W) 1
    quadratic c u^T M u:   score  c u'(A) o (U S),    Laplacian c sum_j [u''(a_j) (U S)_j
                                                                + u'(a_j)^2 S_jj],  S = M + M^T
    linear    c b^T u:     score  c u'(A) o b,        Laplacian c u''(A) b

(u' includes the chain factor scale). The Hyvarinen integrand is |score|^2 / 2 + Laplacian.
The symbolic work is on one-variable functions only (g, g', g'' and phi, phi', phi''), so
deriving and compiling take the same time at d = 2 and d = 1000; the arrays in memory are a
few n x d and n x k ones.

>>> import numpy as np
>>> from scoresym.symbolic.matrix_notation import parse_matrix_model
>>> s = parse_matrix_model("-sum(log(cosh(W @ x)))", "x", {"x": (2,), "W": (2, 2)})
>>> ops = MatrixOperators(s)
>>> W = np.array([[1.0, 0.5], [0.0, 2.0]])
>>> X = np.array([[0.3, -0.2]])
>>> bool(np.allclose(ops.score(X, W=W), -np.tanh(X @ W.T) @ W))
True
"""

from __future__ import annotations

import numpy
import sympy

from ..errors import ScoresymInputError
from ..symbolic.matrix_notation import Linear, MatrixStructure, Quadratic, Ridge, T
from ..symbolic.operators import stabilize_log_sum_exp
from .functions import runtime_namespace
from .printer import generate_source

#: The one variable of the elementwise functions in generated code (a name the matrix notation
#: reserves).
ARGUMENT = sympy.Symbol("t__", real=True)


class ScalarFunction:
    """The k-th derivative of a function of T and the scalar parameters, compiled once for a
    backend by the plain path's code generator (its stable forms: softplus and log cosh as
    log-sum-exp with the maximum taken out, tanh for sinh/cosh), and applied elementwise:
    ``f(values, scalars)`` has the shape of ``values``."""

    def __init__(self, expr: sympy.Expr, scalars: dict, backend: str, order: int = 0):
        t = ARGUMENT
        stable, shifts = stabilize_log_sum_exp(sympy.sympify(expr).xreplace({T: t}), (t,))
        derivative = sympy.diff(stable, t, order) if order else stable
        if not derivative.has(t) and not shifts:
            derivative = derivative + 0 * t
        params = tuple(scalars.values())
        source = generate_source("f", [derivative], (t,), params, "scalar", shifts)
        namespace = runtime_namespace(backend)
        exec(compile(source, "<scoresym elementwise>", "exec"), namespace)  # printed SymPy only
        self._f, self.names, self.expr, self.source = namespace["f"], list(scalars), expr, source

    def __call__(self, values, scalars: dict):
        arguments = [scalars[name] for name in self.names]
        if isinstance(values, float):  # a coefficient: the function at one point
            return self._f(numpy.full((1, 1), values), *arguments)[0]
        return self._f(values.reshape(-1, 1), *arguments).reshape(values.shape)


class MatrixOperators:
    """log-density, score, Laplacian and Hyvarinen integrand of a MatrixStructure, as
    functions of X (n, d) and the parameters by name (arrays for matrices and vectors)."""

    def __init__(self, structure: MatrixStructure, backend: str = "numpy"):
        self.structure, self.backend = structure, backend
        self.np = runtime_namespace(backend)["numpy"]
        scalars = structure.scalars

        def compiled(e, order=0):
            return ScalarFunction(sympy.sympify(e), scalars, backend, order)

        self._terms = []
        for term in structure.terms:
            f = term.g if isinstance(term, Ridge) else term.u
            scale = term.scale if isinstance(term, Ridge) else term.arg.scale
            coef = sympy.Integer(1) if isinstance(term, Ridge) else term.coef
            offsets = term.offsets if isinstance(term, Ridge) else term.arg.offsets
            self._terms.append((term, compiled(f), compiled(f, 1), compiled(f, 2),
                                compiled(scale), compiled(coef),
                                [(compiled(c), v) for c, v in offsets]))
        self._constant = compiled(structure.constant)

    # --- the pieces -----------------------------------------------------------------------

    def _scalars(self, params: dict) -> dict:
        return {name: params[name] for name in self.structure.scalars}

    def _argument(self, X, term, scale, offsets, params, scalars):
        """A = scale (X W^T) + offsets, (n, k)."""
        W = getattr(term, "W", None)
        A = self._forms(X, params[W]) if W else X
        A = scale(1.0, scalars) * A
        for coef, name in offsets:
            A = A + coef(1.0, scalars) * params[name]
        return A

    # Parameters are (k, d) arrays, or (n, k, d) with one copy per point (to differentiate each
    # point's value in its own copy: per-point gradients in one backward pass).

    def _forms(self, X, W):
        """X W^T: rows x_i . w_k, (n, k)."""
        return X @ W.T if W.ndim == 2 else self.np.einsum("nd,nkd->nk", X, W)

    def _combine(self, G, W):
        """G W: rows sum_k G_ik w_k, (n, d)."""
        return G @ W if W.ndim == 2 else self.np.einsum("nk,nkd->nd", G, W)

    def _weigh(self, G, v):
        """G v over the last axis, (n,): v (k,) or (n, k)."""
        return G @ v if v.ndim == 1 else self.np.sum(G * v, axis=-1)

    def _parts(self, X, params: dict, want: str):
        """(log-density, score, Laplacian) contributions summed over the terms, each None
        where not asked for (``want`` holds "v", "s", "l")."""
        np, scalars = self.np, self._scalars(params)
        n, d = X.shape
        value = self._constant(np.zeros(n), scalars) if "v" in want else None
        score = np.zeros((n, d)) if "s" in want else None
        laplacian = np.zeros(n) if "l" in want else None
        for term, f, f1, f2, scale_f, coef_f, offsets in self._terms:
            A = self._argument(X, term, scale_f, offsets, params, scalars)
            k, c = scale_f(1.0, scalars), coef_f(1.0, scalars)
            if isinstance(term, Ridge):
                W = params[term.W] if term.W else None
                if value is not None:
                    value = value + np.sum(f(A, scalars), axis=1)
                if score is not None:
                    G1 = f1(A, scalars)
                    score = score + k * (self._combine(G1, W) if W is not None else G1)
                if laplacian is not None:
                    G2 = f2(A, scalars)
                    laplacian = laplacian + k * k * (
                        self._weigh(G2, np.sum(W * W, axis=-1)) if W is not None
                        else np.sum(G2, axis=1))
                continue
            U = f(A, scalars)
            U1 = k * f1(A, scalars)
            if isinstance(term, Quadratic):
                M = params[term.M]
                S = M + np.swapaxes(M, -1, -2)
                US = self._combine(U, S)
                if value is not None:
                    value = value + c * np.sum(U * self._combine(U, np.swapaxes(M, -1, -2)),
                                               axis=1)
                if score is not None:
                    score = score + c * U1 * US
                if laplacian is not None:
                    U2 = k * k * f2(A, scalars)
                    laplacian = laplacian + c * (np.sum(U2 * US, axis=1) + self._weigh(
                        U1 * U1, np.diagonal(S, axis1=-1, axis2=-2)))
            elif isinstance(term, Linear):
                b = params[term.b]
                if value is not None:
                    value = value + c * self._weigh(U, b)
                if score is not None:
                    score = score + c * U1 * b
                if laplacian is not None:
                    laplacian = laplacian + c * self._weigh(k * k * f2(A, scalars), b)
        return value, score, laplacian

    # --- the operators --------------------------------------------------------------------

    def log_density(self, X, **params):
        """log f up to its normalizing constant, (n,)."""
        return self._parts(X, self.checked(X, params), "v")[0]

    def score(self, X, **params):
        """grad_x log f, (n, d)."""
        return self._parts(X, self.checked(X, params), "s")[1]

    def laplacian(self, X, **params):
        """Laplacian of log f, (n,)."""
        return self._parts(X, self.checked(X, params), "l")[2]

    def hyvarinen(self, X, **params):
        """|score|^2 / 2 + Laplacian, (n,)."""
        _, s, lap = self._parts(X, self.checked(X, params), "sl")
        return 0.5 * self.np.sum(s * s, axis=1) + lap

    def checked(self, X, params: dict) -> dict:
        """``params`` with every parameter present, matrices and vectors of their shapes (or
        one copy per point: a leading axis of n)."""
        shapes = self.structure.shapes
        names = [k for k in shapes if k != self.structure.variable]
        missing = [k for k in names if k not in params]
        unknown = sorted(set(params) - set(names))
        if missing or unknown:
            raise ScoresymInputError(
                (f"missing parameter(s): {', '.join(missing)}" if missing else "")
                + ("; " if missing and unknown else "")
                + (f"unknown parameter(s): {', '.join(unknown)}" if unknown else ""))
        if X.ndim != 2 or X.shape[1] != self.structure.dim:
            raise ScoresymInputError(f"X must have shape (n, {self.structure.dim}), got "
                                     f"{X.shape}")
        out = {}
        for name in names:
            value = params[name]
            shape = tuple(getattr(value, "shape", ()))
            if shape not in (shapes[name], (len(X),) + shapes[name]):
                raise ScoresymInputError(f"{name} must have shape {shapes[name]}, got {shape}")
            out[name] = value
        return out
