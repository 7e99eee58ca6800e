"""Stein's identity, E_p[g(x)^T grad log p(x)] = -E_p[div g(x)], checked for a model's density.

Invariant: the two sides are computed independently (the score side uses the compiled score, the
divergence side only g) and compared by quadrature against the normalized density (d <= 2), or
by Monte Carlo on samples with the paired difference's standard error. The identity needs the
boundary term f(x) g(x) to vanish at the edges of the domain (see :mod:`.boundary`); where it
does not, this check fails: by the numbers, or, where quadrature cannot converge because a side is
proven infinite (a limit at an edge), as a failed result naming that expectation and edge.

>>> from scoresym import zoo
>>> b = zoo.get("gaussian_1d")
>>> check_stein(b.model, b.truth, "x**2", method="quad").ok   # E[x^2 s] = -E[2x] = -1
True
"""

from __future__ import annotations

import numpy as np
import sympy

from ..codegen.functions import param_values
from ..errors import ScoresymInputError
from ..numerics.ad import field_and_divergence
from ..numerics.expectation import (
    DEFAULT_N_STDERR,
    mc_result,
    quadrature_expectation,
    quadrature_result,
    resolve_method,
    resolve_samples,
)
from ..numerics.result import CheckResult, infinite_result
from ..symbolic.boundary import divergent_edges, exact_values
from ..symbolic.fields import vector_field
from ..symbolic.operators import divergence
from .check import Check, CommandLine, Planned, Subject, draws


def stein_sides(model, field):
    """A function X -> (n, 2): per point, g(x)^T s(x) and div g(x)."""
    if field.symbolic is not None:
        g = field.symbolic
        div_g = divergence(g, model.variables)
        return model.lambdify().compile(
            "stein_sides", lambda ops: sympy.Matrix([g.dot(ops.score), div_g]), "vector")
    score = model.lambdify().score

    def sides_of_callable(X, **params):
        values, divergence = field_and_divergence(field.function, X)
        return np.column_stack([np.sum(values * score(X, **params), axis=1), divergence])

    return sides_of_callable


def check_stein(model, params, test_function=None, samples=None, method="auto", seed=None,
                n: int = 20_000, n_stderr: float = DEFAULT_N_STDERR) -> CheckResult:
    """Check E_p[g^T grad log p] = -E_p[div g] for the model at ``params``.

    ``test_function``: None (g_i = x_i + x_i^2), a string ("x**2" or "x1**2, x2"), SymPy
    expression(s), or an autograd.numpy callable (n, d) -> (n, d). ``method``: "quad" (d <= 2),
    "mc" (``samples``, or n draws from the model's sampler with ``seed``), or "auto".

    Stein's identity, with s(x) = grad_x log f(x) and p = f / Z:

        lhs = E_p[g(x)^T s(x)] = -E_p[div g(x)] = rhs,

    true when f g vanishes at the edges of the domain (see :func:`check_boundary`).

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_1d")                                # N(0.5, 2), g = x^2
    >>> r = check_stein(b.model, b.truth, "x**2", method="quad")
    >>> r.ok, round(r.lhs, 6), round(r.rhs, 6)                    # -E[2 x] = -2 mu = -1
    (True, -1.0, -1.0)
    >>> e = zoo.get("exponential")                   # g = 1: f g = f does not vanish at 0
    >>> check_stein(e.model, e.truth, "1", method="quad").ok      # E[s] = -lam, -E[0] = 0
    False
    """
    param_values(params, model.params)  # name what is missing, unknown or not a number
    field = vector_field(model, test_function)
    method = resolve_method(method, model, samples)
    sides = stein_sides(model, field)
    name = f"stein[{model.name or 'model'}, {field.label}]"
    labels = ("E[g.s]", "-E[div g]")
    if method == "quad":
        try:
            (lhs, div_g), errors = quadrature_expectation(model, params,
                                                          lambda X: sides(X, **params))
        except ScoresymInputError:
            infinite = infinite_sides(model, params, field)
            if not infinite:
                raise
            return infinite_result(name, infinite, labels)
        return quadrature_result(name, lhs, -div_g, errors, labels=labels,
                                 details={"test_function": field.label,
                                          "integrator_error": float(np.sum(errors))})
    X = resolve_samples(model, params, samples, n, seed)
    values = sides(X, **params)
    return mc_result(name, values[:, 0], -values[:, 1], n_stderr,
                     {"test_function": field.label, "samples": len(X), "n_stderr": n_stderr},
                     labels)


def infinite_sides(model, params, field) -> list:
    """Reasons why E[g.s] or E[div g] is infinite at these parameter values (proven by the
    limits of :func:`scoresym.symbolic.boundary.divergent_edges`), or [] when none can be
    shown (always [] for a callable g)."""
    if field.symbolic is None:
        return []
    g = field.symbolic
    integrands = {"g.s": g.dot(model.score), "div g": divergence(g, model.variables)}
    return divergent_edges(model.log_density, integrands, model.variables, model.domain,
                           exact_values(model, params))


def _plan(subject: Subject) -> list:
    model, truth = subject.model, subject.truth
    g, valid = subject.builtin.stein_test_function, subject.builtin.stein_valid
    if subject.quadrature:
        return [Planned("stein", lambda: check_stein(model, truth, g, method="quad"), valid)]
    if subject.has_sampler:
        return [Planned("stein", lambda: check_stein(
            model, truth, g, samples=subject.sample(20 * subject.n)), valid)]
    return []


def _command_line(model, params: dict, options: CommandLine):
    return check_stein(model, params, options.test_function, samples=draws(model, params, options),
                       method=options.method, seed=options.seed, n=options.n)


CHECK = Check("stein", check_stein, "E[g . grad log p] = -E[div g] for a test function g",
              plan=_plan, command_line=_command_line)
