"""Estimation by score matching: minimize the empirical (weighted) Hyvarinen objective.

    objective(theta) = mean_i h(x_i; theta),
    h = sum_k [ 1/2 w_k s_k^2 + w_k d s_k / d x_k + (d w_k / d x_k) s_k ],

with weights w_k = 1 for plain score matching and w_k(x) vanishing at the domain's edges for
generalized score matching (Hyvarinen 2007; Yu, Drton and Shojaie 2019).

Invariant: the estimate solves the stationarity equations exactly when it can (a linear system
when h is quadratic in theta, detected symbolically; SymPy's closed form when the stationarity
equations solve) and otherwise minimizes with scipy using the exact symbolic gradient (L-BFGS-B,
then a trust-region Newton method with the exact Hessian where that stops short, and out of a
saddle along its negative curvature), from further starts until one ends at a verified minimum
(stationary, positive definite Hessian in theta, f a density: what ``converged`` means); the
covariance is the sandwich G^-1 J G^-1 / n from the exact per-sample gradient and Hessian in
theta, J the covariance of the per-sample gradients with 1/(n - 1) (scorematchingad's
convention; 1/n makes every standard error smaller by sqrt((n - 1)/n)), or the bootstrap's.
The boundary term [p w s] must vanish at the estimate, decided at those exact values, the
estimate must not be pinned on the edge of the region where it vanishes (``details["boundary"]``,
:func:`_check_at_estimate`), and it must meet the model's conditions for a density; otherwise
the fit is refused, naming the reason.

>>> import numpy as np, scoresym as ss
>>> b = ss.zoo.get("gaussian_1d")
>>> X = b.sample(1000, seed=0)
>>> r = ss.fit(b.model, X)
>>> r.method, bool(abs(r.params["s2"] - X.var()) < 1e-10)
('closed_form', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import sympy

from .chunks import (
    Moments,
    chunked_points,
    column_range,
    column_ranges,
    extremes,
    is_chunked,
    largest_deviations,
    merge_extremes,
    order_statistic,
    per_block,
    reduce_blocks,
)
from .codegen.functions import CompiledFunction, as_points, positive_int, scalar_param
from .errors import ScoresymInputError
from .matrix_fit import fit_matrix_model
from .matrix_model import MatrixModel
from .memo import PerModel
from .numerics.differences import fd_hessian
from .numerics.optimality import (
    NOT_STATIONARY,
    mean_is_zero,
    weakest_direction,
)
from .symbolic.boundary import boundary_terms
from .symbolic.closed_form import stationary_point
from .symbolic.conditions import (
    bracket_conditions,
    score_products,
    vanishes_at,
    vanishes_everywhere,
)
from .symbolic.operators import weighted_hyvarinen
from .weights import candidates

METHODS = ("auto", "closed_form", "optimize")
#: Compiled objectives and closed forms, per model (built once: a repeated fit takes ms).
_DERIVED = PerModel()


@dataclass
class FitResult:
    """A score-matching estimate with its sandwich covariance.

    With h(x; theta) the per-sample (weighted) Hyvarinen objective, G the mean Hessian and J
    the covariance of the per-sample gradients of h in theta at the estimate:

        cov = G^-1 J G^-1 / n,   stderr[k] = sqrt(cov[k, k]),
        interval(k, level) = params[k] -+ z stderr[k],   z = Phi^-1((1 + level) / 2)

    (with ``stderr="bootstrap"``, cov is the covariance of the bootstrap refits instead).

    >>> import numpy as np, scoresym as ss
    >>> b = ss.zoo.get("gaussian_1d")
    >>> r = ss.fit(b.model, b.sample(400, seed=0))
    >>> r.names, bool(np.isclose(r.stderr["s2"], np.sqrt(r.cov[1, 1])))
    (['mu', 's2'], True)
    >>> lo, hi = r.interval("mu")
    >>> round(float(hi - lo) / (2 * r.stderr["mu"]), 6)      # z of a 95% interval
    1.959964
    """

    params: dict                 # every parameter, fixed ones included
    cov: np.ndarray              # covariance of the free parameters, in ``names`` order
    stderr: dict                 # standard errors of the free parameters
    objective: float             # the empirical objective at the estimate
    method: str                  # "closed_form" (linear or symbolic) or "optimize"
    converged: bool
    names: list                  # the free parameters
    n: int
    fixed: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    iterations: int = 0          # optimizer iterations, over every start (0: solved exactly)
    gradient_norm: float = float("nan")   # ||mean gradient in theta|| at the estimate
    min_eigenvalue: float = float("nan")  # smallest eigenvalue of the mean Hessian in theta

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary's header lines, then a table of the parameters."""
        import html

        lines = self.summary().splitlines()
        header = [line for line in lines if not line.startswith(tuple(self.params))
                  and not line.startswith("param ")]
        rows = []
        for name, value in self.params.items():
            if name in self.fixed:
                cells = [f"{value:.6g}", "(fixed)", ""]
            else:
                lo, hi = self.interval(name)
                cells = [f"{value:.6g}", f"{self.stderr[name]:.4g}", f"[{lo:.6g}, {hi:.6g}]"]
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in
                                         [name, *cells]) + "</tr>")
        colour = "#1b7837" if self.converged else "#b2182b"
        return (f"<div><div style='color:{colour}'>"
                + "<br>".join(html.escape(line) for line in header) + "</div><table><tr>"
                "<th>param</th><th>estimate</th><th>stderr</th><th>95% interval</th></tr>"
                + "".join(rows) + "</table></div>")

    def interval(self, name: str, level: float = 0.95) -> tuple:
        """The Wald interval estimate +- z stderr."""
        from scipy.special import ndtri

        z = ndtri(0.5 + level / 2)
        return self.params[name] - z * self.stderr[name], self.params[name] + z * self.stderr[name]

    def summary(self) -> str:
        """A table: parameter, estimate, standard error, 95% interval."""
        weighted = ", weighted" if self.details.get("weight") else ""
        lines = [f"score matching ({self.method}{weighted}), n = {self.n}, "
                 f"objective = {self.objective:.6g}, "
                 f"converged = {self.converged}",
                 f"iterations = {self.iterations}, |gradient| = {self.gradient_norm:.3g}, "
                 f"smallest Hessian eigenvalue = {self.min_eigenvalue:.4g}"]
        if not self.converged and self.details.get("convergence"):
            lines.append(f"not converged: {self.details['convergence']}")
        if self.details.get("stderr_reliable") is False:
            lines.append(f"standard errors unreliable: the per-sample gradients' tail index is "
                         f"about {self.details['gradient_tail_index']:.2g} (heavy: below 2 "
                         f"their variance is infinite), so the intervals may not cover")
        if self.details.get("bootstrap"):
            boot = self.details["bootstrap"]
            lines.append(f"standard errors: bootstrap, {boot['resamples']} resamples "
                         f"({boot['failed']} failed), seed {boot['seed']}")
        lines.append(f"{'param':<10} {'estimate':>14} {'stderr':>12} {'95% interval':>30}")
        for name, value in self.params.items():
            if name in self.fixed:
                lines.append(f"{name:<10} {value:>14.6g} {'(fixed)':>12}")
                continue
            lo, hi = self.interval(name)
            lines.append(f"{name:<10} {value:>14.6g} {self.stderr[name]:>12.4g} "
                         f"{f'[{lo:.6g}, {hi:.6g}]':>30}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def as_dict(self) -> dict:
        return {"params": self.params, "stderr": self.stderr, "cov": self.cov.tolist(),
                "names": self.names, "objective": self.objective, "method": self.method,
                "converged": self.converged, "n": self.n, "fixed": self.fixed,
                "weight": self.details.get("weight"), "iterations": self.iterations,
                "gradient_norm": self.gradient_norm, "min_eigenvalue": self.min_eigenvalue,
                "convergence": self.details.get("convergence"),
                "bootstrap": self.details.get("bootstrap"),
                "stderr_reliable": self.details.get("stderr_reliable"),
                "gradient_tail_index": self.details.get("gradient_tail_index")}


# --- the objective ------------------------------------------------------------------------------

def _invalid(model, weights, reasons: str, where: str) -> str:
    """Why the (weighted) objective is invalid, where it is valid (the region of parameters
    where its boundary term vanishes, when it is decided), and weights that are valid for every
    parameter value (proven by the edge asymptotics; the candidates t, t**2, t**3 otherwise)."""
    region = _valid_region(model, weights)
    valid = [w for w in candidates(model)
             if w is not None and vanishes_everywhere(model, score_products(model,
                                                                            model.weights(w)))]
    proven = bool(valid)
    shown = valid[:2] or [w for w in candidates(model) if w is not None][:2]
    examples = " or ".join(f'weight="{w}"' for w in shown) or 'weight="x" on (0, oo)'
    every = " (valid for every parameter value)" if proven else ""
    if weights is None:
        return (f"plain score matching is invalid for this model{where}: the boundary term p s "
                f"does not vanish ({reasons}){region}. Use generalized score matching: fit(..., "
                f"weight=...) with a weight that vanishes at the edges, e.g. {examples}{every}")
    return (f"the weight does not remove the boundary term{where} ({reasons}){region}; use a "
            f"weight that vanishes faster at the edges, e.g. {examples}{every}")


def _valid_region(model, weights) -> str:
    """'; it vanishes only where <conditions>' when that region is decided and is neither
    every parameter value nor none."""
    region = _partial_region(model, score_products(model, weights))
    return "" if region is None else f"; the term vanishes only where {_in_words(region)}"


def _partial_region(model, products):
    """The region of parameters where the boundary term vanishes when it is decided and is
    neither every value nor none (a pinned estimate lies on such a region's edge); else None."""
    try:
        region = bracket_conditions(model, products)
    except ScoresymInputError:
        return None
    if not region.decided or region.expr in (sympy.true, sympy.false):
        return None
    return region.expr


def _in_words(condition) -> str:
    """A condition with "and" / "or" for SymPy's & / |: (1 <= k) | (k < 0) is
    "1 <= k or k < 0"; a nested one keeps its parentheses.

    >>> a, b, k = sympy.symbols("a b k", real=True)
    >>> _in_words(sympy.Or(k >= 1, k < 0)), _in_words(sympy.And(a >= 1, sympy.Or(b > 2, b < 0)))
    ('k >= 1 or k < 0', 'a >= 1 and (b > 2 or b < 0)')
    """
    def word(c, nested):
        if isinstance(c, (sympy.And, sympy.Or)):
            joined = (" and " if isinstance(c, sympy.And) else " or ").join(
                word(a, True) for a in c.args)
            return f"({joined})" if nested else joined
        return str(c)
    return word(condition, False)


# --- fitting ------------------------------------------------------------------------------------

class _Objective:
    """Compiled per-sample value and gradient in the free parameters, and the mean Hessian:
    exact and constant from SymPy when h is quadratic in them (the linear solve needs it), else
    by autograd's Jacobian of the compiled mean gradient (exact derivatives in floating point,
    where SymPy's second derivatives of a mixture's objective take over a second)."""

    def __init__(self, model, weights, free):
        self.m, self.free = model, free
        stable, shifts = model.stable_operators
        self.public = weighted_hyvarinen(model.operators, model.variables, weights)
        h = weighted_hyvarinen(stable, model.variables, weights)
        gradient = [sympy.diff(h, p) for p in free]
        self.value = CompiledFunction("objective", h, model.variables, model.params, "scalar",
                                      shifts=shifts)
        self.gradient = CompiledFunction("gradient", sympy.Matrix(gradient or [0]), model.variables,
                                         model.params, "vector", shifts=shifts)
        self.quadratic = _is_quadratic(self.public, free)
        if self.quadratic:
            # only the entries j <= k that are not identically zero, each distinct expression
            # once (a 10-D Gaussian's 615 non-zero entries are 111 distinct expressions)
            entries = [(j, k, sympy.diff(gradient[j], free[k]))
                       for j in range(len(free)) for k in range(j, len(free))]
            distinct = list(dict.fromkeys(e for _, _, e in entries if e != 0))
            where = {e: i for i, e in enumerate(distinct)}
            self.entries = [(j, k, where[e]) for j, k, e in entries if e != 0]
            self.hessian = CompiledFunction(
                "hessian_theta", sympy.Matrix(distinct or [0]),
                model.variables, model.params, "vector", shifts=shifts)
            self.distinct = len(distinct)
        else:
            self.traced_gradient = self.gradient.on_backend("autograd")

    def pieces(self, X, values: dict, hessian: bool = True, chunk: int = 20_000) -> tuple:
        """(per-sample h (n,), gradients (n, p), the mean Hessian (p, p) or None without
        ``hessian``) at ``values``; the Hessian is accumulated over chunks of rows, never
        stored per sample."""
        mean = self.mean_hessian(X, values, chunk) if hessian else None
        return self.value(X, **values), self.gradient(X, **values)[:, :len(self.free)], mean

    def means(self, X, values: dict):
        """(mean h, mean gradient (p,)) over X at ``values``, or None where h or the gradient is
        not finite at some point. On chunked X, one pass of block sums."""
        if is_chunked(X):
            finite, h, g = reduce_blocks(lambda B: self._sums(B, values), _add_sums, X)
            return (h / len(X), g / len(X)) if finite else None
        with np.errstate(all="ignore"):
            h, g, _ = self.pieces(X, values, hessian=False)
        if not (np.all(np.isfinite(h)) and np.all(np.isfinite(g))):
            return None
        return float(h.mean()), g.mean(axis=0)

    def _sums(self, B, values: dict) -> tuple:
        with np.errstate(all="ignore"):
            h, g, _ = self.pieces(B, values, hessian=False)
        finite = bool(np.all(np.isfinite(h)) and np.all(np.isfinite(g)))
        return finite, float(h.sum()), g.sum(axis=0)

    def gradient_statistics(self, X, values: dict, tails: bool = True) -> GradientStatistics:
        """The per-sample gradients' statistics at ``values`` (see
        :class:`GradientStatistics`); on chunked X one pass, the tail index from each block's
        extreme values (exactly the in-memory one)."""
        if not is_chunked(X):
            with np.errstate(all="ignore"):
                h, g, _ = self.pieces(X, values, hessian=False)
            finite = bool(np.all(np.isfinite(h)) and np.all(np.isfinite(g)))
            p = len(self.free)
            return GradientStatistics(
                len(X), float(h.mean()), g.mean(axis=0),
                np.cov(g.T, bias=False).reshape(p, p) if finite else None, g.std(axis=0),
                tail_index(g) if tails and finite else float("nan"), finite)
        k = _hill_count(len(X)) + 1

        def block(B):
            with np.errstate(all="ignore"):
                h, g, _ = self.pieces(B, values, hessian=False)
            finite = bool(np.all(np.isfinite(h)) and np.all(np.isfinite(g)))
            return finite, float(h.sum()), Moments.of(g), extremes(g, k) if tails else None

        def combine(a, b):
            return (a[0] and b[0], a[1] + b[1], a[2].merge(b[2]),
                    merge_extremes([a[3], b[3]], k) if tails else None)

        finite, h, moments, candidates = reduce_blocks(block, combine, X)
        tail = _hill(largest_deviations(candidates, moments.mean, k)) if tails and finite \
            else float("nan")
        return GradientStatistics(len(X), h / len(X), moments.mean,
                                  moments.covariance() if finite else None, moments.std(),
                                  tail, finite)

    def quadratic_statistics(self, X, values: dict, check: bool = False) -> QuadraticStatistics:
        """:class:`QuadraticStatistics` of X in one pass (for an objective quadratic in the free
        parameters), at ``values``: the free parameters 0, the fixed ones at their values.
        With ``check``, each block is also checked as :func:`_check_data` does (finite, inside
        the domain), in the same pass."""
        p = len(self.free)

        def block(B, start=0):
            if check:
                _check_block(self.m, B, start)
            with np.errstate(all="ignore"):
                z = np.column_stack([self.value(B, **values), self.gradient(B, **values)[:, :p],
                                     self.hessian(B, **values)[:, :self.distinct]])
            return bool(np.all(np.isfinite(z))), Moments.of(z), column_range(B)

        finite, moments, (lo, hi) = reduce_blocks(block, _merge_quadratic, X, with_start=check)
        return QuadraticStatistics(moments, p, self.entries, finite, lo, hi)

    def gradient_tail(self, X, values: dict, centre: np.ndarray) -> float:
        """The Hill tail index (:func:`tail_index`) of the per-sample gradients at ``values``,
        from their deviations from ``centre`` (their mean): one pass that keeps each column's
        extreme values."""
        p, k = len(self.free), _hill_count(len(X)) + 1

        def block(B):
            with np.errstate(all="ignore"):
                return extremes(self.gradient(B, **values)[:, :p], k)

        candidates = reduce_blocks(block, lambda a, b: merge_extremes([a, b], k), X)
        return _hill(largest_deviations(candidates, centre, k))

    def mean_hessian(self, X, values: dict, chunk: int = 20_000) -> np.ndarray:
        """The mean over X of the Hessian of h in the free parameters, (p, p) (on chunked X,
        the blocks' sums added)."""
        if is_chunked(X):
            return reduce_blocks(lambda B: self.mean_hessian(B, values, chunk) * len(B),
                                 np.add, X) / len(X)
        p = len(self.free)
        if not self.quadratic:
            return self._traced_hessian(X, values, chunk)
        total = np.zeros(self.distinct)
        for start in range(0, len(X), chunk):
            block = self.hessian(X[start:start + chunk], **values)[:, :self.distinct]
            total += block.sum(axis=0)
        mean = np.zeros((p, p))
        for j, k, i in self.entries:
            mean[j, k] = mean[k, j] = total[i] / len(X)
        return mean

    def _traced_hessian(self, X, values: dict, chunk: int) -> np.ndarray:
        import autograd
        import autograd.numpy as anp

        names = [p.name for p in self.free]
        theta = np.array([values[name] for name in names], dtype=float)
        total = np.zeros((len(names), len(names)))
        for start in range(0, len(X), chunk):
            block = X[start:start + chunk]

            def summed(t, block=block):
                g = self.traced_gradient(block, **{**values, **dict(zip(names, t))})
                return anp.sum(g[:, :len(names)], axis=0)

            with np.errstate(all="ignore"):
                jacobian = autograd.jacobian(summed)(theta)
            if not np.all(np.isfinite(jacobian)):
                jacobian = self._differenced_jacobian(block, values, theta)
            total += jacobian
        mean = total / len(X)
        return 0.5 * (mean + mean.T)

    def _differenced_jacobian(self, X, values: dict, theta: np.ndarray) -> np.ndarray:
        """The summed gradient's Jacobian in theta by central differences of the compiled
        (NumPy) gradient (:meth:`differenced_gradients`): where autograd's derivative of a
        stable form overflows (erfcx(w) for w -> -oo, a term whose true value is 1e-160) into
        inf * 0 while the gradient itself is finite."""
        values = {**values, **dict(zip([p.name for p in self.free], theta))}
        return np.column_stack([self.differenced_gradients(X, values, j).sum(axis=0)
                                for j in range(len(self.free))])

    def differenced_gradients(self, X, values: dict, j: int) -> np.ndarray:
        """Per-sample derivatives of the gradient along the j-th free parameter, (n, p): the
        central difference of the compiled gradient with step 6e-6 (1 + |theta_j|) (relative
        error about 1e-10)."""
        name, p = self.free[j].name, len(self.free)
        step = 6e-6 * (1.0 + abs(values[name]))
        moved = []
        for sign in (1.0, -1.0):
            with np.errstate(all="ignore"):
                moved.append(self.gradient(X, **{**values, name: values[name] + sign * step}))
        return (moved[0][:, :p] - moved[1][:, :p]) / (2 * step)

    def curvature_tail_index(self, X, values: dict) -> tuple:
        """(alpha, name): the smallest, over the free parameters, Hill estimate (see
        :func:`tail_index`) of the tail index of the per-sample curvature d^2 h / d theta_j^2,
        and the parameter, from deviations from the median (the mean of an infinite-mean tail
        is set by its largest values). alpha < 1 means that its mean, the objective's Hessian,
        is infinite in the population: the estimate is decided by the few points where the
        curvature is largest (data at an edge where the weight is too weak)."""
        if is_chunked(X):
            return self._chunked_curvature_tail_index(X, values)
        indices = [(tail_index(self.differenced_gradients(X, values, j)[:, j:j + 1], np.median),
                    p.name) for j, p in enumerate(self.free)]
        return min(indices)

    def _curvatures(self, B, values: dict) -> np.ndarray:
        """Per-sample d^2 h / d theta_j^2, (b, p), by :meth:`differenced_gradients`."""
        return np.column_stack([self.differenced_gradients(B, values, j)[:, j]
                                for j in range(len(self.free))])

    def _chunked_curvature_tail_index(self, X, values: dict) -> tuple:
        """:meth:`curvature_tail_index` over chunked X, exactly: the medians by
        :func:`~scoresym.chunks.order_statistic`, then the largest deviations from them."""
        def curvatures(B):
            return self._curvatures(B, values)

        k = _hill_count(len(X)) + 1
        candidates = reduce_blocks(lambda B: extremes(curvatures(B), k),
                                   lambda a, b: merge_extremes([a, b], k), X)
        ranges = candidates[1][0], candidates[0][0]  # the smallest and the largest
        medians = order_statistic(curvatures, X, (len(X) - 1) / 2, ranges)
        deviations = largest_deviations(candidates, medians, k)
        return min((_hill(deviations[:, j:j + 1]), p.name) for j, p in enumerate(self.free))


def _merge_quadratic(a: tuple, b: tuple) -> tuple:
    """(finite, Moments, column ranges) of two groups of blocks together."""
    return (a[0] and b[0], a[1].merge(b[1]),
            (np.minimum(a[2][0], b[2][0]), np.maximum(a[2][1], b[2][1])))


@dataclass
class QuadraticStatistics:
    """Where the objective is quadratic in the free parameters theta, every sample's is exactly

        h_i(theta) = c_i + b_i . theta + 1/2 theta^T G_i theta,

    so what a fit reports is a linear map of the mean and covariance C of the vectors
    z_i = (c_i, b_i, the distinct entries of G_i), gathered in one pass over the data:

        G = mean G_i,  theta_hat = -G^-1 mean b_i,  g_i(theta) = b_i + G_i theta = A(theta) z_i,
        mean g = A mean z,  J = cov g_i = A C A^T,

    (C merged across blocks without cancellation, :class:`~scoresym.chunks.Moments`). ``entries``
    are (j, k, i): G[j, k] = G[k, j] is distinct entry i; ``lo`` and ``hi`` are the data's
    column ranges (a constant column is named when G is singular).

    >>> import numpy as np, scoresym as ss
    >>> b = ss.zoo.get("gaussian_full_3d")
    >>> X = b.sample(500, seed=0)
    >>> r = ss.fit(b.model, X)
    >>> o = _DERIVED.get(b.model, ("objective", (), tuple(r.names)), None)
    >>> q = o.quadratic_statistics(X, dict.fromkeys(r.names, 0.0))
    >>> bool(np.allclose(q.minimizer(), [r.params[k] for k in r.names], rtol=1e-13))
    True
    """

    moments: Moments
    p: int
    entries: list
    finite: bool
    lo: np.ndarray
    hi: np.ndarray

    def hessian(self) -> np.ndarray:
        """G, the mean Hessian in theta (constant), (p, p)."""
        G, mean = np.zeros((self.p, self.p)), self.moments.mean[1 + self.p:]
        for j, k, i in self.entries:
            G[j, k] = G[k, j] = mean[i]
        return G

    def minimizer(self) -> np.ndarray:
        """theta_hat = -G^-1 mean b_i (G checked non-singular by the caller)."""
        return np.linalg.solve(self.hessian(), -self.moments.mean[1:1 + self.p])

    def gradient_map(self, theta: np.ndarray) -> np.ndarray:
        """A(theta), (p, 1 + p + D): g_i(theta) = A z_i."""
        A = np.zeros((self.p, len(self.moments.mean)))
        A[:, 1:1 + self.p] = np.eye(self.p)
        for j, k, i in self.entries:
            A[j, 1 + self.p + i] += theta[k]
            if j != k:
                A[k, 1 + self.p + i] += theta[j]
        return A

    def objective(self, theta: np.ndarray) -> float:
        """mean h_i(theta) = mean c + mean b . theta + 1/2 theta^T G theta."""
        mean = self.moments.mean
        return float(mean[0] + mean[1:1 + self.p] @ theta + 0.5 * theta @ self.hessian() @ theta)

    def at(self, theta: np.ndarray, tail: float) -> GradientStatistics:
        """The per-sample gradients' statistics at theta (``tail`` from a pass at theta)."""
        A = self.gradient_map(np.asarray(theta, dtype=float))
        m = self.moments
        spread = Moments(m.n, A @ m.mean, A @ m.scatter @ A.T)
        return GradientStatistics(m.n, self.objective(theta), spread.mean, spread.covariance(),
                                  spread.std(), tail, self.finite)


def _add_sums(a: tuple, b: tuple) -> tuple:
    """(finite, sum h, sum g) of two groups of blocks together."""
    return a[0] and b[0], a[1] + b[1], a[2] + b[2]


@dataclass
class GradientStatistics:
    """Statistics of the per-sample gradients g_i of the objective in theta, at one point:
    ``n``, ``h_mean`` (the objective), ``mean`` (p,), ``covariance`` J (p, p, with 1/(n - 1);
    None where not finite), ``std`` (p, with 1/n), ``tail`` (the Hill index of
    :func:`tail_index`; NaN when not asked for) and ``finite``."""

    n: int
    h_mean: float
    mean: np.ndarray
    covariance: np.ndarray | None
    std: np.ndarray
    tail: float
    finite: bool

    @property
    def stationary(self) -> bool:
        """The mean gradient 0 within STATIONARY_IN_STDERR of its standard error in every
        coordinate (:func:`~scoresym.numerics.optimality.stationary`)."""
        return self.finite and mean_is_zero(self.mean, self.std, self.n)


def _is_quadratic(h: sympy.Expr, free: list) -> bool:
    """Whether h is a polynomial of degree <= 2 in the free parameters: a quick structural
    look first (a parameter inside exp, log or a negative power is not), then SymPy's Poly."""
    if not free:
        return False
    params = set(free)
    for node in sympy.preorder_traversal(h):
        if not node.free_symbols & params:
            continue
        if isinstance(node, sympy.Function) or (node.is_Pow and not (
                node.exp.is_Integer and node.exp >= 0 and not node.exp.free_symbols)):
            return False
    try:
        return sympy.Poly(h, *free).total_degree() <= 2
    except sympy.PolynomialError:
        return False


def fit(model, X, method: str = "auto", init=None, weight=None, fixed=None,
        stderr: str = "sandwich", resamples: int = 200, seed=0) -> FitResult:
    """Score-matching estimate of ``model``'s parameters from data X (n, d).

    ``method``: "closed_form" (a linear solve when the objective is quadratic in the parameters,
    else SymPy's solution of the stationarity equations), "optimize" (L-BFGS-B with the exact
    gradient, positive parameters kept positive, then trust-region Newton with the exact
    Hessian, see :func:`_optimize`), or "auto" (closed form when there is one).
    ``init``: starting values for "optimize" (default 1 for positive parameters, 0 otherwise,
    then other values where the objective is not finite there; up to MAX_STARTS starts until
    one ends at a verified minimum, see :func:`_optimize`). ``weight``: w(x) for
    generalized score matching, a string or SymPy expression (e.g. "min(x, 1)"), or one per
    coordinate. ``fixed``: {name: value} held fixed. ``stderr``: "sandwich" (the default) or
    "bootstrap": ``resamples`` refits on rows drawn with replacement from ``seed``, each from
    the estimate, their covariance in place of the sandwich's (see :func:`_bootstrap`).

    The estimate minimizes the empirical Hyvarinen objective (s = grad_x log f, w_k = 1 without
    a weight):

        theta_hat = argmin_theta 1/n sum_i sum_k [1/2 w_k s_k^2 + w_k ds_k/dx_k + (dw_k/dx_k) s_k]

    with the sandwich covariance of :class:`FitResult`. For a Gaussian it is the sample mean and
    the (biased) sample variance; for the exponential density, weighted by w(x) = x, 1/mean(x).

    >>> import numpy as np, scoresym as ss
    >>> X = ss.zoo.get("gaussian_1d").sample(400, seed=0)
    >>> r = fit(ss.zoo.get("gaussian_1d").model, X)
    >>> r.method, bool(np.isclose(r.params["mu"], X.mean()) and np.isclose(r.params["s2"], X.var()))
    ('closed_form', True)
    >>> e = ss.zoo.get("exponential")
    >>> X = e.sample(400, seed=0)
    >>> round(float(fit(e.model, X, weight="x").params["lam"] * X.mean()), 9)
    1.0
    """
    if isinstance(model, MatrixModel):
        if weight is not None or stderr != "sandwich" or method not in ("auto", "optimize"):
            raise ScoresymInputError("a model in matrix notation is fitted by optimization "
                                     "with sandwich standard errors, without a weight")
        return fit_matrix_model(model, X, init=init, fixed=fixed)
    if method not in METHODS:
        raise ScoresymInputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if stderr not in STDERRS:
        raise ScoresymInputError(f"stderr must be one of {', '.join(STDERRS)}, got {stderr!r}")
    X = chunked_points(X, model.dim) if is_chunked(X) else as_points(X, model.dim)
    if is_chunked(X) and stderr == "bootstrap":
        raise ScoresymInputError("stderr='bootstrap' resamples rows in memory; data in chunks "
                                 "(a dask array) get the sandwich standard errors")
    fixed, init = _arguments(model, fixed, init)
    free = [p for p in model.params if p.name not in fixed]
    if not free:
        raise ScoresymInputError("every parameter is fixed: nothing to fit")
    weights = model.weights(weight)
    key = ("objective", tuple(map(str, weights or ())), tuple(p.name for p in free))
    objective = _DERIVED.get(model, key, lambda: _Objective(model, weights, free))
    linear = objective.quadratic and method in ("auto", "closed_form")
    _check_data(model, X, blocks=not linear)  # else in the linear solve's pass
    solution = _solve(model, objective, X, method, init, fixed, free, weights)
    result = _result(model, objective, X, solution, fixed, free, weight)
    _require_a_density(model, result, weights)
    _check_at_estimate(model, weights, result, objective, X)
    if stderr == "bootstrap":
        _bootstrap(model, objective, X, result, method, fixed, free, weights,
                   positive_int("resamples", resamples, least=2), seed)
    return result


STDERRS = ("sandwich", "bootstrap")
#: A bootstrap whose refits fail more often than this is refused, not reported.
BOOTSTRAP_MAX_FAILED = 0.05


def _bootstrap(model, objective, X, result, method, fixed, free, weights, resamples: int,
               seed) -> None:
    """Replace ``result``'s covariance and standard errors by the nonparametric bootstrap's:
    the covariance (1/(B - 1)) of B refits, each on n rows drawn with replacement (seeded by
    ``seed``) and each started from the estimate. The sandwich's standard errors stay in
    ``details["sandwich_stderr"]``; refits that fail or do not converge are counted in
    ``details["bootstrap"]`` (more than 5% of them: refused)."""
    from .randomness import generator

    rng, names = generator(seed), [p.name for p in free]
    start = {k: result.params[k] for k in names}
    estimates, failed = [], 0
    for _ in range(resamples):
        sample = X[rng.integers(0, len(X), len(X))]
        try:
            solution = _solve(model, objective, sample, method, start, fixed, free, weights)
        except ScoresymInputError:
            failed += 1
            continue
        if not solution.converged:
            failed += 1
            continue
        estimates.append([solution.values[k] for k in names])
    if failed > BOOTSTRAP_MAX_FAILED * resamples or len(estimates) < 2:
        raise ScoresymInputError(f"the bootstrap failed: {failed} of {resamples} refits did not "
                                 f"converge; use stderr='sandwich'")
    cov = np.cov(np.array(estimates).T).reshape(len(names), len(names))
    result.details["sandwich_stderr"] = dict(result.stderr)
    result.details["bootstrap"] = {"resamples": resamples, "failed": failed, "seed": seed}
    result.cov = cov
    result.stderr = {k: float(np.sqrt(cov[i, i])) for i, k in enumerate(names)}


def _require_a_density(model, result, weights) -> None:
    """The estimate must be a density: an objective can be stationary or finite where f is not
    one (a scale of 0 where f depends on s**2 only). An objective that is invalid for every
    parameter value (the exponential's plain one, minimal at lam = 0) is named as such."""
    failing = model.conditions.failing(result.params)
    if not failing:
        return
    shown = ", ".join(f"{k}={v + 0.0:.6g}" for k, v in result.params.items())  # no "-0"
    never = bracket_conditions(model, score_products(model, weights))
    if never.decided and never.expr is sympy.false:
        raise ScoresymInputError(_invalid(model, weights, "; ".join(c.reason for c in never),
                                          f" (the estimate {shown} is not even a density)"))
    raise ScoresymInputError(f"the estimate ({shown}) breaks the model's conditions "
                             f"({'; '.join(str(c) for c in failing)}): f is not a density "
                             f"there; start elsewhere with init={{...}}")


def _check_data(model, X, blocks: bool = True) -> None:
    """At least 2 points, all finite and inside the domain (on chunked data, a pass over the
    blocks, unless ``blocks`` is False: a pass that checks each block itself follows)."""
    if len(X) < 2:
        raise ScoresymInputError(f"fit needs at least 2 points, got {len(X)}")
    if is_chunked(X):
        if blocks:
            per_block(lambda B, start: _check_block(model, B, start), X, with_start=True)
        return
    if not np.all(np.isfinite(X)):
        raise ScoresymInputError("X contains NaN or infinite values")
    model.require_inside(X)


def _check_block(model, B, start: int) -> None:
    """:func:`_check_data` for one block of chunked data, naming where the block starts."""
    try:
        if not np.all(np.isfinite(B)):
            raise ScoresymInputError("X contains NaN or infinite values")
        model.require_inside(B)
    except ScoresymInputError as error:
        raise ScoresymInputError(f"{error} (in the block of rows from {start})") from None


def _arguments(model, fixed, init) -> tuple:
    """``fixed`` and ``init`` checked: known parameters, finite real values, positive where the
    parameter is declared positive, and no parameter in both."""
    fixed, init = named_values(model, fixed, "fixed"), named_values(model, init, "init")
    both = sorted(set(fixed) & set(init))
    if both:
        raise ScoresymInputError(f"{', '.join(both)}: both fixed and given a starting value "
                                 f"in init; give one or the other")
    return fixed, init


def named_values(model, values, what: str) -> dict:
    """{name: float} from a mapping of ``model``'s parameter names to values (``what`` names the
    argument in messages): unknown names, non-numbers, non-finite values and non-positive values
    of positive parameters are refused.

    >>> import scoresym as ss
    >>> named_values(ss.zoo.get("gaussian_1d").model, {"nu": 1}, "init")
    Traceback (most recent call last):
    ...
    scoresym.errors.ScoresymInputError: init names unknown parameter(s): nu (the model's: mu, s2)
    """
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ScoresymInputError(f"{what} must be a dict {{name: value}}, got "
                                 f"{type(values).__name__}")
    params = {p.name: p for p in model.params}
    unknown = sorted(str(k) for k in values if k not in params)
    if unknown:
        raise ScoresymInputError(f"{what} names unknown parameter(s): {', '.join(unknown)} "
                                 f"(the model's: {', '.join(params) or 'none'})")
    checked = {k: float(scalar_param(f"{k} (in {what})", v)) for k, v in values.items()}
    negative = sorted(k for k, v in checked.items() if params[k].is_positive and v <= 0)
    if negative:
        raise ScoresymInputError(f"{what}: {', '.join(negative)} must be positive (declared "
                                 f"positive), got {', '.join(str(checked[k]) for k in negative)}")
    return checked


@dataclass
class _Solution:
    """What a solver found: the free parameters' values, how, and whether the solver says it
    converged (a linear solve and a closed form always do)."""

    values: dict
    method: str
    converged: bool = True
    iterations: int = 0
    attempts: list = field(default_factory=list)
    why: str = ""
    #: the one pass of a linear solve, from which :func:`_result` reports without another
    statistics: QuadraticStatistics | None = None


def _solve(model, objective, X, method, init, fixed, free, weights) -> _Solution:
    names = [p.name for p in free]
    if method in ("auto", "closed_form") and objective.quadratic:
        statistics = _solve_linear(objective, X, fixed, free)
        return _Solution(dict(zip(names, statistics.minimizer())), "closed_form",
                         statistics=statistics)
    if method in ("auto", "closed_form") and weights is None and not fixed:
        point = _DERIVED.get(model, "stationary point", lambda: stationary_point(model))
        if point is not None:
            values = point.evaluate(X, prefer=init)
            if all(np.isfinite(list(values.values()))):
                return _Solution(values, "closed_form")
            if constant_columns(model, X):
                raise ScoresymInputError(_degenerate_message(model, X, values))
    if method == "closed_form":
        raise ScoresymInputError("no closed form: the objective is not quadratic in the "
                                 "parameters and SymPy cannot solve its stationarity equations; "
                                 "use method='optimize'")
    return _optimize(model, objective, X, init, fixed, free, names)


def _solve_linear(objective, X, fixed, free) -> QuadraticStatistics:
    """The :class:`QuadraticStatistics` of X at theta = 0, whose minimizer theta = -G^-1 b is
    the estimate, checked identified (G positive definite): one pass over the data, which on
    chunked data also checks them (finite, inside the domain)."""
    zero = {**{p.name: 0.0 for p in free}, **fixed}
    statistics = objective.quadratic_statistics(X, zero, check=is_chunked(X))
    if not (statistics.finite and np.all(np.isfinite(statistics.moments.mean))):
        raise ScoresymInputError(_degenerate_message(objective.m, X, zero))
    constant = [v.name for v, a, b in zip(objective.m.variables, statistics.lo, statistics.hi)
                if a == b]
    _require_identified(statistics.hessian(), [p.name for p in free], constant)
    return statistics


def constant_columns(model, X) -> list:
    """The variables whose column in X holds a single value."""
    if is_chunked(X):
        lo, hi = column_ranges(lambda B: B, X)
        return [v.name for k, v in enumerate(model.variables) if lo[k] == hi[k]]
    return [v.name for k, v in enumerate(model.variables) if np.all(X[:, k] == X[0, k])]


def _degenerate_message(model, X, values) -> str:
    """Why the objective is not finite at ``values``: data that cannot identify the parameters
    (a constant column), or a score singular at the data or at these parameter values."""
    at = ", ".join(f"{k} = {v:.6g}" for k, v in values.items())
    constant = constant_columns(model, X)
    if constant:
        columns = ", ".join(f"{name} (every point has {name} = "
                            f"{float(X[0, model.variables.index(v)]):g})"
                            for name, v in zip(constant, [v for v in model.variables
                                                          if v.name in constant]))
        return (f"the data do not identify the parameters: the column of {columns} is "
                f"constant, and the objective is not finite at {at}")
    return (f"the objective is not finite at {at} for some data points: the score is singular "
            f"at the data or at these parameter values; check the model, the weight and the "
            f"starting values (init=)")


def _require_identified(G: np.ndarray, names: list, constant: list = ()) -> None:
    lowest, involved = weakest_direction(G, names)
    if lowest is not None:
        kind = "singular" if lowest >= 0 else "indefinite"
        why = f" (the column of {', '.join(constant)} is constant)" if constant else ""
        raise ScoresymInputError(f"the objective's Hessian in the parameters is {kind}: the data "
                                 f"do not identify {', '.join(involved)}{why}")


def _optimize(model, objective, X, init, fixed, free, names) -> _Solution:
    """From each start of :func:`_starting_points` in turn: L-BFGS-B with the exact gradient
    to the basin, then a trust-region Newton method with the exact Hessian in theta
    (:func:`_newton`) to the stationary point, until one ends at a verified minimum: the mean
    gradient 0 within STATIONARY_IN_STDERR of its standard error, the mean Hessian in theta
    positive definite, and f a density there (the model's conditions hold). Otherwise the best
    end point where f is a density, with ``converged`` False and why; every attempt is kept in
    ``attempts``."""
    bounds = [(1e-12, None) if p.is_positive else (None, None) for p in free]

    def value_and_gradient(theta):  # on chunked data, one pass per call
        means = objective.means(X, {**dict(zip(names, theta)), **fixed})
        return (np.inf, np.zeros_like(theta)) if means is None else means

    attempts, best, iterations = [], None, 0
    for origin in _starting_points(model, X, free, fixed, init, value_and_gradient):
        found = scipy.optimize.minimize(value_and_gradient, origin, jac=True,
                                        method="L-BFGS-B", bounds=bounds,
                                        options={"maxiter": 5000, "gtol": 1e-10,
                                                 "ftol": 1e-15})
        theta, value, steps = found.x, float(found.fun), int(found.nit)
        values = {**dict(zip(names, theta)), **fixed}
        if not _stationary(objective, X, values):
            theta, value, newton = _newton(objective, X, theta, fixed, free, value_and_gradient)
            steps += newton
            values = {**dict(zip(names, theta)), **fixed}
        why, saddle = _not_a_minimum(model, objective, X, values, names), None
        if why.startswith(SADDLE):
            escaped = _escape_saddle(model, objective, X, theta, value, fixed, free,
                                     value_and_gradient)
            if escaped is not None:
                saddle = {"at": dict(zip(names, map(float, theta))), "why": why}
                theta, value, newton = escaped
                steps += newton
                values = {**dict(zip(names, theta)), **fixed}
                why = _not_a_minimum(model, objective, X, values, names)
        iterations += steps
        attempts.append({"start": dict(zip(names, map(float, origin))),
                         "end": dict(zip(names, map(float, theta))), "iterations": steps,
                         "objective": value, "outcome": why or "minimum",
                         "left_a_saddle": saddle})
        if not why:
            theta = _polish(objective, X, theta, fixed, free)
        solution = _Solution(dict(zip(names, map(float, theta))), "optimize", not why,
                             iterations, attempts, why)
        if not why:
            return solution
        density = model.conditions.holds(values) is not False
        if density and (best is None or value < best[0]):
            best = (value, solution)
    if best is None:
        return solution  # not a density anywhere it ended: the caller refuses it
    best[1].iterations = iterations
    return best[1]


#: Newton steps at most that :func:`_polish` takes from a verified minimum.
POLISH_STEPS = 3


def _polish(objective, X, theta, fixed, free) -> np.ndarray:
    """Newton steps theta - G^-1 g from a verified minimum (G positive definite there) until
    the step is below 1e-15 (1 + |theta|): the optimizer stops where the mean gradient is small
    against its standard error, up to about 1e-9 from the minimizer; these steps reach it to
    rounding, so that the estimate does not depend on the order in which the data are summed
    (in memory or block by block). A step that leaves positive parameters positive and does not
    raise the objective is kept; otherwise polishing stops."""
    names = [p.name for p in free]
    positive = np.array([bool(p.is_positive) for p in free], dtype=bool)

    def at(t):
        return {**dict(zip(names, t)), **fixed}

    current = objective.means(X, at(theta))
    for _ in range(POLISH_STEPS):
        if current is None:
            break
        try:
            step = np.linalg.solve(objective.mean_hessian(X, at(theta)), current[1])
        except np.linalg.LinAlgError:
            break
        moved = theta - step
        if not np.all(np.isfinite(moved)) or np.any(moved[positive] <= 0):
            break
        after = objective.means(X, at(moved))
        if after is None or after[0] > current[0] + 1e-12 * max(1.0, abs(current[0])):
            break
        theta, current = moved, after
        if np.all(np.abs(step) <= 1e-15 * (1 + np.abs(theta))):
            break
    return theta


#: How a point whose Hessian in theta has a negative eigenvalue is described.
SADDLE = "not a minimum (a saddle or a maximum)"
#: Trust-region Newton iterations at most, after L-BFGS-B.
NEWTON_ITERATIONS = 100


def _newton(objective, X, theta, fixed, free, value_and_gradient) -> tuple:
    """(theta, objective, iterations) of scipy's trust-region Newton method ("trust-exact")
    with the exact mean Hessian G in theta, from ``theta``. It moves in coordinates
    u = (phi(theta) - phi(theta_0)) / d: phi(t) = log t for a positive parameter (so it stays
    positive without bounds; there the gradient is g t and the Hessian diag(t) G diag(t) +
    diag(g t)), d_i = 1/sqrt(|H_ii|) at the start, so that a unit trust region means the same
    in every direction whatever the parameters' scales (a variance of 1e6 beside a slope of
    1e-4). Kept only where it lowers the objective."""
    names = [p.name for p in free]
    positive = np.array([bool(p.is_positive) for p in free])

    def phi_to_theta(v):
        return np.where(positive, np.exp(np.minimum(v, 700.0)), v)

    def gradient_and_hessian_in_phi(v):
        t = phi_to_theta(v)
        with np.errstate(all="ignore"):
            value, g = value_and_gradient(t)
            G = objective.mean_hessian(X, {**dict(zip(names, t)), **fixed})
        scale = np.where(positive, t, 1.0)
        return value, g * scale, G * np.outer(scale, scale) + np.diag(np.where(positive, g * t,
                                                                                 0.0))

    origin = np.where(positive, np.log(np.maximum(theta, 1e-300)), theta)
    before, _, H = gradient_and_hessian_in_phi(origin)
    diagonal = np.abs(np.diag(H)) if np.all(np.isfinite(H)) else np.ones(len(theta))
    d = np.where(diagonal > 0, 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0)), 1.0)

    def value_and_gradient_in_u(u):
        t = phi_to_theta(origin + d * u)
        value, g = value_and_gradient(t)
        return value, np.where(positive, g * t, g) * d

    def hessian_in_u(u):
        H = gradient_and_hessian_in_phi(origin + d * u)[2] * np.outer(d, d)
        return H if np.all(np.isfinite(H)) else np.eye(len(u))

    with np.errstate(all="ignore"):
        found = scipy.optimize.minimize(value_and_gradient_in_u, np.zeros(len(theta)), jac=True,
                                        hess=hessian_in_u, method="trust-exact",
                                        options={"maxiter": NEWTON_ITERATIONS, "gtol": 1e-12})
    after = phi_to_theta(origin + d * found.x)
    value = value_and_gradient(after)[0]
    if not value <= before:
        return theta, float(before), int(found.nit)
    return after, float(value), int(found.nit)


