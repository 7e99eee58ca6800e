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

import sympy

from ..errors import ScoresymInputError
from ..symbolic.logistic import softplus_forms
from ..symbolic.matrix_notation import MatrixStructure, Quadratic, Ridge, T
from ..symbolic.operators import stabilize_log_sum_exp
from .functions import runtime_namespace
from .printer import generate_elementwise

#: The one variable of the elementwise functions in generated code (a name the matrix notation
#: reserves).
ARGUMENT = sympy.Symbol("t__", real=True)


class ScalarFunction:
    """Derivatives of a function of T and the scalar parameters, of the given ``orders``,
    compiled once for a backend by the plain path's code generator (its stable forms: softplus
    and its derivatives in one exp(-|t|) (:mod:`scoresym.symbolic.logistic`), other
    log-sum-exps with the maximum taken out, tanh for sinh/cosh; one CSE over
    all of them, so tanh is computed once for its first and second derivatives) and applied
    elementwise: ``f(values, scalars)`` is a list of arrays of the shape of ``values``."""

    def __init__(self, expr: sympy.Expr, scalars: dict, backend: str, orders=(0,)):
        t = ARGUMENT
        stable, shifts = stabilize_log_sum_exp(
            softplus_forms(sympy.sympify(expr).xreplace({T: t})), (t,))
        outputs = [sympy.diff(stable, t, k) if k else stable for k in orders]
        outputs = [e if e.has(t) or shifts else e + 0 * t for e in outputs]
        source = generate_elementwise("f", outputs, t, tuple(scalars.values()), shifts)
        namespace = runtime_namespace(backend)
        exec(compile(source, "<scoresym elementwise>", "exec"), namespace)  # printed SymPy only
        self._f, self.names, self.expr, self.source = namespace["f"], list(scalars), expr, source

    def __call__(self, values, scalars: dict) -> list:
        return list(self._f(values, *[scalars[name] for name in self.names]))


def _is_one(k) -> bool:
    """Whether a coefficient is the number 1 (not a traced value): its product is skipped."""
    return isinstance(k, (int, float)) and k == 1


def _times(k, A):
    """k A, or A itself where k is the number 1."""
    return A if _is_one(k) else k * A


class _Sum:
    """A running sum of arrays that adds in place into an array it made itself (NumPy only):
    one n x d allocation for a score over several terms, not one per term. ``shared`` holds
    the arrays it must not write into (the points, the parameters, the terms' pieces)."""

    def __init__(self, np, shared: list):
        self.total, self._np, self._shared, self._owned = None, np, shared, False
        self._in_place = np.__name__ == "numpy"

    def add(self, part):
        np = self._np
        if self.total is None:
            self.total = part
            self._owned = np.ndim(part) > 0 and not any(part is a for a in self._shared)
        elif self._owned and self._in_place and \
                np.broadcast_shapes(np.shape(self.total), np.shape(part)) == self.total.shape:
            self.total += part
        else:
            self.total = self.total + part
            self._owned = np.ndim(self.total) > 0


def half_squared_norms(S, np):
    """|s_i|^2 / 2 for the rows of S (n, d), in one pass on NumPy (einsum)."""
    if np.__name__ == "numpy":
        return 0.5 * np.einsum("ij,ij->i", S, S)
    return 0.5 * np.sum(S * S, axis=1)


