"""Hidden graders of PyTorch.ipynb, Part II (barebones PyTorch): flatten, two_layer_fc,
three_layer_convnet, random_weight, zero_weight, check_accuracy_part2, train_part2.

Forward passes are compared with this process's own torch computation on the same
inputs and weights; the training loop with a replay of SGD done here.
"""

import numpy as np
import torch
import torch.nn.functional as F

from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_scalar
from pytorch_support import (call_for_tensor, check_close, check_kaiming, ensure, notebook,
                             ref_three_layer_convnet, ref_two_layer_fc, tensor, use_device)

pytestmark = question("pytorch_barebones")


@weight(2)
@number("4.2.1")
def test_flatten(student):
    """flatten: (N, d1, ..., dk) -> (N, d1 * ... * dk), examples read in row-major order"""
    nb = notebook(student, "flatten")
    rng = np.random.default_rng(4201)
    for shape in [(3, 2, 5, 4), (4, 7), (1, 3, 2)]:
        x = rng.standard_normal(shape).astype(np.float32)
        out = nb.flatten(tensor(student, x))
        check_close(f"flatten(x) for x of shape {shape}", out, x.reshape(shape[0], -1), tol=1e-7)


@weight(3)
@number("4.2.2")
def test_two_layer_fc(student):
    """two_layer_fc: relu(flatten(x) @ w1) @ w2 on fresh shapes and weights"""
    nb = notebook(student, "flatten", "two_layer_fc")
    rng = np.random.default_rng(4202)
    x = rng.standard_normal((6, 3, 4, 2)).astype(np.float32)
    w1 = (rng.standard_normal((24, 13)) / 3).astype(np.float32)
    w2 = rng.standard_normal((13, 5)).astype(np.float32)
    scores = nb.two_layer_fc(tensor(student, x), [tensor(student, w1), tensor(student, w2)])
    check_close("two_layer_fc(x, [w1, w2])", scores, ref_two_layer_fc(x, w1, w2))


@weight(4)
@number("4.2.3")
def test_three_layer_convnet(student):
    """three_layer_convnet: conv 5x5 pad 2 - relu - conv 3x3 pad 1 - relu - fc, non-square images"""
    nb = notebook(student, "flatten", "three_layer_convnet")
    rng = np.random.default_rng(4203)
    x = rng.standard_normal((3, 3, 9, 7)).astype(np.float32)
    shapes = [(4, 3, 5, 5), (4,), (6, 4, 3, 3), (6,), (6 * 9 * 7, 5), (5,)]
    params = [(0.3 * rng.standard_normal(s)).astype(np.float32) for s in shapes]
    scores = nb.three_layer_convnet(tensor(student, x), [tensor(student, p) for p in params])
    check_close("three_layer_convnet(x, params)", scores, ref_three_layer_convnet(x, *params))


@weight(2)
@number("4.2.4")
def test_random_weight(student):
    """random_weight: Kaiming normal N(0, 2 / fan_in), a float32 leaf tensor requiring gradients"""
    nb = notebook(student, "init_weights")
    use_device(student, nb)
    student.seed(4204)
    for shape, fan_in in [((900, 300), 900), ((40, 12, 5, 5), 300)]:
        name = f"random_weight({shape})"
        info = call_for_tensor(student, name, nb.random_weight, shape)
        ensure(info.value.shape == shape,
               f"{name}: expected shape {shape}, got {info.value.shape}")
        ensure(info.dtype == "torch.float32",
               f"{name}: expected dtype torch.float32, got {info.dtype}")
        ensure(info.device.split(":")[0] == student.device,
               f"{name}: the tensor should be on `device` ({student.device}), is on {info.device}")
        ensure(info.requires_grad,
               f"{name}: the tensor should have requires_grad=True")
        ensure(info.is_leaf,
               f"{name}: the tensor should be a leaf of the autograd graph (scale "
                              "the random values first, then switch on requires_grad)")
        check_kaiming(name, info.value, fan_in, rel_tol=0.04)
    again = call_for_tensor(student, "random_weight((900, 300))", nb.random_weight, (900, 300)).value
    first = call_for_tensor(student, "random_weight((900, 300))", nb.random_weight, (900, 300)).value
    ensure(not np.array_equal(again, first),
           "two calls of random_weight returned the same values")


