"""Exceptions raised by scoresym.

Invariant: every problem with what a user passed in (a string, a name, an array shape, a missing
parameter) surfaces as a :class:`ScoresymInputError`, whose message names the offending piece.
"""


class ScoresymInputError(ValueError):
    """Bad user input: an unsafe or malformed expression, a bad name, a wrong shape or argument.

    >>> from scoresym.errors import ScoresymInputError
    >>> issubclass(ScoresymInputError, ValueError)
    True
    """


class NotComputable(ScoresymInputError):
    """A number the question needs cannot be computed at these inputs: an integral that
    diverges or does not converge in its budget, an expectation that is infinite. The message
    names the integral and says why; a caller that can go on without it (a derivation's other
    steps) reports it as not checked, never as a verdict.

    >>> issubclass(NotComputable, ScoresymInputError)
    True
    """


class NotForMatrixModels(ScoresymInputError, AttributeError):
    """A function of models with scalar parameters was given a model in matrix notation. Also
    an AttributeError, so that ``hasattr`` and ``getattr(..., default)`` keep their meaning.

    >>> issubclass(NotForMatrixModels, ScoresymInputError), issubclass(NotForMatrixModels,
    ...                                                               AttributeError)
    (True, True)
    """
