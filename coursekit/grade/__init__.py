"""Grade submissions locally with the very autograder Gradescope runs."""

from coursekit.grade.local import GradeResult, grade_submission  # noqa: F401
