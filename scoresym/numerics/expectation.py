"""Expectations under a model's normalized density: quadrature (d <= 2) or Monte Carlo.

Invariant: quadrature integrates the unnormalized density f and f*h together over the model's
domain, so E[h] = int f h / int f carries the integrator's own error estimate; an integral that
cannot be computed (it diverges, its integrand is not finite where the density is not negligible,
or the work or time budget runs out) raises ScoresymInputError naming it and saying why. Monte
Carlo estimates carry the standard error of their mean. Nothing here knows what h means; the
checks do.

The quadrature, per coordinate: the axis is split at the mode c of log f, and each half,
x = c +- r with r in (0, R), is reached from t in (0, oo) by the substitution
s = w sinh(pi/2 sinh t), with r = s on an infinite half and r = R s / (R + s) on a finite one (w:
where log f has fallen 1/2 below its peak, so the map is centred on the density's own scale). A
heavy tail (|x|^-a, a > 1) and an integrable singularity at a finite edge (|x - e|^b, b > -1)
both become integrands that decay double-exponentially in t, integrated by adaptive
Gauss-Kronrod (7-15 points, the tensor product for d = 2) with bisection where |K15 - G7| is
largest, which also resolves kinks and jumps. The density is divided by exp(max log f), so every
integral is O(1). In 1-D, the part of a half beyond its last reliable point (1e-20 of the scale
from the far end, or where rounding of x near a nonzero edge sets in) is the integral of the
power law fitted to the integrand there, and an exponent that makes it diverge is reported.

>>> from scoresym import zoo
>>> b = zoo.get("gaussian_1d")
>>> mean, err = quadrature_expectation(b.model, b.truth, lambda X: X**2)
>>> round(float(mean[0]), 10), bool(err[0] < 1e-8)   # E[x^2] = s2 + mu^2 = 2.25
(2.25, True)
>>> from scoresym import Model
>>> beta = Model.from_string("x**(a-1)*(1-x)**(b-1)", "x", "a b", positive="a b",
...                          domain={"x": (0, 1)})
>>> mean, err = quadrature_expectation(beta, {"a": 0.5, "b": 0.5}, lambda X: X)
>>> round(float(mean[0]), 12)                        # the arcsine law: E[x] = 1/2
0.5
>>> quadrature_expectation(beta, {"a": 0.5, "b": 0.5}, lambda X: 1 / X, names=["E[1/x]"])
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
scoresym.errors.NotComputable: quadrature of E[1/x] does not converge: ...^-1.5 ...
"""

from __future__ import annotations

import itertools
import warnings
from contextlib import contextmanager

import numpy as np
import scipy.optimize

from ..budget import BUDGETS, OverBudget, time_limit
from ..errors import NotComputable, ScoresymInputError
from ..memo import PerModel
from .result import CheckResult

QUAD_MAX_DIM = 2
#: Relative accuracy target, against the integral of |integrand| (so that an expectation that
#: is exactly zero, E[score] = 0, has a target too).
QUAD_RTOL = 1e-10
#: ... and absolute accuracy target, relative to the integral of the density (expectations), or
#: to the largest integral of |integrand| (plain integrals): a column whose true value is zero
#: and whose integrand is rounding noise (terms that cancel) needs a target above the noise.
QUAD_ATOL = 1e-13
#: Work budget of one quadrature: integrand evaluations, by dimension.
QUAD_MAX_POINTS = {1: 200_000, 2: 3_000_000}


def quadrature_expectation(model, params: dict, integrand, rtol: float = QUAD_RTOL,
                           names=None) -> tuple:
    """(E[h], error estimates) for h = integrand(X) of shape (n, k), under f / int f.

    ``names`` labels the k columns in error messages (default "E[h_1]", ...). Raises
    ScoresymInputError for d > 2 (use Monte Carlo), and naming the integral, when one does not
    converge, diverges, is not finite where the density is not negligible, or runs out of budget.
    """
    _require_quadrature(model)
    log_density = model.compiled().log_density
    labels = _Labels(model, ["Z = int f"], names, "E[h_{}]")
    with _budget(labels):
        layout = _density_layout(model, params)

        def weighted(X, log_jacobian):
            with np.errstate(all="ignore"):
                log_p = log_density(X, **params) - layout.peak
                weight = np.exp(log_p + log_jacobian)
                values = np.asarray(integrand(X), dtype=float).reshape(len(X), -1)
                products = weight[:, None] * values
                # an overflow or 0/0 in h where the density is negligible counts as h = 0
                negligible = ~(log_p > _LOG_NEGLIGIBLE_DENSITY) & ~np.isnan(log_p)
                products[negligible[:, None] & ~np.isfinite(products)] = 0.0
                products[weight == 0] = 0.0
            return np.column_stack([weight, products])

        estimate, error = _Integrator(layout, weighted, labels, rtol, 0).run()
    Z, numerators = estimate[0], estimate[1:]
    if not Z > 0:
        raise ScoresymInputError(f"the density of {labels.model} integrates to {Z:.3g} at "
                                 f"{params}: it must be positive somewhere on its domain")
    means = numerators / Z
    return means, (error[1:] + np.abs(means) * error[0]) / Z


