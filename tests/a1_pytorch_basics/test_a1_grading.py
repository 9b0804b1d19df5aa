"""a1's graders through the real autograder: full marks for the reference, zero for the
released stubs, every mutant rejected by the graders meant to catch it, and correct
alternatives written differently accepted."""

import pytest

from a1_mutants import ALT_CNN, ALT_CNN_KEYS, ALT_FC, ALT_FC_KEYS, ALTERNATIVES, MNIST, MUTANT_RUNS, REG
from a1_kit import A, have_mnist, rename_checkpoint

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
        if have_mnist() or "checkpoint" not in name:
            assert "is not implemented yet" in output, (name, output)


def test_regression_reference_without_data(grade, reference_submission):
    """The notebook questions grade in full without MNIST or checkpoints."""
    result = grade(A, reference_submission(A), only=REGRESSION_QUESTIONS)
    assert result.by_question() == {q: (POINTS[q], POINTS[q]) for q in REGRESSION_QUESTIONS}, result.results


@pytest.mark.parametrize("run", sorted(MUTANT_RUNS))
def test_mutants_rejected(run, grade, make_submission, reference_submission, request):
    questions, changes, must_fail, must_pass = MUTANT_RUNS[run]
    if {"mnist_fc", "mnist_cnn"} & set(questions):
        if not have_mnist():
            pytest.skip("this run grades the MNIST checkpoints: needs datasets/cache/mnist")
        base = request.getfixturevalue("full_reference")
    else:
        base = reference_submission(A)
    result = grade(A, make_submission(base, run, changes), only=questions)
    outcomes = _outcomes(result)
    for name in must_fail:
        score, top, output = outcomes[name]
        assert score < top, f"{run}: {name} gave full marks to a wrong answer"
        assert output.strip(), f"{run}: {name} failed without a message"
    for name in must_pass:
        score, top, output = outcomes[name]
        assert score == top, f"{run}: {name} should not be affected: {output}"
    if run == "training":
        # Caught by its length check, not by a side effect of the unscaled step.
        assert "expected 12 entries, got 9" in outcomes["test_minibatch_sgd_batches"][2]
    if run == "sigmoid_autograd":
        # The autograd version uses torch.sigmoid, so only its use of autograd can fail it.
        assert "without autograd" in outcomes["test_grad_W2"][2]
    if run == "bias_sums":
        # Refused when loading, whatever the class does.
        assert "holds a pickled torch.nn.modules.container.Sequential" in \
            outcomes["test_fc_checkpoint_accuracy"][2]
    if run == "factor_two":
        for name in ("test_fc_checkpoint_accuracy", "test_cnn_checkpoint_accuracy"):
            assert outcomes[name][0] == 0, f"an untrained model earned points in {name}"


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
