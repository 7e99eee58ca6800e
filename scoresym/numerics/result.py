"""CheckResult: the one result type of every numerical check.

Invariant: ``ok`` is True exactly when ``error <= tolerance`` and both sides are finite; a check
can always fail. ``stderr`` is None for exact or quadrature comparisons and the Monte Carlo
standard error otherwise.

>>> r = CheckResult("demo", lhs=1.0, rhs=1.0 + 1e-12, error=1e-12, tolerance=1e-8)
>>> r.ok, str(r)
(True, 'demo: lhs = 1.000000, rhs = 1.000000, |diff| 1e-12 <= 1e-08: ok')
>>> str(CheckResult("mc", 0.51, 0.50, 0.01, 0.02, stderr=0.005, method="mc",
...                 lhs_label="E[g.s]", rhs_label="-E[div g]"))
'mc: E[g.s] = 0.510000, -E[div g] = 0.500000, |diff| 0.01 = 2 SE <= 4 SE (mc): ok'
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field


@dataclass
class CheckResult:
    """The outcome of comparing two numbers that the mathematics says are equal.

    ``lhs`` and ``rhs`` are the two sides, ``error`` their distance (usually abs(lhs - rhs),
    relative for some checks) and ``tolerance`` the bound it must meet:

        ok = (lhs, rhs and error are finite) and error <= tolerance,

    where a Monte Carlo check (``stderr`` set) takes tolerance = n_stderr * stderr (floored
    just above rounding). ``bool(result)`` is ``result.ok``.

    >>> r = CheckResult("E[x] = 0", lhs=0.01, rhs=0.0, error=0.01, tolerance=0.05)
    >>> r.ok, bool(CheckResult("E[x] = 0", 0.2, 0.0, 0.2, 0.05))
    (True, False)
    >>> CheckResult("nan", float("nan"), 0.0, 0.0, 1.0).ok       # a side that is not finite
    False
    """

    name: str
    lhs: float
    rhs: float
    error: float
    tolerance: float
    stderr: float | None = None
    details: dict = field(default_factory=dict)
    method: str = ""
    lhs_label: str = "lhs"
    rhs_label: str = "rhs"

    @property
    def ok(self) -> bool:
        values = (self.lhs, self.rhs, self.error)
        return bool(all(math.isfinite(v) for v in values) and self.error <= self.tolerance)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        relation = "<=" if self.ok else ">"
        how = f" ({self.method})" if self.method else ""
        if self.stderr and self.tolerance <= 100 * self.stderr:  # Monte Carlo, in SEs
            comparison = (f"|diff| {self.error:.3g} = {self.error / self.stderr:.3g} SE {relation} "
                          f"{self.tolerance / self.stderr:.3g} SE")
        else:
            comparison = f"|diff| {self.error:.3g} {relation} {self.tolerance:.3g}"
        lhs, rhs = self.lhs + 0.0, self.rhs + 0.0  # no "-0.000000"
        return (f"{self.name}: {self.lhs_label} = {lhs:.6f}, {self.rhs_label} = "
                f"{rhs:.6f}, {comparison}{how}: {'ok' if self.ok else 'FAILED'}")

    def _repr_html_(self) -> str:
        """Jupyter's display: the verdict and the one-line summary, then a table of the
        comparison (both sides, the error, the tolerance, the standard error, the method)
        and one of the details."""
        colour = "#1b7837" if self.ok else "#b2182b"
        compared = [(self.lhs_label, f"{self.lhs:.10g}"), (self.rhs_label, f"{self.rhs:.10g}"),
                    ("|diff|", f"{self.error:.3g}"), ("tolerance", f"{self.tolerance:.3g}")]
        if self.stderr:
            compared.append(("standard error", f"{self.stderr:.3g}"))
        compared.append(("method", self.method or "-"))
        return (f"<div><b style='color:{colour}'>{'ok' if self.ok else 'FAILED'}</b> "
                f"<code>{html.escape(str(self))}</code>"
                f"{_html_table(compared)}{_html_table(self.details.items())}</div>")


def _html_table(rows) -> str:
    """An HTML table of (name, value) rows, every cell escaped."""
    cells = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                    for k, v in rows)
    return f"<table>{cells}</table>" if cells else ""


def infinite_result(name: str, reasons: list, labels: tuple) -> CheckResult:
    """The identity fails: an expectation in it is infinite (a verdict, not an error); the
    reasons name each infinite expectation and the edge where it diverges.

    >>> r = infinite_result("stein", ["E[g.s] is infinite: (x)*f*h -> oo as x -> 0"], ("a", "b"))
    >>> r.ok, r.details["reason"]
    (False, 'E[g.s] is infinite: (x)*f*h -> oo as x -> 0')
    """
    nan = float("nan")
    return CheckResult(name, nan, nan, float("inf"), 0.0, method="quad",
                       details={"reason": "; ".join(reasons), "infinite": list(reasons)},
                       lhs_label=labels[0], rhs_label=labels[1])
