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
