"""Time budgets: an inner step's own budget gives None; an outer budget running out reaches the outer caller."""
import time

import pytest

from symkl.budget import OutOfTime, attempt, time_budget


def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return "done"


def test_own_budget_gives_none_and_success_gives_the_value():
    assert attempt(0.05, "inner", lambda: spin(1)) is None
    assert attempt(1, "inner", lambda: spin(0.01)) == "done"


def test_outer_budget_is_not_mistaken_for_the_inner_steps_failure():
    start = time.monotonic()
    with pytest.raises(OutOfTime, match="outer"):
        with time_budget(0.1, "outer"):
            attempt(5, "inner", lambda: spin(2))
    assert time.monotonic() - start < 1


def test_budget_is_disarmed_after_the_block():
    with time_budget(0.05, "short"):
        pass
    assert spin(0.1) == "done"


def test_budgets_count_cpu_time_not_the_wall_clock():
    """What a derivation finds must not depend on how busy the machine is: waiting spends no budget."""
    with time_budget(0.2, "cpu"):
        time.sleep(0.5)
    with pytest.raises(OutOfTime):
        with time_budget(0.2, "cpu"):
            spin(5)


def swallowing(seconds):
    """A loop that catches Exception around its work, as sympy's heurisch integrator does."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            spin(0.01)
        except Exception:
            pass
    return "ran to the end"


def test_an_interrupt_is_not_swallowed_by_except_exception():
    start = time.monotonic()
    assert attempt(0.1, "swallowing", lambda: swallowing(5)) is None
    assert time.monotonic() - start < 1
