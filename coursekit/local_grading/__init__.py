"""Grade submissions locally with the very autograder Gradescope runs."""

from coursekit.local_grading.local import GradeResult, grade_submission  # noqa: F401
