"""a2's mutants through the real autograder, judged by the kit's mutant harness: each
run loses the points of the graders it targets and only those (a2_mutants.RUNS)."""

from pathlib import Path

import pytest

from coursekit.testing import load_runs, run_problems

A = "a2_neural_nets"
RUNS = load_runs(Path(__file__).parent)


@pytest.mark.parametrize("run", [r.param() for r in RUNS])
def test_mutant_run(run, grade, reference_submission, request):
    result = grade(A, run.apply(reference_submission(A), request), only=run.questions)
    problems = run_problems(result.results, run)
    assert not problems, "\n".join(problems)
