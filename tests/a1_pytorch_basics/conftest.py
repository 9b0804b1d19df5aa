"""Fixtures for a1's kit tests: the trained reference checkpoints and submissions to grade."""

import json
import shutil
from pathlib import Path

import pytest

from a1_kit import A, CHECKPOINTS, DATA, NOTEBOOK_ENV, SOURCE, have_mnist, write_checkpoint
from coursekit.manifest import load_assignment
from coursekit.notebook_runner import run_notebook
from coursekit.testing import mutate_cell


@pytest.fixture(scope="session")
def mnist_run(build):
    """The solution MNIST.ipynb run top to bottom with the manifest's ci_parameters,
    as `coursekit checkpoints --ci` does; it leaves the checkpoints in the build's
    solutions folder, so reference_submission includes them. Returns the executed
    notebook."""
    if not have_mnist():
        pytest.skip(f"MNIST not found in {DATA / 'mnist'}")
    manifest = load_assignment(SOURCE)
    (params,) = {json.dumps(c.ci_parameters, sort_keys=True) for c in manifest.checkpoints}
    folder = build.solutions(A)
    executed = run_notebook(folder / "MNIST.ipynb", parameters=json.loads(params), cwd=folder,
                            timeout=900, env=NOTEBOOK_ENV)
    for rel in CHECKPOINTS.values():
        assert (folder / rel).is_file(), f"MNIST.ipynb did not write {rel}"
    return executed


@pytest.fixture
def full_reference(mnist_run, reference_submission):
    """The reference submission with the trained checkpoints."""
    return reference_submission(A)


@pytest.fixture
def make_submission(tmp_path, build):
    """make_submission(base, name, changes) -> a copy of `base` with notebook cells and
    checkpoints replaced ({(notebook, grade_id): source, ("checkpoint", "fc"): kind})."""
    def make(base: Path, name: str, changes: dict) -> Path:
        sub = tmp_path / name
        shutil.copytree(base, sub)
        for (where, what), new in changes.items():
            if where == "checkpoint":
                write_checkpoint(sub, what, new, build)
            else:
                mutate_cell(sub, where, what, new)
        return sub
    return make
