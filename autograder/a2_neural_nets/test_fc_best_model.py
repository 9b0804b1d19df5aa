"""Hidden grader: the best fully connected model the student trained and submitted as
checkpoints/best_fc.npz (written by scratch.classifiers.fc_net.save_model).

The architecture is fixed by the assignment ({affine - [batch/layer norm] - relu} x
(L - 1) - affine), so this process rebuilds the network from the submitted arrays with
its own numpy code, test mode (batch norm's running averages, no dropout), and measures
the accuracy on the held-out CIFAR-10 test batch itself. The student's code is not run:
a forward pass that looked up the public test labels would earn nothing. The file is read
as bytes from the grader's copy of the upload, with its decompressed size capped and
without unpickling anything.
"""
import os

import numpy as np

from coursekit.data.loaders import load_cifar10_batch
from coursekit.grading import number, partial_credit, question, timeout
from coursekit.grading.checks import accuracy
from coursekit.grading.safe_load import load_npz

pytestmark = question("fc_best_model")

CHECKPOINT = "checkpoints/best_fc.npz"
FULL_MARKS_AT = 0.48   # the notebook asks for 50% validation accuracy; test sits a bit lower
ZERO_AT = 0.40         # linear partial credit in between
POINTS = 8
BATCH = 1000
MAX_BYTES = 64 << 20       # the file, and its arrays once decompressed
MAX_LAYERS = 32
MAX_WIDTH = 8192           # units per hidden layer the grader evaluates
EPS = 1e-5                 # the normalization layers' default epsilon


def _read_checkpoint(data):
    """Validated contents of the checkpoint's bytes: (normalization, layers, mean_image),
    layers a list of dicts with "W", "b" and, for hidden layers with normalization,
    "gamma", "beta" (and "mean", "var" for batch norm)."""
    if data is None:
        raise AssertionError(
            "%s is missing from the submission: run the last part of FullyConnectedNets.ipynb, "
            "which saves your best model there" % CHECKPOINT)
    arrays = load_npz(data, CHECKPOINT, MAX_BYTES)

    def get(key):
        assert key in arrays, "%s has no entry '%s'; save it with save_model" % (CHECKPOINT, key)
        return arrays[key]

    def integer(key):
        value = get(key)
        assert value.ndim == 0 and value.dtype.kind in "iu", \
            "%s: %s should be one integer" % (CHECKPOINT, key)
        return int(value)

    input_dim, num_classes = integer("config_input_dim"), integer("config_num_classes")
    hidden = get("config_hidden_dims")
    assert hidden.ndim <= 1 and hidden.dtype.kind in "iu" and hidden.size <= MAX_LAYERS, \
        "%s: config_hidden_dims should list at most %d integers" % (CHECKPOINT, MAX_LAYERS)
    hidden_dims = [int(h) for h in np.atleast_1d(hidden)]
    assert all(0 < h <= MAX_WIDTH for h in hidden_dims), \
        "%s: hidden layer sizes must be between 1 and %d, got %s" % (CHECKPOINT, MAX_WIDTH, hidden_dims)
    normalization_entry = get("config_normalization")
    assert normalization_entry.ndim == 0 and normalization_entry.dtype.kind == "U", \
        "%s: config_normalization should be a string" % CHECKPOINT
    normalization = str(normalization_entry)
    assert input_dim == 3 * 32 * 32 and num_classes == 10, \
        "the saved model maps %d inputs to %d classes, expected 3072 and 10" % (input_dim, num_classes)
    assert normalization in ("none", "batchnorm", "layernorm"), \
        "unknown normalization %r in %s" % (normalization, CHECKPOINT)

    dims = [input_dim] + hidden_dims + [num_classes]
    L = len(dims) - 1
    layers = []
    for k in range(1, L + 1):
        wanted = {"W": ("param_W%d" % k, (dims[k - 1], dims[k])), "b": ("param_b%d" % k, (dims[k],))}
        if normalization != "none" and k < L:
            wanted["gamma"] = ("param_gamma%d" % k, (dims[k],))
            wanted["beta"] = ("param_beta%d" % k, (dims[k],))
        if normalization == "batchnorm" and k < L:
            wanted["mean"] = ("bn_running_mean_%d" % k, (dims[k],))
            wanted["var"] = ("bn_running_var_%d" % k, (dims[k],))
        layer = {}
        for role, (key, shape) in wanted.items():
            value = get(key)
            assert value.shape == shape and value.dtype.kind == "f", \
                "%s: %s has shape %s and dtype %s, expected %s floats" % (
                    CHECKPOINT, key, value.shape, value.dtype, shape)
            assert np.all(np.isfinite(value)), "%s: %s holds NaN or infinite values" % (CHECKPOINT, key)
            layer[role] = value.astype(np.float64)
        if "var" in layer:
            assert np.all(layer["var"] >= 0), \
                "%s: bn_running_var_%d has negative variances" % (CHECKPOINT, k)
        layers.append(layer)

    mean_image = arrays.get("mean_image", np.zeros((3, 32, 32), dtype=np.float32))
    assert mean_image.size == input_dim and mean_image.dtype.kind == "f" \
        and np.all(np.isfinite(mean_image)), "%s: mean_image must hold 3072 finite floats" % CHECKPOINT
    return normalization, layers, mean_image.reshape(3, 32, 32).astype(np.float32)


