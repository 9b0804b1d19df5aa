"""Hidden graders: TwoLayerNet (scratch/classifiers/fc_net.py).

The expected loss and gradients come from the grader's own forward pass and centred
differences of it, in this process.
"""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, check_scalar, numeric_gradient

pytestmark = question("fc_two_layer_net")

D, H, C = 12, 9, 5


def _scores(p, X):
    hidden = np.maximum(X.reshape(X.shape[0], -1) @ p["W1"] + p["b1"], 0.0)
    return hidden @ p["W2"] + p["b2"]


def _loss(p, X, y, reg):
    s = _scores(p, X)
    s = s - s.max(axis=1, keepdims=True)
    data = np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y])
    return float(data + 0.5 * reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)))


def _problem(seed, n=6):
    rng = np.random.default_rng(seed)
    params = {"W1": 0.4 * rng.standard_normal((D, H)), "b1": 0.3 * rng.standard_normal(H),
              "W2": 0.4 * rng.standard_normal((H, C)), "b2": 0.3 * rng.standard_normal(C)}
    X = rng.standard_normal((n, 3, 2, 2))
    y = rng.integers(0, C, size=n)
    return params, X, y


def _net(student, reg=0.0):
    fc = student.module("scratch.classifiers.fc_net")
    return fc.TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=0.05, reg=reg)


@weight(2)
@number("1.4.1")
@timeout(30)
def test_two_layer_init(student):
    """TwoLayerNet initialization

    Parameters W1, b1, W2, b2: shapes, zero biases, and weights drawn in that order
    with np.random.randn(...) * weight_scale after seeding numpy.
    """
    student.seed(5150)
    net = _net(student)
    params = net.params
    assert sorted(params) == ["W1", "W2", "b1", "b2"], \
        "params has keys %s, expected W1, b1, W2, b2" % sorted(params)
    rs = np.random.RandomState(5150)
    W1 = rs.randn(D, H) * 0.05
    W2 = rs.randn(H, C) * 0.05
    check_array("W1", params["W1"], W1, tol=1e-10)
    check_array("W2", params["W2"], W2, tol=1e-10)
    check_array("b1", params["b1"], np.zeros(H), tol=1e-12)
    check_array("b2", params["b2"], np.zeros(C), tol=1e-12)


@weight(2)
@number("1.4.2")
@timeout(30)
def test_two_layer_scores(student):
    """TwoLayerNet test-time scores

    loss(X) with y=None, for inputs of shape (6, 3, 2, 2) and given parameters.
    """
    params, X, _ = _problem(5151)
    net = _net(student)
    net.params = params
    check_array("scores", net.loss(X), _scores(params, X), tol=1e-10)


@weight(2)
@number("1.4.3")
@timeout(30)
def test_two_layer_loss(student):
    """TwoLayerNet training loss

    Without and with L2 regularization (0.5 * reg * sum of W**2).
    """
    params, X, y = _problem(5152)
    for reg in (0.0, 0.37):
        net = _net(student, reg=reg)
        net.params = params
        loss, _ = net.loss(X, y)
        check_scalar("loss with reg=%g" % reg, loss, _loss(params, X, y, reg), tol=1e-10)


@weight(2)
@number("1.4.4")
@timeout(60)
def test_two_layer_gradients(student):
    """TwoLayerNet gradients

    Every gradient against centred differences of the regularized loss (relative
    tolerance 1e-7).
    """
    params, X, y = _problem(5153)
    reg = 0.21
    net = _net(student, reg=reg)
    net.params = params
    _, grads = net.loss(X, y)
    assert sorted(grads) == ["W1", "W2", "b1", "b2"], \
        "grads has keys %s, expected W1, b1, W2, b2" % sorted(grads)
    for name in ["W1", "b1", "W2", "b2"]:
        def f(v, name=name):
            return _loss(dict(params, **{name: v}), X, y, reg)
        check_array("grads['%s']" % name, grads[name], numeric_gradient(f, params[name].copy()), tol=1e-7)
