"""Fixtures for the release engine's own tests (tests/release/ only)."""

import shutil
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "source" / "demo"


@pytest.fixture
def demo_source(tmp_path):
    """A private copy of the demo assignment at <tmp>/source/demo, free to edit."""
    dest = tmp_path / "source" / "demo"
    shutil.copytree(DEMO, dest, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    return dest


@pytest.fixture(scope="session")
def releaser():
    """nbgrader's preprocessors, set up once for the whole session (slow import)."""
    from coursekit.release.nbgrader_steps import NotebookReleaser
    return NotebookReleaser()


@pytest.fixture(scope="session")
def demo_dir():
    """The demo assignment's source folder (read only)."""
    return DEMO
