"""BatchNormalization.ipynb and Dropout.ipynb run top to bottom on the reference
solution, with their experiments shrunk through the `parameters` cell."""
import shutil
import time

import pytest

from coursekit.notebook_runner import run_notebook

A = "a2_neural_nets"
# see test_fc_notebook.py
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

pytestmark = [pytest.mark.slow, pytest.mark.realdata("cifar10")]

CASES = {
    "BatchNormalization.ipynb": {"small_train": 500, "deep_epochs": 2, "ws_count": 3,
                                 "ws_epochs": 1, "bs_epochs": 1},
    "Dropout.ipynb": {"reg_epochs": 2},
}


def _outputs(nb, grade_id):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join(o.get("text", "") for o in cell.get("outputs", []))
    raise KeyError(grade_id)


@pytest.mark.parametrize("notebook", sorted(CASES))
def test_notebook_runs(build, tmp_path, notebook):
    work = tmp_path / A
    shutil.copytree(build.solutions(A), work)
    started = time.monotonic()
    nb = run_notebook(work / notebook, parameters=CASES[notebook], timeout=600,
                      env=SINGLE_THREADED_BLAS)
    print("%s ran in %.0f s" % (notebook, time.monotonic() - started))
    if notebook == "BatchNormalization.ipynb":
        assert "speedup" in _outputs(nb, "check_bn_backward_alt")
        assert "relative error" in _outputs(nb, "check_ln_net")
    else:
        assert "Fraction of train-time output set to zero" in _outputs(nb, "check_dropout_forward")
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert images, "the experiments should plot their results"
