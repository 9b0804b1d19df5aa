"""Hidden graders: FullyConnectedNet without normalization or dropout
(scratch/classifiers/fc_net.py).

The expected scores, losses and gradients come from the grader's own forward pass and
centred differences of it, in this process. Nets are built with dtype=np.float64 (the
child's own numpy.float64) so the comparison is precise.
"""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, check_scalar, numeric_gradient

pytestmark = question("fc_multilayer_net")

D, C = 10, 4


def _scores(p, X, num_layers):
    h = X.reshape(X.shape[0], -1)
    for k in range(1, num_layers):
        h = np.maximum(h @ p["W%d" % k] + p["b%d" % k], 0.0)
    return h @ p["W%d" % num_layers] + p["b%d" % num_layers]


def _loss(p, X, y, num_layers, reg):
    s = _scores(p, X, num_layers)
    s = s - s.max(axis=1, keepdims=True)
    data = np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y])
    l2 = sum(np.sum(p["W%d" % k] ** 2) for k in range(1, num_layers + 1))
    return float(data + 0.5 * reg * l2)


def _problem(seed, hidden_dims, n=5):
    rng = np.random.default_rng(seed)
    dims = [D] + list(hidden_dims) + [C]
    params = {}
    for k in range(1, len(dims)):
        params["W%d" % k] = rng.standard_normal((dims[k - 1], dims[k])) / np.sqrt(dims[k - 1])
        params["b%d" % k] = 0.2 * rng.standard_normal(dims[k])
    X = rng.standard_normal((n, 2, 5))
    y = rng.integers(0, C, size=n)
    return params, X, y


def _net(student, hidden_dims, reg=0.0, **kwargs):
    fc = student.module("scratch.classifiers.fc_net")
    float64 = student.module("numpy").float64
    return fc.FullyConnectedNet(list(hidden_dims), input_dim=D, num_classes=C, reg=reg,
                                dtype=float64, **kwargs)


@weight(2)
@number("1.5.1")
@timeout(30)
def test_fc_init(student):
    """FullyConnectedNet initialization

    Keys W1..W4 and b1..b4 only; weights drawn layer by layer with
    np.random.randn(...) * weight_scale; zero biases; parameters in the requested dtype
    (float32 by default).
    """
    hidden = [7, 6, 5]
    student.seed(8086)
    params = _net(student, hidden, weight_scale=0.03).params
    expected_keys = sorted(["W%d" % k for k in range(1, 5)] + ["b%d" % k for k in range(1, 5)])
    assert sorted(params) == expected_keys, \
        "params has keys %s, expected %s" % (sorted(params), expected_keys)
    rs = np.random.RandomState(8086)
    dims = [D] + hidden + [C]
    for k in range(1, 5):
        W = rs.randn(dims[k - 1], dims[k]) * 0.03
        assert params["W%d" % k].dtype == np.float64, \
            "W%d has dtype %s, expected float64 (the dtype argument)" % (k, params["W%d" % k].dtype)
        check_array("W%d" % k, params["W%d" % k], W, tol=1e-10)
        check_array("b%d" % k, params["b%d" % k], np.zeros(dims[k]), tol=1e-12)

    fc = student.module("scratch.classifiers.fc_net")
    default = fc.FullyConnectedNet([3], input_dim=D, num_classes=C).params
    for key, value in default.items():
        assert value.dtype == np.float32, \
            "with the default dtype, %s has dtype %s, expected float32" % (key, value.dtype)


@weight(2)
@number("1.5.2")
@timeout(30)
def test_fc_scores(student):
    """FullyConnectedNet test-time scores

    Hidden layers [8, 7], inputs of shape (5, 2, 5), given parameters.
    """
    params, X, _ = _problem(8087, [8, 7])
    net = _net(student, [8, 7])
    net.params = params
    check_array("scores", net.loss(X), _scores(params, X, 3), tol=1e-10)


@weight(2)
@number("1.5.3")
@timeout(30)
def test_fc_loss(student):
    """FullyConnectedNet training loss

    Hidden layers [6, 6, 6], without and with L2 regularization (0.5 * reg * sum of
    every W**2).
    """
    params, X, y = _problem(8088, [6, 6, 6])
    for reg in (0.0, 0.9):
        net = _net(student, [6, 6, 6], reg=reg)
        net.params = params
        loss, _ = net.loss(X, y)
        check_scalar("loss with reg=%g" % reg, loss, _loss(params, X, y, 4, reg), tol=1e-10)


@weight(4)
@number("1.5.4")
@timeout(90)
def test_fc_gradients(student):
    """FullyConnectedNet gradients

    Every gradient against centred differences of the regularized loss (relative
    tolerance 1e-7), for nets with one and with three hidden layers.
    """
    for hidden, reg, seed in (([9], 0.3, 8089), ([7, 6, 5], 0.45, 8090)):
        params, X, y = _problem(seed, hidden)
        L = len(hidden) + 1
        net = _net(student, hidden, reg=reg)
        net.params = params
        _, grads = net.loss(X, y)
        assert sorted(grads) == sorted(params), \
            "grads has keys %s, expected %s" % (sorted(grads), sorted(params))
        for name in sorted(params):
            def f(v, name=name):
                return _loss(dict(params, **{name: v}), X, y, L, reg)
            check_array("hidden_dims=%s: grads['%s']" % (hidden, name), grads[name],
                        numeric_gradient(f, params[name].copy()), tol=1e-7)
