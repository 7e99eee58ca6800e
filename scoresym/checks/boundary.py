"""Boundary terms of the integration by parts behind Stein's identity and score matching.

Invariant: for each coordinate x_i and each edge e of its domain, the term is the one-sided limit
of f(x) g_i(x) as x_i -> e, with the parameters replaced by exact rationals and the other
coordinates left free: 0 where the asymptotic engine proves it (for the score, first for every
parameter value the model's conditions allow: an answer computed once per model and shared
with ``fit``'s own boundary test), else ``sympy.limit``'s value, within a time budget each
(see :func:`scoresym.symbolic.boundary.edge_term`). The check passes
only when every term is exactly zero; a term that cannot be decided (or not in time) counts as
not vanishing. With no test function, g is the model's own score, the term of the Hyvarinen
objective (p s at the edges). Parameters that break the model's conditions are refused.

>>> from scoresym import zoo
>>> b = zoo.get("exponential")
>>> check_boundary(b.model, b.truth, "x").ok, check_boundary(b.model, b.truth, "1").ok
(True, False)
"""

from __future__ import annotations

import numpy as np

from ..codegen.functions import param_values
from ..numerics.differences import probe_points
from ..numerics.result import CheckResult
from ..symbolic.boundary import METHOD, boundary_terms
from ..symbolic.conditions import proven_edges, score_products
from ..symbolic.fields import vector_field
from .check import Check, CommandLine, Planned, Subject, no_samples


def check_boundary(model, params, test_function=None, weight=None) -> CheckResult:
    """Check that f(x) g_i(x) vanishes at both edges of every coordinate's domain.

    ``test_function`` as in :func:`scoresym.checks.stein.check_stein`, symbolic only; None
    means g = the model's score (the Hyvarinen objective's boundary term), or with ``weight``
    (generalized score matching) g_i = w_i s_i.

    For every coordinate x_i and each edge e of its domain, the one-sided limit

        lim_{x_i -> e} f(x) g_i(x) = 0

    must hold exactly (the other coordinates free); ``details["not_vanishing"]`` lists the
    terms that do not vanish or cannot be decided.

    >>> from scoresym import zoo
    >>> b = zoo.get("exponential")                  # f = exp(-lam x) on (0, oo), s = -lam
    >>> r = check_boundary(b.model, b.truth)        # f s -> -lam = -3/2 as x -> 0
    >>> r.ok, r.details["not_vanishing"]
    (False, ['x -> 0: -3/2'])
    >>> check_boundary(b.model, b.truth, weight="x").ok   # f x s -> 0: weighted, it vanishes
    True
    """
    param_values(params, model.params)  # name what is missing, unknown or not a number
    model.require_conditions(params)
    proven = set()
    if test_function is None:  # edges proven for every parameter value: shared with fit
        weights = model.weights(weight)
        proven = proven_edges(model, score_products(model, weights))
    if test_function is None and weight is not None:
        g = [w * s for w, s in zip(weights, model.score)]
        label = f"g=w·score, w={weights[0] if len(set(weights)) == 1 else tuple(weights)}"
    elif test_function is None:
        g, label = model.score, "g=score"
    else:
        field = vector_field(model, test_function)
        if field.symbolic is None:
            from ..errors import ScoresymInputError

            raise ScoresymInputError("check_boundary needs a symbolic test function, "
                                     "not a callable")
        g, label = field.symbolic, field.label
    terms = boundary_terms(model, params, g, proven=proven)
    rng = np.random.default_rng(0)
    for t in terms:
        t["size"] = _size(model, t["term"], rng)
        t["vanishes"] = t["term"] == 0
    worst = max(terms, key=lambda t: t["size"])
    failing = [f"{t['variable']} -> {t['edge']}: "
               f"{t['term'] if t['term'] is not None else 'undecided'}"
               for t in terms if not t["vanishes"]]
    details = {"test_function": label, "terms": terms, "not_vanishing": failing}
    size = worst["size"] if failing else 0.0
    return CheckResult(f"boundary[{model.name or 'model'}, {label}]", size, 0.0, size, 0.0,
                       method=METHOD, details=details, lhs_label="max |f g| at edges",
                       rhs_label="required")


def _size(model, term, rng) -> float:
    """|term| as a number; for a term in the other coordinates, its largest |value| at a few
    points; inf when undecided."""
    if term is None:
        return float("inf")
    if not term.free_symbols:
        return abs(float(term))
    X = probe_points(model, 5, rng)
    points = [dict(zip(model.variables, row)) for row in X]
    return max(abs(float(term.evalf(subs=p))) for p in points)


def _plan(subject: Subject) -> list:
    builtin = subject.builtin
    expected = builtin.hyvarinen_valid if builtin.edges_vanish is None else builtin.edges_vanish
    return [Planned("boundary", lambda: check_boundary(subject.model, subject.truth), expected)]


def _command_line(model, params: dict, options: CommandLine):
    no_samples("boundary", options)
    return check_boundary(model, params, options.test_function, weight=options.weight)


CHECK = Check("boundary", check_boundary, "f g vanishes at every edge of the domain (g the "
              "score by default)", plan=_plan, command_line=_command_line)
