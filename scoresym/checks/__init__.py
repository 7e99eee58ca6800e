"""Numerical checks; each returns CheckResult objects that can fail."""

from .finite_differences import check_finite_differences
from .result import CheckResult

__all__ = ["CheckResult", "check_finite_differences"]
