"""What `run_autograder` executes: grade /autograder/submission, write results.json.

The order matters for safety: the results folder and the graders are locked to root
first; the submission is prepared; pytest runs the graders with the student code in
a sandboxed process; that process and everything it started are killed; only then is
results.json written, atomically, from the list of every expected test. Whatever
fails on the way, a valid results file is written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path


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


def grade(root: Path, device: str, only: tuple[str, ...], retrain: bool) -> tuple[list, dict, list]:
    """Run the graders; returns (expected tests, records, notes)."""
    import pytest

    from coursekit.grading.plugin import GradingConfig, GradingPlugin
    from coursekit.grading.submission import prepare_workspace
    from coursekit.manifest import load_assignment

    source = root / "source"
    expected = json.loads((source / "tests_manifest.json").read_text())
    if only:
        expected = [e for e in expected if e["question"] in only]
    assignment = load_assignment(source / "assignment.toml")
    scratch = Path(tempfile.mkdtemp(prefix="coursekit-work-"))
    os.chmod(scratch, 0o711)
    workspace = scratch / "submission"
    records: dict = {}
    plugin = None
    try:
        prepared = prepare_workspace(root / "submission", source / "starter", assignment, workspace)
        notes = list(prepared.notes)
        config = GradingConfig(assignment=assignment, workspace=workspace, data_dir=source / "data",
                               device=_pick_device(device), retrain=retrain, only=only,
                               file_notes=prepared.file_notes, python=sys.executable)
        plugin = GradingPlugin(config)
        args = [str(source / "tests"), "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                "--rootdir", str(source / "tests"), "-o", "addopts=", "-o", "python_files=test_*.py"]
        pytest.main(args, plugins=[plugin, sys.modules["coursekit.grading.plugin"]])
        records = plugin.records
    finally:
        if plugin is not None:
            plugin.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return expected, records, notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/autograder")
    parser.add_argument("--device", default=os.environ.get("COURSEKIT_DEVICE", "auto"),
                        choices=["auto", "cpu", "cuda"])
    parser.add_argument("--only", default="", help="comma-separated question ids to grade")
    parser.add_argument("--retrain", action="store_true")
    args = parser.parse_args(argv)
    root = Path(args.root)
    started = time.monotonic()
    only = tuple(q for q in args.only.split(",") if q)
    _lock_down(root)
    expected, records, notes = [], {}, []
    reason = "the grading run ended before this test"
    try:
        expected_path = root / "source" / "tests_manifest.json"
        expected = json.loads(expected_path.read_text())
        expected, records, notes = grade(root, args.device, only, args.retrain)
    except BaseException as exc:  # the results file must be written whatever happened
        traceback.print_exc()
        reason = f"the autograder stopped early ({type(exc).__name__}: {exc})"
        notes = notes + [f"The autograder could not finish: {type(exc).__name__}: {exc}. "
                         "Tests that did not run score 0; please tell the course staff."]
    from coursekit.grading.results import build_results, write_atomic
    doc = build_results(expected, records, notes, time.monotonic() - started, reason)
    write_atomic(root / "results" / "results.json", doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
