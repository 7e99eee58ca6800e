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
from contextlib import contextmanager


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


def _on_alarm(signum, frame):
    if _OPEN:
        deadline, token, _ = min(_OPEN, key=lambda entry: entry[0])
        if time.monotonic() >= deadline - 1e-3:
            raise _Expired(token)
        _arm()  # a stale alarm: wait for the earliest open deadline


def _arm() -> None:
    """Set the timer for the earliest open deadline, or clear it."""
    if not _OPEN:
        signal.setitimer(signal.ITIMER_REAL, 0)
        return
    remaining = min(deadline for deadline, _, _ in _OPEN) - time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-4), _REPEAT)


@contextmanager
def time_limit(seconds: float | None):
    """Run the block within ``seconds`` (None: no limit), else raise OverBudget."""
    if seconds is None or not budgets_enforced():
        yield
        return
    token = object()
    outermost = not _OPEN
    previous = signal.signal(signal.SIGALRM, _on_alarm) if outermost else None
    _OPEN.append((time.monotonic() + seconds, token, seconds))
    _arm()
    try:
        yield
    except _Expired as expired:
        if expired.token is token:
            raise OverBudget(seconds) from None
        raise
    finally:
        _OPEN[:] = [entry for entry in _OPEN if entry[1] is not token]
        _arm()
        if outermost:
            signal.signal(signal.SIGALRM, previous)
