"""Section: grading each assignment's reference submission, as `coursekit grade` does.

Checkpoint mode (no retraining), pinned to one CPU with one thread per library, which
is what a Gradescope container gives. Reported per assignment: wall time, CPU time
(the grader and every process it started) and peak memory (the largest resident set
among them), plus the score as a check that the reference still earns full marks.
"""

from __future__ import annotations

import resource
import time
from pathlib import Path

from coursekit.bench.measure import REPO, pick_cpu, run_child
from coursekit.bench.report import Metric

TITLE = "grading (reference)"


def _assignments() -> list:
    return sorted(p.parent.name for p in (REPO / "source").glob("*/assignment.toml"))


def _inputs(name: str) -> tuple[Path, Path]:
    return (REPO / "autograder" / "dist" / f"{name}-gradescope.zip",
            REPO / "solutions" / f"{name}-submission.zip")


def unavailable() -> str | None:
    try:
        from coursekit.local_grading import grade_submission  # noqa: F401
    except ImportError as e:
        return f"coursekit.local_grading cannot be imported ({e})"
    if not any(all(p.is_file() for p in _inputs(a)) for a in _assignments()):
        return "no assignment has both autograder/dist/<a>-gradescope.zip and solutions/<a>-submission.zip (run `make release`)"
    return None


def run(quick: bool = False, timeout: float = 600) -> list:
    metrics = []
    for name in _assignments():
        zip_path, submission = _inputs(name)
        missing = [str(p.relative_to(REPO)) for p in (zip_path, submission) if not p.is_file()]
        if missing:
            metrics.append(Metric(f"{name}", None, "", note=f"not available: no {', '.join(missing)}"))
            continue
        raw = run_child("coursekit.bench.grading", "probe",
                        {"assignment": name, "submission": str(submission), "zip_path": str(zip_path),
                         "timeout": timeout},
                        timeout=timeout + 60, cpu=pick_cpu())
        full = raw["score"] >= raw["max_score"] > 0
        score = f"score {raw['score']:g} / {raw['max_score']:g}" + ("" if full else " (NOT full marks)")
        metrics += [
            Metric(f"{name}: wall", raw["wall"], "s", note=score),
            Metric(f"{name}: CPU", raw["cpu"], "s", note="grader + student processes"),
            Metric(f"{name}: peak memory", raw["peak_mb"], "MB", note="largest single process"),
        ]
    return metrics


def probe(assignment: str, submission: str, zip_path: str, timeout: float) -> dict:
    """Run in a fresh process pinned to one CPU (see run): grade, then read the resource use."""
    from coursekit.local_grading import grade_submission

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = grade_submission(assignment, submission, autograder_zip=zip_path, timeout=timeout)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # ru_maxrss is in KiB on Linux; for children it is the largest of them, not a sum.
    peak_mb = max(after.ru_maxrss, own.ru_maxrss) / 1024
    return {"wall": wall, "cpu": cpu, "peak_mb": peak_mb, "score": result.score, "max_score": result.max_score}
