"""`coursekit new-question` on a copy of the demo: the five pieces it writes build,
grade the reference in full and the stub at zero, and its mutant is rejected by the
harness; mistakes are refused before anything is written."""

import shutil
from pathlib import Path

import pytest

from coursekit.cli import main
from coursekit.local_grading import grade_submission
from coursekit.manifest import load_assignment
from coursekit.release.command import release_all
from coursekit.testing import coverage_problems, graders_in, load_runs, run_problems

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo"


@pytest.fixture
def kit(tmp_path):
    for part in ("source", "autograder"):
        shutil.copytree(FIXTURE / part / "demo", tmp_path / part / "demo",
                        ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "tests" / "demo").mkdir(parents=True)
    return tmp_path


def new_question(kit, *args):
    return main(["new-question", "demo", *args, "--notebook", "Demo.ipynb",
                 "--source", str(kit / "source"), "--autograder", str(kit / "autograder"),
                 "--tests", str(kit / "tests")])


def snapshot(kit):
    return {p: p.read_bytes() for p in sorted(kit.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_scaffolded_questions_build_grade_and_meet_their_mutants(kit, tmp_path, capsys):
    assert new_question(kit, "leaky", "--file", "calc/ops.py", "--points", "3") == 0
    assert new_question(kit, "cube", "--title", "Cubes in the notebook") == 0
    printed = capsys.readouterr().out
    assert "autograder/demo/test_leaky.py" in printed and "demo_cube_mutants.py" in printed

    a = load_assignment(kit / "source" / "demo")
    leaky, cube = a.question("leaky"), a.question("cube")
    assert (leaky.points, leaky.files, leaky.cells) == (3, ["calc/ops.py"], [])
    assert (cube.title, cube.files, cube.cells) == ("Cubes in the notebook", [], [("Demo.ipynb", "cube")])
    # Numbered after the demo's last question (4.1), one number each.
    assert '@number("5.1")' in (kit / "autograder" / "demo" / "test_leaky.py").read_text()
    assert '@number("6.1")' in (kit / "autograder" / "demo" / "test_cube.py").read_text()
    runs = load_runs(kit / "tests" / "demo")
    graders = [g for g in graders_in(kit / "autograder" / "demo") if g.question in ("leaky", "cube")]
    assert coverage_problems(graders, runs, "tests/demo/") == []

    built = release_all([a], tmp_path / "out", kit / "autograder")["demo"]
    zip_path = built.autograder_zip
    only = ("leaky", "cube")
    reference = grade_submission("demo", built.solutions.solutions_dir, autograder_zip=zip_path, only=only)
    assert reference.by_question() == {"leaky": (3, 3), "cube": (2, 2)}, reference.results
    stubs = grade_submission("demo", built.kit.release_dir, autograder_zip=zip_path, only=only)
    assert stubs.by_question() == {"leaky": (0, 3), "cube": (0, 2)}
    for t in stubs.results["tests"]:
        assert "is not implemented yet" in t["output"], t
    for run in runs:
        sub = tmp_path / run.name
        shutil.copytree(built.solutions.solutions_dir, sub)
        result = grade_submission("demo", run.apply(sub), autograder_zip=zip_path, only=run.questions)
        assert run_problems(result.results, run) == [], result.results


@pytest.mark.parametrize("args, words", [
    (["add"], "question 'add' exists already"),
    (["Leaky"], "must match [a-z0-9_]+"),
    (["leaky", "--file", "calc/other.py"], "must be a .py file listed in"),
    (["square"], "has a cell with grade_id 'square' already"),
    (["leaky", "--points", "0"], "--points must be > 0"),
])
def test_mistakes_are_refused_and_nothing_is_written(kit, capsys, args, words):
    before = snapshot(kit)
    assert new_question(kit, *args) == 1
    assert words in capsys.readouterr().err
    assert snapshot(kit) == before


def test_a_notebook_that_is_not_submitted_is_refused(kit, capsys):
    assert main(["new-question", "demo", "leaky", "--notebook", "Other.ipynb",
                 "--source", str(kit / "source"), "--autograder", str(kit / "autograder"),
                 "--tests", str(kit / "tests")]) == 1
    assert "is not one of" in capsys.readouterr().err
