"""What `run_autograder` executes: grade /autograder/submission, write results.json.

The order matters for safety: the results folder and the graders are locked to root
first; the submission is prepared; pytest runs the graders with the student code in
a sandboxed process; that process and everything it started are killed; only then is
the final results.json written, atomically, from the list of every expected test.
Whatever fails on the way, a valid results file is written.

The whole run has a time budget below the platform's limit (`--budget SECONDS`, or
$COURSEKIT_BUDGET; 540 s by default, for Gradescope's default limit of 600 s): tests get
at most what is left of it, tests that cannot start in time are reported as not run,
and a watchdog thread writes the results from what ran and ends the process if the
budget is spent anyway. Results so far are also saved after every test, in the
root-only results folder.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.grading.budget import DEFAULT_SECONDS, ENV, Budget, budget_seconds


def _lock_down(root: Path) -> None:
    """As root: graders, hidden data and results readable by root only."""
    if os.geteuid() != 0:
        return
    for sub in ("source", "results"):
        path = root / sub
        path.mkdir(exist_ok=True)
        os.chmod(path, 0o700)


def _pick_device(requested: str) -> str:
    if requested != "auto":
        return requested
    if not os.path.exists("/dev/nvidiactl"):
        return "cpu"
    try:
        import torch
        return "cuda" if torch.cuda.is_available() else "cpu"
    except Exception:
        return "cpu"


@dataclass
class Run:
    """What one grading has so far, shared by the main thread and the watchdog."""

    results: Path
    budget: Budget
    expected: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    records: dict = field(default_factory=dict)
    plugin: object = None
    finished: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _final: bool = False

    def staff_data(self) -> dict:
        """What course staff see and students do not: the sandbox's active layers,
        peak memory and the graders' flags."""
        import resource
        grader = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        student = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        plugin = self.plugin
        return {
            "sandbox": dict(getattr(getattr(plugin, "sandbox", None), "layers", {}) or {}),
            "peak_memory_mb": round(max(grader, student), 1),
            "peak_memory_mb_by_process": {"grader": round(grader, 1), "student": round(student, 1)},
            "flags": list(getattr(plugin, "flags", []) or []),
        }

    def write(self, records: dict, reason: str, final: bool) -> bool:
        """Write results.json from `records`; after the final write, nothing more is written."""
        from coursekit.grading.results import build_results, write_atomic

        if not self._lock.acquire(timeout=max(1.0, self.budget.reserve / 4)):
            return False
        try:
            if self._final:
                return False
            doc = build_results(self.expected, records, self.notes, self.budget.elapsed(), reason)
            doc["extra_data"] = self.staff_data()
            write_atomic(self.results, doc)
            self._final = final
            return True
        finally:
            self._lock.release()


def grade(root: Path, device: str, only: tuple[str, ...], retrain: bool, run: Run) -> None:
    """Run the graders; the records and notes land in `run`."""
    import pytest

    from coursekit.grading.plugin import GradingConfig, GradingPlugin
    from coursekit.grading.submission import prepare_workspace
    from coursekit.manifest import load_assignment

    source = root / "source"
    assignment = load_assignment(source / "assignment.toml")
    # Root's own copy of the submission: student processes get fresh copies of it.
    scratch = Path(tempfile.mkdtemp(prefix="coursekit-work-"))
    os.chmod(scratch, 0o700)
    workspace = scratch / "submission"
    plugin = None
    try:
        prepared = prepare_workspace(root / "submission", source / "starter", assignment, workspace,
                                     only=only)
        run.notes = list(prepared.notes)

        def save_progress(records: dict) -> None:
            # Results so far, in case the run is cut short by something no thread survives.
            run.write(records, "the autograder stopped before this test", final=False)

        config = GradingConfig(assignment=assignment, workspace=workspace, data_dir=source / "data",
                               device=_pick_device(device), retrain=retrain, only=only,
                               file_notes=prepared.file_notes, python=sys.executable,
                               budget=run.budget, on_record=save_progress)
        plugin = GradingPlugin(config)
        run.plugin = plugin
        args = [str(source / "tests"), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                "--rootdir", str(source / "tests"), "-o", "addopts=", "-o", "python_files=test_*.py"]
        pytest.main(args, plugins=[plugin, sys.modules["coursekit.grading.plugin"]])
        run.records = dict(plugin.records)
        print(timing_report(plugin.durations), file=sys.stderr)
    finally:
        if plugin is not None:
            plugin.close()
        shutil.rmtree(scratch, ignore_errors=True)