def integrate_over_domain(model, integrand, rtol: float = QUAD_RTOL, *, params=None,
                          names=None) -> tuple:
    """(int h dx, error estimates) over the model's domain for h = integrand(X) of shape (n, k)
    (d <= 2), by the quadrature of :func:`quadrature_expectation` without the density.

    The nodes are placed around the model's density at ``params``; without them, at the
    parameters its mode was last asked for (:func:`log_density_mode`, which the callers that
    integrate a normalized density have just used), else around the integrand's own largest
    values. ``names`` labels the columns in error messages (default "int h_1", ...).
    """
    _require_quadrature(model)
    labels = _Labels(model, [], names, "int h_{}")
    with _budget(labels):
        hint = params if params is not None else _LATEST.get(model, "params", dict).get("value")
        layout = (_density_layout(model, hint) if hint is not None
                  else _integrand_layout(model, integrand))

        def transformed(X, log_jacobian):
            with np.errstate(all="ignore"):
                values = np.asarray(integrand(X), dtype=float).reshape(len(X), -1)
                return values * np.exp(log_jacobian)[:, None]

        return _Integrator(layout, transformed, labels, rtol, None).run()


def _require_quadrature(model) -> None:
    if model.dim > QUAD_MAX_DIM:
        raise ScoresymInputError(
            f"quadrature needs d <= {QUAD_MAX_DIM}, the model has d = {model.dim}: use method='mc'")


def log_density_mode(model, params: dict) -> tuple:
    """(x, log f(x)) at the maximum of log f over the domain, located by L-BFGS-B with the
    compiled score from the middle of the domain (or its start, where the search fails).

    Remembered per model and parameter values (and the parameters are remembered as the model's
    latest, see :func:`integrate_over_domain`).
    """
    _LATEST.get(model, "params", dict)["value"] = dict(params)
    x, value = _remembered(model, "mode", params, lambda: _search_mode(model, params))
    return x.copy(), value


def _search_mode(model, params: dict) -> tuple:
    f = model.compiled()
    lo, hi = _limits(model)
    start = np.array([_start(a, b) for a, b in zip(lo, hi)])
    bounds = [(None if np.isinf(a) else a, None if np.isinf(b) else b) for a, b in zip(lo, hi)]

    def negative(x):
        X = x[None, :]
        return -float(f.log_density(X, **params)[0]), -f.score(X, **params)[0]

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = scipy.optimize.minimize(negative, start, jac=True, method="L-BFGS-B",
                                        bounds=bounds)
        candidates = [(found.x, -found.fun),
                      (start, float(f.log_density(start[None, :], **params)[0]))]
    finite = [(x, value) for x, value in candidates if np.isfinite(value)]
    if not finite:
        raise ScoresymInputError("the log density is not finite anywhere it was evaluated")
    x, value = max(finite, key=lambda candidate: candidate[1])
    return np.array(x, dtype=float), float(value)


def log_density_peak(model, params: dict) -> float:
    """max log f over the domain (used to scale integrands)."""
    return log_density_mode(model, params)[1]


def _limits(model) -> tuple:
    bounds = [model.domain[v] for v in model.variables]
    return [float(lo) for lo, _ in bounds], [float(hi) for _, hi in bounds]


def _start(lo: float, hi: float) -> float:
    if np.isinf(lo) and np.isinf(hi):
        return 0.0
    if np.isinf(hi):
        return lo + 1.0
    if np.isinf(lo):
        return hi - 1.0
    return 0.5 * (lo + hi)


# --- where the nodes go ----------------------------------------------------------------------

_HALF_PI = 0.5 * np.pi
#: Real evaluations cover s / w in [e^-46, e^46] (about 1e-20 to 1e20); beyond, a power law.
_LOG_RANGE = 46.0
#: Near a nonzero finite edge e, x = e - d is evaluated only where d >= this many ulps of e
#: (closer, rounding x moves d by more than 6e-11 of itself), and at most 1e-2 of the reach.
_RELIABLE_ULPS = 2.0**33
#: A half's scale w: where log f (or log |h|) has fallen this far below its value at the centre.
_DROP = 0.5
#: Distances probed for it, relative to max(1, |c|): 2^-60 to 2^40 in steps of 2^(1/4).
_PROBES = 2.0 ** (np.arange(-240, 161) / 4)
#: Where the density is below this fraction of its peak, a value of h that is not finite (an
#: overflow or 0/0 in its formula far out in a tail) counts as 0: it could only matter if h were
#: 1e5 times larger than QUAD_RTOL / this there.
_LOG_NEGLIGIBLE_DENSITY = np.log(1e-15)
#: Layouts and modes remembered per model (the latest parameter values).
_REMEMBERED = 64


