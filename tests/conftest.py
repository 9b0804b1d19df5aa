"""Fixtures shared by the kit's own tests (docs/authoring.md, section 6).

Assignments are built lazily, once per test session, into a temporary folder, so a
test of one assignment never waits for (or breaks on) another one.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from coursekit.local_grading import grade_submission
from coursekit.manifest import load_assignment
from coursekit.testing import mutate as _mutate
from coursekit.testing import mutate_cell as _mutate_cell

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
DATA = REPO / "datasets" / "cache"

# Notebooks and student code in tests read data from the repository's cache.
os.environ.setdefault("COURSEKIT_DATA", str(DATA))


def assignment_roots(name: str) -> tuple[Path, Path]:
    """(source folder, graders folder) of an assignment: the repo's, or a test fixture's."""
    if (REPO / "source" / name).is_dir():
        return REPO / "source", REPO / "autograder"
    return FIXTURES / name / "source", FIXTURES / name / "autograder"


class Build:
    """Release, solutions and autograder zip of each assignment, built on first use."""

    def __init__(self, out: Path):
        self.out = out
        self._built: dict[str, Path] = {}
        self._releaser = None

    def _ensure(self, name: str) -> None:
        if name in self._built:
            return
        from coursekit.gradescope.package import build_autograder_zip
        from coursekit.release.kit import build_kit
        from coursekit.release.nbgrader_steps import NotebookReleaser
        from coursekit.release.solutions import build_solutions

        if self._releaser is None:
            self._releaser = NotebookReleaser()
        source, graders = assignment_roots(name)
        a = load_assignment(source / name)
        kit = build_kit(a, self.out, self._releaser)
        build_solutions(a, self.out, self._releaser)
        zip_path = self.out / "dist" / f"{name}-gradescope.zip"
        build_autograder_zip(a, kit.release_dir, graders / name, zip_path)
        self._built[name] = zip_path

    def release(self, name: str) -> Path:
        self._ensure(name)
        return self.out / "release" / name

    def solutions(self, name: str) -> Path:
        self._ensure(name)
        return self.out / "solutions" / name

    def autograder_zip(self, name: str) -> Path:
        self._ensure(name)
        return self._built[name]


@pytest.fixture(scope="session")
def build(tmp_path_factory) -> Build:
    return Build(tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="session")
def grade(build):
    """grade(a, submission, only=None, device="cpu", retrain=False) -> GradeResult."""

    def run(name: str, submission, only=None, device: str = "cpu", retrain: bool = False, **kw):
        kw.setdefault("autograder_zip", build.autograder_zip(name))
        return grade_submission(name, submission, only=tuple(only or ()), device=device,
                                retrain=retrain, **kw)

    return run


def _copy_submission(src_root: Path, name: str, dest: Path) -> Path:
    source, _ = assignment_roots(name)
    a = load_assignment(source / name)
    dest.mkdir(parents=True, exist_ok=True)
    for rel in a.submission_files:
        if (src_root / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src_root / rel, dest / rel)
    return dest


@pytest.fixture
def reference_submission(build, tmp_path):
    """reference_submission(a) -> a folder holding the solution's submission files."""
    return lambda name: _copy_submission(build.solutions(name), name, tmp_path / f"{name}-reference")


@pytest.fixture
def stub_submission(build, tmp_path):
    """stub_submission(a) -> a folder holding the released starter files as a submission."""
    return lambda name: _copy_submission(build.release(name), name, tmp_path / f"{name}-stubs")


@pytest.fixture
def mutate():
    return _mutate


@pytest.fixture
def mutate_cell():
    return _mutate_cell


def have_real_data(*names: str) -> bool:
    wanted = {"mnist": DATA / "mnist" / "t10k-labels-idx1-ubyte.gz",
              "cifar10": DATA / "cifar-10-batches-py" / "test_batch"}
    return all(wanted[n].is_file() for n in names)


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_collection_modifyitems(config, items):
    if have_real_data("mnist", "cifar10"):
        return
    skip = pytest.mark.skip(reason="needs datasets/cache (run `make data`)")
    for item in items:
        if item.get_closest_marker("realdata") and not _item_data_ok(item):
            if _under_ci():
                item.user_properties.append(("missing_data", True))
            else:
                item.add_marker(skip)


def pytest_runtest_setup(item):
    # Under CI a missing data set is a broken set-up, not a reason to pass quietly.
    if ("missing_data", True) in item.user_properties:
        pytest.fail("needs datasets/cache, which is missing: CI must run `make data` first "
                    "(CI=true turns this skip into a failure)", pytrace=False)


def _item_data_ok(item) -> bool:
    mark = item.get_closest_marker("realdata")
    names = [n for n in mark.args if n in ("mnist", "cifar10")] or ["mnist", "cifar10"]
    return have_real_data(*names)