@weight(1)
@number("4.2.5")
def test_zero_weight(student):
    """zero_weight: zeros of the given shape, float32, requiring gradients"""
    nb = notebook(student, "init_weights")
    use_device(student, nb)
    info = call_for_tensor(student, "zero_weight((11, 4))", nb.zero_weight, (11, 4))
    ensure(info.value.shape == (11, 4),
           f"zero_weight((11, 4)): got shape {info.value.shape}")
    ensure(not np.any(info.value),
           "zero_weight((11, 4)) should hold zeros only")
    ensure(info.dtype == "torch.float32",
           f"zero_weight: expected dtype torch.float32, got {info.dtype}")
    ensure(info.requires_grad and info.is_leaf,
           "zero_weight should return a leaf tensor with requires_grad=True")


def _loader(student, x, y, batch_size):
    """A DataLoader over (x, y) built in the student process, in a fixed order."""
    data = student.module("torch.utils.data")
    dataset = data.TensorDataset(tensor(student, x), tensor(student, y, dtype="int64"))
    return data.DataLoader(dataset, batch_size=batch_size, shuffle=False)


@weight(2)
@number("4.2.6")
def test_check_accuracy_part2(student):
    """check_accuracy_part2: the fraction of correct predictions over all minibatches"""
    nb = notebook(student, "check_accuracy_part2")
    use_device(student, nb)
    rng = np.random.default_rng(4206)
    x = rng.standard_normal((23, 12)).astype(np.float32)
    w = rng.standard_normal((12, 4)).astype(np.float32)
    preds = (x @ w).argmax(axis=1)
    # Labels right for a known subset, the last (short) minibatch included.
    y = (preds + 1) % 4
    right = np.array([0, 3, 4, 9, 10, 11, 15, 21, 22])
    y[right] = preds[right]
    expected = len(right) / 23
    # model_fn(x, params) = x @ params: any function of that signature will do.
    acc = nb.check_accuracy_part2(_loader(student, x, y, 5), student.module("torch").matmul,
                                  tensor(student, w))
    ensure(type(acc) is float,
           f"check_accuracy_part2 should return a Python float, got {type(acc).__name__}")
    check_scalar("check_accuracy_part2 over 23 examples in minibatches of 5", acc, expected, tol=1e-9)


def _replay_sgd(x, y, params, lr, batch_size, epochs):
    """Losses per step and final parameters of plain SGD on two_layer_fc, done here."""
    ws = [torch.tensor(p, requires_grad=True) for p in params]
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for _ in range(epochs):
        for start in range(0, len(x), batch_size):
            xb, yb = xt[start:start + batch_size], yt[start:start + batch_size]
            loss = F.cross_entropy(F.relu(xb.reshape(len(xb), -1) @ ws[0]) @ ws[1], yb)
            loss.backward()
            with torch.no_grad():
                for w in ws:
                    w -= lr * w.grad
                    w.grad.zero_()
            losses.append(loss.item())
    return losses, [w.detach().numpy() for w in ws]


@weight(4)
@number("4.2.7")
def test_train_part2(student):
    """train_part2: SGD steps w -= lr * grad with the gradients reset, two epochs, loss history"""
    nb = notebook(student, "flatten", "two_layer_fc", "check_accuracy_part2", "train_part2")
    use_device(student, nb)
    rng = np.random.default_rng(4207)
    x = rng.standard_normal((26, 2, 3, 2)).astype(np.float32)
    y = rng.integers(0, 3, 26).astype(np.int64)
    params = [(0.5 * rng.standard_normal((12, 7))).astype(np.float32),
              (0.5 * rng.standard_normal((7, 3))).astype(np.float32)]
    check_close("two_layer_fc (which train_part2 is graded with; fix it first)",
                nb.two_layer_fc(tensor(student, x), [tensor(student, p) for p in params]),
                ref_two_layer_fc(x, *params), tol=1e-4)
    handles = [tensor(student, p, requires_grad=True) for p in params]
    saved_every = nb.print_every
    nb.print_every = 3  # validation checks in the middle of the epochs
    try:
        history = nb.train_part2(nb.two_layer_fc, handles, 0.3, _loader(student, x, y, 8),
                                 _loader(student, x[:9], y[:9], 4), epochs=2, progress=False)
    finally:
        nb.print_every = saved_every
    losses, final = _replay_sgd(x, y, params, 0.3, 8, 2)
    ensure(type(history) is dict and "loss" in history,
           "train_part2 should return the history dict")
    check_close("the losses recorded by train_part2 (26 examples, minibatches of 8, 2 epochs)",
                np.asarray(history["loss"], dtype=np.float64), losses, tol=1e-4)
    for name, handle, want in zip(["w1", "w2"], handles, final):
        got = student.module("torch").Tensor.detach(handle)
        check_close(f"{name} after train_part2", got, want, tol=1e-4)