class _Half:
    """One half of an axis: x = center + direction r, r in (0, reach), from t in (0, oo) by
    s = scale sinh(pi/2 sinh t) and r = s (infinite reach) or r = reach s / (reach + s).

    The far end is where the relative distance u to it (u = d / reach at a finite edge, d the
    distance, and u = scale / s at infinity) reaches u_far, at t = t_far; the rest is the
    power-law remainder.
    """

    def __init__(self, center: float, direction: int, edge: float, scale: float):
        self.center, self.direction, self.edge = float(center), direction, float(edge)
        self.finite = bool(np.isfinite(self.edge))
        self.reach = abs(self.edge - self.center) if self.finite else np.inf
        self.scale = min(float(scale), self.reach)
        u_far = np.exp(-_LOG_RANGE)
        if self.finite and self.edge != 0.0:
            u_far = min(max(u_far, _RELIABLE_ULPS * np.spacing(abs(self.edge)) / self.reach),
                        1e-2)
        self.u_far = u_far
        self.t_far = float(self.t_at(u_far))

    def t_at(self, u):
        """t where the relative distance to the far end is u."""
        u = np.asarray(u, dtype=float)
        ratio = 1.0 / u if not self.finite else (1.0 / u - 1.0) * self.reach / self.scale
        return np.arcsinh(np.arcsinh(ratio) / _HALF_PI)

    def at(self, t) -> tuple:
        """(x, log dx/dt) at t > 0."""
        t = np.asarray(t, dtype=float)
        a = _HALF_PI * np.sinh(t)
        log_sinh = np.where(a < 20, np.log(np.sinh(np.minimum(a, 20))), a - np.log(2.0))
        log_s = np.log(self.scale) + log_sinh
        log_ds = (np.log(self.scale) + np.logaddexp(a, -a) - np.log(2.0)
                  + np.log(_HALF_PI * np.cosh(t)))
        if not self.finite:
            return self.center + self.direction * np.exp(log_s), log_ds
        log_q = log_s - np.log(self.reach)
        lse = np.logaddexp(0.0, log_q)
        near = self.center + self.direction * self.reach * np.exp(log_q - lse)
        far = self.edge - self.direction * self.reach * np.exp(-lse)
        return np.where(log_q <= 0, near, far), log_ds - 2 * lse

    def exact(self, u: float) -> tuple:
        """(x, u, r) near relative distance u to the far end: x a floating-point number, u its
        exact relative distance, r = u reach (finite edge) or scale / u (infinity)."""
        if not self.finite:
            x = self.center + self.direction * self.scale / u
            r = abs(x - self.center)
            return x, self.scale / r, r
        x = self.edge - self.direction * u * self.reach
        r = abs(self.edge - x)  # exact: x is within a factor 2 of the edge (or the edge is 0)
        return x, r / self.reach, r

    def describe(self, variable: str) -> str:
        if not self.finite:
            return f"{variable} -> {'' if self.direction > 0 else '-'}oo"
        return f"{variable} -> {self.edge:g}"


class _Layout:
    """The halves of each axis (two, or one where the centre is an edge) and the peak of log f
    that scales the density (None for a plain integrand)."""

    def __init__(self, axes: list, peak):
        self.axes, self.peak = axes, peak


def _density_layout(model, params: dict) -> _Layout:
    """The layout of the model's density at ``params``: halves split at the mode of log f, each
    with the scale where log f has fallen _DROP below its peak."""
    log_density = model.compiled().log_density

    def build():
        x, peak = log_density_mode(model, params)
        return _probed_layout(lambda X: log_density(X, **params), x, peak, _limits(model))

    _LATEST.get(model, "params", dict)["value"] = dict(params)
    return _remembered(model, "layout", params, build)


def _integrand_layout(model, integrand) -> _Layout:
    """A layout around the largest values of |h| found by probing the axes from the domain's
    start, for an integral with no density to follow."""
    limits = _limits(model)

    def log_magnitude(X):
        with np.errstate(all="ignore"):
            values = np.abs(np.asarray(integrand(X), dtype=float).reshape(len(X), -1))
            return np.log(np.max(np.where(np.isfinite(values), values, 0.0), axis=1))

    center = np.array([_start(a, b) for a, b in zip(*limits)])
    for _ in range(2):  # move to the largest value seen, then look again from there
        X = np.vstack([center[None, :]] + [_probe_points(center, i, limits)[0]
                                           for i in range(len(center))])
        values = log_magnitude(X)
        center = X[int(np.argmax(np.where(np.isfinite(values), values, -np.inf)))]
    return _probed_layout(log_magnitude, center, float(log_magnitude(center[None, :])[0]),
                          limits, scale_peak=False)


def _probe_points(center, axis: int, limits) -> tuple:
    """Points along ``axis`` from ``center`` at the probe distances, inside the domain:
    (points, distances, directions)."""
    lo, hi = limits[0][axis], limits[1][axis]
    r = max(1.0, abs(center[axis])) * _PROBES
    direction = np.concatenate([-np.ones_like(r), np.ones_like(r)])
    distance = np.concatenate([r, r])
    coordinate = center[axis] + direction * distance
    inside = (coordinate > lo) & (coordinate < hi)
    X = np.repeat(center[None, :], int(inside.sum()), axis=0)
    X[:, axis] = coordinate[inside]
    return X, distance[inside], direction[inside]


