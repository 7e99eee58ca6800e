"""The numeric side of a derivation: concrete building blocks and checks of a step's two sides.

Invariant: every claim compares two sides computed by different routes (different integrands,
an integral against an expectation, a finite difference against a formula), under the data
density p = f_data / Z_data at ``data_params`` (by default the model itself at ``params``):
quadrature for d <= 2 with a tolerance tied to the integrator's error, else Monte Carlo on the
data model's samples with the paired difference's standard error. A claim that needs quadrature
in d > 2 raises :class:`NotCheckable` with the reason.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import sympy

from ..codegen.functions import CompiledFunction, param_values
from ..errors import ScoresymInputError
from ..numerics.differences import probe_points, relative_error
from ..numerics.expectation import (
    DEFAULT_N_STDERR,
    integrate_over_domain,
    log_density_peak,
    mc_result,
    quadrature_expectation,
    quadrature_result,
    resolve_method,
    resolve_samples,
)
from ..numerics.result import CheckResult
from ..numerics.sampling import inverse_cdf_sample
from ..symbolic.boundary import METHOD, edge_limits, exact_values
from ..symbolic.operators import renamed
from .derivation import NotCheckable


class CheckContext:
    """Concrete, numerically stable pieces of a model and a data model, and claim evaluators."""

    def __init__(self, model, params, data_model=None, data_params=None, method="auto",
                 samples=None, n: int = 20_000, seed=0, n_stderr: float = DEFAULT_N_STDERR):
        self.model, self.params = model, dict(params)
        self.data_model = model if data_model is None else data_model
        self.data_params = dict(self.params if data_params is None else data_params)
        param_values(self.params, model.params)  # names what is missing or unknown
        param_values(self.data_params, self.data_model.params)
        model.require_conditions(self.params)
        self.data_model.require_conditions(self.data_params, "the data parameters")
        self.method = resolve_method(method, self.data_model, samples)
        self.samples, self.n, self.seed, self.n_stderr = samples, n, seed, n_stderr
        self.renames = model.data_renames(self.data_model)
        self.ops, model_shifts = model.stable_operators
        data_ops, data_shifts = self.data_model.stable_operators
        data_pieces, data_shifts = renamed([data_ops.log_density, *data_ops.score], data_shifts,
                                           self.renames)
        self.data_log_density = data_pieces[0]
        self.data_score = sympy.Matrix(data_pieces[1:])
        self.shifts = {**data_shifts, **model_shifts}
        data_symbols = tuple(self.renames.get(p, p) for p in self.data_model.params)
        self.all_params = tuple(model.params) + data_symbols
        self.arguments = {**self.params, **{self.renames.get(p, p).name: self.data_params[p.name]
                                            for p in self.data_model.params}}
        self._compiled = {}

    # --- concrete pieces ----------------------------------------------------------------------

    @property
    def variables(self) -> tuple:
        return self.model.variables

    @cached_property
    def log_Z(self) -> float:
        """log int f_data over its domain, by quadrature (d <= 2)."""
        self.require_quadrature("the normalizing constant")
        f = self.data_model.compiled().log_density
        peak = log_density_peak(self.data_model, self.data_params)
        value, _ = integrate_over_domain(
            self.data_model, lambda X: np.exp(f(X, **self.data_params) - peak))
        return float(np.log(value[0]) + peak)

    def density(self) -> sympy.Expr:
        """p(x) = f_data(x) / Z_data as an expression (Z by quadrature)."""
        return sympy.exp(self.data_log_density - sympy.Float(self.log_Z, 17))

    def require_quadrature(self, what: str) -> None:
        if self.data_model.dim > 2:
            raise NotCheckable(f"{what} needs quadrature, available for d <= 2")

    # --- evaluation ---------------------------------------------------------------------------

    def evaluate(self, exprs: list, X: np.ndarray) -> np.ndarray:
        """Concrete expressions at points X: (n, len(exprs))."""
        key = tuple(exprs)
        if key not in self._compiled:
            self._compiled[key] = CompiledFunction(
                "claim", sympy.Matrix(exprs), self.variables, self.all_params, "vector",
                shifts=self.shifts)
        return self._compiled[key](X, **self.arguments)

    @cached_property
    def data_samples(self) -> np.ndarray:
        """The given samples, the data model's exact samples, or, for a 1-D model without a
        sampler, numerical inverse-CDF draws."""
        if self.samples is None and self.data_model.sampler is None:
            if self.data_model.dim != 1:
                raise NotCheckable("Monte Carlo needs samples: pass samples=..., the model has "
                                   "no sampler")
            return inverse_cdf_sample(self.data_model, self.data_params, self.n,
                                      np.random.default_rng(self.seed))
        return resolve_samples(self.data_model, self.data_params, self.samples, self.n, self.seed)

    @cached_property
    def points(self) -> np.ndarray:
        """Points for pointwise claims: 50 data samples if there are any, else probe points."""
        try:
            return self.data_samples[:50]
        except NotCheckable:
            return probe_points(self.data_model, 50, np.random.default_rng(self.seed))

    # --- claims -------------------------------------------------------------------------------

    def expectations(self, name: str, lhs: sympy.Expr, rhs: sympy.Expr, labels=("lhs", "rhs"),
                     details=None) -> CheckResult:
        """E_p[lhs] = E_p[rhs], two integrands under the data density."""
        details = dict(details or {})
        if self.method == "quad":
            means, errors = quadrature_expectation(
                self.data_model, self.data_params, lambda X: self.evaluate([lhs, rhs], X))
            return quadrature_result(name, means[0], means[1], errors, details, labels)
        values = self.evaluate([lhs, rhs], self.data_samples)
        return mc_result(name, values[:, 0], values[:, 1], self.n_stderr,
                         {**details, "samples": len(values)}, labels)

    def integrals(self, name: str, lhs: sympy.Expr, rhs: sympy.Expr, rhs_constant: float = 0.0,
                  labels=("lhs", "rhs"), details=None) -> CheckResult:
        """int lhs dx = rhs_constant + int rhs dx over the data domain, by quadrature."""
        self.require_quadrature("an integral over the domain")
        values, errors = integrate_over_domain(self.data_model,
                                               lambda X: self.evaluate([lhs, rhs], X))
        return quadrature_result(name, values[0], float(values[1]) + rhs_constant, errors,
                                 details, labels)

    def expectation_vs_integral(self, name: str, lhs: sympy.Expr, rhs: sympy.Expr,
                                labels=("lhs", "rhs")) -> CheckResult:
        """E_p[lhs] (weighted quadrature, p normalized numerically) = int rhs dx (plain
        quadrature, rhs holding the normalized density explicitly)."""
        self.require_quadrature("an integral over the domain")
        means, mean_errors = quadrature_expectation(self.data_model, self.data_params,
                                                    lambda X: self.evaluate([lhs], X))
        values, errors = integrate_over_domain(self.data_model, lambda X: self.evaluate([rhs], X))
        return quadrature_result(name, means[0], values[0],
                                 np.concatenate([mean_errors, errors]), labels=labels)

    def pointwise(self, name: str, lhs, rhs: list, tolerance: float = 1e-9,
                  labels=("lhs", "rhs"), method="pointwise") -> CheckResult:
        """lhs(X) = rhs at the check points: lhs a callable X -> (n, k) or a list of
        expressions; ``error`` is the largest relative error |a - b| / max(1, |b|) over them.

        The values reported are deterministic under rounding: when every point is within the
        tolerance, those at a fixed point (the first check point, first component): the worst
        point, chosen by finite-difference noise among points that all agree, can move with a
        1-ulp change of the inputs. When the claim fails, those at the worst point, which a user
        needs to see. details["worst"] has the worst point's index, values and error either way.

        >>> from scoresym import zoo
        >>> b = zoo.get("gaussian_1d")
        >>> ctx = CheckContext(b.model, b.truth, seed=0)
        >>> x, = b.model.variables
        >>> def off_at(k, by):  # the points, one of them moved by ``by``
        ...     return lambda X: X + by * (np.arange(len(X)) == k)[:, None]
        >>> near = ctx.pointwise("near", off_at(30, 1e-12), [x])
        >>> near.ok, near.lhs == float(ctx.points[0, 0]), near.details["worst"]["index"]
        (True, True, 30)
        >>> far = ctx.pointwise("far", off_at(7, 1.0), [x])
        >>> far.ok, far.lhs == float(ctx.points[7, 0]) + 1, far.details["worst"]["index"]
        (False, True, 7)
        """
        X = self.points
        a = np.asarray(lhs(X) if callable(lhs) else self.evaluate(list(lhs), X), float)
        b = np.asarray(self.evaluate(list(rhs), X), float)
        per_point = [relative_error(a[i], b[i]) for i in range(len(X))]  # (error, lhs, rhs)
        k = int(np.argmax([e for e, _, _ in per_point]))
        error, worst_lhs, worst_rhs = per_point[k]
        left, right = (float(a[0, 0]), float(b[0, 0])) if error <= tolerance \
            else (worst_lhs, worst_rhs)
        worst = {"index": k, "lhs": worst_lhs, "rhs": worst_rhs, "error": error}
        return CheckResult(name, left, right, error, tolerance, method=method,
                           details={"points": len(X), "worst": worst}, lhs_label=labels[0],
                           rhs_label=labels[1])

    def boundary_total(self, g: list) -> tuple:
        """(sum_i int [p g_i]_{edges} dx_-i, terms): the boundary terms of integrating
        int p d_i g_i by parts, each a one-sided symbolic limit (see :mod:`..checks.boundary`)."""
        values = {**exact_values(self.model, self.params),
                  **{self.renames.get(p, p): v for p, v in
                     exact_values(self.data_model, self.data_params).items()}}
        log_p = (self.data_model.log_density.xreplace(self.renames).xreplace(values)
                 - sympy.Float(self.log_Z, 17))
        domain = {v: self.data_model.domain[w]
                  for v, w in zip(self.variables, self.data_model.variables)}
        terms = edge_limits(log_p, [gi.xreplace(values) for gi in g], self.variables, domain)
        total = 0.0
        for t in terms:
            if t["term"] is None:
                raise ScoresymInputError(f"the boundary term at {t['variable']} -> {t['edge']} "
                                         "could not be decided")
            sign = -1.0 if t["edge"] == self.domain_of(t["variable"])[0] else 1.0
            total += sign * self._integrate_over_others(t["term"], t["variable"])
        return total, terms

    def boundary_claim(self, g: list) -> CheckResult:
        """The claim that the boundary term of integrating p d_i g_i by parts is 0: exact
        edge limits (see :meth:`boundary_total`), integrated over the other coordinates."""
        self.require_quadrature("the normalized density at the edges")
        total, terms = self.boundary_total(g)
        failing = [f"{t['variable']} -> {t['edge']}: {t['term']}" for t in terms
                   if t["term"] != 0]
        return CheckResult("boundary term", total, 0.0, abs(total), 1e-12, method=METHOD,
                           details={"not_vanishing": failing}, lhs_label="boundary",
                           rhs_label="required")

    def domain_of(self, name: str) -> tuple:
        k = [v.name for v in self.variables].index(name)
        return self.data_model.domain[self.data_model.variables[k]]

    def _integrate_over_others(self, term: sympy.Expr, name: str) -> float:
        if term.is_zero:
            return 0.0
        if not term.free_symbols:
            return float(term)
        others = [v for v in self.variables if v.name != name and term.has(v)]
        if len(others) != 1:
            raise NotCheckable("a boundary term depending on several coordinates")
        (other,) = others
        f = CompiledFunction("edge", term, (other,), (), "scalar")
        k = self.variables.index(other)
        lo, hi = (float(b) for b in self.data_model.domain[self.data_model.variables[k]])
        from scipy.integrate import quad

        return float(quad(lambda t: f(np.array([[t]]))[0], lo, hi, limit=200)[0])