#: Steps tried along the direction of negative curvature out of a saddle, in units of
#: 1 + |theta|.
SADDLE_STEPS = (0.01, 0.1, 0.5)


def _escape_saddle(model, objective, X, theta, value, fixed, free, value_and_gradient):
    """(theta, objective, iterations) of :func:`_newton` from the lowest of the points
    theta +- t (1 + |theta|) v, t in SADDLE_STEPS, v the Hessian's eigenvector of its most
    negative eigenvalue (where the objective falls like lambda t**2 / 2 and a gradient method
    started at the saddle does not move); None where none is lower and a density.
    A step that would make a positive parameter non-positive is shortened to keep it positive.

    >>> import scoresym as ss
    >>> m = ss.Model.from_string("exp(-(x - a)**2/2) + exp(-(x + a)**2/2)", "x", "a")
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.standard_normal(4000) + np.where(rng.random(4000) < 0.5, 2.0, -2.0))[:, None]
    >>> r = ss.fit(m, X, method="optimize", init={"a": 0.0})  # a = 0 is a stationary maximum
    >>> len(r.details["attempts"]), r.converged, round(abs(r.params["a"]), 2)
    (1, True, 1.99)
    """
    names = [p.name for p in free]
    with np.errstate(all="ignore"):
        G = objective.mean_hessian(X, {**dict(zip(names, theta)), **fixed})
    if not np.all(np.isfinite(G)):
        return None
    eigenvalues, vectors = np.linalg.eigh(0.5 * (G + G.T))
    v = vectors[:, 0]
    positive = np.array([bool(p.is_positive) for p in free])
    best = None
    for t in SADDLE_STEPS:
        for sign in (1.0, -1.0):
            step = sign * t * (1.0 + np.linalg.norm(theta)) * v
            shrink = np.where(positive & (step < 0), -0.5 * theta / np.minimum(step, -1e-300),
                              np.inf)
            moved = theta + step * min(1.0, float(np.min(shrink)))
            lower = value_and_gradient(moved)[0]
            density = model.conditions.holds({**dict(zip(names, moved)), **fixed}) is not False
            if density and lower < value and (best is None or lower < best[0]):
                best = (lower, moved)
    if best is None:
        return None
    return _newton(objective, X, best[1], fixed, free, value_and_gradient)