class MatrixOperators:
    """log-density, score, Laplacian and Hyvarinen integrand of a MatrixStructure, as
    functions of X (n, d) and the parameters by name (arrays for matrices and vectors)."""

    def __init__(self, structure: MatrixStructure, backend: str = "numpy"):
        self.structure, self.backend = structure, backend
        self.np = runtime_namespace(backend)["numpy"]
        scalars = structure.scalars

        def compiled(e):
            function = ScalarFunction(sympy.sympify(e), scalars, backend)
            return lambda values, scalars: function(values, scalars)[0]

        self._terms, self._pieces = [], {}
        for term in structure.terms:
            scale = term.scale if isinstance(term, Ridge) else term.arg.scale
            coef = sympy.Integer(1) if isinstance(term, Ridge) else term.coef
            offsets = term.offsets if isinstance(term, Ridge) else term.arg.offsets
            self._terms.append((term, compiled(scale), compiled(coef),
                                [(compiled(c), v) for c, v in offsets]))
        self._constant = compiled(structure.constant)

    def _derivatives(self, index: int, orders: tuple, A, scalars) -> list:
        """The term's function g (or phi) and its derivatives of ``orders`` at A: one
        compiled function per set of orders, built on first use (phi(t) = t is A, 1, 0)."""
        term = self._terms[index][0]
        f = term.g if isinstance(term, Ridge) else term.u
        if f == T:
            return [{0: A, 1: 1.0}.get(k, 0.0) for k in orders]
        key = (index, orders)
        if key not in self._pieces:
            self._pieces[key] = ScalarFunction(f, self.structure.scalars, self.backend, orders)
        return self._pieces[key](A, scalars)

    # --- the pieces -----------------------------------------------------------------------

    def _scalars(self, params: dict) -> dict:
        return {name: params[name] for name in self.structure.scalars}

    def _argument(self, X, term, scale, offsets, params, scalars):
        """A = scale (X W^T) + offsets, (n, k)."""
        W = getattr(term, "W", None)
        A = self._forms(X, params[W]) if W else X
        k = scale(1.0, scalars)
        A = A if _is_one(k) else k * A
        for coef, name in offsets:
            kappa = coef(1.0, scalars)
            A = A + (params[name] if _is_one(kappa) else kappa * params[name])
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

    def _term_values(self, X, params: dict, scalars: dict, ridge_orders: tuple,
                     form_orders: tuple) -> list:
        """Per term: (term, k, c, {order: g's (or phi's) derivative of that order at A}, A's
        shape) with A = k X W^T + offsets; a derivative constant in t (phi' = 1 for
        phi(t) = t, g'' = -1 for g = -t^2/2) is a number."""
        out = []
        for index, (term, scale_f, coef_f, offsets) in enumerate(self._terms):
            A = self._argument(X, term, scale_f, offsets, params, scalars)
            k, c = scale_f(1.0, scalars), coef_f(1.0, scalars)
            orders = ridge_orders if isinstance(term, Ridge) else form_orders
            values = self._derivatives(index, orders, A, scalars)
            out.append((term, k, c, dict(zip(orders, values)), A.shape))
        return out

    def _parts(self, X, params: dict, want: str, values=None):
        """(log-density, score, Laplacian) contributions summed over the terms, each None
        where not asked for (``want`` holds "v", "s", "l"); ``values`` from
        :meth:`_term_values` when the caller has them already. Scalar factors of 1 are not
        multiplied, and a constant factor of an (n, d) product is applied to the d x d matrix
        instead."""
        np, scalars = self.np, self._scalars(params)
        n, d = X.shape
        if values is None:
            ridge_orders = tuple(o for o, w in ((0, "v"), (1, "s"), (2, "l")) if w in want)
            values = self._term_values(X, params, scalars, ridge_orders,
                                       (0, 1, 2) if "l" in want else (0, 1))
        shared = [X, *params.values()] + [a for *_, pieces, _ in values
                                          for a in pieces.values()]
        value = self._constant(np.zeros(n), scalars) if "v" in want else None
        score, laplacian = _Sum(np, shared), _Sum(np, shared)
        for term, k, c, pieces, _ in values:
            if isinstance(term, Ridge):
                contribution = self._ridge_parts(X, params, term, k, pieces, want)
            elif isinstance(term, Quadratic):
                contribution = self._quadratic_parts(params[term.M], k, c, pieces, want)
            else:
                contribution = self._linear_parts(params[term.b], k, c, pieces, want)
            v, s, lap = contribution
            value = value if v is None else value + v
            if s is not None:
                score.add(s)
            if lap is not None:
                laplacian.add(lap)
        score = (0.0 if score.total is None else score.total) if "s" in want else None
        laplacian = (0.0 if laplacian.total is None else laplacian.total) if "l" in want \
            else None
        if score is not None and np.shape(score) != (n, d):  # a constant score (b @ x)
            score = score + np.zeros((n, d))
        if laplacian is not None and np.shape(laplacian) != (n,):
            laplacian = laplacian + np.zeros(n)
        return value, score, laplacian

    def _ridge_parts(self, X, params, term, k, pieces, want) -> tuple:
        """sum_k g(a_k), its score k g'(A) W and Laplacian k^2 g''(A) |w|^2 (W = I where the
        ridge is over the coordinates); g' and g'' may be numbers."""
        np = self.np
        W = params[term.W] if term.W else None
        value = np.sum(pieces[0], axis=1) if "v" in want else None
        score = laplacian = None
        if "s" in want:
            G1 = pieces[1]
            if W is None:
                score = _times(k, G1)
            else:
                score = _times(k, self._combine(G1, W) if np.ndim(G1) else G1 * np.sum(W, axis=-2))
        if "l" in want:
            G2, k2 = pieces[2], k * k
            if W is None:
                laplacian = _times(k2, np.sum(G2, axis=1) if np.ndim(G2) else G2 * X.shape[1])
            else:
                norms = np.sum(W * W, axis=-1)
                laplacian = _times(k2, self._weigh(G2, norms) if np.ndim(G2)
                                   else G2 * np.sum(norms, axis=-1))
        return value, score, laplacian

    def _quadratic_parts(self, M, k, c, pieces, want) -> tuple:
        """c u^T M u, its score c u'(A) o (U S) and Laplacian c sum_j [u''(a_j) (U S)_j +
        u'(a_j)^2 S_jj], S = M + M^T; with u(t) = t (u' a number) the factor c u' multiplies
        S rather than U S."""
        np = self.np
        U, U1 = pieces[0], _times(k, pieces[1])
        S = M + np.swapaxes(M, -1, -2)
        value = score = laplacian = None
        if "v" in want:
            value = _times(c * 0.5, np.sum(U * self._combine(U, S), axis=1))
        linear = np.ndim(U1) == 0  # phi(t) = t: phi' = 1, phi'' = 0
        if "s" in want:
            score = self._combine(U, _times(c * U1, S)) if linear else \
                _times(c, U1 * self._combine(U, S))
        if "l" in want:
            diagonal = np.diagonal(S, axis1=-1, axis2=-2)
            if linear:
                laplacian = _times(c * U1 * U1, np.sum(diagonal, axis=-1))
            else:
                US = self._combine(U, S)
                laplacian = _times(c, np.sum(_times(k * k, pieces[2]) * US, axis=1)
                                   + self._weigh(U1 * U1, diagonal))
        return value, score, laplacian

    def _linear_parts(self, b, k, c, pieces, want) -> tuple:
        """c b^T u, its score c u'(A) o b and Laplacian c u''(A) b."""
        U, U1 = pieces[0], _times(k, pieces[1])
        value = _times(c, self._weigh(U, b)) if "v" in want else None
        score = _times(c, U1 * b) if "s" in want else None
        laplacian = None
        if "l" in want and self.np.ndim(pieces[2]) > 0:
            laplacian = _times(c, self._weigh(_times(k * k, pieces[2]), b))
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
        return half_squared_norms(s, self.np) + lap

    # --- the objective's gradient in the parameters, by the structure --------------------

    @property
    def structured_gradient(self) -> bool:
        """Whether :meth:`objective_gradient` applies: no scalar parameters, and quadratic and
        linear forms in phi(x) itself (no vector added to x inside them)."""
        return not self.structure.scalars and all(
            isinstance(t, Ridge) or not t.arg.offsets for t in self.structure.terms)

    def objective_gradient(self, X, params: dict, per_point: bool = False):
        """(mean h, {name: d mean h / d name}) for h = |s|^2 / 2 + Laplacian, by the chain
        rule through the structure. For a ridge term, with A = k X W^T + sum_j kappa_j c_j,
        s_t = k g1(A) W, Laplacian_t = k^2 g2(A) |w|^2 (g1, g2, g3 the derivatives of g) and
        P = S W^T (S the total score):

            dW = k g1(A)^T S + k^2 (g2(A) o P)^T X + k^3 (g3(A) o |w|^2)^T X
                 + 2 k^2 diag(sum_i g2(A_i)) W,
            dc_j = kappa_j (k g2(A) o P + k^2 g3(A) o |w|^2), summed over the points;

        for a quadratic form c u^T M u: dM = c [U^T (S o U1) + (S o U1)^T U + U^T U2 + U2^T U
        + 2 diag(sum U1^2)], and for a linear form c b^T u: db = c (S o U1 + U2) summed; all
        divided by n. With ``per_point``: (h, {name: (n,) + shape}), each point's own. NumPy
        only; :attr:`structured_gradient` says where it applies."""
        np = self.np
        n = len(X)
        values = self._term_values(X, params, {}, (1, 2, 3), (0, 1, 2))
        _, S, laplacian = self._parts(X, params, "sl", values)
        h = 0.5 * np.sum(S * S, axis=1) + laplacian
        out = {}

        def add(name, value):
            out[name] = out[name] + value if name in out else value

        def outer(a, b):
            """Per point a_i b_i^T (n, k, d), or their sum a^T b (k, d)."""
            return a[:, :, None] * b[:, None, :] if per_point else a.T @ b

        def scaled_rows(a, B):
            """Per point diag(a_i) B (n, k, d), or diag(sum_i a_i) B."""
            return a[:, :, None] * B[None] if per_point else a.sum(axis=0)[:, None] * B

        for (term, k, c, pieces, shape), (_, _, _, offsets) in zip(values, self._terms):
            k, c = float(k), float(c)
            if isinstance(term, Ridge):
                G1, G2, G3 = (pieces[o] + np.zeros(shape) for o in (1, 2, 3))
                if term.W is not None:
                    W = params[term.W]
                    norms = np.sum(W * W, axis=1)
                    P = S @ W.T
                    add(term.W, k * outer(G1, S)
                        + outer(k * k * G2 * P + k**3 * G3 * norms, X)
                        + 2 * k * k * scaled_rows(G2, W))
                    inner = k * G2 * P + k * k * G3 * norms
                else:
                    inner = k * G2 * S + k * k * G3
                for coef, name in offsets:
                    kappa = float(coef(1.0, {}))
                    add(name, kappa * (inner if per_point else inner.sum(axis=0)))
                continue
            ones = np.ones(X.shape)
            U, U1, U2 = pieces[0], k * pieces[1] * ones, k * k * pieces[2] * ones
            SU1 = S * U1
            if isinstance(term, Quadratic):
                cross = outer(U, SU1 + U2)
                add(term.M, c * (cross + np.swapaxes(cross, -1, -2)
                                 + 2 * scaled_rows(U1 * U1, np.eye(X.shape[1]))))
            else:
                add(term.b, c * (SU1 + U2 if per_point else np.sum(SU1 + U2, axis=0)))
        if per_point:
            return h, out
        return float(np.mean(h)), {name: value / n for name, value in out.items()}

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
