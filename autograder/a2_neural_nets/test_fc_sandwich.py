"""Hidden graders: the affine-ReLU sandwich layer (scratch/layer_utils.py)."""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, numeric_gradient_array

pytestmark = question("fc_sandwich")


def _affine_relu(x, w, b):
    return np.maximum(x.reshape(x.shape[0], -1) @ w + b, 0.0)


def _inputs(seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((4, 3, 2))
    w = rng.standard_normal((6, 8))
    b = rng.standard_normal(8)
    # move pre-activations away from 0, where the ReLU has a kink
    a = x.reshape(4, -1) @ w + b
    b = b + 0.1 * np.sign(a.mean(axis=0))
    dout = rng.standard_normal((4, 8))
    return x, w, b, dout


@weight(2)
@number("1.3.1")
@timeout(30)
def test_affine_relu_forward(student):
    """affine_relu_forward on fresh inputs

    An input of shape (4, 3, 2).
    """
    utils = student.module("scratch.layer_utils")
    x, w, b, _ = _inputs(40251)
    out, _ = utils.affine_relu_forward(x, w, b)
    check_array("affine_relu_forward out", out, _affine_relu(x, w, b), tol=1e-10)


@weight(2)
@number("1.3.2")
@timeout(30)
def test_affine_relu_backward(student):
    """affine_relu_backward: dx, dw, db

    Against centred differences (relative tolerance 1e-8).
    """
    utils = student.module("scratch.layer_utils")
    x, w, b, dout = _inputs(40252)
    a = x.reshape(4, -1) @ w + b
    assert np.abs(a).min() > 1e-4, "grader inputs too close to the ReLU kink"
    _, cache = utils.affine_relu_forward(x, w, b)
    dx, dw, db = utils.affine_relu_backward(dout, cache)
    check_array("dx", dx, numeric_gradient_array(lambda v: _affine_relu(v, w, b), x.copy(), dout), tol=1e-8)
    check_array("dw", dw, numeric_gradient_array(lambda v: _affine_relu(x, v, b), w.copy(), dout), tol=1e-8)
    check_array("db", db, numeric_gradient_array(lambda v: _affine_relu(x, w, v), b.copy(), dout), tol=1e-8)
