"""Time budgets for symbolic steps that can run long: running out is an ``OutOfTime`` error, never a hang."""
from __future__ import annotations

import contextlib
import signal
import threading
import time


class OutOfTime(Exception):
    """A symbolic step used up its time budget."""


@contextlib.contextmanager
def time_budget(seconds: float, what: str = "this step"):
    """Raise OutOfTime inside the block after ``seconds`` (main thread; elsewhere the block runs unbounded).

    Budgets nest: an inner budget never extends an outer one.
    """
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return
    deadline = time.monotonic() + seconds
    outer = signal.getitimer(signal.ITIMER_REAL)[0]
    outer_deadline = time.monotonic() + outer if outer > 0 else None

    def on_alarm(signum, frame):
        raise OutOfTime(f"{what} ran out of its {seconds:g} s time budget")

    previous = signal.signal(signal.SIGALRM, on_alarm) if outer_deadline is None else None
    limit = min(deadline, outer_deadline) if outer_deadline else deadline
    signal.setitimer(signal.ITIMER_REAL, max(limit - time.monotonic(), 1e-3))
    try:
        yield
    finally:
        if outer_deadline is None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        else:
            signal.setitimer(signal.ITIMER_REAL, max(outer_deadline - time.monotonic(), 1e-3))
