"""scoresym: exact score-matching mathematics, compiled and checked.

>>> import scoresym as ss
>>> m = ss.Model.from_string("exp(-(x - mu)**2 / (2*s2))", variables="x", params="mu s2",
...                          positive="s2")
>>> m.hyvarinen
-1/s2 + (mu - x)**2/(2*s2**2)
>>> ss.check_stein(m, {"mu": 1.0, "s2": 1.0}, "x**2", method="quad").ok
True
"""

from . import checks, langevin, nets, zoo
from .budget import BUDGETS, budgets
from .checks import (
                     CheckResult,
                     check_autodiff,
                     check_boundary,
                     check_finite_differences,
                     check_fisher,
                     check_stein,
)
from .derive import Derivation, Step, derive
from .errors import ScoresymInputError
from .estimate import FitResult, fit, maximum_likelihood
from .ksd import KSDTest, ksd, ksd_test
from .losses import (
    ScoreField,
    dsm_loss,
    esm_loss,
    geometric_sigmas,
    loss_gradient,
    ncsn_loss,
    ssm_loss,
)
from .model import Model
from .symbolic.conditions import boundary_conditions

__version__ = "0.1.0"

__all__ = ["BUDGETS", "CheckResult", "Derivation", "FitResult", "Model", "Step",
           "boundary_conditions", "budgets", "derive", "fit",
           "maximum_likelihood", "ScoresymInputError", "check_autodiff", "check_boundary",
           "check_finite_differences", "check_fisher", "check_stein", "checks", "dsm_loss",
           "esm_loss", "loss_gradient", "ssm_loss", "zoo", "__version__", "ScoreField",
           "geometric_sigmas", "langevin", "ncsn_loss", "nets", "KSDTest", "ksd", "ksd_test"]
