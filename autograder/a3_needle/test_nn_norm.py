"""Question 4: LayerNorm1d, BatchNorm1d and Dropout."""

import numpy as np

import reference_needle as ref
from a3_support import backward_with, grad_of, tensor, values
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array

pytestmark = question("nn_norm")


def _rng(seed):
    return np.random.default_rng(seed)


def _affine(ndl, layer, dim, seed):
    """Give a norm layer non-trivial weight and bias; returns them as arrays."""
    w = (1 + 0.5 * _rng(seed).standard_normal(dim)).astype(np.float32)
    b = _rng(seed + 1).standard_normal(dim).astype(np.float32)
    layer.weight.data = tensor(ndl, w)
    layer.bias.data = tensor(ndl, b)
    return w, b


@weight(2)
@number("4.1")
def test_layernorm_forward(ndl):
    x_np = _rng(1).standard_normal((4, 6)) * 3 + 1
    plain = ndl.nn.LayerNorm1d(6)
    check_array("LayerNorm1d(6) output (fresh layer)", values("output", plain(tensor(ndl, x_np))),
                ref.layernorm(x_np, np.ones(6), np.zeros(6))[0], tol=1e-5)
    layer = ndl.nn.LayerNorm1d(6, eps=0.5)
    w, b = _affine(ndl, layer, 6, 2)
    check_array("LayerNorm1d(6, eps=0.5) output, with weight and bias set",
                values("output", layer(tensor(ndl, x_np))), ref.layernorm(x_np, w, b, eps=0.5)[0],
                tol=1e-5)


@weight(2)
@number("4.2")
def test_layernorm_backward(ndl):
    # The second layer's eps is large next to its rows' variance, so the gradients show
    # where eps goes (inside the square root).
    for k, (eps, scale) in enumerate(((1e-5, 2.0), (0.5, 0.6))):
        x_np = _rng(3 + 10 * k).standard_normal((5, 4)) * scale
        g = _rng(4 + 10 * k).standard_normal((5, 4))
        layer = ndl.nn.LayerNorm1d(4, eps=eps)
        w, b = _affine(ndl, layer, 4, 5 + 10 * k)
        x = tensor(ndl, x_np)
        backward_with(ndl, layer(x), g)
        _, cache = ref.layernorm(x_np, w, b, eps=eps)
        dx, dw, db = ref.layernorm_backward(g, cache)
        what = f"LayerNorm1d(4, eps={eps:g})"
        check_array(f"gradient of {what}'s input", grad_of("x.grad", x), dx, tol=1e-4)
        check_array(f"gradient of {what}.weight", grad_of("weight.grad", layer.weight).reshape(-1),
                    dw, tol=1e-4)
        check_array(f"gradient of {what}.bias", grad_of("bias.grad", layer.bias).reshape(-1), db,
                    tol=1e-4)


@weight(2)
@number("4.3")
def test_batchnorm_train_forward(ndl):
    x_np = _rng(6).standard_normal((8, 5)) * 2 - 1
    layer = ndl.nn.BatchNorm1d(5, eps=0.01)
    w, b = _affine(ndl, layer, 5, 7)
    check_array("BatchNorm1d(5, eps=0.01) output in training mode",
                values("output", layer(tensor(ndl, x_np))),
                ref.batchnorm_train(x_np, w, b, eps=0.01)[0], tol=1e-5)


def _run_batches(ndl, momentum):
    """Three training batches through a fresh BatchNorm1d(4); returns it and the reference
    running statistics."""
    layer = ndl.nn.BatchNorm1d(4, momentum=momentum)
    mean, var = np.zeros(4), np.ones(4)
    for k in range(3):
        x_np = _rng(10 + k).standard_normal((6, 4)) * (k + 1) + k
        layer(tensor(ndl, x_np))
        x32 = x_np.astype(np.float32).astype(np.float64)
        mean = (1 - momentum) * mean + momentum * x32.mean(axis=0)
        var = (1 - momentum) * var + momentum * x32.var(axis=0)
    return layer, mean, var


@weight(2)
@number("4.4")
def test_batchnorm_running_statistics(ndl):
    layer, mean, var = _run_batches(ndl, momentum=0.25)
    check_array("BatchNorm1d(4, momentum=0.25).running_mean after 3 batches",
                values("running_mean", layer.running_mean).reshape(-1), mean, tol=1e-5)
    check_array("BatchNorm1d(4, momentum=0.25).running_var after 3 batches "
                "(the biased batch variance)", values("running_var", layer.running_var).reshape(-1),
                var, tol=1e-5)


@weight(1)
@number("4.5")
def test_batchnorm_eval(ndl):
    layer, mean, var = _run_batches(ndl, momentum=0.1)
    layer.eval()
    x_np = _rng(20).standard_normal((3, 4))
    expected = (x_np - mean) / np.sqrt(var + 1e-5)
    check_array("BatchNorm1d output in eval mode (uses the running statistics)",
                values("output", layer(tensor(ndl, x_np))), expected, tol=1e-5)


@weight(2)
@number("4.6")
def test_batchnorm_backward(ndl):
    x_np = _rng(21).standard_normal((7, 3)) * 2
    g = _rng(22).standard_normal((7, 3))
    layer = ndl.nn.BatchNorm1d(3)
    w, b = _affine(ndl, layer, 3, 23)
    x = tensor(ndl, x_np)
    backward_with(ndl, layer(x), g)
    _, _, _, cache = ref.batchnorm_train(x_np, w, b)
    dx, dw, db = ref.batchnorm_backward(g, cache)
    check_array("gradient of BatchNorm1d's input (training mode)", grad_of("x.grad", x), dx, tol=1e-4)
    check_array("gradient of BatchNorm1d.weight", grad_of("weight.grad", layer.weight).reshape(-1), dw,
                tol=1e-4)
    check_array("gradient of BatchNorm1d.bias", grad_of("bias.grad", layer.bias).reshape(-1), db,
                tol=1e-4)


@weight(3)
@number("4.7")
def test_dropout(student, ndl):
    for seed, p, shape in [(17, 0.3, (6, 5)), (4, 0.75, (3, 2, 4))]:
        x_np = _rng(seed).standard_normal(shape)
        g = _rng(seed + 1).standard_normal(shape)
        layer = ndl.nn.Dropout(p)
        student.seed(seed)
        x = tensor(ndl, x_np)
        out = layer(x)
        keep = ref.dropout_mask(np.random.RandomState(seed), shape, p)
        label = f"Dropout({p}) in training mode after np.random.seed({seed})"
        check_array(label, values("output", out), x_np * keep / (1 - p), tol=1e-5)
        backward_with(ndl, out, g)
        check_array(f"gradient of {label}", grad_of("x.grad", x), g * keep / (1 - p), tol=1e-5)
        layer.eval()
        check_array(f"Dropout({p}) in eval mode (the identity)", values("output", layer(tensor(ndl, x_np))),
                    x_np, tol=1e-6)
