"""List the tests an autograder expects (its manifest), checking them against assignment.toml.

Run at build time in a process of its own, since it imports the graders:

    python -m coursekit.grading.expected_tests GRADERS_DIR ASSIGNMENT_TOML   (prints JSON)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from coursekit.grading.plugin import grader_attr, question_of, register_markers, test_id
from coursekit.manifest_lines import line_of


class GraderError(Exception):
    """The graders do not match the manifest (a staff error, caught at build time)."""


NUMBER = re.compile(r"^[1-9][0-9]*(\.[1-9][0-9]*)*$")
REPO = Path(__file__).resolve().parents[2]


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
            self.errors.append(_load_error(report))


def _load_error(report) -> str:
    """`file:line: error` of a grader file that failed to import."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = report.longreprtext.strip().splitlines()
    message = crash.message if crash else (text[-1] if text else "failed to load")
    # The crash site of an import error is often inside the import system; the last
    # frame in the graders' own file is where the author has to look.
    for line in reversed(text):
        found = re.match(r"^(\S+\.py):(\d+): ", line)
        if found:
            return f"{_show(Path(found.group(1)).resolve())}:{found.group(2)}: {message}"
    return f"{_show(Path(report.fspath).resolve())}: {message}"


def _show(path: Path) -> str:
    """Paths in messages: relative to the repository when inside it, else absolute."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def where(item) -> str:
    """`file:line` of a grader's `def` (decorators unwrapped)."""
    path, lineno, _ = item.reportinfo()
    return f"{_show(Path(path))}:{(lineno or 0) + 1}"


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
    """Collect the graders and check them against the manifest: every grader belongs
    to one of its questions, has a weight and a number of its own, and each question's
    graders' weights add up to its points. Every problem names the file and line to
    change (the grader's `def`, the manifest's key)."""
    collector = _Collector()
    code = pytest.main([str(graders_dir), "--collect-only", "-q", "-p", "no:cacheprovider"],
                       plugins=[collector])
    if collector.errors or code not in (0, 5):
        raise GraderError("graders failed to load:\n  " + "\n  ".join(
            collector.errors or [f"{_show(graders_dir)}: pytest exit status {code}"]))
    titles = {q.id: q.title for q in assignment.questions}
    located = [(describe(item, titles), where(item)) for item in collector.items]
    problems = check_entries(located, assignment)
    if problems:
        raise GraderError("graders do not match the manifest:\n  " + "\n  ".join(problems))
    return [e for e, _ in located]


def check_entries(located: list[tuple[dict, str]], assignment) -> list[str]:
    """Problems of (entry, `file:line`) pairs against `assignment`, one line each."""
    problems = []
    titles = {q.id for q in assignment.questions}
    manifest = assignment.manifest_path
    text = manifest.read_text(encoding="utf-8") if manifest.is_file() else ""
    for entry, at in located:
        name = entry["id"].split("::")[-1]
        if entry["question"] not in titles:
            problems.append(f"{at}: {name}: belongs to no question of {_show(manifest)} "
                            f"(question mark: {entry['question']!r})")
        if entry["max_score"] <= 0:
            problems.append(f"{at}: {name}: has no @weight")
        number = entry["number"]
        if number is None:
            problems.append(f"{at}: {name}: has no @number (docs/authoring.md, section 5)")
        elif not NUMBER.match(str(number)):
            problems.append(f"{at}: {name}: @number({number!r}) must be dot-separated "
                            "positive integers such as '2.3' (docs/authoring.md, section 5)")
    for key in ("id", "number"):
        groups: dict = {}
        for entry, at in located:
            if entry[key] is not None:
                groups.setdefault(entry[key], []).append((entry, at))
        for value, members in sorted(groups.items(), key=lambda kv: str(kv[0])):
            if len(members) > 1:
                places = ", ".join(f"{at} ({e['id'].split('::')[-1]})" for e, at in members)
                what = f"@number({value!r}) is used by" if key == "number" else f"{value} is defined by"
                problems.append(f"{what} {len(members)} graders, each needs its own: {places}")
    for i, q in enumerate(assignment.questions):
        mine = [(e, at) for e, at in located if e["question"] == q.id]
        total = sum(e["max_score"] for e, _ in mine)
        if abs(total - q.points) > 1e-9:
            line = line_of(text, f"questions[{i}].points") if text else None
            key = f"{_show(manifest)}:{line}" if line else _show(manifest)
            graders = "".join(f"\n    {at}: {e['id'].split('::')[-1]}: @weight({e['max_score']:g})"
                              for e, at in mine) or "\n    (no grader has @question or pytestmark "\
                                                    f"question({q.id!r}))"
            problems.append(f"{key}: question {q.id} is worth {q.points:g} points, but its "
                            f"graders' weights add up to {total:g}:{graders}")
    return problems


def main(argv=None) -> int:
    from coursekit.manifest import ManifestError, load_assignment

    argv = sys.argv[1:] if argv is None else argv
    graders_dir, manifest = Path(argv[0]), Path(argv[1])
    try:
        entries = expected_tests(graders_dir, load_assignment(manifest))
    except (GraderError, ManifestError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    sys.stdout.write("\n@@COURSEKIT-MANIFEST@@" + json.dumps(entries))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
