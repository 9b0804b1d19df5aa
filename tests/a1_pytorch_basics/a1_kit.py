"""Shared pieces of a1's kit tests: paths, the reference MNIST classes, checkpoint edits."""

import json
import os
from pathlib import Path

import torch

A = "a1_pytorch_basics"
REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "source" / A
DATA = Path(os.environ.get("COURSEKIT_DATA", REPO / "datasets" / "cache"))
MNIST_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
CHECKPOINTS = {"fc": "checkpoints/mnist_fc.pt", "cnn": "checkpoints/mnist_cnn.pt"}
# Inline figures in executed notebooks, without a display. One thread: on CI's two shared
# cores a second torch thread mostly spins, and training time stays predictable.
NOTEBOOK_ENV = {"COURSEKIT_DATA": str(DATA), "MPLBACKEND": "module://matplotlib_inline.backend_inline",
                "OMP_NUM_THREADS": "1"}


def have_mnist() -> bool:
    return all((DATA / "mnist" / f).is_file() for f in MNIST_FILES)


def reference_namespace(build) -> dict:
    """The solution MNIST.ipynb's definition cells, executed here (trusted code)."""
    nb = json.loads((build.solutions(A) / "MNIST.ipynb").read_text())
    namespace = {"__name__": "a1_reference_mnist"}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "definitions" in cell["metadata"].get("tags", []):
            exec(compile("".join(cell["source"]), "MNIST.ipynb", "exec"), namespace)
    return namespace


def write_checkpoint(submission: Path, which: str, kind: str, build) -> None:
    """Replace a submitted checkpoint with an untrained one or a pickled whole module."""
    path = submission / CHECKPOINTS[which]
    if kind == "untrained":
        cls = reference_namespace(build)["FullyConnectedNet" if which == "fc" else "ConvNet"]
        torch.manual_seed(0)
        torch.save(cls().state_dict(), path)
    elif kind == "whole_module":
        # A module of torch's own classes, so only weights_only=True can object to it.
        assert which == "fc"
        state = torch.load(path, weights_only=True)
        module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                     torch.nn.Linear(256, 10))
        module.load_state_dict({k.removeprefix("layers."): v for k, v in state.items()})
        torch.save(module, path)
    else:
        raise ValueError(kind)


def rename_checkpoint(submission: Path, which: str, prefixes: dict) -> None:
    """Rename a checkpoint's keys (module prefixes) to fit a differently written class."""
    path = submission / CHECKPOINTS[which]
    state = torch.load(path, weights_only=True)
    renamed = {}
    for key, value in state.items():
        prefix, _, rest = key.rpartition(".")
        renamed[f"{prefixes[prefix]}.{rest}"] = value
    torch.save(renamed, path)
