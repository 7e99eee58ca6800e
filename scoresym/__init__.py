"""scoresym: exact score-matching mathematics, compiled and checked.

>>> import scoresym as ss
>>> m = ss.Model.from_string("exp(-(x - mu)**2 / (2*s2))", variables="x", params="mu s2",
...                          positive="s2")
>>> m.hyvarinen
-1/s2 + (mu - x)**2/(2*s2**2)
"""

from . import checks, zoo
from .checks import CheckResult
from .errors import ScoresymInputError
from .model import Model

__version__ = "0.1.0"

__all__ = ["CheckResult", "Model", "ScoresymInputError", "checks", "zoo", "__version__"]
