"""FullyConnectedNets.ipynb runs top to bottom on the reference solution (with the
manifest's CI parameters), and the checkpoint it saves is graded by the hidden
best-model grader: full marks for the reference, none for a useless or a tampered
checkpoint, nor for a network whose forward pass looks up the public test labels.
"""
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from coursekit.manifest import load_assignment
from coursekit.notebook_runner import run_notebook

A = "a2_neural_nets"
SOURCE = Path(__file__).resolve().parents[2] / "source" / A
CHECKPOINT = "checkpoints/best_fc.npz"

pytestmark = [pytest.mark.slow, pytest.mark.realdata("cifar10")]

# On a shared 2-core machine, BLAS threads spinning against other processes made these
# small matrix products up to ten times slower; one thread each keeps the run short.
SINGLE_THREADED_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def trained(build, tmp_path_factory):
    """A copy of the solutions folder after running the notebook: (folder, executed nb)."""
    manifest = load_assignment(SOURCE)
    (entry,) = [c for c in manifest.checkpoints if c.file == CHECKPOINT]
    work = tmp_path_factory.mktemp("fc_notebook") / A
    shutil.copytree(build.solutions(A), work)
    started = time.monotonic()
    nb = run_notebook(work / entry.notebook, parameters=entry.ci_parameters, timeout=900,
                      env=SINGLE_THREADED_BLAS)
    print("FullyConnectedNets.ipynb ran in %.0f s" % (time.monotonic() - started))
    return work, nb


def _submission(trained, tmp_path, name):
    work, _ = trained
    sub = tmp_path / name
    for rel in load_assignment(SOURCE).submission_files:
        if (work / rel).is_file():
            (sub / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / rel, sub / rel)
    return sub


def _outputs(nb, grade_id):
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            return "".join(o.get("text", "") for o in cell.get("outputs", []))
    raise KeyError(grade_id)


def test_notebook_runs_and_saves_checkpoint(trained):
    work, nb = trained
    out = _outputs(nb, "check_best_model")
    assert "Validation set accuracy" in out and "saved " + CHECKPOINT in out
    with np.load(work / CHECKPOINT, allow_pickle=False) as f:
        assert f["param_W1"].shape[0] == 3072 and f["mean_image"].shape == (3, 32, 32)
    # the published expected values in the public checks come out of the reference
    assert "relative error" in _outputs(nb, "check_two_layer_net")


def test_reference_checkpoint_full_marks(trained, grade, tmp_path):
    result = grade(A, _submission(trained, tmp_path, "ref"), only=["fc_best_model"])
    t = result.test("test_best_model_accuracy")
    assert t["score"] == t["max_score"] > 0, t


LOOKUP_LOSS = """
def loss(self, X, y=None):
    # Attack: at test time, find each image in the public test set (the saved mean image
    # is all zeros, so X holds the raw pixel values) and return its public label.
    if y is None:
        return _lookup_scores(X)
    raise NotImplementedError
"""


