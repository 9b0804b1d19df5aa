"""Section: a2's challenge reference retrained on a GPU: time and accuracy.

Runs only where torch sees a CUDA device. It is what a GPU runner does with
`coursekit grade --retrain --device cuda`: the reference submission's challenge
question is graded with its training re-run under the stated epoch budget. The grader
reports the accuracy as its leaderboard value; the time per epoch is the retraining
time divided by the epoch count, when the grader reports that too (a leaderboard
column whose name contains "epoch").
"""

from __future__ import annotations

import time

from coursekit.bench.measure import REPO, run_child
from coursekit.bench.report import Metric

TITLE = "a2 challenge on GPU"
A2 = "a2_neural_nets"


def _challenge_question() -> str | None:
    from coursekit.manifest import load_assignment

    a = load_assignment(REPO / "source" / A2)
    ids = [q.id for q in a.questions if "challenge" in q.id]
    return ids[0] if ids else None


def _inputs():
    return (REPO / "autograder" / "dist" / f"{A2}-gradescope.zip", REPO / "solutions" / f"{A2}-submission.zip")


def unavailable() -> str | None:
    import torch

    if not torch.cuda.is_available():
        return "no CUDA device (torch.cuda.is_available() is False)"
    if _challenge_question() is None:
        return f"source/{A2}/assignment.toml has no challenge question yet"
    missing = [p.name for p in _inputs() if not p.is_file()]
    if missing:
        return f"{', '.join(missing)} not built (run `make release`)"
    return None


def run(quick: bool = False) -> list:
    qid = _challenge_question()
    zip_path, submission = _inputs()
    raw = run_child("coursekit.bench.gpu", "probe",
                    {"question": qid, "submission": str(submission), "zip_path": str(zip_path)},
                    timeout=3600)
    board = raw["leaderboard"]
    accuracy = next((r["value"] for r in board if "acc" in r["name"].lower()), None)
    epochs = next((r["value"] for r in board if "epoch" in r["name"].lower()), None)
    score = f"score {raw['score']:g} / {raw['max_score']:g}"
    metrics = [Metric(f"{qid}: retraining (cuda)", raw["wall"], "s", note=score)]
    if epochs:
        metrics.append(Metric(f"{qid}: time per epoch", raw["wall"] / epochs, "s", note=f"{epochs:g} epochs"))
    else:
        metrics.append(Metric(f"{qid}: time per epoch", None, "", note="not available: the grader reports no epoch count"))
    if accuracy is None:
        metrics.append(Metric(f"{qid}: test accuracy", None, "", note="not available: no accuracy on the leaderboard"))
    else:
        percent = 100 * accuracy if accuracy <= 1 else accuracy  # a fraction or already a percentage
        metrics.append(Metric(f"{qid}: test accuracy", percent, "%", note="leaderboard value"))
    return metrics


def probe(question: str, submission: str, zip_path: str) -> dict:
    """Run in a fresh process (see run): grade the challenge question with retraining on cuda."""
    from coursekit.local_grading import grade_submission

    start = time.perf_counter()
    result = grade_submission(A2, submission, device="cuda", only=(question,), retrain=True,
                              autograder_zip=zip_path, timeout=3600)
    return {"wall": time.perf_counter() - start, "score": result.score, "max_score": result.max_score,
            "leaderboard": result.results.get("leaderboard", [])}