def _probed_layout(log_values, center, reference: float, limits, scale_peak=True) -> _Layout:
    """Halves split at ``center``, each scaled by the distance where log_values(X) first falls
    _DROP below ``reference`` along its axis (its reach, or 2^40 max(1, |c|), where it never
    does). With ``scale_peak``, the peak is the largest value seen (``reference`` at least)."""
    peak, axes = reference, []
    for i in range(len(center)):
        X, distance, direction = _probe_points(center, i, limits)
        with np.errstate(all="ignore"):
            values = np.asarray(log_values(X), dtype=float)
        finite = np.isfinite(values)
        if finite.any():
            peak = max(peak, float(values[finite].max()))
        fallen = ~(values > reference - _DROP)  # NaN counts as fallen
        halves = []
        for sign, edge in ((-1, limits[0][i]), (1, limits[1][i])):
            if edge == center[i]:
                continue
            mine = direction == sign
            reach = abs(edge - center[i])
            scales = distance[mine & fallen]
            scale = scales.min() if len(scales) else min(reach, max(1.0, abs(center[i])) * 2**40)
            halves.append(_Half(center[i], sign, edge, scale))
        axes.append(halves)
    return _Layout(axes, peak if scale_peak else None)


_LAYOUTS = PerModel()
_LATEST = PerModel()


def _remembered(model, kind: str, params: dict, build):
    """build(), remembered per model, ``kind`` and parameter values (the latest _REMEMBERED)."""
    try:
        key = tuple(sorted((str(k), float(v)) for k, v in params.items()))
    except (TypeError, ValueError):
        return build()
    table = _LAYOUTS.get(model, kind, dict)
    if key not in table:
        if len(table) >= _REMEMBERED:
            del table[next(iter(table))]
        table[key] = build()
    return table[key]


# --- the integrator ----------------------------------------------------------------------------

#: Gauss-Kronrod 7-15 on [-1, 1]: the Kronrod nodes >= 0 (descending) and their weights.
_KRONROD = np.array([
    (0.991455371120812639206854697526329, 0.022935322010529224963732008058970),
    (0.949107912342758524526189684047851, 0.063092092629978553290700663189204),
    (0.864864423359769072789712788640926, 0.104790010322250183839876322541518),
    (0.741531185599394439863864773280788, 0.140653259715525918745189590510238),
    (0.586087235467691130294144845693013, 0.169004726639267902826583426598550),
    (0.405845151377397166906606412076961, 0.190350578064785409913256402421014),
    (0.207784955007898467600689403773245, 0.204432940075298892414161999234649),
    (0.0, 0.209482141084727828012999174891714)])


class _Rule:
    """The tensor-product Gauss-Kronrod rule on [-1, 1]^d: nodes (q, d), Kronrod and Gauss
    weights (q,), and per axis the rule that is Gauss along it and Kronrod along the others."""

    def __init__(self, d: int):
        x = np.concatenate([-_KRONROD[:-1, 0], _KRONROD[::-1, 0]])
        kronrod = np.concatenate([_KRONROD[:-1, 1], _KRONROD[::-1, 1]])
        gauss = np.zeros(15)
        gauss[1::2] = np.polynomial.legendre.leggauss(7)[1]  # the Gauss nodes are the odd ones
        grids = np.meshgrid(*[x] * d, indexing="ij")
        self.nodes = np.stack([g.ravel() for g in grids], axis=1)
        self.kronrod = _outer([kronrod] * d)
        self.gauss = _outer([gauss] * d)
        self.along = np.array([_outer([gauss if j == i else kronrod for j in range(d)])
                               for i in range(d)])


def _outer(vectors: list) -> np.ndarray:
    out = vectors[0]
    for v in vectors[1:]:
        out = np.multiply.outer(out, v)
    return np.ravel(out)


_RULES = {d: _Rule(d) for d in (1, 2)}
#: Width in t of the first cells.
_FIRST_WIDTH = 1.0
#: A cell whose values are all below this fraction of each column's largest is negligible.
_NEGLIGIBLE = 1e-30
#: Tail exponents (of u in u G(u)) below this: the integral does not converge.
_MIN_KAPPA = 1e-3
#: The remainders beyond the last reliable points may be this uncertain (relative to the integral
#: of |integrand|), above the target: that much is what rounding near the edge allows.
_LOOSE = 1e-6
#: Cells are not split below this width in t.
_MIN_WIDTH = 1e-12
#: Rows per call of the integrand.
_CHUNK = 1 << 17


class _Labels:
    """Names for messages: the model, its variables, and the integrals (columns)."""

    def __init__(self, model, fixed: list, names, pattern: str):
        self.model = model.name or "the model"
        self.variables = [v.name for v in model.variables]
        self.fixed, self.names, self.pattern = list(fixed), names, pattern
        self.pending = None  # columns not yet converged, for a message when time runs out

    def column(self, j: int) -> str:
        k = j - len(self.fixed)
        if k < 0:
            return self.fixed[j]
        if self.names is not None and k < len(self.names):
            return str(self.names[k])
        return self.pattern.format(k + 1)

    def columns(self, js) -> str:
        return ", ".join(self.column(j) for j in js)

    def point(self, x) -> str:
        return ", ".join(f"{v} = {float(c):.6g}" for v, c in zip(self.variables, x))


