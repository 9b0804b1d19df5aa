"""ConvolutionalNetworks.ipynb runs top to bottom on the reference solution.

Its check cells assert what the notebook promises: naive layers against stored
values and numeric gradients, fast layers equal to the naive ones, the three-layer net
overfitting 100 examples and passing 40% training accuracy after one epoch on
CIFAR-10 (with the kit's fast layers), spatial batch and group normalization.
"""
import json

import pytest

from coursekit.notebook_runner import run_notebook

A = "a2_neural_nets"
NOTEBOOK = "ConvolutionalNetworks.ipynb"


def _stream_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.mark.slow
@pytest.mark.realdata("cifar10")
def test_notebook_runs_on_reference(build):
    # One BLAS thread: OpenBLAS threads that wait for a busy core spin, and on a
    # shared 2-core runner that made the training cell 5 to 20 times slower.
    nb = run_notebook(build.solutions(A) / NOTEBOOK, timeout=900, env={"OPENBLAS_NUM_THREADS": "1"})
    by_id = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells if c.cell_type == "code"}
    # The checks ran (an assert-free pass would print nothing) and training reached the bar.
    assert "training accuracy after one epoch" in _stream_text(by_id["check_cnn_one_epoch"])
    assert "tied maxima: OK" in _stream_text(by_id["check_max_pool_backward_naive"])
    figures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {}))
    assert figures >= 3  # image-processing aside, overfitting curves, first-layer filters


def test_released_notebook_has_no_answers(build):
    """Inline answers become "YOUR ANSWER HERE"; every check cell survives, locked."""
    released = json.loads((build.release(A) / NOTEBOOK).read_text())
    source = json.loads((build.solutions(A) / NOTEBOOK).read_text())

    def cells_by_id(nb):
        return {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in nb["cells"]
                if "nbgrader" in c["metadata"]}

    rel, sol = cells_by_id(released), cells_by_id(source)
    assert set(rel) == set(sol)
    answers = [g for g in rel if g.startswith("conv_inline_q") and not g.endswith("_prompt")]
    assert len(answers) == 3
    for g in answers:
        text = "".join(rel[g]["source"])
        assert "YOUR ANSWER HERE" in text and "BEGIN SOLUTION" not in text
    checks = [g for g in rel if g.startswith("check_")]
    assert len(checks) >= 15
    for g in checks:
        assert rel[g]["metadata"]["nbgrader"]["locked"] is True
        assert "".join(rel[g]["source"]) == "".join(sol[g]["source"])
