"""assignment.toml loading: the demo loads as documented; each kind of error names file and key."""

import re
import shutil

import pytest

from coursekit.manifest import (Checkpoint, ManifestError, Question, Resources, discover_assignments,
                                load_assignment)


def test_demo_manifest_loads_with_documented_fields(demo_source):
    a = load_assignment(demo_source / "assignment.toml")
    assert a.name == "demo" and a.root == demo_source.resolve()
    assert a.submission_files == ["calc/ops.py", "calc/models.py", "Demo.ipynb"]
    assert a.release_include == ["calc/*.py", "*.ipynb"] and a.release_exclude == []
    assert a.python_path == ["."] and a.datasets == [] and a.autograder_data == []
    assert a.max_file_mb == 5 and a.checkpoints == []
    assert [q.id for q in a.questions] == ["add", "matmul", "model", "nb_square"]
    assert a.question("add") == Question("add", "Addition", 1, ["calc/ops.py"], [],
                                         Resources(cpu_seconds=10, memory_mb=1024, device="cpu"))
    # Unset resources take the documented defaults.
    assert a.question("model").resources == Resources(cpu_seconds=60, memory_mb=2048, device="cpu")
    assert a.question("nb_square").cells == [("Demo.ipynb", "square")]
    assert a.total_points == 6
    # A folder works as well as the file, and the result is immutable.
    assert load_assignment(demo_source) == a
    with pytest.raises(AttributeError):
        a.name = "other"


def test_checkpoints_and_defaults(demo_source):
    toml = demo_source / "assignment.toml"
    text = toml.read_text().replace('"Demo.ipynb"]\nmax_file_mb = 5',
                                    '"Demo.ipynb", "checkpoints/mean.npy"]\n')
    text += ('\n[[checkpoints]]\nfile = "checkpoints/mean.npy"\nnotebook = "Demo.ipynb"\n'
             'ci_parameters = { num_points = 10 }\n')
    toml.write_text(text)
    a = load_assignment(toml)
    assert a.checkpoints == [Checkpoint("checkpoints/mean.npy", "Demo.ipynb", {"num_points": 10})]
    assert a.max_file_mb == 50


def test_discover_assignments_sorted(tmp_path, demo_source):
    second = demo_source.parent / "another"
    shutil.copytree(demo_source, second)
    (second / "assignment.toml").write_text(
        (second / "assignment.toml").read_text().replace('name = "demo"', 'name = "another"'))
    (demo_source.parent / "not_an_assignment").mkdir()
    assert [a.name for a in discover_assignments(demo_source.parent)] == ["another", "demo"]


def test_bare_manifest_copy_skips_source_checks(tmp_path, demo_source):
    # The autograder side may carry the manifest without the notebooks it names.
    # There it sits in a folder not named after the assignment (/autograder/source/).
    bare = tmp_path / "elsewhere" / "source"
    bare.mkdir(parents=True)
    shutil.copy(demo_source / "assignment.toml", bare)
    assert load_assignment(bare).question("nb_square").cells == [("Demo.ipynb", "square")]
    assert load_assignment(bare).name == "demo"
    with pytest.raises(ManifestError, match="must equal the folder name 'source'"):
        load_assignment(bare, check_sources=True)
    (bare.parent / "demo").mkdir()
    shutil.copy(demo_source / "assignment.toml", bare.parent / "demo")
    with pytest.raises(ManifestError, match="does not exist"):
        load_assignment(bare.parent / "demo", check_sources=True)


ADD_Q = 'id = "add"\ntitle = "Addition"\npoints = 1\nfiles = ["calc/ops.py"]'