def _fail(labels: _Labels, what: str) -> NotComputable:
    return NotComputable(f"quadrature of {what}; use method='mc' if the expectation exists")


@contextmanager
def _budget(labels: _Labels):
    """Run within BUDGETS.quadrature seconds, else raise NotComputable naming what had not
    converged."""
    try:
        with time_limit(BUDGETS.quadrature):
            yield
    except OverBudget:
        pending = (labels.columns(labels.pending) if labels.pending
                   else "the integrals of " + labels.model)
        raise _fail(labels, f"{pending} did not finish within {BUDGETS.quadrature:g} s") from None


class _Cells:
    """Cells of t-space: bounds (n, d) and the half of each axis (n, d), with per column the
    Kronrod and Gauss estimates, the integral of |F| (n, m), and the per-axis errors (n, d, m)."""

    FIELDS = ("lo", "hi", "half", "kronrod", "gauss", "absolute", "along")

    def __init__(self, lo, hi, half):
        self.lo, self.hi, self.half = lo, hi, half

    def take(self, keep) -> _Cells:
        out = _Cells.__new__(_Cells)
        for name in self.FIELDS:
            setattr(out, name, getattr(self, name)[keep])
        return out

    @staticmethod
    def join(parts: list) -> _Cells:
        out = _Cells.__new__(_Cells)
        for name in _Cells.FIELDS:
            setattr(out, name, np.concatenate([getattr(p, name) for p in parts]))
        return out

    @property
    def error(self) -> np.ndarray:
        return np.abs(self.kronrod - self.gauss)


