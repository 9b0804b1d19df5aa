"""Odd uploads get a clear note each, and the rest of the submission is still graded."""

import shutil
import zipfile


def test_missing_file_is_named_and_the_rest_graded(grade_demo, demo):
    (demo / "calc" / "models.py").unlink()
    result = grade_demo(demo)
    assert "calc/models.py is missing from your submission" in result.results["output"]
    assert result.question("model") == (0, 2)
    assert "calc/models.py is missing" in result.test("test_linear_forward")["output"]
    assert result.score == 4


def test_nested_folder_is_found(grade_demo, demo, tmp_path):
    upload = tmp_path / "upload"
    shutil.copytree(demo, upload / "my_kit")          # everything inside an extra folder
    (upload / "my_kit" / "calc" / "ops.py").rename(upload / "my_kit" / "calc" / "Ops.py")
    result = grade_demo(upload)
    assert result.score == 6
    notes = result.results["output"]
    assert "calc/ops.py: graded my_kit/calc/Ops.py (it was inside an extra folder)" in notes
    assert "calc/models.py: graded my_kit/calc/models.py (it was inside an extra folder)" in notes


def test_wrong_letter_case_is_found(grade_demo, demo):
    (demo / "calc" / "ops.py").rename(demo / "calc" / "Ops.py")
    result = grade_demo(demo)
    assert result.score == 6
    assert "calc/ops.py: graded your file calc/Ops.py (the name's letter case differs)" in (
        result.results["output"])


def test_invalid_notebook_json(grade_demo, demo):
    (demo / "Demo.ipynb").write_text('{"cells": [ this is not json')
    result = grade_demo(demo)
    assert "Demo.ipynb is not a valid notebook" in result.results["output"]
    assert "not a valid notebook" in result.test("test_square")["output"]
    assert result.score == 5


def test_oversized_file_is_ignored(grade_demo, demo, tmp_path):
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rel in ("calc/ops.py", "Demo.ipynb"):
            zf.write(demo / rel, rel)
        # 6 MB of comments: over the demo's 5 MB limit per file.
        zf.writestr("calc/models.py", (demo / "calc" / "models.py").read_text() + "#" * (6 << 20))
    result = grade_demo(upload)
    assert "calc/models.py" in result.results["output"] and "limit" in result.results["output"]
    assert result.question("model") == (0, 2)
    assert result.score == 4


def test_not_a_zip(grade_demo, tmp_path):
    upload = tmp_path / "upload.zip"
    upload.write_bytes(b"PK\x03\x04 definitely not a zip")
    result = grade_demo(upload)
    assert "is not a valid zip file" in result.results["output"]
    assert result.score == 0