def _not_a_minimum(model, objective, X, values: dict, names: list) -> str:
    """'' at a verified minimum; else why not: not stationary, the Hessian in theta not
    positive definite (a saddle or a flat direction, naming the parameters along it), or f not
    a density there."""
    if not _stationary(objective, X, values):
        return NOT_STATIONARY
    with np.errstate(all="ignore"):
        G = objective.mean_hessian(X, values)
    definite = _definiteness(G, names)
    if definite:
        return definite
    failing = model.conditions.failing(values)
    if failing:
        return f"f is not a density there ({'; '.join(str(c) for c in failing)})"
    return ""


def _definiteness(G: np.ndarray, names: list) -> str:
    """'' where the symmetric part of G is positive definite; else 'not a minimum (a saddle or
    a maximum): the Hessian in the parameters has a negative eigenvalue (-0.3) along mu, s2'
    or the same for a flat direction (see
    :func:`~scoresym.numerics.optimality.weakest_direction`)."""
    if not np.all(np.isfinite(G)):
        return "the Hessian in the parameters is not finite there"
    lowest, involved = weakest_direction(G, names)
    if lowest is None:
        return ""
    kind = f"{SADDLE}: the Hessian in the parameters has a negative eigenvalue" \
        if lowest < 0 else "a flat direction: the Hessian in the " \
        "parameters has an eigenvalue of 0"
    return f"{kind} ({lowest:.3g}) along {', '.join(involved)}"


