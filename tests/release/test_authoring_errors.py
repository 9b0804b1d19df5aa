"""Authoring mistakes in a broken copy of the demo assignment: each stops the build with
the file and line to fix, and a failed build leaves no stale output looking current."""

import shutil
from pathlib import Path

import pytest

from coursekit.cli import main
from coursekit.gradescope.package import PackageError, expected_tests
from coursekit.manifest import load_assignment

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "demo"


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """A copy of the demo (source/demo and autograder/demo) under tmp_path, which is
    also the working folder, so messages show paths relative to it."""
    for part in ("source", "autograder"):
        shutil.copytree(FIXTURE / part / "demo", tmp_path / part / "demo",
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def line_of(path: Path, text: str, nth: int = 0) -> int:
    """1-based line of the nth line of `path` that contains `text`."""
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    return hits[nth]


def grader_line(path: Path, name: str) -> int:
    """Where a grader starts: the first decorator above its `def`."""
    lines = path.read_text().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith(f"def {name}("))
    while row > 0 and lines[row - 1].startswith("@"):
        row -= 1
    return row + 1


def grader_error(demo) -> str:
    """What the build prints when it lists the graders (in a process of its own, as
    the Gradescope packager does)."""
    with pytest.raises(PackageError) as info:
        expected_tests(load_assignment(demo / "source" / "demo"), demo / "autograder" / "demo")
    return str(info.value)


def test_weights_that_do_not_add_up_name_the_manifest_key_and_each_grader(demo):
    ops = demo / "autograder" / "demo" / "test_ops.py"
    ops.write_text(ops.read_text().replace('@weight(1)\n@number("2.2")', '@weight(3)\n@number("2.2")'))
    message = grader_error(demo)
    toml = demo / "source" / "demo" / "assignment.toml"
    points_line = line_of(toml, "points = 2")        # the matmul question's points
    assert f"source/demo/assignment.toml:{points_line}: question matmul is worth 2 points, " \
           "but its graders' weights add up to 4:" in message, message
    values_def = grader_line(ops, 'test_matmul_values')
    shape_def = grader_line(ops, 'test_matmul_shape_error')
    assert f"{ops}:{values_def}: test_matmul_values: @weight(1)" in message, message
    assert f"{ops}:{shape_def}: test_matmul_shape_error: @weight(3)" in message, message
    # The other questions add up: only matmul is reported.
    assert message.count("is worth") == 1, message


def test_duplicate_numbers_are_an_error_naming_both_graders(demo):
    models = demo / "autograder" / "demo" / "test_models.py"
    models.write_text(models.read_text().replace('@number("4.1")', '@number("2.1")'))
    message = grader_error(demo)
    ops = demo / "autograder" / "demo" / "test_ops.py"
    assert (f"@number('2.1') is used by 2 graders, each needs its own: "
            f"{models}:{grader_line(models, 'test_square')} (test_square), "
            f"{ops}:{grader_line(ops, 'test_matmul_values')} (test_matmul_values)") in message, message


@pytest.mark.parametrize("bad", ['"2.a"', '"2..1"', '"0.1"', '""'])
def test_malformed_numbers_are_an_error(demo, bad):
    ops = demo / "autograder" / "demo" / "test_ops.py"
    ops.write_text(ops.read_text().replace('@number("1.1")', f"@number({bad})"))
    message = grader_error(demo)
    assert f"{ops}:{grader_line(ops, 'test_add')}: test_add: @number(" in message, message
    assert "must be dot-separated positive integers" in message, message


def test_grader_without_number_or_question(demo):
    ops = demo / "autograder" / "demo" / "test_ops.py"
    ops.write_text(ops.read_text().replace('@number("1.1")\n', "").replace(
        '@question("matmul")\n@weight(1)\n@number("2.2")', '@question("matmull")\n@weight(1)\n@number("2.2")'))
    message = grader_error(demo)
    assert f"{ops}:{grader_line(ops, 'test_add')}: test_add: has no @number" in message, message
    assert (f"{ops}:{grader_line(ops, 'test_matmul_shape_error')}: test_matmul_shape_error: "
            "belongs to no question") in message, message


def test_grader_file_that_fails_to_import_names_its_line(demo):
    ops = demo / "autograder" / "demo" / "test_ops.py"
    text = ops.read_text().replace("import numpy as np\n", "import numpy as np\nfrom calc import nowhere\n")
    ops.write_text(text)
    message = grader_error(demo)
    assert f"{ops}:{line_of(ops, 'from calc import nowhere')}: " in message, message
    assert "ModuleNotFoundError" in message or "No module named 'calc'" in message, message


def release(demo, capsys):
    status = main(["release", "demo", "--source", str(demo / "source"),
                   "--autograder", str(demo / "autograder"), "--out", str(demo / "out")])
    return status, capsys.readouterr()


@pytest.mark.slow
def test_failed_build_names_the_line_once_and_removes_stale_outputs(demo, capsys):
    status, _ = release(demo, capsys)
    assert status == 0
    out = demo / "out"
    built = [out / "release" / "demo", out / "release" / "demo.zip",
             out / "solutions" / "demo-submission.zip",
             demo / "autograder" / "dist" / "demo-gradescope.zip"]
    assert all(p.exists() for p in built)

    ops = demo / "autograder" / "demo" / "test_ops.py"
    ops.write_text(ops.read_text().replace('@weight(1)\n@number("2.2")', '@weight(2)\n@number("2.2")'))
    status, printed = release(demo, capsys)
    assert status == 1
    err = printed.err
    assert f"{ops}:{grader_line(ops, 'test_matmul_shape_error')}: test_matmul_shape_error: @weight(2)" \
        in err, err
    graders = demo / "autograder" / "demo"
    assert err.count(f"{graders}: ") == 1, err       # the folder is named once
    assert not any(p.exists() for p in built), [p for p in built if p.exists()]
    note = out / "solutions" / "demo" / "BUILD_FAILED.txt"
    assert note.is_file() and "failed" in note.read_text()

    # Fixed, the next build is complete again and the note is gone.
    ops.write_text(ops.read_text().replace('@weight(2)\n@number("2.2")', '@weight(1)\n@number("2.2")'))
    status, _ = release(demo, capsys)
    assert status == 0
    assert all(p.exists() for p in built) and not note.exists()


def test_manifest_error_in_the_release_command_names_the_line(demo, capsys):
    toml = demo / "source" / "demo" / "assignment.toml"
    toml.write_text(toml.read_text().replace("points = 2", "points = -2", 1))
    status, printed = release(demo, capsys)
    assert status == 1
    assert f"source/demo/assignment.toml:{line_of(toml, 'points = -2')}: questions[1].points: " \
           "must be > 0" in printed.err, printed.err
