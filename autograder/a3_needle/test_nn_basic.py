"""Question 3: Linear, ReLU, Sequential, Flatten, Residual, Identity and SoftmaxLoss.

Forward passes and gradients are compared with formulas evaluated in the grader, on
the weights read back from the student's modules; only the initialization test
depends on the random draws.
"""

import numpy as np

import reference_needle as ref
from a3_support import backward_with, check_dtype, grad_of, tensor, values
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array, check_scalar

pytestmark = question("nn_basic")


def _rng(seed):
    return np.random.default_rng(seed)


@weight(2)
@number("3.1")
def test_linear_init(student, ndl):
    for seed, fan_in, fan_out in [(31, 6, 4), (5, 3, 9)]:
        student.seed(seed)
        layer = ndl.nn.Linear(fan_in, fan_out)
        w_ref, b_ref = ref.linear_params(np.random.RandomState(seed), fan_in, fan_out)
        label = f"Linear({fan_in}, {fan_out}) after np.random.seed({seed})"
        w = values(f"{label}.weight", layer.weight)
        check_array(f"{label}.weight", w, w_ref, tol=1e-5)
        check_dtype(f"{label}.weight", w)
        check_array(f"{label}.bias", values(f"{label}.bias", layer.bias), b_ref, tol=1e-5)
    params = ndl.nn.Linear(4, 2, bias=False).parameters()
    if len(params) != 1:
        raise AssertionError(f"Linear(4, 2, bias=False) should have 1 parameter, found {len(params)}")


def _linear(ndl, fan_in, fan_out):
    layer = ndl.nn.Linear(fan_in, fan_out)
    return layer, values("weight", layer.weight).astype(np.float64), values("bias", layer.bias).astype(np.float64)


@weight(2)
@number("3.2")
def test_linear_forward(student, ndl):
    student.seed(8)
    layer, w, b = _linear(ndl, 7, 3)
    for shape in [(4, 7), (2, 3, 7)]:
        x = _rng(sum(shape)).standard_normal(shape)
        got = values("Linear output", layer(tensor(ndl, x)))
        check_array(f"Linear(7, 3) on a {shape} input", got, x @ w + b.reshape(-1), tol=1e-5)


@weight(2)
@number("3.3")
def test_linear_backward(student, ndl):
    student.seed(9)
    layer, w, b = _linear(ndl, 5, 4)
    x_np = _rng(1).standard_normal((2, 3, 5))
    g = _rng(2).standard_normal((2, 3, 4))
    x = tensor(ndl, x_np)
    backward_with(ndl, layer(x), g)
    check_array("gradient of the input of Linear(5, 4) (2, 3, 5 input)", grad_of("x.grad", x), g @ w.T,
                tol=1e-5)
    check_array("gradient of Linear.weight", grad_of("weight.grad", layer.weight),
                np.einsum("abi,abj->ij", x_np, g), tol=1e-5)
    check_array("gradient of Linear.bias", grad_of("bias.grad", layer.bias),
                g.sum(axis=(0, 1)).reshape(b.shape), tol=1e-5)


@weight(1)
@number("3.4")
def test_relu(ndl):
    x_np = _rng(3).standard_normal((4, 6))
    g = _rng(4).standard_normal((4, 6))
    x = tensor(ndl, x_np)
    out = ndl.nn.ReLU()(x)
    check_array("ReLU output", values("ReLU output", out), np.maximum(x_np, 0), tol=1e-6)
    backward_with(ndl, out, g)
    check_array("gradient of ReLU", grad_of("x.grad", x), g * (x_np > 0), tol=1e-6)


@weight(2)
@number("3.5")
def test_sequential(student, ndl):
    nn = ndl.nn
    student.seed(12)
    first, second = nn.Linear(6, 5), nn.Linear(5, 4)
    model = nn.Sequential(first, nn.ReLU(), second)
    w1, b1 = values("weight", first.weight), values("bias", first.bias)
    w2, b2 = values("weight", second.weight), values("bias", second.bias)
    spec = ("seq", [("linear", w1, b1), ("relu",), ("linear", w2, b2)])
    x_np = _rng(5).standard_normal((3, 6))
    g = _rng(6).standard_normal((3, 4))
    x = tensor(ndl, x_np)
    out = model(x)
    check_array("Sequential(Linear(6, 5), ReLU(), Linear(5, 4)) output", values("output", out),
                ref.forward(spec, x_np), tol=1e-5)
    backward_with(ndl, out, g)
    hidden = x_np @ w1 + b1
    expected = ((g @ w2.T.astype(np.float64)) * (hidden > 0)) @ w1.T.astype(np.float64)
    check_array("gradient of the Sequential's input", grad_of("x.grad", x), expected, tol=1e-5)


@weight(1)
@number("3.6")
def test_flatten(ndl):
    x_np = _rng(7).standard_normal((2, 3, 4, 5))
    g = _rng(8).standard_normal((2, 60))
    x = tensor(ndl, x_np)
    out = ndl.nn.Flatten()(x)
    check_array("Flatten of a (2, 3, 4, 5) input", values("output", out), x_np.reshape(2, 60), tol=1e-6)
    backward_with(ndl, out, g)
    check_array("gradient of Flatten", grad_of("x.grad", x), g.reshape(2, 3, 4, 5), tol=1e-6)


@weight(2)
@number("3.7")
def test_residual_and_identity(student, ndl):
    nn = ndl.nn
    x_np = _rng(9).standard_normal((4, 5))
    g = _rng(10).standard_normal((4, 5))
    check_array("Identity()(x)", values("output", nn.Identity()(tensor(ndl, x_np))), x_np, tol=1e-6)
    x = tensor(ndl, x_np)
    out = nn.Residual(nn.Identity())(x)
    check_array("Residual(Identity())(x)", values("output", out), 2 * x_np, tol=1e-6)
    backward_with(ndl, out, g)
    check_array("gradient of Residual(Identity())", grad_of("x.grad", x), 2 * g, tol=1e-6)

    student.seed(13)
    inner = nn.Linear(5, 5)
    w, b = values("weight", inner.weight), values("bias", inner.bias)
    x = tensor(ndl, x_np)
    out = nn.Residual(inner)(x)
    check_array("Residual(Linear(5, 5))(x)", values("output", out), x_np @ w + b + x_np, tol=1e-5)
    backward_with(ndl, out, g)
    check_array("gradient of Residual(Linear(5, 5))", grad_of("x.grad", x),
                g @ w.T.astype(np.float64) + g, tol=1e-5)


@weight(3)
@number("3.8")
def test_softmax_loss(ndl):
    loss_fn = ndl.nn.SoftmaxLoss()
    for k, (n, classes, scale) in enumerate([(6, 7, 2.0), (5, 3, 300.0)]):
        z = _rng(20 + k).standard_normal((n, classes)) * scale
        labels = _rng(30 + k).integers(0, classes, size=n)
        x = tensor(ndl, z)
        loss = loss_fn(x, ndl.Tensor(labels, requires_grad=False))
        expected, grad = ref.softmax_loss(z.astype(np.float32), labels)
        label = f"SoftmaxLoss on ({n}, {classes}) logits" + (" of size ~300" if scale > 10 else "")
        check_scalar(label, values("loss", loss), expected, tol=1e-5)
        loss.backward()
        check_array(f"gradient of the {label}", grad_of("logits.grad", x), grad, tol=1e-4)