class _Integrator:
    """Adaptive Gauss-Kronrod in t over a layout's halves, for F = transformed(X, log dx/dt) of
    shape (n, m): one integral per column, each to rtol of the integral of its |F| (and no
    finer than QUAD_ATOL of the ``reference`` column's, or of the largest)."""

    def __init__(self, layout: _Layout, transformed, labels: _Labels, rtol: float, reference):
        self.axes, self.d = layout.axes, len(layout.axes)
        self.rule = _RULES[self.d]
        self.transformed, self.labels, self.rtol = transformed, labels, rtol
        self.reference, self.evaluations = reference, 0

    def run(self) -> tuple:
        cells = self.first_cells()
        tails = self.tail_points()
        values, X, T, tail_values = self.measure(cells, tails)
        self.largest = np.where(np.isfinite(values), np.abs(values), 0.0).max(axis=(0, 1))
        cells, open_ends = self.prune(cells, values, X, T)
        remainder, uncertainty = self.remainders(cells, open_ends, tails, tail_values)
        labels = self.labels
        while True:
            total = cells.kronrod.sum(axis=0) + remainder
            scale = cells.absolute.sum(axis=0) + np.abs(remainder)
            loose = uncertainty > _LOOSE * scale
            if loose.any():
                k = int(np.flatnonzero(loose)[0])
                raise _fail(labels, f"{labels.column(k)} did not converge: the part of it "
                            f"beyond the last point that can be evaluated is uncertain by "
                            f"{uncertainty[k]:.3g} (relative {uncertainty[k] / scale[k]:.2g})")
            floor = QUAD_ATOL * (scale[self.reference] if self.reference is not None
                                 else scale.max())
            tolerance = np.maximum(self.rtol * scale, floor)
            error = cells.error.sum(axis=0)
            pending = np.flatnonzero(error > tolerance)
            labels.pending = list(pending)
            if not len(pending):
                return total, error + uncertainty
            cells = self.refine(cells, tolerance, pending)

    # --- cells and their values -----------------------------------------------------------

    def first_cells(self) -> _Cells:
        """Cells of about _FIRST_WIDTH in t covering each half's reliable range, all
        combinations across the axes."""
        per_axis = []
        for halves in self.axes:
            segments = []
            for k, half in enumerate(halves):
                n = max(1, int(np.ceil(half.t_far / _FIRST_WIDTH)))
                edges = np.linspace(0.0, half.t_far, n + 1)
                segments += [(k, edges[j], edges[j + 1]) for j in range(n)]
            per_axis.append(segments)
        rows = np.array([[list(s) for s in row] for row in itertools.product(*per_axis)])
        return _Cells(rows[:, :, 1], rows[:, :, 2], rows[:, :, 0].astype(int))

    def tail_points(self) -> list:
        """1-D: (half, u, x, log r) near u = u_far, 2 u_far, 4 u_far on each half, at x that
        are floating-point numbers and their exact relative distances u to the far end; r is the
        distance (to a finite edge, or from the centre), so that F there is Phi = u G(u)."""
        if self.d != 1:
            return []
        points = []
        for k, half in enumerate(self.axes[0]):
            for u in half.u_far * np.array([1.0, 2.0, 4.0]):
                x, u_exact, r = half.exact(u)
                points.append((k, u_exact, x, np.log(r)))
        return points

    def evaluate(self, X, log_jacobian) -> np.ndarray:
        self.evaluations += len(X)
        if self.evaluations > QUAD_MAX_POINTS[self.d]:
            raise self.not_converged(self.labels.pending or [0])
        parts = [self.transformed(X[k:k + _CHUNK], log_jacobian[k:k + _CHUNK])
                 for k in range(0, len(X), _CHUNK)]
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def measure(self, cells: _Cells, extra=()) -> tuple:
        """Evaluate the cells' nodes (and ``extra`` points (half, t, x, log dx/dt)), and set
        their estimates: (values (n, q, m), X (n, q, d), T (n, q, d), extra values (e, m))."""
        rule = self.rule
        middle, radius = 0.5 * (cells.hi + cells.lo), 0.5 * (cells.hi - cells.lo)
        T = middle[:, None, :] + radius[:, None, :] * rule.nodes[None, :, :]
        X = np.empty_like(T)
        log_jacobian = np.log(np.prod(radius, axis=1))[:, None] * np.ones(T.shape[:2])
        with np.errstate(all="ignore"):
            for i, halves in enumerate(self.axes):
                for k, half in enumerate(halves):
                    mine = cells.half[:, i] == k
                    x, log_dx = half.at(T[mine, :, i])
                    X[mine, :, i] = x
                    log_jacobian[mine] += log_dx
        n, q = T.shape[:2]
        F = self.evaluate(np.concatenate([X.reshape(-1, self.d),
                                          np.array([[p[2]] for p in extra]).reshape(-1, self.d)]),
                          np.concatenate([log_jacobian.ravel(), [p[3] for p in extra]]))
        values = F[:n * q].reshape(n, q, -1)
        finite = np.where(np.isfinite(values), values, 0.0)
        cells.kronrod = np.einsum("q,nqm->nm", rule.kronrod, finite)
        cells.gauss = np.einsum("q,nqm->nm", rule.gauss, finite)
        cells.absolute = np.einsum("q,nqm->nm", rule.kronrod, np.abs(finite))
        cells.along = np.abs(cells.kronrod[:, None, :]
                             - np.einsum("iq,nqm->nim", rule.along, finite))
        return values, X, T, F[n * q:]

    # --- the far ends ---------------------------------------------------------------------

    def prune(self, cells: _Cells, values, X, T) -> tuple:
        """Drop what lies beyond the last significant value of each half (every column below
        _NEGLIGIBLE of its largest), and cut off values that are not finite beyond a negligible
        stretch (an overflow far out in a tail); anything else not finite is an error. Returns
        (cells, open ends): the (axis, half) whose last cell still matters."""
        for _ in range(4):
            finite = np.isfinite(values).all(axis=2)
            significant = (np.where(np.isfinite(values), np.abs(values), 0.0)
                           > _NEGLIGIBLE * self.largest).any(axis=2)
            keep = np.ones(len(cells.lo), dtype=bool)
            shrink = np.zeros(len(cells.lo), dtype=bool)
            hi = cells.hi.copy()
            open_ends = []
            for i, halves in enumerate(self.axes):
                t = T[:, :, i]
                for k, half in enumerate(halves):
                    mine = cells.half[:, i] == k
                    on = mine[:, None] & np.ones_like(finite)
                    mattering = on & significant
                    t_sig = t[mattering].max() if mattering.any() else 0.0
                    bad = on & ~finite & (t > t_sig)
                    if bad.any():
                        gap = on & finite & (t > t_sig) & (t < t[bad].min())
                        if not gap.any():
                            continue  # not finite right after significant values: an error
                        t_cut = t[gap].max()
                        cut = mine & (cells.lo[:, i] < t_cut) & (cells.hi[:, i] > t_cut) \
                            & ~finite.all(axis=1)
                        shrink |= cut
                        hi[cut, i] = t_cut
                    else:
                        t_cut = t_sig
                        last = (cells.hi[:, i] >= half.t_far)[:, None]
                        if (mattering & last).any():
                            open_ends.append((i, k))
                    keep &= ~(mine & (cells.lo[:, i] >= t_cut))
            if not (shrink & keep).any():
                break
            cells.hi = hi
            redo = keep & shrink
            part = cells.take(redo)
            new_values, new_X, new_T, _ = self.measure(part)
            for name in _Cells.FIELDS:
                getattr(cells, name)[redo] = getattr(part, name)
            values, X, T = values.copy(), X.copy(), T.copy()
            values[redo], X[redo], T[redo] = new_values, new_X, new_T
        cells = cells.take(keep)
        values, X = values[keep], X[keep]
        self.check_finite(values, X)
        return cells, open_ends

    def check_finite(self, values, X) -> None:
        bad = ~np.isfinite(values)
        if bad.any():
            c, q, j = np.argwhere(bad)[0]
            raise _fail(self.labels, f"{self.labels.column(j)}: its integrand is "
                        f"{values[c, q, j]} at {self.labels.point(X[c, q])}, where the density "
                        f"is not negligible")

    def remainders(self, cells: _Cells, open_ends: list, tails: list, tail_values) -> tuple:
        """The integral beyond each open end, and its uncertainty, per column.

        1-D: int_0^u_far G du, G the integrand in u, from Phi = u G(u) at three points near
        u_far (:meth:`power_law`). 2-D: no model; the last cells' |F| is the uncertainty."""
        m = cells.kronrod.shape[1]
        remainder, uncertainty = np.zeros(m), np.zeros(m)
        for i, k in open_ends:
            half = self.axes[i][k]
            if self.d > 1:
                last = (cells.half[:, i] == k) & (cells.hi[:, i] >= half.t_far)
                uncertainty += cells.absolute[last].sum(axis=0)
                continue
            rows = [r for r, point in enumerate(tails) if point[0] == k]
            phi, u = tail_values[rows], np.array([tails[r][1] for r in rows])
            if not np.isfinite(phi).all():
                j = int(np.flatnonzero(~np.isfinite(phi).all(axis=0))[0])
                raise _fail(self.labels, f"{self.labels.column(j)}: its integrand is not finite "
                            f"near {half.describe(self.labels.variables[i])}")
            for j in range(m):
                if np.all(np.abs(phi[:, j]) <= _NEGLIGIBLE * self.largest[j]):
                    continue
                value, spread = self.power_law(phi[:, j], u, half, j)
                remainder[j] += value
                uncertainty[j] += spread
        return remainder, uncertainty

    def power_law(self, phi, u, half: _Half, j: int) -> tuple:
        """(remainder, uncertainty) on ``half`` from Phi(u) = u G(u) at three u near u_far:
        log |Phi| = log C + kappa log u + c u / u_far fitted through them, the remainder
        int_0^u_far C v^(kappa - 1) e^(c v / u_far) dv, to second order in c (c is of order
        u_far, the next term of the expansion of G at the edge), compared with the pure power
        law through the two nearest points."""
        where = half.describe(self.labels.variables[0])
        if not (np.all(phi > 0) or np.all(phi < 0)):
            raise _fail(self.labels, f"{self.labels.column(j)} did not converge: its integrand "
                        f"changes sign near {where}")
        sign, log_phi = np.sign(phi[0]), np.log(np.abs(phi))
        system = np.column_stack([np.ones(3), np.log(u), u / half.u_far])
        log_c, kappa, c = np.linalg.solve(system, log_phi)
        if not kappa > _MIN_KAPPA:
            raise self.diverges(j, half, kappa)
        at_far = sign * np.exp(log_c + kappa * np.log(half.u_far))
        value = at_far * (1 / kappa + c / (kappa + 1) + c * c / (2 * (kappa + 2)))
        kappa_1 = (log_phi[1] - log_phi[0]) / np.log(u[1] / u[0])
        plain = phi[0] * (half.u_far / u[0]) ** kappa_1 / max(kappa_1, _MIN_KAPPA)
        # near a nonzero edge, the last cells' points x = e - d are off by up to ulp(e) / 2
        rounding = 64 * np.finfo(float).eps
        if half.finite and half.edge != 0.0:
            rounding += (np.spacing(abs(half.edge)) / (2 * half.u_far * half.reach)
                         * max(1.0, abs(kappa - 1)) / min(1.0, kappa))
        return value, abs(value - plain) * min(1.0, 10 * abs(c)) + abs(value) * rounding

    # --- bisection ------------------------------------------------------------------------

    def refine(self, cells: _Cells, tolerance, pending) -> _Cells:
        """Bisect the cells with the largest errors, enough of them that the others' errors sum
        to at most half the tolerance, each along the axis where its error is largest."""
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(tolerance > 0, cells.error / tolerance, 0.0).max(axis=1)
            along = np.where(tolerance > 0, cells.along / tolerance, 0.0).max(axis=2)
        order = np.argsort(-share)
        remaining = np.sum(share) - np.cumsum(share[order])
        chosen = order[:int(np.searchsorted(-remaining, -0.5)) + 1]
        axis = np.argmax(along[chosen], axis=1)
        rows = np.arange(len(chosen))
        lo, hi = cells.lo[chosen], cells.hi[chosen]
        if np.all(hi[rows, axis] - lo[rows, axis] < _MIN_WIDTH):
            raise self.not_converged(pending)
        middle = 0.5 * (lo[rows, axis] + hi[rows, axis])
        left_hi, right_lo = hi.copy(), lo.copy()
        left_hi[rows, axis] = right_lo[rows, axis] = middle
        half = cells.half[chosen]
        children = _Cells(np.concatenate([lo, right_lo]), np.concatenate([left_hi, hi]),
                          np.concatenate([half, half]))
        values, X, _, _ = self.measure(children)
        self.check_finite(values, X)
        keep = np.ones(len(cells.lo), dtype=bool)
        keep[chosen] = False
        return _Cells.join([cells.take(keep), children])

    # --- messages -------------------------------------------------------------------------

    def diverges(self, j: int, half: _Half, kappa: float) -> ScoresymInputError:
        variable = self.labels.variables[0]
        if half.finite:
            shape, need = f"|{variable} - {half.edge:g}|^{kappa - 1:.3g}", "above -1"
        else:
            shape, need = f"|{variable}|^{-kappa - 1:.3g}", "below -1"
        return _fail(self.labels, f"{self.labels.column(j)} does not converge: near "
                     f"{half.describe(variable)} its integrand behaves like {shape} (an "
                     f"integral needs an exponent {need})")

    def not_converged(self, pending) -> ScoresymInputError:
        return _fail(self.labels, f"{self.labels.columns(pending)} did not converge within "
                     f"{self.evaluations} evaluations of its integrand (it may not be "
                     f"integrable over the domain of {self.labels.model})")


