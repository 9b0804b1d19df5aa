"""Hidden grader: the best fully connected model the student trained and submitted as
checkpoints/best_fc.npz (written by scratch.classifiers.fc_net.save_model).

The parent reads the .npz with allow_pickle=False and checks its layout; the network is
rebuilt in the student process with the student's FullyConnectedNet, which returns
scores for the held-out CIFAR-10 test batch; the labels never leave this process.
"""
import os

import numpy as np

from coursekit.data.loaders import load_cifar10_batch
from coursekit.grading import number, partial_credit, question, timeout
from coursekit.grading.checks import accuracy

pytestmark = question("fc_best_model")

CHECKPOINT = "checkpoints/best_fc.npz"
FULL_MARKS_AT = 0.48   # the notebook asks for 50% validation accuracy; test sits a bit lower
ZERO_AT = 0.40         # linear partial credit in between
POINTS = 8
BATCH = 1000


def _read_checkpoint(path):
    """Validated contents of the checkpoint: (hidden_dims, normalization, params,
    running statistics or None, mean_image)."""
    assert os.path.isfile(path), (
        "%s is missing from the submission: run the last part of FullyConnectedNets.ipynb, "
        "which saves your best model there" % CHECKPOINT)
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception as exc:  # a damaged file or one holding pickled objects
        raise AssertionError("%s cannot be read as a plain .npz file (%s); save it with "
                             "scratch.classifiers.fc_net.save_model" % (CHECKPOINT, exc)) from None

    def get(key):
        assert key in data, "%s has no entry '%s'; save it with save_model" % (CHECKPOINT, key)
        return data[key]

    input_dim = int(get("config_input_dim"))
    num_classes = int(get("config_num_classes"))
    hidden_dims = [int(h) for h in np.atleast_1d(get("config_hidden_dims"))]
    normalization = str(get("config_normalization"))
    assert input_dim == 3 * 32 * 32 and num_classes == 10, \
        "the saved model maps %d inputs to %d classes, expected 3072 and 10" % (input_dim, num_classes)
    assert normalization in ("none", "batchnorm", "layernorm"), \
        "unknown normalization %r in %s" % (normalization, CHECKPOINT)

    dims = [input_dim] + hidden_dims + [num_classes]
    L = len(dims) - 1
    params = {}
    for k in range(1, L + 1):
        params["W%d" % k] = get("param_W%d" % k), (dims[k - 1], dims[k])
        params["b%d" % k] = get("param_b%d" % k), (dims[k],)
        if normalization != "none" and k < L:
            params["gamma%d" % k] = get("param_gamma%d" % k), (dims[k],)
            params["beta%d" % k] = get("param_beta%d" % k), (dims[k],)
    for name, (value, shape) in params.items():
        assert value.shape == shape and value.dtype.kind == "f", \
            "%s: param_%s has shape %s and dtype %s, expected %s floats" % (
                CHECKPOINT, name, value.shape, value.dtype, shape)
    params = {name: value for name, (value, _) in params.items()}

    running = None
    if normalization == "batchnorm":
        running = []
        for k in range(1, L):
            mean, var = get("bn_running_mean_%d" % k), get("bn_running_var_%d" % k)
            assert mean.shape == (dims[k],) and var.shape == (dims[k],), \
                "%s: running averages of layer %d have the wrong shape" % (CHECKPOINT, k)
            running.append((mean, var))

    mean_image = data.get("mean_image", np.zeros((3, 32, 32), dtype=np.float32))
    assert mean_image.size == input_dim and mean_image.dtype.kind == "f", \
        "%s: mean_image must hold 3072 floats" % CHECKPOINT
    return hidden_dims, normalization, params, running, mean_image.reshape(3, 32, 32)


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
    validation target), none below 40%, linear in between.
    """
    hidden_dims, normalization, params, running, mean_image = _read_checkpoint(
        student.path(CHECKPOINT))

    fc = student.module("scratch.classifiers.fc_net")
    net = fc.FullyConnectedNet(hidden_dims, input_dim=3072, num_classes=10,
                               normalization=None if normalization == "none" else normalization)
    net.params = params
    if running is not None:
        net.bn_params = [{"mode": "test", "running_mean": m, "running_var": v} for m, v in running]

    X, y = load_cifar10_batch(_test_batch(data_dir))
    X = X.astype(np.float32).transpose(0, 3, 1, 2) - mean_image.astype(np.float32)
    scores = []
    for start in range(0, len(X), BATCH):
        s = net.loss(np.ascontiguousarray(X[start:start + BATCH]))
        assert isinstance(s, np.ndarray) and s.shape == (min(BATCH, len(X) - start), 10), \
            "FullyConnectedNet.loss(X) at test time must return scores of shape (N, 10)"
        scores.append(s)
    acc = accuracy(np.concatenate(scores), np.asarray(y))
    fraction = min(1.0, max(0.0, (acc - ZERO_AT) / (FULL_MARKS_AT - ZERO_AT)))
    set_score(round(POINTS * fraction, 2))
    # A failed assertion is the way to show the student a message; the partial score
    # set above still counts.
    assert fraction == 1.0, (
        "Test accuracy of the submitted model: %.2f%% (full marks from %.0f%%, none below %.0f%%)"
        % (100 * acc, 100 * FULL_MARKS_AT, 100 * ZERO_AT))