def test_lookup_of_public_labels_earns_nothing(trained, grade, tmp_path):
    """A FullyConnectedNet whose test-time forward pass looks each image up in the public
    CIFAR-10 test batch, saved with random weights: the grader evaluates the weights with
    its own code, so the lookup never runs and the model scores at chance."""
    from coursekit.testing import mutate
    from lookup_attack import lookup_accuracy, prelude

    work, _ = trained
    sub = _submission(trained, tmp_path, "lookup")
    source = prelude("cifar10")
    module = sub / "scratch" / "classifiers" / "fc_net.py"
    module.write_text(module.read_text() + "\n\n" + source)
    mutate(sub, "scratch/classifiers/fc_net.py", LOOKUP_LOSS, name="FullyConnectedNet.loss")
    with np.load(work / CHECKPOINT, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    rng = np.random.default_rng(3)
    for k in arrays:
        if k.startswith("param_"):
            arrays[k] = rng.standard_normal(arrays[k].shape).astype(np.float32)
    arrays["mean_image"] = np.zeros((3, 32, 32), dtype=np.float32)
    np.savez(sub / CHECKPOINT, **arrays)
    # The attack is real: what the student's loss() returns on the images the grader
    # would send (raw pixels, float32, channels first) is right every time.
    assert lookup_accuracy("cifar10", source, lambda ns, images: ns["_lookup_scores"](
        images.astype(np.float32))) == 1.0
    t = grade(A, sub, only=["fc_best_model"]).test("test_best_model_accuracy")
    assert t["score"] == 0, t
    acc = float(t["output"].split("Test accuracy of the submitted model: ")[1].split("%")[0])
    assert acc < 20, t


class _Payload:
    """Unpickling this would create the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_useless_and_tampered_checkpoints_score_zero(trained, grade, tmp_path):
    work, _ = trained
    # an untrained network: right format, chance accuracy
    sub = _submission(trained, tmp_path, "untrained")
    with np.load(work / CHECKPOINT, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    rng = np.random.default_rng(0)
    for k in arrays:
        if k.startswith("param_W"):
            arrays[k] = (1e-2 * rng.standard_normal(arrays[k].shape)).astype(np.float32)
    np.savez(sub / CHECKPOINT, **arrays)
    t = grade(A, sub, only=["fc_best_model"]).test("test_best_model_accuracy")
    assert t["score"] == 0, t
    assert "Test accuracy of the submitted model" in t["output"]

    # a pickled object inside the .npz is refused without being unpickled
    sub = _submission(trained, tmp_path, "pickled")
    marker = tmp_path / "unpickled.txt"
    arrays["param_W1"] = np.array([_Payload(str(marker))], dtype=object)
    np.savez(sub / CHECKPOINT, **arrays)
    t = grade(A, sub, only=["fc_best_model"]).test("test_best_model_accuracy")
    assert t["score"] == 0 and "entry param_W1.npy holds Python objects (pickled data), which the " \
        "grader never loads" in t["output"], t
    assert not marker.exists()


def test_partial_credit_between_thresholds(trained, grade, tmp_path):
    """A model between 40% and 48% gets the linear share of the points."""
    from coursekit.data.loaders import data_root, load_cifar10_batch

    work, _ = trained
    with np.load(work / CHECKPOINT, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    X, y = load_cifar10_batch(data_root() / "cifar-10-batches-py" / "test_batch")
    X = X.astype(np.float32).transpose(0, 3, 1, 2) - arrays["mean_image"]

    # import the reference package from the solutions copy without leaving it behind
    # in sys.modules for other tests
    saved = {k: v for k, v in sys.modules.items() if k == "scratch" or k.startswith("scratch.")}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, str(work))
    try:
        from scratch.classifiers.fc_net import load_model
    finally:
        sys.path.pop(0)
        for k in [k for k in sys.modules if k == "scratch" or k.startswith("scratch.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    # blur the first layer with noise until the accuracy falls between the thresholds
    rng = np.random.default_rng(1)
    W1 = arrays["param_W1"]
    noise = rng.standard_normal(W1.shape).astype(np.float32) * W1.std()
    for strength in [0.6, 0.8, 1.0, 1.2, 1.5, 1.8, 2.2, 2.7, 3.3]:
        arrays["param_W1"] = W1 + strength * noise
        path = tmp_path / ("noisy_%g.npz" % strength)
        np.savez(path, **arrays)
        model, _ = load_model(path)
        acc = float(np.mean(np.argmax(model.loss(X), axis=1) == y))
        if 0.41 < acc < 0.47:
            break
    else:
        pytest.fail("no noise level put the accuracy between 41% and 47%")

    sub = _submission(trained, tmp_path, "noisy")
    shutil.copyfile(path, sub / CHECKPOINT)
    t = grade(A, sub, only=["fc_best_model"]).test("test_best_model_accuracy")
    expected = round(8 * (acc - 0.40) / (0.48 - 0.40), 2)
    assert abs(t["score"] - expected) < 0.02 and 0 < t["score"] < 8, (t, acc)
    assert "%.2f%%" % (100 * acc) in t["output"]
