"""The a3 (needle) graders, run through the real autograder: the reference solution
gets full marks, the released stubs get zero, known-wrong answers lose exactly the
points of the graders meant to catch them, and differently written correct answers
get full marks."""

import sys
from pathlib import Path

import pytest

from coursekit.testing import load_runs, mutate, run_problems

sys.path.insert(0, str(Path(__file__).parent))

from a3_alternatives import ALTERNATIVES, NN_APPENDIX  # noqa: E402
from a3_mutants import NN  # noqa: E402

A = "a3_needle"
RUNS = load_runs(Path(__file__).parent)


def _apply(submission, changes):
    for relpath, name, source in changes:
        mutate(submission, relpath, source, name=name)


@pytest.mark.realdata("mnist")
@pytest.mark.slow
def test_reference_gets_full_marks(grade, reference_submission):
    result = grade(A, reference_submission(A))
    lost = {t["name"]: t.get("output", "") for t in result.results["tests"] if t["score"] < t["max_score"]}
    assert not lost, lost
    assert result.score == result.max_score == 100


def test_stubs_get_zero(grade, stub_submission):
    result = grade(A, stub_submission(A))
    assert result.max_score == 100
    assert result.score == 0
    for t in result.results["tests"]:
        if t["extra_data"]["question"] == "mnist_training" and "hidden data" in t["output"]:
            continue  # built without MNIST: this grader cannot run at all
        assert "not implemented yet" in t["output"], (t["name"], t["output"])


@pytest.mark.parametrize("run", [r.param() for r in RUNS])
def test_mutant_is_rejected(grade, reference_submission, request, run):
    """Each mutant loses the points of the graders it targets, and only those."""
    submission = run.apply(reference_submission(A), request)
    result = grade(A, submission, only=run.questions)
    problems = run_problems(result.results, run)
    assert not problems, "\n".join(problems)


@pytest.mark.realdata("mnist")
@pytest.mark.slow
def test_alternative_answers_get_full_marks(grade, reference_submission):
    submission = reference_submission(A)
    with open(Path(submission, NN), "a") as fh:
        fh.write(NN_APPENDIX)
    _apply(submission, ALTERNATIVES)
    result = grade(A, submission)
    lost = {t["name"]: t.get("output", "") for t in result.results["tests"] if t["score"] < t["max_score"]}
    assert not lost, lost
