"""Gradescope's results.json, built from the list of tests the autograder expects.

Every expected test appears, whether it ran or not: a test that never ran scores 0
with the reason. The file is written atomically (temporary file + rename), so a
reader never sees half of it, and it is strict JSON: every string is valid Unicode
(lone surrogates, which student code can put in messages and file names, become
U+FFFD) and every number is finite.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from coursekit.sandbox.codec import clean_text

NOT_RUN = "not run: {reason}"


def _finite(x):
    """`x` if it is a finite number JSON readers can hold, else 0."""
    try:
        return x if math.isfinite(x) else 0.0
    except OverflowError:  # an int beyond float range
        return 0.0


def build_results(expected: list[dict], records: dict, notes: list[str], execution_time: float,
                  stopped_reason: str = "the grading run ended before this test") -> dict:
    """The results document.

    `expected`: the autograder's tests_manifest.json entries (id, name, number,
    max_score, question, visibility, tags, leaderboard). `records`: TestRecord per id
    for the tests that ran. `notes`: messages about the submission as a whole.
    """
    tests, board = [], []
    for entry in expected:
        rec = records.get(entry["id"])
        result = {
            "name": entry["name"],
            "score": _finite(round(float(rec.score), 4)) if rec else 0.0,
            "max_score": float(entry["max_score"]),
            "status": rec.status if rec else "failed",
            "output": rec.output if rec else NOT_RUN.format(reason=stopped_reason),
            "visibility": entry.get("visibility", "visible"),
            "extra_data": {"id": entry["id"], "question": entry["question"]},
        }
        if entry.get("number"):
            result["number"] = entry["number"]
        if entry.get("tags"):
            result["tags"] = list(entry["tags"])
        tests.append(result)
        if entry.get("leaderboard"):
            column, order = entry["leaderboard"]
            value = rec.leaderboard[2] if rec and rec.leaderboard else None
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                value = 0
            value = _finite(value)
            row = {"name": column, "value": value}
            if order == "asc":
                row["order"] = "asc"
            board.append(row)
    doc = {
        "score": round(sum(t["score"] for t in tests), 4),
        "execution_time": int(round(execution_time)),
        "output": "\n".join(notes),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if board:
        doc["leaderboard"] = board
    return doc


def strict(value):
    """A copy of a JSON-ready document that strict readers accept: strings (keys
    included) without lone surrogates, non-finite floats as 0."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {strict(k) if isinstance(k, str) else k: strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict(v) for v in value]
    if isinstance(value, float):
        return _finite(value)
    return value


def write_atomic(path: Path, doc: dict) -> None:
    """Write `doc` as results.json: strict (see `strict`), ASCII, all or nothing."""
    doc = strict(doc)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            json.dump(doc, fh, indent=1, allow_nan=False, ensure_ascii=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
