"""Fixtures for the a3 (needle) graders. Trusted code: runs in the grader process."""

import pytest


@pytest.fixture
def ndl(student):
    """The student's needle package (a handle)."""
    return student.module("needle")


@pytest.fixture
def shared_folder(grader_folder):
    """A fresh folder for files the graders make (small idx files): owned by root,
    outside the submission's workspace, readable but not writable by the student
    process, which sees it at the same path."""
    return grader_folder