def timing_report(durations: dict) -> str:
    """For the staff log: each test's time against its own limit, so that limits can be
    set with a measured margin (a reference solution should use a small part of each:
    Gradescope's machines and loaded CI runners are several times slower)."""
    lines = ["time used by each test (seconds used / own limit):"]
    for tid, (used, limit) in durations.items():
        share = used / limit if limit else 0.0
        warn = "  <- under a 3x margin" if share > 1 / 3 else ""
        lines.append(f"  {used:7.1f} / {limit:6g}  {tid}{warn}")
    return "\n".join(lines)


def watch(run: Run) -> None:
    """At the end of the budget, write results from what ran and end the whole run.

    Runs in its own thread, so it acts even when a grader, pytest or a cleanup step
    hangs in the main thread; the platform must never be the one to stop the run,
    since it then records no results at all.
    """
    if run.finished.wait(run.budget.watchdog_in()):
        return
    from coursekit.grading.plugin import TestRecord

    ran_out = run.budget.ran_out()
    plugin = run.plugin
    records = dict(plugin.records) if plugin is not None else dict(run.records)
    current = getattr(plugin, "current", None)
    if current and current not in records:
        records[current] = TestRecord(current, "failed", 0.0,
                                      f"timed out: {ran_out} while this test was running")
    if plugin is not None:
        # Stop the student processes first, but never wait past the reserve for it.
        stopper = threading.Thread(target=plugin.close, daemon=True)
        stopper.start()
        stopper.join(run.budget.reserve / 4)
    run.notes = list(run.notes) + [f"The grading stopped early: {ran_out}. "
                                   "Tests that had not finished score 0."]
    run.write(records, ran_out, final=True)
    print(f"coursekit: {ran_out}; results written from the tests that ran", file=sys.stderr, flush=True)
    os._exit(0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/autograder")
    parser.add_argument("--device", default=os.environ.get("COURSEKIT_DEVICE", "auto"),
                        choices=["auto", "cpu", "cuda"])
    parser.add_argument("--only", default="", help="comma-separated question ids to grade")
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--budget", default=None, metavar="SECONDS",
                        help=f"time budget of the whole grading, below the platform's limit "
                             f"(default: ${ENV}, else {DEFAULT_SECONDS:g} s, for Gradescope's "
                             "default limit of 600 s)")
    args = parser.parse_args(argv)
    try:
        budget = Budget(budget_seconds(args.budget))
    except ValueError as exc:
        # A setting's mistake must not cost the student the results: say so, use the default.
        print(f"coursekit: {exc}; using the default budget of {DEFAULT_SECONDS:g} s", file=sys.stderr)
        budget = Budget(DEFAULT_SECONDS)
    root = Path(args.root)
    only = tuple(q for q in args.only.split(",") if q)
    _lock_down(root)
    run = Run(root / "results" / "results.json", budget)
    threading.Thread(target=watch, args=(run,), name="coursekit-watchdog", daemon=True).start()
    reason = "the grading run ended before this test"
    try:
        expected = json.loads((root / "source" / "tests_manifest.json").read_text())
        run.expected = [e for e in expected if not only or e["question"] in only]
        run.write({}, "the autograder stopped before this test", final=False)
        grade(root, args.device, only, args.retrain, run)
    except BaseException as exc:  # the results file must be written whatever happened
        traceback.print_exc()
        reason = f"the autograder stopped early ({type(exc).__name__}: {exc})"
        run.notes = list(run.notes) + [
            f"The autograder could not finish: {type(exc).__name__}: {exc}. "
            "Tests that did not run score 0; please tell the course staff."]
        if run.plugin is not None:
            run.records = dict(run.plugin.records)
    run.write(run.records, reason, final=True)
    run.finished.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
