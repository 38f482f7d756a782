"""Time budgets for symbolic steps that can run long: running out is an ``OutOfTime`` error, never a hang.

Budgets count this process's CPU time, not the wall clock: what a derivation finds (a closed form, or "no closed
form" when an integration runs out) must not depend on how busy the machine is.

Budgets nest (a query's budget around an integration's): an inner budget never extends an outer one, and when
the outer one runs out inside an inner step, the error reaches the outer caller instead of being taken for the
inner step's own failure (which would, for instance, cache "no closed form" for a pair that has one).
"""
from __future__ import annotations

import contextlib
import signal
import threading
import time

_DEADLINES: list[tuple[float, str, float]] = []
_RAN_OUT = [0]


class OutOfTime(BaseException):
    """A symbolic step used up its time budget; ``depth`` says which of the nested budgets (0 = outermost).

    A BaseException, like KeyboardInterrupt: sympy catches Exception in places (its heurisch integrator does), and
    a budget's interrupt swallowed there let an integration run for as long as it liked."""

    def __init__(self, message: str, depth: int = 0):
        super().__init__(message)
        self.depth = depth


RETRY_SECONDS = 0.05
"""After an interrupt, the next one comes this soon, in case something still swallowed the first."""


def _on_alarm(signum, frame):
    now = time.process_time()
    for depth, (deadline, what, seconds) in enumerate(_DEADLINES):
        if now >= deadline - 1e-3:
            signal.setitimer(signal.ITIMER_PROF, RETRY_SECONDS)
            raise OutOfTime(f"{what} ran out of its {seconds:g} s time budget", depth)
    _arm()


def _arm() -> None:
    if _DEADLINES:
        remaining = min(d for d, _, _ in _DEADLINES) - time.process_time()
        signal.setitimer(signal.ITIMER_PROF, max(remaining, 1e-3))


@contextlib.contextmanager
def time_budget(seconds: float, what: str = "this step"):
    """Raise OutOfTime inside the block after ``seconds`` of CPU time (main thread; elsewhere the block runs
    unbounded)."""
    if threading.current_thread() is not threading.main_thread() or seconds <= 0:
        yield
        return
    outermost = not _DEADLINES
    previous = signal.signal(signal.SIGPROF, _on_alarm) if outermost else None
    _DEADLINES.append((time.process_time() + seconds, what, seconds))
    _arm()
    try:
        yield
    finally:
        _DEADLINES.pop()
        if outermost:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, previous)
        else:
            _arm()


def attempt(seconds: float, what: str, step):
    """step() within its own budget: None when that budget runs out; an outer budget running out propagates."""
    depth = len(_DEADLINES)
    try:
        with time_budget(seconds, what):
            return step()
    except OutOfTime as err:
        if err.depth < depth:
            raise
        _RAN_OUT[0] += 1
        return None


def budgets_run_out() -> int:
    """How many attempts of this process have run out of their budget: a failure seen while this count grew
    depends on the machine's speed, so it must not be remembered as a failure of the step itself."""
    return _RAN_OUT[0]
