"""Numerical checks. Each returns a CheckResult that can fail: see each module for its invariant.

- finite_differences: compiled derivatives against central differences of the compiled log f
- autodiff: compiled derivatives against HIPS autograd
- stein: E[g . grad log p] = -E[div g] by quadrature or Monte Carlo
- boundary: f g vanishes at the edges of the domain (symbolic one-sided limits)
- fisher: explicit Fisher divergence = Hyvarinen objective + constant
- consistency: SSM vs ESM, Hutchinson variances, DSM vs ESM as sigma -> 0, DSM's noised fit
"""

from .autodiff import check_autodiff
from .boundary import check_boundary
from .dsm_variance import check_dsm_gaussian_variance
from .dsm_limit import check_dsm_limit
from .hutchinson import check_hutchinson, hutchinson_variance
from .ssm_esm import check_ssm_esm
from .trace_variance import check_trace_variance
from .finite_differences import check_finite_differences
from .fisher import check_fisher
from ..numerics.result import CheckResult
from .stein import check_stein

__all__ = ["CheckResult", "check_autodiff", "check_boundary", "check_dsm_gaussian_variance",
           "check_dsm_limit", "check_finite_differences", "check_fisher", "check_hutchinson",
           "check_ssm_esm", "check_stein", "check_trace_variance", "hutchinson_variance"]
