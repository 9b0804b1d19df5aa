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


def timeout(seconds: float):
    """Time limit for everything the test asks of the student process."""
    return pytest.mark.coursekit_timeout(seconds)
