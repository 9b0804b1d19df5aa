"""a1's graders through the real autograder: full marks for the reference, zero for the
released stubs, every mutant rejected by the graders meant to catch it, and correct
alternatives written differently accepted. The mutants run in test_a1_mutant_runs.py."""

import pytest

from a1_mutants import ALT_CNN, ALT_CNN_KEYS, ALT_FC, ALT_FC_KEYS, ALTERNATIVES, MNIST, REG
from a1_kit import A, rename_checkpoint

POINTS = {"forward": 8, "gradients": 16, "training": 10, "save_restore": 10, "mnist_fc": 16, "mnist_cnn": 20}
REGRESSION_QUESTIONS = ("forward", "gradients", "training", "save_restore")
needs_mnist = pytest.mark.realdata("mnist")


def _name(test):
    return test["extra_data"]["id"].rsplit("::", 1)[1]


def _outcomes(result):
    return {_name(t): (t["score"], t["max_score"], t["output"]) for t in result.results["tests"]}


@needs_mnist
@pytest.mark.slow
def test_reference_scores_full_marks(grade, full_reference):
    result = grade(A, full_reference)
    assert result.by_question() == {q: (p, p) for q, p in POINTS.items()}, result.results
    assert result.score == sum(POINTS.values())
    board = result.results.get("leaderboard")
    assert board and board[0]["name"] == "CNN test accuracy (%)" and board[0]["value"] >= 99.0, board


def test_stubs_score_zero_with_a_message_each(grade, stub_submission):
    result = grade(A, stub_submission(A))
    assert result.max_score == sum(POINTS.values())
    assert result.score == 0
    for name, (score, _, output) in _outcomes(result).items():
        assert score == 0, name
        if "checkpoint" in name:
            # The checkpoint is read before any student code runs.
            assert "is missing from your submission" in output, (name, output)
        else:
            assert "is not implemented yet" in output, (name, output)


def test_regression_reference_without_data(grade, reference_submission):
    """The notebook questions grade in full without MNIST or checkpoints."""
    result = grade(A, reference_submission(A), only=REGRESSION_QUESTIONS)
    assert result.by_question() == {q: (POINTS[q], POINTS[q]) for q in REGRESSION_QUESTIONS}, result.results


@needs_mnist
@pytest.mark.slow
def test_alternatives_accepted(grade, make_submission, full_reference):
    changes = {(REG, grade_id): source for grade_id, source in ALTERNATIVES.items()}
    changes[(MNIST, "fc_model")] = ALT_FC
    changes[(MNIST, "cnn_model")] = ALT_CNN
    sub = make_submission(full_reference, "alternatives", changes)
    rename_checkpoint(sub, "fc", ALT_FC_KEYS)
    rename_checkpoint(sub, "cnn", ALT_CNN_KEYS)
    result = grade(A, sub)
    assert result.by_question() == {q: (p, p) for q, p in POINTS.items()}, result.results
