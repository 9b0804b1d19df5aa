"""Section: a2's challenge reference trained on a GPU: time per epoch and accuracy.

Runs only where torch sees a CUDA device; elsewhere it reports why not.
"""

from __future__ import annotations

from coursekit.bench.measure import REPO

TITLE = "a2 challenge on GPU"
A2 = REPO / "source" / "a2_neural_nets"
NOTEBOOK = A2 / "PyTorch.ipynb"


def unavailable() -> str | None:
    import torch

    if not torch.cuda.is_available():
        return "no CUDA device (torch.cuda.is_available() is False)"
    if not NOTEBOOK.is_file():
        return f"{NOTEBOOK.relative_to(REPO)} (the challenge reference) does not exist yet"
    return "the challenge reference has no entry point the bench knows yet"


def run(quick: bool = False) -> list:
    raise NotImplementedError("gpu section")
