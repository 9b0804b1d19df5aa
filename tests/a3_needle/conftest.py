"""Helpers for the a3 (needle) kit tests: the reference package imported in-process,
and where the real MNIST files are."""

import importlib
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source" / "a3_needle"
GRADERS = REPO / "autograder" / "a3_needle"
MNIST_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def mnist_dir() -> Path:
    """The folder with the four MNIST .gz files (datasets/cache/mnist, or the one
    under COURSEKIT_DATA)."""
    root = Path(os.environ.get("COURSEKIT_DATA", REPO / "datasets" / "cache"))
    return root / "mnist"


def have_mnist() -> bool:
    return all((mnist_dir() / name).is_file() for name in MNIST_NAMES)


@pytest.fixture
def mnist_path() -> Path:
    """The MNIST folder; the test is skipped when the files are not there."""
    if not have_mnist():
        pytest.skip(f"MNIST not found in {mnist_dir()}")
    return mnist_dir()


def _import_reference():
    for path in (str(SOURCE / "python"), str(SOURCE)):
        if path not in sys.path:
            sys.path.insert(0, path)
    ndl = importlib.import_module("needle")
    assert Path(ndl.__file__).resolve().is_relative_to(SOURCE), (
        f"another package named needle was imported: {ndl.__file__}")
    return ndl


@pytest.fixture(scope="session")
def ndl():
    """The reference solution's needle package (solution code, in this process)."""
    return _import_reference()


@pytest.fixture(scope="session")
def mlp_resnet(ndl):
    return importlib.import_module("apps.mlp_resnet")


@pytest.fixture(scope="session")
def graders_path():
    """Put the grader folder on sys.path so its numpy references can be imported."""
    if str(GRADERS) not in sys.path:
        sys.path.insert(0, str(GRADERS))
    return GRADERS


@pytest.fixture(autouse=True)
def single_threaded_blas(monkeypatch):
    """Processes these tests start (graders, student code, notebook kernels) use one
    BLAS thread: on a 2-core machine shared with other jobs, two spinning BLAS threads
    per process make small matrix products tens of times slower."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")
