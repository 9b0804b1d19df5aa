"""Checks shared by the harness tests."""

import json
from pathlib import Path

import subprocess
import sys

import jsonschema

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())


def assert_valid_results(doc: dict) -> None:
    """results.json follows Gradescope's format and its score adds up."""
    jsonschema.validate(doc, SCHEMA)
    assert abs(doc["score"] - sum(t["score"] for t in doc["tests"])) < 1e-6
    for t in doc["tests"]:
        assert 0 <= t["score"] <= t["max_score"]


def unprivileged_can_run_python(user: str = "1900000000", group: str = "1900000000") -> str:
    """Empty when an unprivileged user can run this interpreter and import the kit, else
    why not (a machine whose Python sits under a folder closed to others: without a
    filesystem view the kit refuses to run there, see test_sandbox_layers)."""
    probe = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={group}", "--clear-groups", "--",
                            sys.executable, "-c", f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r}); "
                            "import coursekit.sandbox"], capture_output=True, text=True)
    return "" if probe.returncode == 0 else probe.stderr.strip()[-300:]
