"""Writing graders: gradescope-utils' decorators plus the kit's question and timeout marks.

    from coursekit.grading import question, weight, number, timeout
    pytestmark = question("fc_layers")
"""

import pytest
from gradescope_utils.autograder_utils.decorators import (  # noqa: F401
    hide_errors,
    leaderboard,
    number,
    partial_credit,
    tags,
    visibility,
    weight,
)


def question(question_id: str):
    """Mark a grader (or, as `pytestmark`, a module of graders) as part of a question."""
    return pytest.mark.question(question_id)


def flag(kind: str, reason: str) -> None:
    """Record a staff-only flag on the running test, e.g. flag("integrity", "...").

    Flags go to results.json's `extra_data` (not shown to the student) and to the report.
    """
    from coursekit.grading.plugin import flag as _flag
    _flag(kind, reason)


def timeout(seconds: float):
    """Time limit for everything the test asks of the student process."""
    return pytest.mark.coursekit_timeout(seconds)