#: Monte Carlo tolerance, in standard errors of the paired difference.
DEFAULT_N_STDERR = 4.0


#: Quadrature tolerance: this many times the integrator's error estimate ...
QUAD_SAFETY = 100.0


#: ... but never below this relative floor (floating-point cancellation between the sides).
QUAD_FLOOR = 1e-9


def quadrature_tolerance(errors, values) -> float:
    """QUAD_SAFETY x the integrator's error estimates, floored at QUAD_FLOOR x the scale."""
    scale = max([1.0] + [abs(v) for v in values])
    return max(QUAD_SAFETY * float(np.sum(errors)), QUAD_FLOOR * scale)


def monte_carlo_mean(values: np.ndarray) -> tuple:
    """(mean, standard error of the mean) over the first axis."""
    values = np.asarray(values, dtype=float)
    n = values.shape[0]
    if n < 2:
        raise ScoresymInputError(f"Monte Carlo needs at least 2 samples, got {n}")
    return values.mean(axis=0), values.std(axis=0, ddof=1) / np.sqrt(n)


#: Monte Carlo tolerances never go below this relative floor: two sides equal up to rounding
#: (a zero-variance estimator, say) must not fail on a standard error of 1e-17.
MC_FLOOR = 1e-12


def mc_tolerance(stderr: float, n_stderr: float, *values) -> float:
    """``n_stderr`` standard errors, floored at MC_FLOOR x max(1, |values|)."""
    scale = max([1.0] + [abs(float(v)) for v in values])
    return max(n_stderr * float(stderr), MC_FLOOR * scale)


