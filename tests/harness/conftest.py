"""Fixtures for the grading harness tests: the demo assignment and results validation."""

import pytest
from harness_support import assert_valid_results


@pytest.fixture
def demo(reference_submission):
    """A folder holding the demo assignment's correct submission, to tamper with."""
    return reference_submission("demo")


@pytest.fixture
def grade_demo(grade):
    def run(submission, **kw):
        result = grade("demo", submission, **kw)
        assert_valid_results(result.results)
        return result
    return run