def _stationary(objective, X, values: dict) -> bool:
    """Whether the mean gradient in theta is 0 to within STATIONARY_IN_STDERR of its sampling
    standard error, in every coordinate (:func:`~scoresym.numerics.optimality.stationary`)."""
    return objective.gradient_statistics(X, values, tails=False).stationary


#: Values tried, in turn, for parameters without a starting value when the default start (0, or
#: 1 for positive parameters) makes the objective infinite (e.g. a scale not declared positive).
FALLBACK_STARTS = (1.0, 0.5, 2.0, -1.0)


#: Starts tried at most, when the first does not end at a verified minimum.
MAX_STARTS = 4
#: Spread of the random starts (seeded: a fit is deterministic) around the first one.
RANDOM_START_SPREAD = 0.5


def _starting_points(model, X, free, fixed, init, value_and_gradient):
    """Up to MAX_STARTS starts, each where the objective is finite and f is a density: init
    where given, else 0 (1 for positive parameters); where that is not finite or not a density
    (a scale s = 0 where only s**2 enters), the same with the unset parameters at each of
    FALLBACK_STARTS in turn, then one of them at a time there and the others at 0; after the
    first start found, the others of that list, then the first times exp(N(0, 0.5)) for
    positive parameters and plus N(0, 0.5) (1 + |value|) for the others, from a fixed seed."""
    def start(default):
        return np.array([init.get(p.name, 1.0 if p.is_positive else default) for p in free])

    names = [p.name for p in free]
    unset = [k for k, name in enumerate(names) if name not in init]
    candidates = [start(0.0)] + [start(value) for value in FALLBACK_STARTS if unset]
    for value in FALLBACK_STARTS:  # one parameter at a time (a scale a = 1 beside c = 0)
        for k in unset if len(unset) > 1 else ():
            theta = start(0.0)
            theta[k] = value
            candidates.append(theta)

    def usable(theta) -> bool:
        if not init and model.conditions.holds({**dict(zip(names, theta)), **fixed}) is False:
            return False  # not a density there (a scale of 0): no place to start
        return bool(np.isfinite(value_and_gradient(theta)[0]))

    found = []
    for theta in candidates:
        if usable(theta) and not any(np.array_equal(theta, t) for t in found):
            found.append(theta)
            yield theta
            if len(found) == 1:
                break
    if not found:
        raise ScoresymInputError(
            _degenerate_message(model, X, {**dict(zip(names, candidates[0])), **fixed})
            + "; give a start where it is finite, e.g. init={...}, or declare scale "
              "parameters positive")
    rng = np.random.default_rng(0)
    first, tries = found[0], 0
    while len(found) < MAX_STARTS and tries < 10 * MAX_STARTS:
        tries += 1
        noise = rng.standard_normal(len(first)) * RANDOM_START_SPREAD
        theta = np.array([v * np.exp(z) if p.is_positive else v + z * (1 + abs(v))
                          for v, z, p in zip(first, noise, free)])
        if usable(theta):
            found.append(theta)
            yield theta


