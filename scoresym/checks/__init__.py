"""Numerical checks, one per module, each returning a CheckResult that can fail (see each module
for its invariant), and their registry.

Invariant: ``CHECKS`` (name -> :class:`Check`) is built from ``MODULES``, one module per check,
each defining ``CHECK``; its order is the order of the rows of ``scoresym verify``, and
``scoresym verify`` and ``scoresym check`` read it and nothing else. A new check is one module
plus its entry in ``MODULES`` (see CONTRIBUTING.md).

>>> list(CHECKS)[:5]
['finite-differences', 'autodiff', 'stein', 'boundary', 'fisher']
"""

from ..numerics.result import CheckResult
from . import (
               autodiff,
               boundary,
               dsm_limit,
               dsm_variance,
               finite_differences,
               fisher,
               fit_recovery,
               hutchinson,
               ksd,
               langevin,
               ssm_esm,
               stein,
               trace_variance,
)
from .autodiff import check_autodiff
from .boundary import check_boundary
from .check import Check, CommandLine, Planned, Subject, Suite
from .dsm_limit import check_dsm_limit
from .dsm_variance import check_dsm_gaussian_variance
from .finite_differences import check_finite_differences
from .fisher import check_fisher
from .fit_recovery import check_fit_recovery
from .hutchinson import check_hutchinson, hutchinson_variance
from .ksd import check_ksd
from .langevin import check_annealed_langevin
from .ssm_esm import check_ssm_esm
from .stein import check_stein
from .trace_variance import check_trace_variance

#: The registry's entries, in the order of the suite's rows: one module per check.
MODULES = (finite_differences, autodiff, stein, boundary, fisher, ssm_esm, trace_variance,
           dsm_limit, fit_recovery, dsm_variance, ksd, hutchinson, langevin)
CHECKS = {module.CHECK.name: module.CHECK for module in MODULES}

__all__ = ["CHECKS", "Check", "CheckResult", "CommandLine", "Planned", "Subject", "Suite",
           "check_annealed_langevin", "check_autodiff", "check_boundary",
           "check_dsm_gaussian_variance", "check_dsm_limit",
           "check_finite_differences", "check_fisher", "check_fit_recovery", "check_hutchinson",
           "check_ksd",
           "check_ssm_esm", "check_stein", "check_trace_variance", "hutchinson_variance"]
