"""A grading that would run past the platform's limit ends within its own budget, with
results for what ran.

Gradescope stops an autograder at its limit (10 minutes unless the course changes it)
and the student then gets no results at all, so the kit's budget must end the run first,
whatever hangs: the student's import, the student's output, a grader, or pytest itself.
Each grading here gets a small budget through run_autograder's `--budget`; time
assertions allow the budget plus a generous margin for unpacking and start-up, never a
figure that depends on this machine's speed.
"""

from __future__ import annotations

import pytest
from harness_support import assert_valid_results

from coursekit.grading.budget import DEFAULT_SECONDS, ENV, budget_seconds, reserve_for

HONEST = 3.0    # the demo's model and notebook questions, graded before calc/ops.py's
MARGIN = 60.0   # unpacking the autograder, starting Python: not part of the budget


@pytest.fixture
def budget_sub(build, tmp_path):
    """The budget fixture's reference submission (work.py)."""
    folder = tmp_path / "budget-sub"
    folder.mkdir()
    (folder / "work.py").write_bytes((build.solutions("budget") / "work.py").read_bytes())
    return folder


def grade_budget(grade, submission, only, budget):
    result = grade("budget", submission, only=only, budget=budget)
    assert_valid_results(result.results)
    return result


def ops_outputs(result) -> dict[str, str]:
    return {name: result.test(name)["output"]
            for name in ("test_add", "test_matmul_values", "test_matmul_shape_error")}


def test_import_that_loops_forever(grade_demo, demo):
    (demo / "calc" / "ops.py").write_text("while True:\n    pass\n")
    budget = 60
    result = grade_demo(demo, budget=budget)
    assert result.wall_seconds < budget + MARGIN
    assert result.score == HONEST
    for name, out in ops_outputs(result).items():
        assert result.test(name)["score"] == 0
        # Every test that needs calc.ops fails for the one reason: its import timed out.
        assert out.startswith("timed out"), (name, out)
        assert "calc.ops" in out, (name, out)


def test_output_that_never_ends(grade_demo, demo):
    source = (demo / "calc" / "ops.py").read_text()
    (demo / "calc" / "ops.py").write_text(source + '''

def add(a, b):
    while True:
        print("x" * 1000, flush=True)
''')
    budget = 60
    result = grade_demo(demo, budget=budget)
    assert result.wall_seconds < budget + MARGIN
    assert result.score == 6 - 1
    out = result.test("test_add")["output"]
    assert out.startswith("timed out"), out
    assert "the time limit for this test is 10 s" in out
    assert len(out) <= 9_000 and "Output of your code" in out


def test_grader_that_loops_in_its_own_code(grade, budget_sub):
    budget = 90
    result = grade_budget(grade, budget_sub, ["quick", "grader_loop", "after"], budget)
    assert result.wall_seconds < budget + MARGIN
    assert result.score == 2
    out = result.test("test_grader_loops")["output"]
    assert result.test("test_grader_loops")["score"] == 0
    assert out.startswith("timed out: the test was stopped after"), out
    assert "its time limit is 5 s" in out
    assert result.test("test_after")["status"] == "passed"


def test_grader_that_ignores_every_interruption(grade, budget_sub):
    """Only the watchdog can end this one: it writes the results and ends the run."""
    budget = 40
    result = grade_budget(grade, budget_sub, ["quick", "grader_stuck", "after"], budget)
    assert result.wall_seconds < budget + MARGIN
    assert result.score == 1
    assert result.test("test_quick")["status"] == "passed"
    ran_out = f"the grading's time budget of {budget} s ran out"
    assert result.test("test_grader_ignores_interruptions")["output"] == (
        f"timed out: {ran_out} while this test was running")
    assert result.test("test_after")["output"] == f"not run: {ran_out}"
    assert ran_out in result.results["output"]


def test_limit_longer_than_the_budget(grade, budget_sub):
    """A test's deadline is what is left of the budget; the tests after it are not run."""
    budget = 40
    result = grade_budget(grade, budget_sub, ["quick", "long_limit", "after"], budget)
    assert result.wall_seconds < budget + MARGIN
    assert result.score == 1
    out = result.test("test_settles_within_an_hour")["output"]
    assert out.startswith("timed out"), out
    assert f"time budget of {budget} s" in out and "3600 s" in out, out
    assert result.test("test_after")["output"] == (
        f"not run: the grading's time budget of {budget} s ran out")


def test_only_selected_questions_are_listed_when_the_budget_runs_out(grade, budget_sub):
    budget = 40
    result = grade_budget(grade, budget_sub, ["grader_stuck"], budget)
    assert [t["extra_data"]["question"] for t in result.results["tests"]] == ["grader_stuck"]
    assert result.score == 0


def test_budget_setting(monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert budget_seconds(None) == DEFAULT_SECONDS
    monkeypatch.setenv(ENV, "1200")
    assert budget_seconds(None) == 1200
    assert budget_seconds("45") == 45     # the option wins over the environment
    for bad in ("soon", "0", "-5", "nan", "inf", str(2 * reserve_for(0))):
        with pytest.raises(ValueError):
            budget_seconds(bad)


def test_a_wrong_budget_setting_still_grades(grade_demo, demo, monkeypatch):
    """A mistyped setting is reported in the staff log; the student still gets results."""
    monkeypatch.setenv(ENV, "ten minutes")
    result = grade_demo(demo)
    assert result.score == 6
    assert f"using the default budget of {DEFAULT_SECONDS:g} s" in result.log
