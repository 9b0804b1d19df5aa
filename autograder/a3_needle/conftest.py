"""Fixtures for the a3 (needle) graders. Trusted code: runs in the grader process."""

import os
import uuid
from pathlib import Path

import pytest


@pytest.fixture
def ndl(student):
    """The student's needle package (a handle)."""
    return student.module("needle")


@pytest.fixture
def shared_folder(student):
    """A fresh folder inside the submission's workspace, readable by the student
    process, for files the graders make (small idx files). Removed afterwards."""
    folder = Path(student.path(".tmp")) / f"grader-{uuid.uuid4().hex[:12]}"
    folder.mkdir(parents=True)
    os.chmod(folder, 0o755)
    yield folder
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
