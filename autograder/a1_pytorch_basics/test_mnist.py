"""Hidden graders: the MNIST models of MNIST.ipynb and their submitted checkpoints.

Each checkpoint is read here, as bytes of the upload, with torch.load(weights_only=True)
after its sizes are checked (coursekit.grading.safe_load).

- FullyConnectedNet's architecture is fixed by the notebook (784-256-10 with a ReLU), so
  this process evaluates the submitted weights with its own torch code on the 10,000
  MNIST test images: no student code runs, and a forward pass that looks the public test
  labels up earns nothing.
- ConvNet's architecture is the student's (it only has to contain convolution, batch
  norm and dropout), so it is built by the student's code in the student process, which
  gets the test images and secretly perturbed copies of half of them, shuffled together
  (coursekit.grading.heldout). The labels stay here. The grade comes from the plain
  images; a model far better on them than on their perturbed copies scores zero and is
  flagged for the staff.
"""

from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F

from a1_support import MNIST, require
from coursekit.data.loaders import load_mnist
from coursekit.grading import leaderboard, number, partial_credit, question, weight
from coursekit.grading.checks import accuracy, check_array
from coursekit.grading.heldout import Perturbation, checked_scores, measure, perturb, refuse_lookup, secret_rng
from coursekit.grading.safe_load import load_torch
from coursekit.sandbox.errors import StudentError

FC_CHECKPOINT = "checkpoints/mnist_fc.pt"
CNN_CHECKPOINT = "checkpoints/mnist_cnn.pt"
BATCH = 1000
MAX_CHECKPOINT_BYTES = 32 << 20
# Digits must not be mirrored; the rest are changes a reader would not notice.
CNN_PERTURBATION = Perturbation(max_shift=1.5, max_rotation=8.0, max_scale=0.08, contrast=0.15,
                                brightness=0.05, noise=0.02)
CNN_MARGIN = 0.05   # the reference drops 1.3-1.6 points, a nearest-neighbour lookup 9 (heldout.py)


def _images(n, seed):
    """n random images in the models' input format: float32 (n, 1, 28, 28) in [0, 1]."""
    return np.random.default_rng(seed).random((n, 1, 28, 28), dtype=np.float32)


def _build(student, cls, cell):
    nb = student.notebook(MNIST, require=["imports", cell])
    return getattr(nb, cls)()


def _read_state(student, relpath):
    """The submitted state dict (names -> float arrays), read here from the upload's bytes."""
    data = student.submitted_bytes(relpath, MAX_CHECKPOINT_BYTES)
    if data is None:
        raise AssertionError(f"{relpath} is missing from your submission: run the training cells of "
                             f"{MNIST}, which write it, and include it in the zip")
    try:
        state = load_torch(data, relpath, MAX_CHECKPOINT_BYTES)
    except AssertionError as exc:
        raise AssertionError(f"{exc}. Save model.state_dict() with torch.save.") from None
    if type(state) not in (dict, OrderedDict) or not state or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise AssertionError(f"{relpath} should hold a state dict (parameter names -> tensors), "
                             f"as written by torch.save(model.state_dict(), path)")
    arrays = {}
    for k, v in state.items():
        v = v.detach().cpu()
        if v.is_floating_point() and v.dtype not in (torch.float32, torch.float64):
            v = v.float()
        arrays[k] = v.numpy()
    bad = [k for k, v in arrays.items() if v.dtype.kind == "f" and not np.all(np.isfinite(v))]
    require(not bad, f"{relpath}: {', '.join(bad[:5])} hold NaN or infinite values")
    return arrays


def _fc_weights(state):
    """The four FullyConnectedNet parameters of a state dict, by shape, as float32 tensors."""
    shapes = {tuple(v.shape): k for k, v in state.items()}
    want = [(256, 784), (256,), (10, 256), (10,)]
    require(len(state) == 4 and sorted(shapes) == sorted(want),
            f"{FC_CHECKPOINT} should hold exactly the parameters of Linear(784, 256) and "
            f"Linear(256, 10) (shapes {want}); it holds {[(k, tuple(v.shape)) for k, v in state.items()]}")
    return [torch.from_numpy(np.ascontiguousarray(state[shapes[s]], dtype=np.float32)) for s in want]


def _test_set(data_dir):
    images, labels = load_mnist(data_dir, "t10k")
    return (images.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28), np.asarray(labels)


def _fc_accuracy(weights, data_dir):
    """Accuracy of the 784-256-10 network with these weights, computed here."""
    x, labels = _test_set(data_dir)
    w1, b1, w2, b2 = weights
    with torch.no_grad():
        h = F.relu(F.linear(torch.from_numpy(x).reshape(len(x), 784), w1, b1))
        scores = F.linear(h, w2, b2).double().numpy()
    require(np.all(np.isfinite(scores)), f"{FC_CHECKPOINT}: the weights give NaN or infinite scores")
    return accuracy(scores, labels)


def _cnn_measurement(student, model, data_dir, rng=None):
    """Accuracy of the student's model on the test images and perturbed copies of half."""
    x, labels = _test_set(data_dir)
    rng = rng if rng is not None else secret_rng()
    subset = np.sort(rng.choice(len(x), len(x) // 2, replace=False))
    # Whole grey levels, as in the plain images, so the two kinds look alike.
    perturbed = np.round(perturb(x[subset], CNN_PERTURBATION, rng) * 255.0).astype(np.float32) / 255.0
    device = student.device
    model.to(device)
    model.eval()

    def scores_of(batch):
        return checked_scores(model(student.tensor(batch, device=device)), len(batch))

    torch_in_child = student.module("torch")
    torch_in_child.set_grad_enabled(False)
    try:
        return measure(scores_of, x, perturbed, subset, labels, rng, BATCH)
    finally:
        torch_in_child.set_grad_enabled(True)


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
    acc = _fc_accuracy(_fc_weights(_read_state(student, FC_CHECKPOINT)), data_dir)
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
    state = _read_state(student, CNN_CHECKPOINT)
    net = _build(student, "ConvNet", "cnn_model")
    try:
        net.load_state_dict({k: student.tensor(v) for k, v in state.items()})
    except StudentError as exc:
        raise AssertionError(f"{CNN_CHECKPOINT} does not fit ConvNet() (the grader builds it with no "
                             f"arguments):\n{exc.message}") from None
    m = _cnn_measurement(student, net, data_dir)
    refuse_lookup(m, CNN_MARGIN, "ConvNet", 15, set_score)
    acc = m.plain
    points = _score(acc, 0.99, 0.95, 15)
    set_score(points)
    set_leaderboard_value(round(100 * acc, 2))
    require(acc >= 0.99,
            f"test accuracy {100 * acc:.2f}% is below the 99% needed for full marks ({points} of 15 points)")