def _result(model, objective, X, solution: _Solution, fixed, free, weight) -> FitResult:
    converged, how = solution.converged, solution.method
    names = [p.name for p in free]
    values = {**solution.values, **fixed}
    if solution.statistics is not None:  # a linear solve: no pass but the tail index's
        theta = np.array([values[k] for k in names])
        centre = solution.statistics.gradient_map(theta) @ solution.statistics.moments.mean
        statistics = solution.statistics.at(theta, objective.gradient_tail(X, values, centre))
        G = solution.statistics.hessian()
    else:
        statistics = objective.gradient_statistics(X, values)
        G = objective.mean_hessian(X, values)
    if not (statistics.finite and np.all(np.isfinite(G))):
        raise ScoresymInputError(_degenerate_message(objective.m, X, values))
    why = solution.why or _definiteness(G, names)
    converged = converged and not why
    n = statistics.n
    # 1/(n - 1), as scorematchingad (details["sandwich"] says so)
    J = statistics.covariance
    try:
        G_inv = np.linalg.inv(G)
        cov = G_inv @ J @ G_inv.T / n
    except np.linalg.LinAlgError:
        cov = np.full((len(names), len(names)), np.nan)
        converged = False
    stderr = {k: float(np.sqrt(cov[i, i])) if cov[i, i] >= 0 else float("nan")
              for i, k in enumerate(names)}
    positive_violations = [p.name for p in free if p.is_positive and values[p.name] <= 0]
    gradient_norm = float(np.linalg.norm(statistics.mean))
    tail = statistics.tail
    details = {"weight": str(weight) if weight is not None else None,
               "gradient_norm": gradient_norm, "positive_violations": positive_violations,
               "convergence": why, "attempts": solution.attempts,
               "sandwich": "G^-1 J G^-1 / n, J the gradients' covariance with 1/(n - 1)",
               "gradient_tail_index": tail,
               "stderr_reliable": bool(tail >= RELIABLE_TAIL_INDEX)}
    ordered = {p.name: float(values[p.name]) for p in model.params}
    with np.errstate(all="ignore"):
        lowest = float(np.linalg.eigvalsh(0.5 * (G + G.T))[0]) if np.all(np.isfinite(G)) \
            else float("nan")
    return FitResult(ordered, cov, stderr, statistics.h_mean, how,
                     converged and not positive_violations, names, n, dict(fixed), details,
                     solution.iterations, gradient_norm, lowest)


