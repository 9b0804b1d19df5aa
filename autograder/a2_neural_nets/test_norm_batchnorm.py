"""Hidden graders: batch normalization (scratch/layers.py).

batchnorm_forward must write its running averages back into the bn_param dict it was
given, so the dict lives in the student process (a handle), and the grader reads it
back after the call.
"""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, numeric_gradient_array

pytestmark = question("norm_batchnorm")


def _bn_train(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)  # biased, as in the forward pass of the layer
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _child_dict(student, value):
    """A dict in the student process; returns (holder, handle to the dict)."""
    holder = student.module("types").SimpleNamespace()
    holder.d = value
    return holder, holder.ref("d")


def _inputs(seed, n, d):
    rng = np.random.default_rng(seed)
    x = 3.0 * rng.standard_normal((n, d)) + rng.uniform(-5, 5, size=d)
    gamma = rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d)
    beta = rng.standard_normal(d)
    return rng, x, gamma, beta


@weight(3)
@number("2.1.1")
@timeout(30)
def test_batchnorm_forward_train(student):
    """batchnorm_forward in training mode

    Output from the batch mean and biased variance; running averages updated with the
    default momentum 0.9 from zeros, then with momentum 0.7 from given values.
    """
    layers = student.module("scratch.layers")
    rng, x, gamma, beta = _inputs(7071, 40, 6)

    holder, bn_param = _child_dict(student, {"mode": "train"})
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    check_array("out", out, _bn_train(x, gamma, beta), tol=1e-9)
    state = holder.d
    for key in ("running_mean", "running_var"):
        assert key in state, "bn_param has no '%s' after a training step" % key
    check_array("running_mean after one step (momentum 0.9, from zeros)",
                state["running_mean"], 0.1 * x.mean(axis=0), tol=1e-9)
    check_array("running_var after one step (momentum 0.9, from zeros)",
                state["running_var"], 0.1 * x.var(axis=0), tol=1e-9)

    rm, rv = rng.standard_normal(6), rng.uniform(0.5, 2.0, size=6)
    holder, bn_param = _child_dict(student, {"mode": "train", "momentum": 0.7, "eps": 1e-3,
                                             "running_mean": rm.copy(), "running_var": rv.copy()})
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    check_array("out with eps=1e-3", out, _bn_train(x, gamma, beta, eps=1e-3), tol=1e-9)
    state = holder.d
    check_array("running_mean (momentum 0.7)", state["running_mean"],
                0.7 * rm + 0.3 * x.mean(axis=0), tol=1e-9)
    check_array("running_var (momentum 0.7)", state["running_var"],
                0.7 * rv + 0.3 * x.var(axis=0), tol=1e-9)


@weight(2)
@number("2.1.2")
@timeout(30)
def test_batchnorm_forward_test(student):
    """batchnorm_forward in test mode

    Normalizes with the running averages and leaves them unchanged.
    """
    layers = student.module("scratch.layers")
    rng, x, gamma, beta = _inputs(7072, 7, 5)
    rm, rv = rng.standard_normal(5), rng.uniform(0.5, 3.0, size=5)
    holder, bn_param = _child_dict(student, {"mode": "test", "eps": 1e-4,
                                             "running_mean": rm.copy(), "running_var": rv.copy()})
    out, _ = layers.batchnorm_forward(x, gamma, beta, bn_param)
    check_array("out in test mode", out, gamma * (x - rm) / np.sqrt(rv + 1e-4) + beta, tol=1e-9)
    state = holder.d
    check_array("running_mean after a test-mode call (must not change)",
                state["running_mean"], rm, tol=1e-12)
    check_array("running_var after a test-mode call (must not change)",
                state["running_var"], rv, tol=1e-12)


def _check_backward(student, fname, seed):
    layers = student.module("scratch.layers")
    rng, x, gamma, beta = _inputs(seed, 9, 5)
    dout = rng.standard_normal((9, 5))
    _, cache = layers.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = getattr(layers, fname)(dout, cache)
    check_array("dx", dx, numeric_gradient_array(
        lambda v: _bn_train(v, gamma, beta), x.copy(), dout), tol=1e-6)
    check_array("dgamma", dgamma, numeric_gradient_array(
        lambda v: _bn_train(x, v, beta), gamma.copy(), dout), tol=1e-7)
    check_array("dbeta", dbeta, numeric_gradient_array(
        lambda v: _bn_train(x, gamma, v), beta.copy(), dout), tol=1e-7)


@weight(4)
@number("2.1.3")
@timeout(30)
def test_batchnorm_backward(student):
    """batchnorm_backward: dx, dgamma, dbeta

    Against centred differences of the training-mode forward pass (relative tolerance
    1e-6 for dx, 1e-7 for dgamma and dbeta).
    """
    _check_backward(student, "batchnorm_backward", 7073)


@weight(3)
@number("2.1.4")
@timeout(30)
def test_batchnorm_backward_alt(student):
    """batchnorm_backward_alt: dx, dgamma, dbeta

    The same checks as for batchnorm_backward, on other inputs.
    """
    _check_backward(student, "batchnorm_backward_alt", 7074)