def scores_of(X, normalization, layers):
    """Test-time class scores of the network, (N, 10), for inputs X (N, 3, 32, 32)."""
    h = X.reshape(len(X), -1).astype(np.float64)
    for layer in layers[:-1]:
        a = h @ layer["W"] + layer["b"]
        if normalization == "batchnorm":
            a = (a - layer["mean"]) / np.sqrt(layer["var"] + EPS) * layer["gamma"] + layer["beta"]
        elif normalization == "layernorm":
            mu = a.mean(axis=1, keepdims=True)
            var = ((a - mu) ** 2).mean(axis=1, keepdims=True)
            a = (a - mu) / np.sqrt(var + EPS) * layer["gamma"] + layer["beta"]
        h = np.maximum(a, 0.0)
    return h @ layers[-1]["W"] + layers[-1]["b"]


def _test_batch(data_dir):
    for candidate in (os.path.join(str(data_dir), "cifar-10-batches-py", "test_batch"),
                      os.path.join(str(data_dir), "test_batch")):
        if os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError("the autograder's data folder %s has no CIFAR-10 test_batch" % data_dir)


@partial_credit(POINTS)
@number("1.7.1")
@timeout(240)
def test_best_model_accuracy(student, data_dir, set_score=None):
    """Accuracy of the submitted best model on held-out test images

    The 10,000 CIFAR-10 test images: full marks at 48% or more (the notebook's 50%
    validation target), none below 40%, linear in between. The grader evaluates the
    saved weights with its own implementation of the network.
    """
    normalization, layers, mean_image = _read_checkpoint(
        student.submitted_bytes(CHECKPOINT, MAX_BYTES))
    X, y = load_cifar10_batch(_test_batch(data_dir))
    X = X.astype(np.float32).transpose(0, 3, 1, 2) - mean_image
    with np.errstate(all="ignore"):
        scores = np.concatenate([scores_of(X[start:start + BATCH], normalization, layers)
                                 for start in range(0, len(X), BATCH)])
    assert np.all(np.isfinite(scores)), \
        "%s: the saved weights give NaN or infinite scores on the test images" % CHECKPOINT
    acc = accuracy(scores, np.asarray(y))
    fraction = min(1.0, max(0.0, (acc - ZERO_AT) / (FULL_MARKS_AT - ZERO_AT)))
    set_score(round(POINTS * fraction, 2))
    # A failed assertion is the way to show the student a message; the partial score
    # set above still counts.
    assert fraction == 1.0, (
        "Test accuracy of the submitted model: %.2f%% (full marks from %.0f%%, none below %.0f%%)"
        % (100 * acc, 100 * FULL_MARKS_AT, 100 * ZERO_AT))