#: Below this Hill estimate of the per-sample gradients' tail index the sandwich is flagged as
#: unreliable. A tail index below 2 means an infinite variance, but at n = 2000 the estimate
#: runs as low as 1.46 for the quartic's and 1.57 for a Gamma's (x**2-weighted) gradients, whose
#: intervals cover, and 0.53-1.81 for a log-normal's, whose cover half the time; 1.25 flags 87%
#: of the log-normal's fits and none of those (30 each; benchmarks/coverage.py has the study).
RELIABLE_TAIL_INDEX = 1.25


def tail_index(gradients: np.ndarray, center=np.mean) -> float:
    """The smallest, over the parameters, Hill estimate of the tail index alpha of the
    per-sample gradients' deviations from their mean (or another ``center``):
    P(|g - mean| > t) ~ t**-alpha, from the k = ceil(sqrt(n)) largest. The sandwich needs
    the gradients' variance and, to estimate it well, more (alpha > 4 for a finite fourth
    moment); a Gaussian's gradients, polynomials in x, have every moment (alpha estimates
    grow with n).

    >>> rng = np.random.default_rng(0)
    >>> round(tail_index(rng.standard_t(3, (20000, 1))), 1)  # Student-t, 3 d.o.f.: index 3
    3.1
    >>> tail_index(np.r_[np.zeros(100), np.ones(100)][:, None])  # ties at the top: no tail
    inf
    """
    k = _hill_count(len(gradients))
    columns = np.atleast_2d(gradients.T)
    return _hill(np.column_stack([np.sort(np.abs(c - center(c)))[::-1][:k + 1]
                                  for c in columns]))


