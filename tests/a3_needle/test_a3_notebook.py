"""hw2.ipynb runs top to bottom: the solution version passes every public check and
trains (briefly); the released version gets through its setup and stops at the
first unanswered question."""

import shutil

import pytest

from coursekit.notebook_runner import NotebookError, run_notebook

A = "a3_needle"
QUICK = dict(EPOCHS=2, TRAIN_EXAMPLES=3000, RUN_SLOW_CHECKS=False)
# The solution also runs the public checks that train on full MNIST (published values).
FULL_CHECKS = dict(QUICK, RUN_SLOW_CHECKS=True)


def _outputs(nb):
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.get("outputs", []) if o.get("output_type") == "stream")


@pytest.mark.realdata("mnist")
@pytest.mark.slow
def test_solution_notebook_runs(build, tmp_path, mnist_path):
    kit = shutil.copytree(build.solutions(A), tmp_path / A)
    nb = run_notebook(kit / "hw2.ipynb", parameters=dict(FULL_CHECKS, DATA_DIR=str(mnist_path)),
                      timeout=600)
    text = _outputs(nb)
    for part in ["initializers", "logsumexp / logsoftmax", "modules", "normalization and dropout",
                 "optimizers", "data", "ResidualBlock and MLPResNet", "epoch and train_mnist"]:
        assert f"{part}: all public checks passed" in text or f"{part}: public checks passed" in text, part
    assert "optimizer memory: flat" in text
    epochs = [line for line in text.splitlines() if line.startswith("train error")]
    assert len(epochs) == 2
    errors = [float(line.split("test error")[1].split()[0]) for line in epochs]
    assert errors[-1] < min(0.3, errors[0]), epochs  # 3,000 examples, 2 epochs: about 0.17
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the augmented digits and the training curves


@pytest.mark.realdata("mnist")
def test_released_notebook_stops_at_first_question(build, tmp_path, mnist_path):
    kit = shutil.copytree(build.release(A), tmp_path / A)
    with pytest.raises(NotebookError) as info:
        run_notebook(kit / "hw2.ipynb", parameters=dict(QUICK, DATA_DIR=str(mnist_path)), timeout=300)
    assert info.value.grade_id == "check_init"
    assert info.value.ename == "NotImplementedError"