def resolve_samples(model, params: dict, samples, n: int, seed) -> np.ndarray:
    """The given samples as (n, d), or n draws from the model's sampler at ``params``."""
    from ..codegen.functions import as_points

    if samples is not None:
        X = as_points(samples, model.dim)
        bad = np.flatnonzero(~np.all(np.isfinite(X), axis=1))
        if len(bad):
            raise ScoresymInputError(f"samples hold NaN or infinite values ({len(bad)} row(s), "
                                     f"the first is row {bad[0]}: {X[bad[0]].tolist()})")
        model.require_inside(X)
        if len(X) < 2:
            raise ScoresymInputError(f"Monte Carlo needs at least 2 samples, got {len(X)}")
        return X
    if model.sampler is None:
        raise ScoresymInputError(
            f"model {model.name or model.log_density} has no sampler: pass samples=... "
            f"or use method='quad'")
    return model.sample(n, params, seed)


def resolve_method(method: str, model, samples) -> str:
    """'quad' or 'mc'; 'auto' means quadrature when d <= 2 and no samples are given."""
    if method == "auto":
        return "quad" if samples is None and model.dim <= QUAD_MAX_DIM else "mc"
    if method not in ("quad", "mc"):
        raise ScoresymInputError(f"method must be 'auto', 'quad' or 'mc', got {method!r}")
    return method


def quadrature_result(name: str, lhs: float, rhs: float, errors, details=None,
                      labels=("lhs", "rhs"), scale=None) -> CheckResult:
    """A quadrature CheckResult for lhs = rhs, with the tolerance of
    :func:`quadrature_tolerance` from the integrator's ``errors`` (and the values that set the
    scale of its floor, by default the two sides)."""
    lhs, rhs = float(lhs), float(rhs)
    tolerance = quadrature_tolerance(errors, (lhs, rhs) if scale is None else scale)
    return CheckResult(name, lhs, rhs, abs(lhs - rhs), tolerance, method="quad",
                       details=dict(details or {}), lhs_label=labels[0], rhs_label=labels[1])


def mc_result(name, lhs_values, rhs_values, n_stderr, details, labels=("lhs", "rhs")):
    """A Monte Carlo CheckResult for E[lhs] = E[rhs] from paired per-sample values: the error
    is the mean paired difference, the tolerance ``n_stderr`` of its standard errors."""
    difference, stderr = monte_carlo_mean(np.asarray(lhs_values) - np.asarray(rhs_values))
    lhs, rhs = float(np.mean(lhs_values)), float(np.mean(rhs_values))
    return CheckResult(name, lhs, rhs, abs(float(difference)),
                       mc_tolerance(stderr, n_stderr, lhs, rhs), stderr=float(stderr),
                       method="mc", details=details, lhs_label=labels[0], rhs_label=labels[1])
