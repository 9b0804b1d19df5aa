"""Fixtures of the cluster tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from cluster_support import make_submissions


@pytest.fixture
def demo_folder(reference_submission, stub_submission, tmp_path) -> Path:
    """tmp_path/subs: the six demo submissions of cluster_support.EXPECTED, one folder each."""
    return make_submissions(tmp_path / "subs", reference_submission("demo"),
                            stub_submission("demo"))
