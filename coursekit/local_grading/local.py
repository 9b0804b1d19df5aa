"""Run an assignment's real `run_autograder` on one submission, on this machine.

A temporary folder shaped like Gradescope's /autograder is made for each
submission: the autograder zip unpacked into `source/`, `run_autograder` beside it,
the submission (a folder, or a zip copied in as uploaded) in `submission/`, and an
empty `results/`. What Gradescope would do, minus `setup.sh`: this machine's Python
stands in for the one setup.sh installs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUDGET_ENV = "COURSEKIT_BUDGET"


@dataclass
class GradeResult:
    results: dict            # the results.json document
    wall_seconds: float
    log: str                 # run_autograder's own output (staff-facing)

    @property
    def score(self) -> float:
        return float(self.results.get("score", 0.0))

    @property
    def max_score(self) -> float:
        return float(sum(t["max_score"] for t in self.results.get("tests", [])))

    def test(self, name: str) -> dict:
        """The result of the test whose function is `name` (e.g. "test_relu_backward")."""
        for t in self.results["tests"]:
            if t.get("extra_data", {}).get("id", "").endswith("::" + name):
                return t
        raise KeyError(f"no test {name!r} in the results")

    def question(self, qid: str) -> tuple[float, float]:
        """(score, max score) of question `qid`."""
        tests = [t for t in self.results["tests"] if t.get("extra_data", {}).get("question") == qid]
        if not tests:
            raise KeyError(f"no tests of question {qid!r} in the results")
        return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)

    def by_question(self) -> dict[str, tuple[float, float]]:
        out: dict[str, tuple[float, float]] = {}
        for t in self.results.get("tests", []):
            qid = t.get("extra_data", {}).get("question", "?")
            score, top = out.get(qid, (0.0, 0.0))
            out[qid] = (score + t["score"], top + t["max_score"])
        return out


def default_zip(assignment: str) -> Path:
    return REPO / "autograder" / "dist" / f"{assignment}-gradescope.zip"


def grade_submission(assignment: str, submission: str | Path, results: str | Path | None = None,
                     device: str = "cpu", only=(), retrain: bool = False,
                     autograder_zip: str | Path | None = None, timeout: float = 3600,
                     python: str | None = None, budget: float | None = None) -> GradeResult:
    """Grade `submission` (a folder or a zip) and return the results document.

    `budget`: the whole grading's time budget in seconds (run_autograder's `--budget`).
    By default $COURSEKIT_BUDGET, else a little under `timeout`, so that results are
    written before this machine's own limit stops the run.
    """
    zip_path = Path(autograder_zip) if autograder_zip else default_zip(assignment)
    if not zip_path.is_file():
        raise FileNotFoundError(f"{zip_path} not found: run `make release` first")
    submission = Path(submission)
    if not submission.exists():
        raise FileNotFoundError(f"{submission}: no such submission")
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="coursekit-grade-"))
    try:
        os.chmod(tmp, 0o700)
        root = tmp / "autograder"
        source, sub = root / "source", root / "submission"
        for d in (source, sub, root / "results"):
            d.mkdir(parents=True)
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(source)   # our own build: trusted
        for script in ("run_autograder", "setup.sh"):
            os.chmod(source / script, 0o755)
        shutil.copy2(source / "run_autograder", root / "run_autograder")
        if submission.is_dir():
            shutil.copytree(submission, sub, dirs_exist_ok=True, symlinks=True)
        else:
            shutil.copy2(submission, sub / submission.name)
        env = dict(os.environ, AUTOGRADER_ROOT=str(root), COURSEKIT_PYTHON=python or sys.executable)
        args = ["bash", str(root / "run_autograder"), "--device", device]
        if only:
            args += ["--only", ",".join(only)]
        if retrain:
            args.append("--retrain")
        if budget is None and not os.environ.get(BUDGET_ENV) and timeout > 30:
            budget = timeout - 10
        if budget is not None:
            args += ["--budget", f"{budget:g}"]
        try:
            proc = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True,
                                  timeout=timeout)
            log = proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            log = f"run_autograder did not finish within {timeout:.0f} s\n{exc.stdout or ''}"
        results_path = root / "results" / "results.json"
        if not results_path.is_file():
            raise RuntimeError(f"run_autograder wrote no results.json:\n{log[-4000:]}")
        doc = json.loads(results_path.read_text())
        if results is not None:
            Path(results).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(results_path, results)
        return GradeResult(doc, time.monotonic() - started, log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
