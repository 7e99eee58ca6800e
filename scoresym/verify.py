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

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy

from . import zoo
from .errors import ScoresymInputError
from .estimate import fit
from .numerics.differences import probe_points
from .numerics.sampling import with_numerical_sampler
from .checks import (CheckResult, check_autodiff, check_boundary, check_dsm_gaussian_variance,
                     check_dsm_limit, check_finite_differences, check_fisher, check_hutchinson,
                     check_ssm_esm, check_stein, check_trace_variance)


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


def perturbed(params: dict) -> dict:
    """Model parameters away from the truth (x 1.2 + 0.1; positive stays positive)."""
    return {k: 1.2 * v + 0.1 for k, v in params.items()}


def _points(b, n: int, seed):
    """n draws from the model at its truth, or probe points when it has no sampler (enough for
    the pointwise identities; the checks that need the density's own samples are left out)."""
    if b.has_sampler:
        return b.sample(n, seed=seed)
    return probe_points(b.model, n, np.random.default_rng(seed))


def checks_for(b, quick: bool, seed) -> list:
    """[(check name, thunk returning a CheckResult, expected ok)] for built-in ``b``."""
    m, truth = b.model, b.truth
    n = 300 if quick else 2000
    quad = m.dim <= 2
    X = _points(b, n, seed)
    plan: list = [
        ("finite differences", lambda: check_finite_differences(m, truth, n=20, seed=seed), True),
        ("autodiff", lambda: check_autodiff(m, truth, X[:200]), True),
        ("boundary", lambda: check_boundary(m, truth), b.hyvarinen_valid),
        ("ssm = esm", lambda: check_ssm_esm(m, truth, X[:n // 2], n_projections=8 if quick else 32,
                                            seed=seed), True),
        ("trace variance", lambda: check_trace_variance(m, truth, X[:100], seed=seed), True),
    ]
    if quad or b.has_sampler:
        plan[2:2] = [
            ("stein", lambda: check_stein(m, truth, method="quad") if quad
             else check_stein(m, truth, samples=b.sample(20 * n, seed=seed)), True)]
        plan[4:4] = [
            ("fisher", lambda: check_fisher(m, truth, m, perturbed(truth), method="quad") if quad
             else check_fisher(m, truth, m, perturbed(truth),
                               samples=b.sample(20 * n, seed=seed)), b.hyvarinen_valid)]
    if m.params and b.has_sampler and all(lo == -sympy.oo and hi == sympy.oo
                                          for lo, hi in m.domain.values()):
        # (on a bounded domain the noise of DSM leaves the support of the model)
        plan.append(("dsm -> esm", lambda: check_dsm_limit(m, truth, X, seed=seed,
                                                           batches=10 if quick else 20), True))
    if m.params and b.has_sampler:
        plan.append(("fit recovers truth", lambda: check_fit(b, 1000 if quick else 4000, seed),
                     True))
    if b.name == "gaussian_1d":
        plan.append(("dsm fits q_sigma", lambda: check_dsm_gaussian_variance(
            m, X, sigma=0.5, replicates=6 if quick else 20, seed=seed), True))
    return plan


def check_fit(b, n: int, seed) -> CheckResult:
    """Score matching (weighted where the model needs it) on n exact draws at the truth, started
    away from the truth (0.8 truth + 0.1; a mixture's symmetric start is a saddle): every
    estimate within 4 sandwich standard errors of the truth."""
    init = {k: 0.8 * v + 0.1 for k, v in b.truth.items()}
    r = fit(b.model, b.sample(n, seed=seed), weight=b.fit_weight, init=init)
    z = {k: abs(r.params[k] - b.truth[k]) / r.stderr[k] for k in r.names}
    worst = max(z, key=z.get)
    return CheckResult(f"fit[{b.name}]", r.params[worst], b.truth[worst],
                       abs(r.params[worst] - b.truth[worst]), 4 * r.stderr[worst],
                       stderr=r.stderr[worst], method=r.method,
                       details={"params": r.params, "stderr": r.stderr, "weight": b.fit_weight},
                       lhs_label=f"{worst} estimate", rhs_label="truth")


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
    """A user's model as a suite entry, claimed valid: a 1-D model without a sampler gets the
    numerical inverse-CDF sampler."""
    with_numerical_sampler(model)
    return zoo.Builtin(model.name or "model", model, dict(params), "user density",
                       fit_weight=weight)


def run_suite(names=None, quick: bool = False, seed=0, progress: Callable = None,
              builtins=None) -> list:
    """Run every check over the named built-in models (default: all), or over ``builtins``
    (e.g. a user density from :func:`user_builtin`), and return the rows."""
    entries = list(builtins) if builtins else [zoo.get(name) for name in (names or zoo.names())]
    names = [b.name for b in entries]
    plan = [(b.name, check, thunk, expected) for b in entries
            for check, thunk, expected in checks_for(b, quick, seed)]
    rows = []
    for k, (name, check, thunk, expected) in enumerate(plan):
        if progress:
            progress(name, check, k, len(plan))
        rows.append(_row(name, check, thunk, expected))
    if not builtins and len(names) == len(zoo.names()):
        A = np.array([[2.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 0.7]])
        for projection in ("rademacher", "gaussian", "sphere"):
            rows.append(Row("(matrix)", f"hutchinson {projection}",
                            check_hutchinson(A, projection, n_draws=20_000, seed=seed)))
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


def report_json(rows: list) -> str:
    """The rows and their counts as strict JSON (no NaN or Infinity tokens)."""
    from .report import to_json

    return to_json({"rows": [row.as_dict() for row in rows], **counts(rows)}, indent=1)


def report_markdown(rows: list) -> str:
    """The table in Markdown, with the reasons of checks that could not run."""
    lines = ["# scoresym verify", "", summary_line(rows), "",
             "| model | check | lhs | rhs | abs diff | tolerance | method | status |",
             "|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    errors = [row for row in rows if row.error is not None]
    if errors:
        lines += ["", "## Checks that could not run", ""]
        lines += [f"- {row.model} / {row.check}: {row.error}" for row in errors]
    return "\n".join(lines) + "\n"


def write_report(rows: list, folder) -> tuple:
    """report.md and report.json in ``folder`` (see :mod:`scoresym.outputs`: written atomically,
    never through a symbolic link); returns their paths."""
    from .outputs import write_text

    return (write_text(folder, "report.md", report_markdown(rows)),
            write_text(folder, "report.json", report_json(rows) + "\n"))


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
    return {"finite differences": "fd", "sympy.limit": "limit"}.get(method, method)
