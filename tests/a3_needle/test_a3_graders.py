"""The a3 (needle) graders, run through the real autograder: the reference solution
gets full marks, the released stubs get zero, known-wrong answers lose exactly the
points of the graders meant to catch them, and differently written correct answers
get full marks."""

import ast
import sys
from pathlib import Path

import pytest

from coursekit.testing import mutate

sys.path.insert(0, str(Path(__file__).parent))

from a3_alternatives import ALTERNATIVES, NN_APPENDIX  # noqa: E402
from a3_mutants import MUTANTS, NN, TRAINING_MUTANT  # noqa: E402

A = "a3_needle"


def _apply(submission, changes):
    for relpath, name, source in changes:
        mutate(submission, relpath, source, name=name)


def _scores(result, question):
    return {t["extra_data"]["id"].split("::")[1]: (t["score"], t["max_score"], t.get("output", ""))
            for t in result.results["tests"] if t["extra_data"].get("question") == question}


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


@pytest.mark.parametrize("name, question, changes, failing", MUTANTS, ids=[m[0] for m in MUTANTS])
def test_mutant_is_rejected(grade, reference_submission, name, question, changes, failing):
    submission = reference_submission(A)
    _apply(submission, changes)
    scores = _scores(grade(A, submission, only=[question]), question)
    assert failing <= set(scores), f"unknown graders {failing - set(scores)}"
    for test, (score, top, output) in scores.items():
        if test in failing:
            assert score == 0, f"{name}: {test} should reject this mutant"
            assert output and "grader itself failed" not in output, (test, output)
        else:
            assert score == top, f"{name}: {test} should not be affected: {output}"


@pytest.mark.realdata("mnist")
@pytest.mark.slow
def test_training_mutant_is_rejected(grade, reference_submission):
    name, question, changes, failing = TRAINING_MUTANT
    submission = reference_submission(A)
    _apply(submission, changes)
    scores = _scores(grade(A, submission, only=[question]), question)
    (test,) = failing
    score, _, output = scores[test]
    assert score == 0 and "test error" in output, output


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


def test_every_grader_meets_a_mutant():
    """Each grader function is the target of at least one mutant above, and every
    target names a real grader."""
    graders = set()
    for path in (Path(__file__).resolve().parents[2] / "autograder" / A).glob("test_*.py"):
        tree = ast.parse(path.read_text())
        graders |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    targeted = set().union(*(m[3] for m in MUTANTS), TRAINING_MUTANT[3])
    assert graders - targeted == set()
    assert targeted - graders == set()
