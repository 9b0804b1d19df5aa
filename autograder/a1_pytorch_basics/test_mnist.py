"""Hidden graders: the MNIST models of MNIST.ipynb and their submitted checkpoints.

The student's model class is built in the student process; its checkpoint is read
there with torch.load(weights_only=True), checked here, and loaded into the model.
The grader sends the 10,000 held-out test images (from the autograder's own data);
the labels stay in this process, which computes the accuracy from the returned scores.
"""

import numpy as np
import torch

from a1_support import MNIST, require, unpickling_problem
from coursekit.data.loaders import load_mnist
from coursekit.grading import leaderboard, number, partial_credit, question, weight
from coursekit.grading.checks import accuracy, check_array
from coursekit.sandbox.errors import StudentError

FC_CHECKPOINT = "checkpoints/mnist_fc.pt"
CNN_CHECKPOINT = "checkpoints/mnist_cnn.pt"
BATCH = 1000


def _images(n, seed):
    """n random images in the models' input format: float32 (n, 1, 28, 28) in [0, 1]."""
    return np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)


def _build(student, cls, cell):
    nb = student.notebook(MNIST, require=["imports", cell])
    return getattr(nb, cls)()


def _load_checkpoint(student, model, cls, relpath):
    """Load the submitted state dict into `model` (in the student process)."""
    path = student.path(relpath)
    if not path.is_file():
        raise AssertionError(f"{relpath} is missing from your submission: run the training cells of "
                             f"{MNIST}, which write it, and include it in the zip")
    torch_in_child = student.module("torch")
    try:
        state = torch_in_child.load(relpath, map_location="cpu", weights_only=True)
    except StudentError as exc:
        raise AssertionError(f"{relpath} cannot be read with torch.load(..., weights_only=True): "
                             f"{unpickling_problem(exc.message)}. Save model.state_dict() "
                             "with torch.save.") from None
    if type(state) is not dict or not state or not all(
            isinstance(k, str) and type(v) is np.ndarray for k, v in state.items()):
        raise AssertionError(f"{relpath} should hold a state dict (parameter names -> tensors), "
                             f"as written by torch.save(model.state_dict(), path)")
    bad = [k for k, v in state.items() if v.dtype.kind == "f" and not np.all(np.isfinite(v))]
    require(not bad, f"{relpath}: {', '.join(bad[:5])} hold NaN or infinite values")
    tensors = {k: student.tensor(v) for k, v in state.items()}
    try:
        model.load_state_dict(tensors)
    except StudentError as exc:
        raise AssertionError(f"{relpath} does not fit {cls}() (the grader builds it with no "
                             f"arguments):\n{exc.message}") from None
    return model


