"""a1's mutants through the real autograder, judged by the kit's mutant harness: each
run loses the points of the graders it targets and only those (a1_mutants.RUNS)."""

from pathlib import Path

import pytest

from a1_kit import A
from coursekit.testing import load_runs, run_problems

RUNS = load_runs(Path(__file__).parent)


@pytest.mark.parametrize("run", [r.param() for r in RUNS])
def test_mutant_run(run, grade, reference_submission, request):
    # MNIST runs start from the reference with its trained checkpoints.
    base = request.getfixturevalue("full_reference") if run.base == "full_reference" \
        else reference_submission(A)
    result = grade(A, run.apply(base, request), only=run.questions)
    problems = run_problems(result.results, run)
    assert not problems, "\n".join(problems)