#: The most order statistics a Hill estimate uses: its relative standard error is about
#: 1/sqrt(k), 1% here, and the k largest values of p columns are what each task of a chunked
#: pass sends on (10,000 x 65 gradients x 2 ends: 10 MB; sqrt(n) would be 100 MB at n = 1e10).
HILL_MAX_COUNT = 10_000


def _hill_count(n: int) -> int:
    """k = ceil(sqrt(n)) (at least 2, at most HILL_MAX_COUNT, reached at n = 1e8): the order
    statistics a Hill estimate uses."""
    return min(HILL_MAX_COUNT, max(2, int(np.ceil(np.sqrt(n)))))


def _hill(deviations: np.ndarray) -> float:
    """The smallest over columns of the Hill estimate 1 / mean(log(D_i / D_k)), i < k, from
    the k + 1 largest deviations D of each column in decreasing order, (k + 1, p); inf when
    the (k + 1)-th equals the others (no tail)."""
    k = len(deviations) - 1
    lowest = np.inf
    for column in deviations.T:
        spread = float(np.mean(np.log(column[:k] / column[k]))) if column[k] > 0 else 0.0
        if spread > 0:  # k + 1 equal deviations (a bounded, e.g. constant, column): no tail
            lowest = min(lowest, 1.0 / spread)
    return float(lowest)


