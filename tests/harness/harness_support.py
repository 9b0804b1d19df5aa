"""Checks shared by the harness tests."""

import json
from pathlib import Path

import jsonschema

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


def assert_valid_results(doc: dict) -> None:
    """results.json follows Gradescope's format and its score adds up."""
    jsonschema.validate(doc, SCHEMA)
    assert abs(doc["score"] - sum(t["score"] for t in doc["tests"])) < 1e-6
    for t in doc["tests"]:
        assert 0 <= t["score"] <= t["max_score"]
