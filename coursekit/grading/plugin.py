"""The pytest plugin that runs graders against a sandboxed submission.

`GradingPlugin` is registered by `coursekit.gradescope.run` (never by the graders
themselves). It supplies the fixtures graders use (`student`, `data_dir`, `retrain`,
`assignment`), gives every test its time limit, and records one `TestRecord` per test
with a message the student can act on. Writing results.json is the caller's job, after
the student process and everything it started are gone.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from coursekit.grading.budget import Budget
from coursekit.sandbox import Limits, Sandbox, SandboxFailure, Student, StudentTimeout

MAX_OUTPUT_CHARS = 8000
_CURRENT: dict = {}   # the plugin of the grading in progress (one per process), for flag()


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
    budget: Budget | None = None       # the whole grading's time budget (None: unbounded)
    on_record: Callable[[dict], None] | None = None   # called with the records after each test


class GraderTimeout(BaseException):
    """A test ran past its limit in the grader itself (not in a student call).

    A BaseException, so that a grader's `except Exception` cannot swallow it.
    """

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
    """The test's time limit, cut short when less than that is left of the grading's budget."""
    own = own_limit(item, assignment)
    plugin = _active_plugin(item.config)
    return plugin.limit_for(item, own) if plugin is not None else own


def own_limit(item, assignment) -> float:
    """The limit the grader or its question asks for."""
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
    if isinstance(exc, (SandboxFailure, AssertionError, GraderTimeout)):
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
        self.current: str | None = None   # the test running now (for the watchdog)
        self._limits: dict[str, tuple] = {}
        self.durations: dict[str, tuple[float, float]] = {}   # test -> (seconds used, own limit)
        self._started = 0.0
        a = config.assignment
        memory = max([q.resources.memory_mb for q in a.questions] or [2048])
        self.flags: list[dict] = []        # staff-only: integrity flags raised by graders
        _CURRENT["plugin"] = self
        self.sandbox = Sandbox(config.workspace, python_path=a.python_path,
                               limits=Limits(memory_mb=0 if config.device == "cuda" else memory,
                                             cpu_seconds=self._cpu_budget()),
                               python=config.python, device=config.device)

    def _cpu_budget(self) -> int:
        a = self.config.assignment
        return int(sum(q.resources.cpu_seconds for q in a.questions) * 2 + 120)

    def close(self) -> None:
        self.sandbox.close()

    # ------------------------------------------------------------------ time

    def limit_for(self, item, own: float) -> float:
        """The limit a test starting now gets: its own, or what is left of the budget."""
        budget = self.config.budget
        limit, cut = budget.clamp(own) if budget is not None else (own, False)
        self._limits[test_id(item)] = (own, limit, cut)
        return limit

    def _timeout_note(self, tid: str) -> str:
        own, limit, cut = self._limits.get(tid, (None, None, False))
        if cut:
            return (f" (this test had only {limit:.0f} s: what was left of the grading's "
                    f"time budget of {self.config.budget.seconds:g} s; its own limit is {own:g} s)")
        if limit is not None:
            return f" (the time limit for this test is {limit:g} s)"
        return ""

    def _arm(self, item) -> bool:
        """Stop a grader that hangs in its own code: an alarm well past the test's limit.

        Student calls already end at the test's deadline; this catches the rest (the
        grader's own work, a decode that never ends) so one test cannot take the others'
        time. Only possible from the main thread (signals).
        """
        if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
            return False
        own = own_limit(item, self.config.assignment)
        after = own + max(10.0, own)
        budget = self.config.budget
        why = f"its time limit is {own:g} s"
        if budget is not None:
            # Before the watchdog, so that this test's record says what happened.
            left = max(1.0, budget.left_for_tests() + budget.reserve / 4)
            if left < after:
                after = left
                why = f"{budget.ran_out()}; its own limit is {own:g} s"
        started = time.monotonic()

        def ring(signum, frame):
            # Ring again soon, in case the grader catches it and carries on.
            signal.setitimer(signal.ITIMER_REAL, 2.0)
            raise GraderTimeout(f"timed out: the test was stopped after "
                                f"{time.monotonic() - started:.0f} s ({why})")

        signal.signal(signal.SIGALRM, ring)
        signal.setitimer(signal.ITIMER_REAL, after)
        return True

    @staticmethod
    def _disarm() -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def _notify(self) -> None:
        if self.config.on_record is None:
            return
        try:
            self.config.on_record(dict(self.records))
        except Exception as exc:   # the final write still happens; keep grading
            print(f"coursekit: could not save results so far: {exc}", file=sys.stderr)

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

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        """Once the budget is spent, the remaining tests are reported, not started."""
        budget = self.config.budget
        tid = test_id(item)
        if budget is None or budget.can_start():
            self.current = tid
            self._started = time.monotonic()
            return None
        self.records[tid] = TestRecord(tid, "failed", 0.0, f"not run: {budget.ran_out()}")
        self._notify()
        return True

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        armed = self._arm(item)
        try:
            yield
        finally:
            if armed:
                self._disarm()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        tid = test_id(item)
        if call.excinfo is not None and isinstance(call.excinfo.value, GraderTimeout):
            # The alarm may have cut a request in half: start the next test afresh.
            self.sandbox.stop()
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.durations[tid] = (time.monotonic() - self._started,
                                   own_limit(item, self.config.assignment))
            self._record(item, tid, report, call)
            self._notify()
        elif report.when == "teardown" and tid in self.records:
            output = self.sandbox.take_output().strip()
            if output:
                rec = self.records[tid]
                room = max(500, MAX_OUTPUT_CHARS - len(rec.output))
                if len(output) > room:
                    output = output[:room] + f"\n... (output cut at {room} characters)"
                rec.output = (rec.output + "\n\nOutput of your code:\n" + output).strip()
                self._notify()

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
            if isinstance(exc, StudentTimeout) and not getattr(exc, "limit_noted", False):
                # On the exception itself, so that a failure the sandbox repeats for later
                # tests (an import that hung) names the limit it ran out of, not theirs.
                exc.args = (f"{exc}{self._timeout_note(tid)}",)
                exc.limit_noted = True
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


def _active_plugin(config) -> "GradingPlugin | None":
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, GradingPlugin):
            return plugin
    return None


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
def grader_folder(request) -> Path:
    """A fresh folder the grader writes files into for the student process to read.

    Owned by root and outside the student's workspace: the student process sees it at the
    same path, read-only, so nothing in it can be swapped for a link.
    """
    plugin = _plugin(request)
    return plugin.sandbox.shared_folder()


def flag(kind: str, reason: str) -> None:
    """Record a staff-only flag for the running test (`kind`: "integrity", ...)."""
    plugin = _CURRENT.get("plugin")
    if plugin is None:
        raise RuntimeError("flag() is only available while graders run")
    plugin.flags.append({"test": plugin.current, "kind": str(kind), "reason": str(reason)})


@pytest.fixture
def retrain(request) -> bool:
    return _plugin(request).config.retrain


@pytest.fixture
def assignment(request):
    return _plugin(request).config.assignment
