"""The mutant harness (coursekit.testing): every grader of every assignment meets a
mutant declared in tests/<a>/*_mutants.py, and the checks of a grading run judge
what they say they judge."""

import shutil
from pathlib import Path

import pytest

from coursekit.testing import (GRADER_FAILED, Mutant, MutantRun, coverage_problems,
                               elsewhere_problems, graders_in, load_elsewhere, load_runs,
                               rejection_listing, run_problems)

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = sorted(p.parent.name for p in (REPO / "source").glob("*/assignment.toml"))


@pytest.mark.parametrize("a", ASSIGNMENTS)
def test_every_grader_meets_a_mutant(a):
    folder = REPO / "tests" / a
    assert list(folder.glob("*_mutants.py")), (
        f"tests/{a}/ has no *_mutants.py file: declare RUNS (coursekit.testing.MutantRun) "
        "there, one Mutant per known-wrong answer (docs/authoring.md, section 6)")
    graders = graders_in(REPO / "autograder" / a)
    assert graders, f"autograder/{a} has no graders"
    elsewhere = load_elsewhere(folder)
    problems = coverage_problems(graders, load_runs(folder), f"tests/{a}/", elsewhere)
    problems += elsewhere_problems(folder, elsewhere)
    assert not problems, "\n".join(problems)


def test_a_new_grader_without_mutants_is_named_with_where_to_add_one(tmp_path):
    graders = tmp_path / "a3_needle"
    shutil.copytree(REPO / "autograder" / "a3_needle", graders,
                    ignore=shutil.ignore_patterns("__pycache__"))
    new = graders / "test_leaky_relu.py"
    new.write_text('from coursekit.grading import number, question, weight\n\n'
                   'pytestmark = question("leaky_relu")\n\n\n'
                   '@weight(2)\n@number("9.1")\ndef test_leaky_relu_forward(ndl):\n    pass\n')
    runs = load_runs(REPO / "tests" / "a3_needle")
    problems = coverage_problems(graders_in(graders), runs, "tests/a3_needle/")
    assert problems == [
        f"{new}:8: test_leaky_relu_forward (question leaky_relu) meets no mutant: add a MutantRun "
        "with a Mutant it must reject to RUNS in a *_mutants.py file of tests/a3_needle/ "
        "(docs/authoring.md, section 6)"]


def test_a_target_that_is_no_grader_is_reported():
    graders = graders_in(REPO / "autograder" / "a3_needle")
    runs = [MutantRun("typo", ("nn_norm",), (Mutant("typo", {"test_layernorm_forwrd"}),))]
    problems = coverage_problems(graders, runs, "tests/a3_needle/")
    assert "tests/a3_needle/: run typo, mutant typo: test_layernorm_forwrd is not a grader " \
           "of this assignment" in problems


def _results(*tests):
    return {"tests": [{"name": f"Q: {name}", "score": score, "max_score": top, "output": output,
                       "extra_data": {"id": f"test_x.py::{name}", "question": question}}
                      for name, question, score, top, output in tests]}


RUN = MutantRun("r", ("q",), (Mutant("wrong_sign", {"test_a"}, says={"test_a": "sign"}),))


def test_a_run_whose_graders_behave_has_no_problems():
    results = _results(("test_a", "q", 0, 2, "dx: wrong sign"), ("test_b", "q", 1, 1, ""),
                       ("test_other", "p", 0, 3, "not graded here"))
    assert run_problems(results, RUN) == []


def test_a_grader_that_itself_failed_rejects_nothing():
    results = _results(("test_a", "q", 0, 2, f"{GRADER_FAILED} (KeyError: 'x'); sign"),
                       ("test_b", "q", 1, 1, ""))
    (problem,) = run_problems(results, RUN)
    assert problem.startswith("wrong_sign: test_a did not judge the answer, the grader itself failed")


@pytest.mark.parametrize("score, output, words", [
    (2, "", "test_a gave full marks to a wrong answer"),
    (0, "  ", "test_a took points off without a message"),
    (1, "dx is off", "test_a's message lacks 'sign'"),
])
def test_a_target_that_does_not_reject_is_reported(score, output, words):
    results = _results(("test_a", "q", score, 2, output), ("test_b", "q", 1, 1, ""))
    problems = run_problems(results, RUN)
    assert any(words in p for p in problems), problems


def test_collateral_loss_and_missing_target_are_reported():
    results = _results(("test_b", "q", 0.5, 1, "shape (3,) expected (2,)"))
    problems = run_problems(results, RUN)
    assert problems[0].startswith("wrong_sign: test_a was not graded in this run"), problems
    assert problems[1] == ("test_b lost points to mutants it does not target (0.5/1): "
                           "shape (3,) expected (2,)"), problems


def test_a_mutant_that_must_earn_nothing():
    run = MutantRun("r", ("q",), (Mutant("untrained", {"test_a"}, zero={"test_a"}),))
    problems = run_problems(_results(("test_a", "q", 1, 2, "accuracy 40%")), run)
    assert problems == ["untrained: test_a gave 1 points, expected none"]


def test_listing_names_every_grader():
    graders = graders_in(REPO / "autograder" / "a3_needle")
    lines = rejection_listing(graders, load_runs(REPO / "tests" / "a3_needle"))
    assert len(lines) == len(graders)
    layernorm = next(line for line in lines if "::test_layernorm_backward " in line)
    assert "layernorm_eps_outside_sqrt" in layernorm, layernorm
    assert not [line for line in lines if line.endswith(": NONE")]


def test_proved_elsewhere_must_name_a_real_test_that_names_the_grader(tmp_path):
    (tmp_path / "test_checkpoints.py").write_text(
        'def test_bad_checkpoints(grade):\n    assert grade("x").test("test_accuracy")["score"] == 0\n')
    assert elsewhere_problems(tmp_path, {"test_accuracy": "test_checkpoints.py::test_bad_checkpoints"}) == []
    assert elsewhere_problems(tmp_path, {"test_speed": "test_checkpoints.py::test_bad_checkpoints"}) == [
        f"PROVED_ELSEWHERE['test_speed']: {tmp_path}/test_checkpoints.py::test_bad_checkpoints "
        "never names test_speed"]
    assert elsewhere_problems(tmp_path, {"test_accuracy": "test_checkpoints.py::test_gone"}) == [
        f"PROVED_ELSEWHERE['test_accuracy']: {tmp_path}/test_checkpoints.py has no test_gone"]
