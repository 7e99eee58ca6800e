"""The verification suite: every check over every built-in model, with the outcome each should have.

Invariant: a row passes when the check's verdict equals the expected one. Checks are expected to
pass except where the mathematics says they must not: for a model whose boundary term p s does not
vanish (``Builtin.hyvarinen_valid`` is False, e.g. the exponential density on (0, oo)), the
boundary and Fisher checks are expected to fail, and a row passes only if they do. A check that
could not run reaches no verdict: its row has status "error" and never passes, whatever was
expected. An unexpected exception inside a check (a bug) is kept in its row as an internal error,
so the rest of the table is never lost.

>>> rows = run_suite(["gaussian_1d"], quick=True, seed=0)
>>> all(row.passed for row in rows)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy

from . import zoo
from .checks import CHECKS, CheckResult, Subject, Suite, check_boundary
from .errors import ScoresymInputError
from .numerics.sampling import inverse_cdf_sample
from .symbolic.asymptotics import integrable
from .symbolic.boundary import METHOD, exact_values
from .symbolic.conditions import field_products, score_products, vanishes_at
from .symbolic.operators import divergence
from .weights import choose_weight, distance_to_edges


@dataclass
class Row:
    """One check on one model: its result (or why it could not run) and whether that is the
    expected outcome."""

    model: str
    check: str
    result: CheckResult | None
    expected_ok: bool = True
    error: str | None = None      # why the check could not run
    internal: bool = False        # the error is a bug in scoresym, not a property of the model
    traceback: str | None = None  # of an internal error, for ``scoresym --debug``

    @property
    def passed(self) -> bool:
        return self.error is None and self.result.ok == self.expected_ok

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        if not self.passed:
            return "FAIL"
        return "pass" if self.expected_ok else "pass (fails as it must)"

    def as_dict(self) -> dict:
        """The row for JSON: numbers as floats (non-finite ones are made null with a reason by
        :func:`scoresym.report.json_safe`)."""
        row = {"model": self.model, "check": self.check, "status": self.status,
               "expected_ok": self.expected_ok, "passed": self.passed}
        if self.error is not None:
            return {**row, "error": self.error, "internal": self.internal}
        r = self.result
        number = lambda v: None if v is None else float(v)  # noqa: E731
        return {**row, "name": r.name, "lhs": number(r.lhs), "rhs": number(r.rhs),
                "error": number(r.error), "tolerance": number(r.tolerance),
                "stderr": number(r.stderr), "method": r.method, "ok": r.ok,
                "reason": r.details.get("reason")}


def _row(name: str, check: str, thunk, expected: bool) -> Row:
    """Run one check: its result, or the reason it could not run (an internal error when the
    exception is not one scoresym raises on purpose)."""
    try:
        return Row(name, check, thunk(), expected)
    except ScoresymInputError as error:
        return Row(name, check, None, expected, error=str(error))
    except Exception as error:  # a bug: keep it in the table, report it, exit 3
        import traceback

        return Row(name, check, None, expected, error=f"internal error: "
                   f"{type(error).__name__}: {error}", internal=True,
                   traceback=traceback.format_exc())


def user_builtin(model, params: dict, weight=None):
    """A user's model at ``params`` as a suite entry. The parameters must meet the model's
    conditions (else ScoresymInputError naming the ones they break). The verdicts expected of
    the boundary and Fisher rows follow from the boundary conditions at these values (decided
    by exact edge limits where undecided symbolically); on a bounded domain without a
    ``weight``, the fit uses the one :func:`scoresym.weights.choose_weight` proves valid with
    finite-variance gradients. A 1-D model without a sampler is drawn from by numerical inverse
    CDF (the model itself is left as it is). ``notes`` say what was decided and why."""
    model.require_conditions(params)
    products = score_products(model)
    edges = vanishes_at(model, params, products)
    how = "the leading behaviour of p s at each edge"
    if edges is None:
        edges = check_boundary(model, params).ok
        how = "exact limits of p s at each edge"
    valid = vanishes_at(model, params, products, bracket=True)
    valid = edges if valid is None else valid
    validity = "valid" if valid else "invalid"
    if valid and not edges:
        validity += " (the terms p s at the two edges of an interval cancel, not vanish)"
    notes = [f"conditions for a density: {model.conditions}",
             f"plain score matching (boundary term p s) is {validity} at these values "
             f"(decided by {how})"]
    if weight is None and distance_to_edges(model) is not None:
        choice = choose_weight(model, params)
        weight = choice.weight
        notes.append(f"fit weight: {choice}")
    elif weight is not None:
        notes.append(f"fit weight: {weight} (given)")
    g, stein_valid = stein_test_function(model, params)
    notes.append(f"Stein's identity is checked with g = ({', '.join(map(str, g))}), whose "
                 f"boundary term {'vanishes' if stein_valid else 'does not vanish'}")
    sampler = model.sampler
    if sampler is None and model.dim == 1:
        def sampler(rng, n, p):
            return inverse_cdf_sample(model, p, n, rng)
    return zoo.Builtin(model.name or "model", model, dict(params), "user density",
                       hyvarinen_valid=valid, fit_weight=weight, sampler=sampler,
                       edges_vanish=edges, notes=tuple(notes), stein_test_function=g,
                       stein_valid=stein_valid)


def stein_test_function(model, params: dict) -> tuple:
    """(g, whether Stein's identity must hold with it at ``params``): the first of
    g_i = x_i + x_i^2, x_i, tanh(x_i) (each also times the distance to the edges on a bounded
    domain, which tames a density that blows up there) whose boundary term vanishes and whose
    two expectations E[g.s] and E[div g] are proven finite (a Cauchy density has no
    E[x**2 s]); else the default, expected to hold where its boundary term vanishes."""
    xs = model.variables
    bases = [[v + v**2 for v in xs], list(xs), [sympy.tanh(v) for v in xs]]
    distances = distance_to_edges(model)
    candidates = [c for g in bases
                  for c in ([g] if distances is None else
                            [g, [t * gi for t, gi in zip(distances, g)]])]
    for g in candidates:
        if vanishes_at(model, params, field_products(model, g), bracket=True) and \
                stein_expectations_finite(model, params, g):
            return g, True
    g = candidates[0]
    holds = vanishes_at(model, params, field_products(model, g), bracket=True)
    if holds is None:  # undecided symbolically: exact edge limits at these values decide
        holds = check_boundary(model, params, test_function=g).ok
    return g, bool(holds)


def stein_expectations_finite(model, params: dict, g: list) -> bool:
    """Whether E|g.s| and E|div g| are proven finite at ``params`` (every edge of every
    coordinate, by the asymptotic engine)."""
    values = exact_values(model, params)
    log_f = model.log_density.xreplace(values)
    pieces = [dot for dot in (sympy.Add(*[gi * si for gi, si in zip(g, model.score)]),
                              divergence(g, model.variables))]
    for piece in pieces:
        piece = piece.xreplace(values)
        if piece == 0:
            continue
        for v in model.variables:
            lo, hi = model.domain[v]
            for edge, direction in ((lo, "+"), (hi, "-")):
                if integrable(log_f + sympy.log(piece**2) / 2, v, edge, direction) \
                        is not sympy.true:
                    return False
    return True


def plan(builtins: list, suite: Suite, whole: bool) -> list:
    """[(model name, Planned)]: every registered check's rows for each built-in entry, in the
    registry's order, then (for the whole suite of built-ins) the rows each check runs once."""
    rows = [(builtin.name, planned) for builtin in builtins
            for check in CHECKS.values() if check.plan
            for planned in check.plan(Subject(builtin, suite))]
    if whole:
        rows += [(check.once_subject, planned) for check in CHECKS.values() if check.plan_once
                 for planned in check.plan_once(suite)]
    return rows


def run_suite(names=None, quick: bool = False, seed=0, progress: Callable = None,
              builtins=None) -> list:
    """Run every registered check over the named built-in models (default: all), or over
    ``builtins`` (e.g. a user density from :func:`user_builtin`), and return the rows."""
    entries = list(builtins) if builtins else [zoo.get(name) for name in (names or zoo.names())]
    whole = not builtins and len(entries) == len(zoo.names())
    planned = plan(entries, Suite(quick=quick, seed=seed), whole)
    rows = []
    for k, (name, step) in enumerate(planned):
        if progress:
            progress(name, step.label, k, len(planned))
        rows.append(_row(name, step.label, step.run, step.expected_ok))
    return rows


def counts(rows: list) -> dict:
    """{"passed", "failed", "errors"}: rows as expected, rows with the wrong verdict, rows that
    reached no verdict."""
    errors = sum(row.error is not None for row in rows)
    passed = sum(row.passed for row in rows)
    return {"passed": passed, "failed": len(rows) - passed - errors, "errors": errors}


def summary_line(rows: list) -> str:
    """ "87 passed, 0 failed" (and ", 2 could not run" when some could not)."""
    c = counts(rows)
    tail = f", {c['errors']} could not run" if c["errors"] else ""
    return f"{c['passed']} passed, {c['failed']} failed{tail}"


def report_json(rows: list, notes=()) -> str:
    """The rows and their counts (and ``notes`` on the models) as strict JSON (no NaN or
    Infinity tokens)."""
    from .report import to_json

    extra = {"notes": list(notes)} if notes else {}
    return to_json({"rows": [row.as_dict() for row in rows], **counts(rows), **extra}, indent=1)


def report_markdown(rows: list, notes=()) -> str:
    """The table in Markdown (after ``notes`` on the models), with the reasons of checks that
    could not run."""
    lines = ["# scoresym verify", ""] + [f"- {note}" for note in notes] + \
        ([""] if notes else []) + [summary_line(rows), "",
             "| model | check | lhs | rhs | abs diff | tolerance | method | status |",
             "|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    errors = [row for row in rows if row.error is not None]
    if errors:
        lines += ["", "## Checks that could not run", ""]
        lines += [f"- {row.model} / {row.check}: {row.error}" for row in errors]
    return "\n".join(lines) + "\n"


def write_report(rows: list, folder, notes=()) -> tuple:
    """report.md and report.json in ``folder`` (see :mod:`scoresym.outputs`: written atomically,
    never through a symbolic link); returns their paths."""
    from .outputs import write_text

    return (write_text(folder, "report.md", report_markdown(rows, notes)),
            write_text(folder, "report.json", report_json(rows, notes) + "\n"))


def _cells(row: Row) -> list:
    if row.error is not None:
        return [row.model, row.check, "", "", "", "", "error", row.status]
    r = row.result
    return [row.model, row.check, f"{r.lhs:.6g}", f"{r.rhs:.6g}", f"{r.error:.2e}",
            f"{r.tolerance:.2e}", _short(r.method), row.status]


def format_rows(rows: list) -> str:
    """A fixed-width table: model, check, both sides, |diff|, tolerance and status."""
    header = (f"{'model':<20} {'check':<19} {'lhs':>12} {'rhs':>12} {'|diff|':>9} "
              f"{'tolerance':>9}  {'method':<8} status")
    lines = [header, "-" * len(header)]
    for row in rows:
        model, check, lhs, rhs, diff, tolerance, method, status = _cells(row)
        lines.append(f"{model:<20} {check:<19} {lhs:>12} {rhs:>12} {diff:>9} {tolerance:>9}  "
                     f"{method:<8} {status}")
    return "\n".join(lines)


def _short(method: str) -> str:
    return {"finite differences": "fd", METHOD: "limit"}.get(method, method)