def _test_accuracy(student, model, data_dir):
    """Accuracy of `model` on the held-out MNIST test set, computed here."""
    images, labels = load_mnist(data_dir, "t10k")
    x = (images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    device = student.device
    model.to(device)
    model.eval()
    torch_in_child = student.module("torch")
    torch_in_child.set_grad_enabled(False)
    scores = []
    try:
        for start in range(0, len(x), BATCH):
            out = model(student.tensor(x[start:start + BATCH], device=device))
            n = min(BATCH, len(x) - start)
            if type(out) is not np.ndarray or out.shape != (n, 10):
                raise AssertionError(f"the model should return scores of shape ({n}, 10) for {n} images, "
                                     f"got {getattr(out, 'shape', type(out).__name__)}")
            scores.append(out)
    finally:
        torch_in_child.set_grad_enabled(True)
    return accuracy(np.concatenate(scores), labels)


def _score(acc, full_at, zero_at, points):
    fraction = min(1.0, max(0.0, (acc - zero_at) / (full_at - zero_at)))
    return round(points * fraction, 2)


# ---------------------------------------------------------------- fully connected


@question("mnist_fc")
@weight(4)
@number("5.1")
def test_fc_architecture(student):
    """FullyConnectedNet(): 784-256-10 with a ReLU, returning raw scores"""
    net = _build(student, "FullyConnectedNet", "fc_model")
    state = net.state_dict()
    shapes = sorted(tuple(v.shape) for v in state.values())
    require(shapes == [(10,), (10, 256), (256,), (256, 784)],
            "FullyConnectedNet should have exactly Linear(784, 256) and Linear(256, 10); "
            f"its parameters have shapes {shapes}")
    weights = {tuple(v.shape): torch.from_numpy(v) for v in state.values()}
    x = _images(6, 51)
    net.eval()
    out = net(student.tensor(x))
    with torch.no_grad():
        h = torch.relu(torch.from_numpy(x).reshape(6, 784) @ weights[(256, 784)].T + weights[(256,)])
        expected = (h @ weights[(10, 256)].T + weights[(10,)]).numpy()
    check_array("FullyConnectedNet()(x): flatten, Linear, ReLU, Linear, no softmax", out, expected, tol=1e-4)


@question("mnist_fc")
@partial_credit(12)
@number("5.2")
def test_fc_checkpoint_accuracy(student, data_dir, set_score=None):
    """checkpoints/mnist_fc.pt: test accuracy, full marks from 97%, none below 90%, linear in between"""
    net = _build(student, "FullyConnectedNet", "fc_model")
    _load_checkpoint(student, net, "FullyConnectedNet", FC_CHECKPOINT)
    acc = _test_accuracy(student, net, data_dir)
    points = _score(acc, 0.97, 0.90, 12)
    set_score(points)
    require(acc >= 0.97,
            f"test accuracy {100 * acc:.2f}% is below the 97% needed for full marks ({points} of 12 points)")


# ---------------------------------------------------------------- CNN


@question("mnist_cnn")
@weight(5)
@number("6.1")
def test_cnn_architecture(student):
    """ConvNet(): convolution, batch norm and dropout, all used in forward; (N, 10) scores"""
    net = _build(student, "ConvNet", "cnn_model")
    torch_in_child = student.module("torch")
    builtins = student.module("builtins")
    nn = torch_in_child.nn
    modules = builtins.list(net.modules())
    kinds = {"convolution (nn.Conv2d)": nn.Conv2d,
             "batch normalization (nn.BatchNorm2d or nn.BatchNorm1d)": nn.modules.batchnorm._BatchNorm,
             "dropout (nn.Dropout)": nn.modules.dropout._DropoutNd}
    for what, cls in kinds.items():
        require(any(builtins.isinstance(m, cls) for m in modules),
                f"ConvNet has no {what} layer")

    x = student.tensor(_images(8, 61))
    before = net.state_dict()
    net.train()
    first, second = net(x), net(x)
    require(type(first) is np.ndarray and first.shape == (8, 10),
            "ConvNet()(x) for 8 images should return scores of shape (8, 10), "
            f"got {getattr(first, 'shape', type(first).__name__)}")
    after = net.state_dict()
    moved = [k for k in before if "running_mean" in k and not np.array_equal(before[k], after[k])]
    require(moved,
            "in training mode the batch norm layers' running statistics did not change: "
            "is batch norm used in forward()?")
    require(not np.array_equal(first, second),
            "in training mode two passes over the same images gave identical scores: "
            "is dropout used in forward()?")
    net.eval()
    third, fourth = net(x), net(x)
    require(np.array_equal(third, fourth),
            "in eval mode the same images should always get the same scores")


@question("mnist_cnn")
@partial_credit(15)
@leaderboard("CNN test accuracy (%)")
@number("6.2")
def test_cnn_checkpoint_accuracy(student, data_dir, set_score=None, set_leaderboard_value=None):
    """checkpoints/mnist_cnn.pt: test accuracy, full marks from 99%, none below 95%, linear in between"""
    net = _build(student, "ConvNet", "cnn_model")
    _load_checkpoint(student, net, "ConvNet", CNN_CHECKPOINT)
    acc = _test_accuracy(student, net, data_dir)
    points = _score(acc, 0.99, 0.95, 15)
    set_score(points)
    set_leaderboard_value(round(100 * acc, 2))
    require(acc >= 0.99,
            f"test accuracy {100 * acc:.2f}% is below the 99% needed for full marks ({points} of 15 points)")
