"""The pytest plugin that runs graders against a sandboxed submission.

`GradingPlugin` is registered by `coursekit.gradescope.run` (never by the graders
themselves). It supplies the fixtures graders use (`student`, `data_dir`, `retrain`,
`assignment`), gives every test its time limit, and records one `TestRecord` per test
with a message the student can act on. Writing results.json is the caller's job, after
the student process and everything it started are gone.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from coursekit.sandbox import Limits, Sandbox, SandboxFailure, Student

MAX_OUTPUT_CHARS = 8000


@dataclass
class TestRecord:
    test_id: str
    status: str            # "passed" | "failed"
    score: float
    output: str
    leaderboard: tuple[str, str, object] | None = None   # (column, order, value)


@dataclass
class GradingConfig:
    assignment: object                 # coursekit.manifest.Assignment
    workspace: Path                    # submission merged over the starter kit
    data_dir: Path                     # the autograder's hidden data
    device: str = "cpu"
    retrain: bool = False
    only: tuple[str, ...] = ()         # question ids; empty means all
    file_notes: dict = field(default_factory=dict)   # submitted file -> note (e.g. missing)
    python: str | None = None


def register_markers(config) -> None:
    config.addinivalue_line("markers", "question(id): the question a grader belongs to")
    config.addinivalue_line("markers", "coursekit_timeout(seconds): a grader's time limit")


def test_id(item) -> str:
    """A stable id for a grader: its file (relative to the graders folder) and name."""
    return f"{Path(item.path).name}::{item.name}"


def grader_attr(item, name, default=None):
    obj = getattr(item, "obj", None)
    while obj is not None:
        if hasattr(obj, name):
            return getattr(obj, name)
        obj = getattr(obj, "__wrapped__", None)
    return default


def question_of(item) -> str | None:
    mark = item.get_closest_marker("question")
    return mark.args[0] if mark and mark.args else None


def timeout_of(item, assignment) -> float:
    mark = item.get_closest_marker("coursekit_timeout")
    if mark and mark.args:
        return float(mark.args[0])
    qid = question_of(item)
    for q in assignment.questions:
        if q.id == qid:
            return float(q.resources.cpu_seconds)
    return 60.0


def explain(exc: BaseException) -> str:
    """What the student reads for a failed test."""
    if isinstance(exc, (SandboxFailure, AssertionError)):
        text = str(exc).strip()
        return text or "the check failed"
    if isinstance(exc, pytest.fail.Exception):
        return str(exc)
    return (f"the grader itself failed ({type(exc).__name__}: {exc}); "
            "this is not your fault, please tell the course staff")


class GradingPlugin:
    def __init__(self, config: GradingConfig):
        self.config = config
        self.records: dict[str, TestRecord] = {}
        a = config.assignment
        memory = max([q.resources.memory_mb for q in a.questions] or [2048])
        self.sandbox = Sandbox(config.workspace, python_path=a.python_path,
                               limits=Limits(memory_mb=0 if config.device == "cuda" else memory,
                                             cpu_seconds=self._cpu_budget()),
                               python=config.python)

    def _cpu_budget(self) -> int:
        a = self.config.assignment
        return int(sum(q.resources.cpu_seconds for q in a.questions) * 2 + 120)

    def close(self) -> None:
        self.sandbox.close()

    # ------------------------------------------------------------------ hooks

    def pytest_configure(self, config):
        register_markers(config)

    def pytest_collection_modifyitems(self, session, config, items):
        if not self.config.only:
            return
        keep = [i for i in items if question_of(i) in self.config.only]
        dropped = [i for i in items if question_of(i) not in self.config.only]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        tid = test_id(item)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._record(item, tid, report, call)
        elif report.when == "teardown" and tid in self.records:
            output = self.sandbox.take_output().strip()
            if output:
                rec = self.records[tid]
                room = max(500, MAX_OUTPUT_CHARS - len(rec.output))
                if len(output) > room:
                    output = output[:room] + f"\n... (output cut at {room} characters)"
                rec.output = (rec.output + "\n\nOutput of your code:\n" + output).strip()

    def _record(self, item, tid, report, call) -> None:
        weight = float(grader_attr(item, "__weight__", 0.0) or 0.0)
        partial = grader_attr(item, "__score__")
        if report.passed:
            status, score, output = "passed", weight, ""
        elif report.skipped:
            status, score, output = "failed", 0.0, "not run: " + str(report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr)
        else:
            status, score = "failed", 0.0
            exc = call.excinfo.value if call.excinfo else None
            output = explain(exc) if exc is not None else "failed"
            hidden = grader_attr(item, "__hide_errors__")
            if hidden:
                output = hidden
            note = self._file_note(item)
            if note:
                output = f"{note}\n{output}"
        if partial is not None and weight:
            score = max(0.0, min(weight, float(partial)))
        board = None
        column = grader_attr(item, "__leaderboard_column__")
        if column is not None:
            value = grader_attr(item, "__leaderboard_value__")
            board = (column, grader_attr(item, "__leaderboard_sort_order__", "desc"), value)
        self.records[tid] = TestRecord(tid, status, score, output[:MAX_OUTPUT_CHARS], board)

    def _file_note(self, item) -> str:
        qid = question_of(item)
        for q in self.config.assignment.questions:
            if q.id == qid:
                notes = [self.config.file_notes[f] for f in list(q.files) + [c[0] for c in q.cells]
                         if f in self.config.file_notes]
                return "\n".join(dict.fromkeys(notes))
        return ""


# ---------------------------------------------------------------------- fixtures


def _plugin(request) -> GradingPlugin:
    for plugin in request.config.pluginmanager.get_plugins():
        if isinstance(plugin, GradingPlugin):
            return plugin
    pytest.fail("graders must be run through coursekit (coursekit grade / run_autograder)")


@pytest.fixture
def student(request):
    plugin = _plugin(request)
    plugin.sandbox.take_output()  # drop anything printed outside this test
    view = Student(plugin.sandbox, timeout_of(request.node, plugin.config.assignment),
                   device=plugin.config.device)
    yield view
    if plugin.sandbox.alive:
        try:
            view.deadline = time.monotonic() + 10
            view._request({"op": "reset"}, "cleaning up")
        except SandboxFailure:
            plugin.sandbox.stop()


@pytest.fixture
def data_dir(request) -> Path:
    plugin = _plugin(request)
    path = plugin.config.data_dir
    missing = [d for d in plugin.config.assignment.autograder_data if not (path / d).exists()]
    if missing:
        pytest.fail("this autograder was built without its hidden data "
                    f"({', '.join(missing)}); the course staff must run `make data` and "
                    "`make release` again. This is not your fault.")
    return path


@pytest.fixture
def retrain(request) -> bool:
    return _plugin(request).config.retrain


@pytest.fixture
def assignment(request):
    return _plugin(request).config.assignment
