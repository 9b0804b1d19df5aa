"""Fixtures for the Gradescope end-to-end tests: submissions as uploaded, and built images.

Each image is built once per test session and shared by the assignments: every zip carries the
same setup.conf and lock files (a test checks it), so setup.sh would build the same
/autograder/{uv,python,venv}; only /autograder/source changes between assignments.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from gradescope_support import ASSIGNMENTS, manifest, zip_folder


@pytest.fixture(scope="session")
def rehearsal():
    """The rehearsal module, or a skip saying why this machine cannot rehearse."""
    from coursekit.gradescope import rehearse

    reason = rehearse.cannot_rehearse()
    if reason:
        pytest.skip(f"Gradescope rehearsal unavailable: {reason}")
    return rehearse


@pytest.fixture(scope="session")
def gradescope_zips(build, monkeypatch_session):
    """Each assignment's autograder zip, with the default (locked CPU) torch."""
    monkeypatch_session.delenv("COURSEKIT_TORCH_SPEC", raising=False)
    return {a: build.autograder_zip(a) for a in ASSIGNMENTS}


@pytest.fixture(scope="session")
def monkeypatch_session():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="session")
def sources(rehearsal, gradescope_zips):
    """Local stand-ins for PyPI, the torch CPU index and python-build-standalone."""
    return rehearsal.prepare_sources(gradescope_zips[ASSIGNMENTS[0]])


@pytest.fixture(scope="session")
def uploads(build, tmp_path_factory):
    """{assignment: {"reference" | "stubs": zip}}: what a student would upload.

    The reference carries checkpoints from the CI-sized training runs (as `coursekit
    checkpoints --ci` makes them), trained in a copy of the solutions folder unless the
    shared build already holds them.
    """
    from coursekit.checkpoints import train

    out = tmp_path_factory.mktemp("uploads")
    found = {}
    for name in ASSIGNMENTS:
        a = manifest(name)
        work = out / "train"
        shutil.copytree(build.solutions(name), work / "solutions" / name)
        _ci_checkpoints(a, work, train)
        found[name] = {
            "reference": zip_folder(work / "solutions" / name, a.submission_files, out / f"{name}-reference.zip"),
            "stubs": zip_folder(build.release(name), a.submission_files, out / f"{name}-stubs.zip"),
            "solutions": work / "solutions" / name,
        }
    return found


def _code_of(notebook: Path) -> bytes:
    """The notebook's code cells: what training depends on (not its prose or outputs)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells if c.get("cell_type") == "code"]
    return json.dumps(code).encode()


def _ci_checkpoints(a, work: Path, train) -> None:
    """Put the CI-sized checkpoints into work/solutions/<a>: kept from a1's own tests in
    the shared build, else from the cache beside the wheels (keyed by the notebooks'
    code cells, their parameters and torch's version), else trained now and cached."""
    from coursekit.gradescope.rehearse import CACHE

    folder = work / "solutions" / a.name
    if not a.checkpoints or all((folder / c.file).is_file() for c in a.checkpoints):
        return
    import torch

    key = hashlib.sha256(torch.__version__.encode())
    for c in sorted(a.checkpoints, key=lambda c: c.file):
        key.update(json.dumps([c.file, c.notebook, c.ci_parameters], sort_keys=True).encode())
        key.update(_code_of(folder / c.notebook))
    cached = CACHE / "ci-checkpoints" / f"{a.name}-{key.hexdigest()[:16]}"
    if not all((cached / c.file).is_file() for c in a.checkpoints):
        train(a, work, ci=True, timeout=1800, env={"OMP_NUM_THREADS": "1"})
        for c in a.checkpoints:
            (cached / c.file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / c.file, cached / c.file)
    for c in a.checkpoints:
        (folder / c.file).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(cached / c.file, folder / c.file)


class Images:
    """Images built from the zips with a base python3, one per Python version, shared."""

    def __init__(self, rehearsal, sources, zips, root: Path):
        self.rehearsal, self.sources, self.zips, self.root = rehearsal, sources, zips, root
        self._built: dict = {}

    def get(self, python_minor: str):
        if python_minor not in self._built:
            scratch = self.root / f"image-py{python_minor}"
            scratch.mkdir()
            image = self.rehearsal.Image(scratch, self.rehearsal.pyenv_python(python_minor), self.sources)
            image.build_image(self.zips[ASSIGNMENTS[0]])
            self._built[python_minor] = image
        return self._built[python_minor]

    def for_assignment(self, python_minor: str, name: str):
        """The image with `name`'s zip in /autograder/source (setup files identical)."""
        image = self.get(python_minor)
        if image.build.returncode != 0:
            pytest.fail(f"setup.sh failed on the python{python_minor} image:\n{image.build.output[-4000:]}")
        image.use_zip(self.zips[name])
        return image


@pytest.fixture(scope="session")
def images(rehearsal, sources, gradescope_zips, tmp_path_factory):
    return Images(rehearsal, sources, gradescope_zips, tmp_path_factory.mktemp("gradescope"))
