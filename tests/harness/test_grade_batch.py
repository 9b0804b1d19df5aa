"""`coursekit grade` tells one submission folder from a folder of submissions."""

import argparse
import zipfile
from pathlib import Path

import pytest

from coursekit.local_grading import command
from coursekit.manifest import load_assignment

REPO = Path(__file__).resolve().parents[2]
A3_FILES = tuple(load_assignment(REPO / "source" / "a3_needle").submission_files)


def _touch(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")
    return root


def test_an_a3_submission_without_its_notebook_is_one_submission(tmp_path):
    sub = _touch(tmp_path, *[f for f in A3_FILES if f != "hw2.ipynb"])
    assert {p.name for p in sub.iterdir()} == {"python", "apps"}
    assert command.is_batch(sub, A3_FILES) is False


def test_folders_and_zips_of_students_are_a_batch(tmp_path):
    _touch(tmp_path, "alice/hw2.ipynb", "bob/python/needle/optim.py")
    (tmp_path / "carol.zip").write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    assert command.is_batch(tmp_path, A3_FILES) is True


def test_submission_files_come_from_the_autograder_zip(tmp_path):
    zip_path = tmp_path / "a3-gradescope.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("assignment.toml", (REPO / "source" / "a3_needle" / "assignment.toml").read_text())
    assert command.submission_files(zip_path) == A3_FILES
    assert command.submission_files(tmp_path / "missing.zip") == ()


def test_the_command_grades_such_a_folder_once(tmp_path, monkeypatch):
    sub = _touch(tmp_path / "upload", *[f for f in A3_FILES if f != "hw2.ipynb"])
    zip_path = tmp_path / "a3-gradescope.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("assignment.toml", (REPO / "source" / "a3_needle" / "assignment.toml").read_text())
    graded = []
    monkeypatch.setattr(command, "grade_submission", lambda a, s, **kw: graded.append(Path(s)) or "r")
    monkeypatch.setattr(command, "print_summary", lambda *a, **kw: None)
    parser = argparse.ArgumentParser()
    command.configure(parser)
    args = parser.parse_args(["a3_needle", str(sub), "--zip", str(zip_path)])
    assert command.run(args) == 0
    assert graded == [sub]
