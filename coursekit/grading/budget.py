"""The whole grading's time budget, kept below the platform's own limit.

Gradescope kills an autograder that runs past its limit (10 minutes unless the course
changes it) and the student then gets no results at all. So the kit gives the whole
run a budget below that limit: each test's deadline is its own limit or what is left of
the budget, whichever comes first; a test that cannot start in time is reported as not
run; and a watchdog writes results.json from what ran if the budget is spent anyway.
A reserve at the end of the budget is kept for stopping the student process and
writing the results.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

DEFAULT_SECONDS = 540.0   # of Gradescope's default 600 s limit
ENV = "COURSEKIT_BUDGET"
MIN_START_SECONDS = 1.0   # a test is not started with less than this left


def reserve_for(seconds: float) -> float:
    """Time kept back at the end for cleanup: a tenth of the budget, 8 to 30 s."""
    return min(30.0, max(8.0, seconds / 10))


@dataclass
class Budget:
    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def reserve(self) -> float:
        return reserve_for(self.seconds)

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left_for_tests(self) -> float:
        """Seconds tests may still use (may be negative)."""
        return self.seconds - self.reserve - self.elapsed()

    def watchdog_in(self) -> float:
        """Seconds until the watchdog must write the results and end the run."""
        return max(0.0, self.seconds - self.reserve / 2 - self.elapsed())

    def can_start(self) -> bool:
        return self.left_for_tests() >= MIN_START_SECONDS

    def clamp(self, limit: float) -> tuple[float, bool]:
        """(the limit a test starting now gets, whether the budget cut it short)."""
        left = max(0.0, self.left_for_tests())
        return (left, True) if left < limit else (limit, False)

    def ran_out(self) -> str:
        return f"the grading's time budget of {self.seconds:g} s ran out"


def budget_seconds(value: str | float | None) -> float:
    """The budget from an option's value, else $COURSEKIT_BUDGET, else the default."""
    if value is None or value == "":
        value = os.environ.get(ENV, "") or DEFAULT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"the grading budget must be a number of seconds, not {value!r}") from None
    if not math.isfinite(seconds) or seconds <= 2 * reserve_for(seconds):
        raise ValueError(f"a grading budget of {value} s cannot work: it must be a finite "
                         f"number of seconds over {2 * reserve_for(0):g}")
    return seconds
