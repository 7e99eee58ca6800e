"""What a check supplies to the registry (see :mod:`scoresym.checks`), and what the suite and
the command line hand it.

A :class:`Check` names its function and says how ``scoresym verify`` runs it on one model
(``plan``: a :class:`Subject` -> the rows to run, each a :class:`Planned`), or once for the
whole suite (``plan_once``), and how ``scoresym check NAME`` runs it (``command_line``: model,
parameter values and the :class:`CommandLine` options -> a CheckResult). Each is optional.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import sympy

from ..errors import ScoresymInputError
from ..numerics.differences import probe_points
from ..numerics.sampling import inverse_cdf_sample
from ..randomness import generator


@dataclass(frozen=True)
class Planned:
    """One row of the suite: its label, the call that runs the check, the verdict expected.

    The row is as the mathematics says when run().ok == expected_ok (a check expected to fail,
    such as Stein's identity where the boundary term does not vanish, has expected_ok False).

    >>> from scoresym import zoo
    >>> from scoresym.checks import check_stein
    >>> e = zoo.get("exponential")                  # f g = f does not vanish at 0
    >>> row = Planned("stein, g = 1", lambda: check_stein(e.model, e.truth, "1", method="quad"),
    ...               expected_ok=False)
    >>> row.run().ok == row.expected_ok
    True
    """

    label: str
    run: Callable
    expected_ok: bool = True


@dataclass(frozen=True)
class CommandLine:
    """The options of ``scoresym check``, as every check's ``command_line`` receives them.

    ``scoresym check NAME`` computes CHECKS[NAME].command_line(model, params, options) -> a
    CheckResult, with these options (defaults: Monte Carlo n = 20000, seed 0).

    >>> from scoresym import zoo
    >>> from scoresym.checks import CHECKS
    >>> b = zoo.get("gaussian_1d")
    >>> options = CommandLine(test_function="x**2", method="quad")   # E[x^2 s] = -E[2 x]
    >>> CHECKS["stein"].command_line(b.model, b.truth, options).ok
    True
    """

    test_function: str | None = None
    weight: str | None = None
    method: str = "auto"
    n: int = 20_000
    seed: int | None = 0
    samples: np.ndarray | None = None
    data_params: dict | None = None


@dataclass(frozen=True)
class Check:
    """A registered check: its name (as ``scoresym check`` spells it), its function, a one-line
    summary, and how the suite and the command line run it.

    ``function`` computes the check's CheckResult, ``plan(subject)`` lists the rows the suite
    runs on one model (each a :class:`Planned`), ``plan_once(suite)`` those it runs once.

    >>> from scoresym.checks import CHECKS, check_stein
    >>> c = CHECKS["stein"]
    >>> c.function is check_stein, c.summary
    (True, 'E[g . grad log p] = -E[div g] for a test function g')
    """

    name: str
    function: Callable
    summary: str
    plan: Callable | None = None          # Subject -> [Planned]
    plan_once: Callable | None = None     # Suite -> [Planned]
    command_line: Callable | None = None  # (model, params, CommandLine) -> CheckResult
    once_subject: str = "(matrix)"        # what the plan_once rows are about, in the model column


@dataclass(frozen=True)
class Suite:
    """The settings of one run of the suite.

    ``quick`` shrinks the suite: each model's shared points are n = 300 instead of 2000
    (:class:`Subject`); ``seed`` seeds every draw.

    >>> from scoresym import zoo
    >>> b = zoo.get("gaussian_1d")
    >>> Subject(b, Suite(quick=True)).n, Subject(b, Suite()).n
    (300, 2000)
    """

    quick: bool = False
    seed: int | None = 0


class Subject:
    """One model in the suite: a built-in entry (zoo.Builtin: model, truth, sampler, validity),
    the suite's settings, and the points its checks share: n draws at the truth, or probe points
    inside the domain when it has no sampler (enough for the pointwise identities; the checks
    that need the density's own draws leave themselves out).

    ``perturbed()`` gives the parameters theta' = 1.2 theta + 0.1 away from the truth;
    ``quadrature`` is d <= 2; ``unbounded`` is a domain of R^d.

    >>> from scoresym import zoo
    >>> s = Subject(zoo.get("gaussian_1d"), Suite(quick=True))
    >>> s.points.shape, s.perturbed(), s.quadrature, s.unbounded
    ((300, 1), {'mu': 0.7, 's2': 2.5}, True, True)
    """

    def __init__(self, builtin, suite: Suite):
        self.builtin, self.suite = builtin, suite
        self.model, self.truth, self.name = builtin.model, builtin.truth, builtin.name
        self.quick, self.seed = suite.quick, suite.seed
        self.n = 300 if suite.quick else 2000

    @cached_property
    def points(self) -> np.ndarray:
        if self.has_sampler:
            return self.sample(self.n)
        return probe_points(self.model, self.n, generator(self.seed))

    @property
    def has_sampler(self) -> bool:
        return self.builtin.has_sampler

    @property
    def quadrature(self) -> bool:
        """Whether expectations are taken by quadrature (d <= 2) rather than Monte Carlo."""
        return self.model.dim <= 2

    @property
    def unbounded(self) -> bool:
        return all(lo == -sympy.oo and hi == sympy.oo for lo, hi in self.model.domain.values())

    def sample(self, n: int) -> np.ndarray:
        return self.builtin.sample(n, seed=self.seed)

    def perturbed(self) -> dict:
        """Parameters away from the truth (x 1.2 + 0.1; positive stays positive)."""
        return {k: 1.2 * v + 0.1 for k, v in self.truth.items()}


def draws(model, params: dict, options: CommandLine) -> np.ndarray | None:
    """The points a Monte Carlo check runs on from the command line: the user's samples; else
    None when the model can be sampled or the method is quadrature; else, in 1-D, numerical
    inverse-CDF draws. A model of d > 1 without a sampler needs samples."""
    if options.samples is not None or model.sampler is not None or options.method != "mc":
        return options.samples
    if model.dim == 1:
        return inverse_cdf_sample(model, params, options.n, generator(options.seed))
    raise ScoresymInputError(f"--method mc needs draws from the density: pass --samples FILE "
                             f"(the model has d = {model.dim} and no sampler)")


def no_samples(name: str, options: CommandLine) -> None:
    """Refuse --samples for a check that takes none."""
    if options.samples is not None:
        raise ScoresymInputError(f"--samples: the {name} check takes no samples")
