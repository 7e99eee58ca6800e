"""Time budgets for symbolic work that can run long (evalf, limit, solve, simplify).

Invariant: ``time_limit(seconds)`` either lets its block finish or raises :class:`OverBudget`
once ``seconds`` have passed, so a caller can fall back to a correct answer ("undecided",
"no closed form") instead of hanging. Budgets nest: an inner budget never extends an outer one,
and when the outer one runs out first, the OverBudget raised belongs to the outer block.

The budget is enforced with ``SIGALRM`` (``signal.setitimer``), which interrupts pure-Python code
such as SymPy's; it is available in the main thread on POSIX systems. Elsewhere (another thread,
Windows) the block runs without a limit, and ``budgets_enforced()`` says so.

>>> with time_limit(5.0):
...     total = sum(range(1000))
>>> total
499500
>>> import time
>>> try:
...     with time_limit(0.05):
...         while True:
...             time.sleep(0.01)
... except OverBudget as exc:
...     print("stopped:", exc)
stopped: over the time budget of 0.05 s
"""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, fields


@dataclass
class Budgets:
    """Seconds allowed to each kind of work that can run long on a user's input; past it, the
    work stops and a correct fallback takes over (named with each field). Change them for a
    block with :func:`budgets`, or for the session by assigning to ``BUDGETS``.

    >>> BUDGETS.limit
    3.0
    """

    edge: float = 5.0         # one edge question of the asymptotic engine -> "undecided"
    limit: float = 3.0        # one sympy.limit -> "undecided" (never counted as vanishing)
    solve: float = 5.0        # sympy.solve of stationarity equations -> numerical optimization
    simplify: float = 2.0     # the fast path's simplify -> the unsimplified derivative
    constant: float = 2.0     # evaluating a constant such as gamma(10**6) -> refused
    cancel: float = 2.0       # proving a bracket cancels between two edges -> it does not
    variance: float = 1.5     # proving a weight's gradient variance finite -> numeric exponents
    quadrature: float = 10.0  # one quadrature -> an error naming the integral (use Monte Carlo)
    minors: float = 2.0       # a quadratic form's leading minors -> PositiveDefinite(H), exact


#: The budgets in force (see :class:`Budgets`).
BUDGETS = Budgets()


@contextmanager
def budgets(**seconds):
    """Set some budgets (by field name of :class:`Budgets`, in seconds) for the block.

    >>> with budgets(limit=0.5):
    ...     BUDGETS.limit
    0.5
    >>> BUDGETS.limit
    3.0
    """
    names = {f.name for f in fields(Budgets)}
    unknown = sorted(set(seconds) - names)
    if unknown:
        raise ValueError(f"unknown budget(s): {', '.join(unknown)} (known: "
                         f"{', '.join(sorted(names))})")
    bad = [k for k, v in seconds.items()
           if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0]
    if bad:
        raise ValueError(f"budgets must be positive numbers of seconds: {', '.join(bad)}")
    before = {k: getattr(BUDGETS, k) for k in seconds}
    for k, v in seconds.items():
        setattr(BUDGETS, k, float(v))
    try:
        yield BUDGETS
    finally:
        for k, v in before.items():
            setattr(BUDGETS, k, v)


class OverBudget(Exception):
    """A block ran past its time budget (not a user error: callers fall back)."""

    def __init__(self, seconds: float):
        super().__init__(f"over the time budget of {seconds:g} s")
        self.seconds = seconds


#: Open budgets, innermost last: [(deadline, token)].
_OPEN: list = []


def budgets_enforced() -> bool:
    """True where time budgets can interrupt a computation (main thread, POSIX)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class _Expired(BaseException):
    """Raised inside the block: a BaseException, so that library code catching Exception
    cannot swallow it; ``time_limit`` turns it into OverBudget."""

    def __init__(self, token):
        super().__init__()
        self.token = token


#: After a deadline passes, the alarm repeats at this interval until the block has stopped
#: (in case code inside caught the first one).
_REPEAT = 0.05
#: An alarm that arrives while a budget is being opened or closed is put off by this long.
_DEFER = 1e-3


#: A timer that was running before the outermost budget opened: [handler, deadline], so that
#: it still fires on time (its handler is called) and is set again when the budgets close.
_OUTSIDE: list = [None, None]


def _on_alarm(signum, frame):
    if frame is not None and frame.f_code in _BOOKKEEPING:
        # never interrupt the opening or closing of a budget: the alarm comes again shortly
        signal.setitimer(signal.ITIMER_REAL, _DEFER, _REPEAT if _OPEN else 0)
        return
    handler, outside = _OUTSIDE
    now = time.monotonic()
    if outside is not None and now >= outside - 1e-3:
        _OUTSIDE[1] = None
        _arm()
        if callable(handler):
            handler(signum, frame)  # the caller's own alarm, on time
        return
    if _OPEN:
        deadline, token, _ = min(_OPEN, key=lambda entry: entry[0])
        if now >= deadline - 1e-3:
            raise _Expired(token)
    _arm()  # a stale alarm: wait for the earliest deadline


def _arm() -> None:
    """Set the timer for the earliest deadline (ours or the caller's), or clear it."""
    deadlines = [deadline for deadline, _, _ in _OPEN]
    if _OUTSIDE[1] is not None:
        deadlines.append(_OUTSIDE[1])
    if not deadlines:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    remaining = min(deadlines) - time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-4), _REPEAT if _OPEN else 0)


class _Budget:
    """The block of one ``time_limit``: opening and closing it are never interrupted (the
    alarm handler puts itself off while they run), so an expiry is raised only inside the
    block, as OverBudget of the block it belongs to."""

    def __init__(self, seconds: float):
        self.seconds, self.token, self.outermost = seconds, object(), False

    def __enter__(self):
        self.outermost = not _OPEN
        if self.outermost:
            remaining, _ = signal.getitimer(signal.ITIMER_REAL)
            signal.setitimer(signal.ITIMER_REAL, 0)
            _OUTSIDE[:] = [signal.signal(signal.SIGALRM, _on_alarm),
                           time.monotonic() + remaining if remaining > 0 else None]
        _OPEN.append((time.monotonic() + self.seconds, self.token, self.seconds))
        _arm()
        return self

    def __exit__(self, kind, error, traceback):
        _OPEN[:] = [entry for entry in _OPEN if entry[1] is not self.token]
        if self.outermost:
            # disarm before the old handler is back: an alarm repeating after a deadline must
            # never reach the default handler, which ends the process
            signal.setitimer(signal.ITIMER_REAL, 0)
            handler, outside = _OUTSIDE
            signal.signal(signal.SIGALRM, handler)
            _OUTSIDE[:] = [None, None]
            if outside is not None:
                signal.setitimer(signal.ITIMER_REAL, max(outside - time.monotonic(), 1e-4))
        else:
            _arm()
        if isinstance(error, _Expired) and error.token is self.token:
            raise OverBudget(self.seconds) from None
        return False


_BOOKKEEPING = frozenset(f.__code__ for f in (_Budget.__enter__, _Budget.__exit__, _arm))


def time_limit(seconds: float | None):
    """Run the block within ``seconds`` (None: no limit), else raise OverBudget."""
    if seconds is None or not budgets_enforced():
        return nullcontext()
    return _Budget(seconds)
