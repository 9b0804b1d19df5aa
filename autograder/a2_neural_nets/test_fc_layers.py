"""Hidden graders: affine and ReLU layers (scratch/layers.py).

Expected values come from the grader's own numpy formulas and centred differences,
computed in this (trusted) process; the student's code only ever runs in the child.
"""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, numeric_gradient_array

pytestmark = question("fc_layers")


def _affine(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b


@weight(2)
@number("1.1.1")
@timeout(30)
def test_affine_forward(student):
    """affine_forward on fresh inputs

    An (N, d1, d2) batch and a flat (N, D) one; relative tolerance 1e-10.
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(20241)
    for shape in [(3, 4, 5), (6, 7)]:
        x = rng.standard_normal(shape)
        D = int(np.prod(shape[1:]))
        w = rng.standard_normal((D, 4))
        b = rng.standard_normal(4)
        out, _ = layers.affine_forward(x, w, b)
        check_array("affine_forward out for x of shape %s" % (shape,), out, _affine(x, w, b), tol=1e-10)


@weight(3)
@number("1.1.2")
@timeout(30)
def test_affine_backward(student):
    """affine_backward: dx, dw, db

    Against centred differences of the forward pass (relative tolerance 1e-8), for x of
    shape (5, 2, 3).
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(20242)
    x = rng.standard_normal((5, 2, 3))
    w = rng.standard_normal((6, 4))
    b = rng.standard_normal(4)
    dout = rng.standard_normal((5, 4))
    _, cache = layers.affine_forward(x, w, b)
    dx, dw, db = layers.affine_backward(dout, cache)
    check_array("dx", dx, numeric_gradient_array(lambda v: _affine(v, w, b), x.copy(), dout), tol=1e-8)
    check_array("dw", dw, numeric_gradient_array(lambda v: _affine(x, v, b), w.copy(), dout), tol=1e-8)
    check_array("db", db, numeric_gradient_array(lambda v: _affine(x, w, v), b.copy(), dout), tol=1e-8)


@weight(2)
@number("1.1.3")
@timeout(30)
def test_relu_forward(student):
    """relu_forward on fresh inputs

    A (6, 5) array holding negative values, positive values and exact zeros.
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(20243)
    x = rng.standard_normal((6, 5))
    x[rng.random((6, 5)) < 0.2] = 0.0
    out, _ = layers.relu_forward(x)
    check_array("relu_forward out", out, np.maximum(x, 0), tol=1e-12)


@weight(3)
@number("1.1.4")
@timeout(30)
def test_relu_backward(student):
    """relu_backward: dx

    Against centred differences away from 0 (relative tolerance 1e-8), and exactly 0
    where the input is exactly 0.
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(20244)
    x = rng.standard_normal((7, 6))
    x[np.abs(x) < 0.05] = 0.5  # keep the centred differences off the kink
    dout = rng.standard_normal((7, 6))
    _, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    check_array("dx", dx, numeric_gradient_array(lambda v: np.maximum(v, 0), x.copy(), dout), tol=1e-8)

    zeros = rng.random((7, 6)) < 0.3
    x[zeros] = 0.0
    _, cache = layers.relu_forward(x)
    dx = layers.relu_backward(dout, cache)
    check_array("dx where some inputs are exactly 0", dx, dout * (x > 0), tol=1e-12)