# (replace this, with that) in the demo manifest -> (key path, words of the message)
CASES = {
    "invalid_toml": (("[release]", "[release"), "", "invalid TOML"),
    "unknown_table": (("[release]", "[extra]\nx = 1\n\n[release]"), "extra", "unknown key"),
    "unknown_key": (('title = "Demo assignment"', 'title = "Demo assignment"\ncolour = "red"'),
                    "assignment.colour", "unknown key"),
    "unknown_resource_key": (("cpu_seconds = 10\nmemory_mb = 1024", "cpu_seconds = 10\ngpu = true"),
                             "questions[0].resources.gpu", "unknown key"),
    "missing_key": (('title = "Demo assignment"\n', ""), "assignment.title", "missing required key"),
    "name_not_folder": (('name = "demo"', 'name = "other"'), "assignment.name", "folder name"),
    "duplicate_id": (('id = "add"', 'id = "matmul"'), "questions[1].id", "duplicate question id"),
    "bad_id": (('id = "add"', 'id = "Add-1"'), "questions[0].id", "[a-z0-9_]+"),
    "zero_points": ((ADD_Q, ADD_Q.replace("points = 1", "points = 0")),
                    "questions[0].points", "must be > 0"),
    "negative_points": ((ADD_Q, ADD_Q.replace("points = 1", "points = -2")),
                        "questions[0].points", "must be > 0"),
    "string_points": ((ADD_Q, ADD_Q.replace("points = 1", 'points = "1"')),
                      "questions[0].points", "must be a number"),
    "file_not_submitted": ((ADD_Q, ADD_Q.replace('["calc/ops.py"]', '["calc/extra.py"]')),
                           "questions[0].files[0]", "not one of submission.files"),
    "cell_syntax": (('"Demo.ipynb:square"', '"Demo.ipynb/square"'),
                    "questions[3].cells[0]", "Notebook.ipynb:grade_id"),
    "cell_unknown_grade_id": (('"Demo.ipynb:square"', '"Demo.ipynb:cube"'),
                              "questions[3].cells[0]", "no cell with grade_id 'cube'"),
    "cell_notebook_not_submitted": (('"Demo.ipynb:square"', '"Other.ipynb:square"'),
                                    "questions[3].cells[0]", "not one of submission.files"),
    "cell_notebook_missing": (
        ('"Demo.ipynb"]\nmax', '"Demo.ipynb", "Gone.ipynb"]\nmax'), None, None),
    "bad_device": (("cpu_seconds = 10\nmemory_mb = 1024", "device = \"gpu\""),
                   "questions[0].resources.device", "must be one of"),
    "float_memory": (("memory_mb = 1024", "memory_mb = 1024.5"),
                     "questions[0].resources.memory_mb", "must be an integer"),
    "files_not_array": (('files = ["calc/ops.py", "calc/models.py", "Demo.ipynb"]',
                         'files = "calc/ops.py"'), "submission.files", "must be an array"),
    "absolute_path": (('include = ["calc/*.py"', 'include = ["/etc/*.py"'),
                      "release.include[0]", "inside the assignment folder"),
    "parent_path": (('include = ["calc/*.py"', 'include = ["../calc/*.py"'),
                    "release.include[0]", "inside the assignment folder"),
    "question_without_answers": ((ADD_Q, ADD_Q.replace('\nfiles = ["calc/ops.py"]', "")),
                                 "questions[0]", "must list the files or cells"),
    "checkpoint_not_submitted": (
        ("[[questions]]", '[[checkpoints]]\nfile = "w.npy"\nnotebook = "Demo.ipynb"\n\n[[questions]]'),
        "checkpoints[0].file", "not one of submission.files"),
    "points_bool": ((ADD_Q, ADD_Q.replace("points = 1", "points = true")),
                    "questions[0].points", "must be a number"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_invalid_manifest_names_file_and_key(demo_source, case, monkeypatch):
    (old, new), keypath, words = CASES[case]
    toml = demo_source / "assignment.toml"
    text = toml.read_text()
    assert old in text, f"case {case}: the demo manifest changed, fix the test"
    toml.write_text(text.replace(old, new, 1))
    if case == "cell_notebook_missing":
        # A listed notebook that does not exist: point the question at it.
        toml.write_text(toml.read_text().replace('"Demo.ipynb:square"', '"Gone.ipynb:square"'))
        keypath, words = "questions[3].cells[0]", "'Gone.ipynb' does not exist"
    monkeypatch.chdir(demo_source.parent.parent)
    with pytest.raises(ManifestError) as info:
        load_assignment(toml)
    message = str(info.value)
    at = re.match(r"source/demo/assignment\.toml:(\d+): ", message)
    assert at, message
    assert int(at.group(1)) == _expected_line(toml.read_text(), case, old, new), message
    if keypath:
        assert f": {keypath}: " in message, message
    assert words in message, message


def _expected_line(text: str, case: str, old: str, new: str) -> int:
    """The line an author must look at, found in the edited text: the line the edit
    wrote (for a missing key, its table's header; for a notebook that does not
    exist, the cell that names it)."""
    lines = text.splitlines()
    written = {"missing_key": "[assignment]", "cell_notebook_missing": '"Gone.ipynb:square"',
               "invalid_toml": "[release", "question_without_answers": "[[questions]]",
               "name_not_folder": 'name = "other"', "unknown_table": "[extra]",
               "checkpoint_not_submitted": 'file = "w.npy"'}
    if case == "duplicate_id":
        return [i for i, line in enumerate(lines, 1) if line == 'id = "matmul"'][1]
    wanted = written.get(case) or next(line for line in new.splitlines()
                                       if line.strip() and line not in old.splitlines())
    return next(i for i, line in enumerate(lines, 1) if wanted in line)


def test_missing_manifest(tmp_path):
    with pytest.raises(ManifestError, match="no such manifest"):
        load_assignment(tmp_path)
