"""Notebooks through nbgrader's preprocessors: student and solution versions."""

import json

import nbformat
import pytest

from coursekit.release import ReleaseError
from coursekit.release.nbgrader_steps import notebook_bytes, read_notebook


@pytest.fixture(scope="module")
def demo_nb(demo_dir):
    return read_notebook(demo_dir / "Demo.ipynb")


def by_id(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def test_student_version(releaser, demo_nb):
    nb = releaser.student(demo_nb, "Demo.ipynb")
    square = by_id(nb, "square")
    assert "return x * x" not in square.source
    assert square.source.endswith("    # Hint: multiply x by itself.\n    # YOUR CODE HERE\n"
                                  "    raise NotImplementedError()")
    assert square.metadata.tags == ["definitions"]
    check = by_id(nb, "square_check")
    assert "square(-11)" not in check.source and "HIDDEN" not in check.source
    assert "assert square(3) == 9" in check.source
    assert check.metadata.editable is False and check.metadata.deletable is False
    answer = by_id(nb, "why_square")
    assert answer.source == "**Your answer:**\nYOUR ANSWER HERE"
    params = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    assert "num_points = 1000" in params.source
    for cell in nb.cells:
        assert "BEGIN" not in cell.source and "END SOLUTION" not in cell.source
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
        if "nbgrader" in cell.metadata:
            assert cell.metadata.nbgrader["checksum"]
    # The source notebook is untouched.
    assert "return x * x" in by_id(demo_nb, "square").source


def test_solution_version(releaser, demo_nb):
    nb = releaser.solution(demo_nb, "Demo.ipynb")
    assert by_id(nb, "square").source.endswith("    # Hint: multiply x by itself.\n    return x * x")
    assert "assert square(-11) == 121" in by_id(nb, "square_check").source
    assert by_id(nb, "why_square").source.startswith("**Your answer:**\nEach draw has mean 0")
    for cell in nb.cells:
        assert "### " not in cell.source
    assert by_id(nb, "square").metadata.nbgrader["solution"] is True


def test_serialisation_is_stable_and_ids_are_not_random(releaser, tmp_path, demo_dir):
    raw = json.loads((demo_dir / "Demo.ipynb").read_text())
    for cell in raw["cells"]:
        del cell["id"]  # nbformat would invent random ids for these
    path = tmp_path / "NoIds.ipynb"
    path.write_text(json.dumps(raw))
    first = notebook_bytes(releaser.student(read_notebook(path), "NoIds.ipynb"))
    second = notebook_bytes(releaser.student(read_notebook(path), "NoIds.ipynb"))
    assert first == second
    assert first.endswith(b"}\n")
    nbformat.validate(nbformat.reads(first.decode(), as_version=4))


def edited(demo_nb, cell_id, source=None, **nbgrader):
    nb = nbformat.from_dict(json.loads(json.dumps(demo_nb)))
    cell = by_id(nb, cell_id)
    if source is not None:
        cell.source = source
    cell.metadata.nbgrader.update(nbgrader)
    return nb


@pytest.mark.parametrize("case, words", [
    ("nested", "[cell 5, grade_id 'square']:3: nested marker"),
    ("unclosed", "[cell 5, grade_id 'square']:2: '### BEGIN SOLUTION' is never closed"),
    ("not_solution_cell", "[cell 5, grade_id 'square']:2: solution region in a cell without"),
    ("hidden_in_ungraded", "[cell 6, grade_id 'square_check']:4: hidden tests in a cell without"),
    ("duplicate_grade_id", "[cell 6, grade_id 'square']: grade_id 'square' is used twice"),
])
def test_broken_notebooks_fail_with_cell_and_line(releaser, demo_nb, case, words):
    marked = "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"
    nb = {
        "nested": lambda: edited(demo_nb, "square", marked.replace(
            "    return", "    ### BEGIN SOLUTION\n    return")),
        "unclosed": lambda: edited(demo_nb, "square", marked.rsplit("\n", 1)[0]),
        "not_solution_cell": lambda: edited(demo_nb, "square", marked, solution=False),
        "hidden_in_ungraded": lambda: edited(demo_nb, "square_check", grade=False),
        "duplicate_grade_id": lambda: edited(demo_nb, "square_check", grade_id="square"),
    }[case]()
    for version in (releaser.student, releaser.solution):
        with pytest.raises(ReleaseError) as info:
            version(nb, "Demo.ipynb")
        assert str(info.value).startswith("Demo.ipynb")
        assert words in str(info.value)