def maximum_likelihood(model, X, init=None, fixed=None) -> FitResult:
    """The maximum-likelihood estimate for a model of dimension d <= 2, with log Z(theta) by
    quadrature over the domain, and standard errors from the observed information (the
    finite-difference Hessian of the mean negative log-likelihood). For comparison with score
    matching: it needs the normalizing constant that score matching avoids.

        theta_hat = argmax_theta [mean_i log f(x_i; theta) - log Z(theta)],
        Z(theta) = integral of f(x; theta) over the domain,   cov = H^-1 / n,

    H the Hessian of the mean negative log-likelihood at theta_hat (Nelder-Mead, then central
    differences for H).

    >>> import scoresym as ss
    >>> b = ss.zoo.get("gaussian_1d")
    >>> X = b.sample(500, seed=1)
    >>> r = maximum_likelihood(b.model, X)
    >>> bool(abs(r.params["mu"] - X.mean()) < 1e-6 and abs(r.params["s2"] - X.var()) < 1e-6)
    True
    """
    from .numerics.expectation import integrate_over_domain, log_density_peak

    X = as_points(X, model.dim)
    _check_data(model, X)
    fixed, init = _arguments(model, fixed, init)
    free = [p for p in model.params if p.name not in fixed]
    names = [p.name for p in free]
    log_f = model.compiled().log_density

    def negative_log_likelihood(theta):
        values = {**dict(zip(names, theta)), **fixed}
        if any(p.is_positive and values[p.name] <= 0 for p in free):
            return np.inf
        try:
            peak = log_density_peak(model, values)
            Z, _ = integrate_over_domain(model, lambda Y: np.exp(log_f(Y, **values) - peak))
        except ScoresymInputError:
            return np.inf
        with np.errstate(all="ignore"):
            return float(-(np.mean(log_f(X, **values)) - np.log(Z[0]) - peak))

    start = np.array([float((init or {}).get(k, 1.0 if p.is_positive else 0.0))
                      for k, p in zip(names, free)])
    found = scipy.optimize.minimize(negative_log_likelihood, start, method="Nelder-Mead",
                                    options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 20_000,
                                             "maxfev": 40_000})
    theta = found.x
    # the observed information: central second differences of the mean negative
    # log-likelihood, steps 1e-4 max(1, |theta|)
    H = fd_hessian(lambda T: np.array([negative_log_likelihood(t) for t in T]),
                   theta[None, :], {})[0]
    cov = np.linalg.inv(H) / len(X)
    values = {**dict(zip(names, (float(t) for t in theta))), **fixed}
    return FitResult({p.name: values[p.name] for p in model.params}, cov,
                     {k: float(np.sqrt(cov[i, i])) for i, k in enumerate(names)},
                     float(found.fun), "mle", bool(found.success), names, len(X), fixed)



#: How far from the estimate the boundary term must still vanish: this many standard errors,
#: and at least RELATIVE_MARGIN of max(1, |estimate|) (a pinned estimate's standard error
#: collapses: Beta(0.7, 3) fitted without a weight gives a = 2.0006 +- 0.0001).
BOUNDARY_MARGIN = 4.0
RELATIVE_MARGIN = 0.01
#: Below this Hill estimate of the per-sample curvature's tail index, an objective that is not
#: valid for every parameter value is refused: its Hessian's mean is infinite (index < 1), so
#: the estimate is pinned by the data nearest the edge. At n = 2000 and 5000 (12 samples each)
#: the estimate runs 0.57-1.11 on four pinned fits (Weibull(0.7), weight x; Beta(0.7, 3) and
#: Beta(1, 1), weight x(1 - x); Gamma(1.5), no weight) and 1.09-2.26 on four valid ones
#: (Gamma(1.5), weight x; Gamma(3), no weight; Weibull(1.5), weight x; Beta(2, 3), weight
#: x(1 - x)); on a Gamma(1.2) with weight x (index 1.2, estimates 2 standard errors high) it
#: runs 0.94-1.47 and refuses a third of them.
PINNED_CURVATURE_INDEX = 1.1
#: An estimate within the margin of the region's edge is refused unless the curvature's tail
#: index is at least this (its mean clearly finite: a valid fit that is only near the edge).
FINITE_CURVATURE_INDEX = 1.25


def _check_at_estimate(model, weights, result, objective, X) -> None:
    """The objective must be valid at the estimate and not pinned by the edge of the region
    where it is valid. Where the boundary term [p w s] vanishes for every parameter value
    (edge asymptotics) there is nothing to check. Otherwise, refused:

    1. where it does not vanish at the estimate (decided at those exact values by the edge
       asymptotics, else by exact edge limits);
    2. where the per-sample curvature d^2 h / d theta_j^2 is so heavy-tailed (Hill index
       below PINNED_CURVATURE_INDEX) that the objective's Hessian has an infinite mean, and
       the region where the term vanishes is decided (:func:`_partial_region`): an objective
       invalid at the truth drives its estimate to where the term starts to vanish
       (Weibull(0.7) with weight x: k = 1.0005 +- 0.0001), and there the data nearest the
       edge decide it;
    3. else, where the curvature's index is below FINITE_CURVATURE_INDEX and the term stops
       vanishing BOUNDARY_MARGIN standard errors from the estimate along a parameter (at
       least RELATIVE_MARGIN of the value, where f is still a density).

    A curvature with a clearly finite mean (index at least FINITE_CURVATURE_INDEX) is not
    pinned: then only (1) applies.

    ``details["boundary"]`` says what was decided."""
    products = score_products(model, weights)
    if vanishes_everywhere(model, products):
        result.details["boundary"] = {"holds": True, "decided_by": "edge asymptotics, for "
                                      "every parameter value"}
        return
    at = _vanishing_at(model, products, weights)
    holds, reasons = at(result.params)
    shown = ", ".join(f"{k}={v:.6g}" for k, v in result.params.items())
    where = f" at the estimate ({shown})"
    index, steepest = objective.curvature_tail_index(X, result.params)
    if holds and index < FINITE_CURVATURE_INDEX:
        partial = _partial_region(model, products) is not None
        if partial and index < PINNED_CURVATURE_INDEX:
            holds, reasons = False, (f"the objective's curvature in {steepest} has an infinite "
                                     f"mean: tail index {index:.2f} of its per-sample values")
            where = (f" near the estimate ({shown}): an objective that is invalid at the "
                     f"truth pins its estimate where the term starts to vanish, decided by "
                     f"the data nearest the edge")
        else:
            holds, reasons, where = _within_margin(model, result, at, where)
    result.details["boundary"] = {"holds": holds, "margin_in_stderr": BOUNDARY_MARGIN,
                                  "curvature_tail_index": index,
                                  "decided_by": "edge asymptotics and limits at exact values"}
    if not holds:
        raise ScoresymInputError(_invalid(model, weights, reasons, where))


def _within_margin(model, result, at, where) -> tuple:
    """(holds, reasons, where) after checking the boundary term BOUNDARY_MARGIN standard
    errors (at least RELATIVE_MARGIN of max(1, |value|)) either side of the estimate along
    each free parameter, where f is still a density."""
    for name in result.names:
        value = result.params[name]
        step = max(BOUNDARY_MARGIN * result.stderr[name], RELATIVE_MARGIN * max(1.0, abs(value)))
        for sign in (-1, 1):
            moved = {**result.params, name: value + sign * step}
            if not np.isfinite(moved[name]) or model.conditions.holds(moved) is False:
                continue
            holds, reasons = at(moved)
            if not holds:
                away = step / result.stderr[name]
                return False, reasons, (
                    f" near the estimate ({name} = {moved[name]:.6g}, {away:.3g} standard "
                    f"errors away): an objective that is invalid at the truth pins "
                    f"its estimate just inside the region where it is valid")
    return True, "", where


def _shown(term) -> str:
    """An edge term for a message: undecided, a number to 6 digits, or the expression."""
    if term is None:
        return "undecided"
    return f"{float(term):.6g}" if term.is_number and term.is_finite else str(term)


def _vanishing_at(model, products, weights):
    """params -> (whether the bracket [p w s] vanishes there, the non-vanishing edge terms)."""
    def at(params):
        if vanishes_at(model, params, products, bracket=True):
            return True, ""
        g = [w * s for w, s in zip(weights or [1] * model.dim, model.score)]
        bad = [f"{t['variable']} -> {t['edge']}: {_shown(t['term'])}"
               for t in boundary_terms(model, params, g) if t["term"] != 0]
        return not bad, "; ".join(bad)
    return at
