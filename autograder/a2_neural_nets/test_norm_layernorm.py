"""Hidden graders: layer normalization (scratch/layers.py)."""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, numeric_gradient_array

pytestmark = question("norm_layernorm")


def _ln(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _inputs(seed, n, d):
    rng = np.random.default_rng(seed)
    x = 2.0 * rng.standard_normal((n, d)) + rng.uniform(-4, 4, size=(n, 1))
    gamma = rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d)
    beta = rng.standard_normal(d)
    return rng, x, gamma, beta


@weight(2)
@number("2.2.1")
@timeout(30)
def test_layernorm_forward(student):
    """layernorm_forward on fresh inputs

    Each example normalized over its own features (biased variance), with the default
    eps 1e-5 and a given eps; a batch of 3 examples with 8 features and a batch of 1.
    """
    layers = student.module("scratch.layers")
    _, x, gamma, beta = _inputs(8081, 3, 8)
    out, _ = layers.layernorm_forward(x, gamma, beta, {})
    check_array("out", out, _ln(x, gamma, beta), tol=1e-9)
    out, _ = layers.layernorm_forward(x, gamma, beta, {"eps": 0.5})
    check_array("out with eps=0.5", out, _ln(x, gamma, beta, eps=0.5), tol=1e-9)
    out, _ = layers.layernorm_forward(x[:1], gamma, beta, {})
    check_array("out for a batch of one example", out, _ln(x[:1], gamma, beta), tol=1e-9)


@weight(4)
@number("2.2.2")
@timeout(30)
def test_layernorm_backward(student):
    """layernorm_backward: dx, dgamma, dbeta

    Against centred differences (relative tolerance 1e-6 for dx, 1e-7 for dgamma and
    dbeta), on a batch of 4 examples with 7 features.
    """
    layers = student.module("scratch.layers")
    rng, x, gamma, beta = _inputs(8082, 4, 7)
    dout = rng.standard_normal((4, 7))
    _, cache = layers.layernorm_forward(x, gamma, beta, {})
    dx, dgamma, dbeta = layers.layernorm_backward(dout, cache)
    check_array("dx", dx, numeric_gradient_array(
        lambda v: _ln(v, gamma, beta), x.copy(), dout), tol=1e-6)
    check_array("dgamma", dgamma, numeric_gradient_array(
        lambda v: _ln(x, v, beta), gamma.copy(), dout), tol=1e-7)
    check_array("dbeta", dbeta, numeric_gradient_array(
        lambda v: _ln(x, gamma, v), beta.copy(), dout), tol=1e-7)
