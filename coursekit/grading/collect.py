"""List the tests an autograder expects (its manifest), checking them against assignment.toml.

Run at build time in a process of its own, since it imports the graders:

    python -m coursekit.grading.collect GRADERS_DIR ASSIGNMENT_TOML   (prints JSON)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from coursekit.grading.plugin import grader_attr, question_of, register_markers, test_id


class GraderError(Exception):
    """The graders do not match the manifest (a staff error, caught at build time)."""


class _Collector:
    def __init__(self):
        self.items = []
        self.errors = []

    def pytest_configure(self, config):
        register_markers(config)

    def pytest_collection_modifyitems(self, items):
        self.items = list(items)

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext.strip().splitlines()[-1]}")


def describe(item, titles: dict) -> dict:
    qid = question_of(item)
    doc = (getattr(item.obj, "__doc__", None) or "").strip().splitlines()
    label = doc[0].rstrip(".") if doc else item.name.removeprefix("test_").replace("_", " ")
    column = grader_attr(item, "__leaderboard_column__")
    return {
        "id": test_id(item),
        "question": qid,
        "name": f"{titles.get(qid, qid)}: {label}",
        "number": grader_attr(item, "__number__"),
        "max_score": float(grader_attr(item, "__weight__", 0.0) or 0.0),
        "visibility": grader_attr(item, "__visibility__", "visible"),
        "tags": list(grader_attr(item, "__tags__", ()) or ()),
        "leaderboard": [column, grader_attr(item, "__leaderboard_sort_order__", "desc")] if column else None,
    }


def expected_tests(graders_dir: Path, assignment) -> list[dict]:
    """Collect the graders and check every one belongs to a question whose points add up."""
    collector = _Collector()
    code = pytest.main([str(graders_dir), "--collect-only", "-q", "-p", "no:cacheprovider"],
                       plugins=[collector])
    if collector.errors or code not in (0, 5):
        raise GraderError(f"{graders_dir}: graders failed to load:\n" + "\n".join(collector.errors))
    titles = {q.id: q.title for q in assignment.questions}
    entries = [describe(item, titles) for item in collector.items]
    problems = []
    for entry in entries:
        if entry["question"] not in titles:
            problems.append(f"{entry['id']}: belongs to no question of assignment.toml "
                            f"(question mark: {entry['question']!r})")
        if entry["max_score"] <= 0:
            problems.append(f"{entry['id']}: has no @weight")
    ids = [e["id"] for e in entries]
    problems += [f"{i}: defined twice" for i in sorted({i for i in ids if ids.count(i) > 1})]
    for q in assignment.questions:
        total = sum(e["max_score"] for e in entries if e["question"] == q.id)
        if abs(total - q.points) > 1e-9:
            problems.append(f"question {q.id}: graders' weights add up to {total:g}, "
                            f"assignment.toml gives {q.points:g} points")
    if problems:
        raise GraderError(f"{graders_dir}:\n  " + "\n  ".join(problems))
    return entries


def main(argv=None) -> int:
    from coursekit.manifest import load_assignment

    argv = sys.argv[1:] if argv is None else argv
    graders_dir, manifest = Path(argv[0]), Path(argv[1])
    try:
        entries = expected_tests(graders_dir, load_assignment(manifest))
    except GraderError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    sys.stdout.write("\n@@COURSEKIT-MANIFEST@@" + json.dumps(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
