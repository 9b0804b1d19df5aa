"""Fixtures for the grading harness tests: the demo assignment and results validation."""

import json
from pathlib import Path

import jsonschema
import pytest

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


def assert_valid_results(doc: dict) -> None:
    """results.json follows Gradescope's format and its score adds up."""
    jsonschema.validate(doc, SCHEMA)
    assert abs(doc["score"] - sum(t["score"] for t in doc["tests"])) < 1e-6
    for t in doc["tests"]:
        assert 0 <= t["score"] <= t["max_score"]


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
