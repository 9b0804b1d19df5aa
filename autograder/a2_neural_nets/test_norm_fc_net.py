"""Hidden graders: FullyConnectedNet with batch/layer normalization and dropout, and
the affine-norm-ReLU helpers (scratch/classifiers/fc_net.py, scratch/layer_utils.py).

Expected values come from the grader's own forward passes and centred differences of
them, in this process; nets are built with the child's numpy.float64.
"""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, check_scalar, numeric_gradient, numeric_gradient_array

pytestmark = question("norm_fc_net")

D, C = 8, 4


def _bn(a, gamma, beta, eps=1e-5):
    return gamma * (a - a.mean(axis=0)) / np.sqrt(a.var(axis=0) + eps) + beta


def _ln(a, gamma, beta, eps=1e-5):
    mu = a.mean(axis=1, keepdims=True)
    return gamma * (a - mu) / np.sqrt(a.var(axis=1, keepdims=True) + eps) + beta


def _scores(p, X, num_layers, norm, running=None):
    """Training-mode forward pass; test-mode batchnorm when `running` lists
    (mean, var) per layer."""
    h = X.reshape(X.shape[0], -1)
    for k in range(1, num_layers):
        a = h @ p["W%d" % k] + p["b%d" % k]
        g, b = p.get("gamma%d" % k), p.get("beta%d" % k)
        if norm == "batchnorm" and running is not None:
            mean, var = running[k - 1]
            a = g * (a - mean) / np.sqrt(var + 1e-5) + b
        elif norm == "batchnorm":
            a = _bn(a, g, b)
        elif norm == "layernorm":
            a = _ln(a, g, b)
        h = np.maximum(a, 0.0)
    return h @ p["W%d" % num_layers] + p["b%d" % num_layers]


def _loss(p, X, y, num_layers, norm, reg):
    s = _scores(p, X, num_layers, norm)
    s = s - s.max(axis=1, keepdims=True)
    data = np.mean(np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y])
    l2 = sum(np.sum(p["W%d" % k] ** 2) for k in range(1, num_layers + 1))
    return float(data + 0.5 * reg * l2)


def _problem(seed, hidden_dims, norm, n=6):
    rng = np.random.default_rng(seed)
    dims = [D] + list(hidden_dims) + [C]
    params = {}
    for k in range(1, len(dims)):
        params["W%d" % k] = rng.standard_normal((dims[k - 1], dims[k])) / np.sqrt(dims[k - 1])
        params["b%d" % k] = 0.2 * rng.standard_normal(dims[k])
        if norm is not None and k < len(dims) - 1:
            params["gamma%d" % k] = rng.uniform(0.5, 1.5, size=dims[k])
            params["beta%d" % k] = 0.3 * rng.standard_normal(dims[k])
    X = rng.standard_normal((n, 2, 4))
    y = rng.integers(0, C, size=n)
    return rng, params, X, y


def _net(student, hidden_dims, **kwargs):
    fc = student.module("scratch.classifiers.fc_net")
    float64 = student.module("numpy").float64
    return fc.FullyConnectedNet(list(hidden_dims), input_dim=D, num_classes=C,
                                dtype=float64, **kwargs)


def _check_keys(params, num_layers, norm):
    expected = ["W%d" % k for k in range(1, num_layers + 1)] + ["b%d" % k for k in range(1, num_layers + 1)]
    if norm is not None:
        expected += ["gamma%d" % k for k in range(1, num_layers)]
        expected += ["beta%d" % k for k in range(1, num_layers)]
    assert sorted(params) == sorted(expected), \
        "with normalization=%r, params has keys %s, expected %s" % (norm, sorted(params), sorted(expected))


def _check_net_gradients(student, norm, hidden, reg, seed):
    _, params, X, y = _problem(seed, hidden, norm)
    L = len(hidden) + 1
    net = _net(student, hidden, normalization=norm, reg=reg)
    _check_keys(net.params, L, norm)
    net.params = params
    loss, grads = net.loss(X, y)
    check_scalar("%s: loss" % norm, loss, _loss(params, X, y, L, norm, reg), tol=1e-9)
    _check_keys(grads, L, norm)
    for name in sorted(params):
        if norm == "batchnorm" and name in ["b%d" % k for k in range(1, L)]:
            # batch normalization subtracts the batch mean, so a bias in front of it
            # has no effect: its gradient is exactly 0 (centred differences give only
            # rounding noise there)
            check_array("%s: grads['%s']" % (norm, name), grads[name],
                        np.zeros_like(params[name]), tol=1e-6)
            continue
        def f(v, name=name):
            return _loss(dict(params, **{name: v}), X, y, L, norm, reg)
        check_array("%s: grads['%s']" % (norm, name), grads[name],
                    numeric_gradient(f, params[name].copy()), tol=1e-6)


@weight(2)
@number("2.4.1")
@timeout(30)
def test_affine_norm_relu_helpers(student):
    """affine-batchnorm-ReLU and affine-layernorm-ReLU helpers

    Outputs and every gradient of affine_bn_relu_* and affine_ln_relu_* against
    centred differences (relative tolerance 1e-6).
    """
    utils = student.module("scratch.layer_utils")
    rng = np.random.default_rng(10101)
    x = rng.standard_normal((5, 2, 3))
    w = rng.standard_normal((6, 4))
    b = rng.standard_normal(4)
    gamma = rng.uniform(0.5, 1.5, size=4)
    beta = 0.5 * rng.standard_normal(4)
    dout = rng.standard_normal((5, 4))
    for norm, norm_fn, fwd, bwd, param in (
            ("batchnorm", _bn, "affine_bn_relu_forward", "affine_bn_relu_backward", {"mode": "train"}),
            ("layernorm", _ln, "affine_ln_relu_forward", "affine_ln_relu_backward", {})):
        def f(x_, w_, b_, g_, be_, norm_fn=norm_fn):
            return np.maximum(norm_fn(x_.reshape(x_.shape[0], -1) @ w_ + b_, g_, be_), 0.0)
        out, cache = getattr(utils, fwd)(x, w, b, gamma, beta, dict(param))
        check_array("%s out" % fwd, out, f(x, w, b, gamma, beta), tol=1e-9)
        grads = getattr(utils, bwd)(dout, cache)
        assert len(grads) == 5, "%s must return (dx, dw, db, dgamma, dbeta)" % bwd
        inputs = [x, w, b, gamma, beta]
        for i, name in enumerate(["dx", "dw", "db", "dgamma", "dbeta"]):
            def g(v, i=i):
                args = list(inputs)
                args[i] = v
                return f(*args)
            check_array("%s %s" % (bwd, name), grads[i],
                        numeric_gradient_array(g, inputs[i].copy(), dout), tol=1e-6)


@weight(3)
@number("2.4.2")
@timeout(90)
def test_batchnorm_net(student):
    """FullyConnectedNet with batch normalization

    Keys gammaK/betaK for the hidden layers only, initialized to ones and zeros; the
    regularized loss and every gradient against centred differences (relative
    tolerance 1e-6); test-time scores from the running averages.
    """
    fc_params = _net(student, [5, 6], normalization="batchnorm", weight_scale=0.1).params
    _check_keys(fc_params, 3, "batchnorm")
    for k, width in ((1, 5), (2, 6)):
        check_array("gamma%d at initialization" % k, fc_params["gamma%d" % k], np.ones(width), tol=1e-12)
        check_array("beta%d at initialization" % k, fc_params["beta%d" % k], np.zeros(width), tol=1e-12)

    _check_net_gradients(student, "batchnorm", [5, 6], 0.25, 10102)

    rng, params, X, _ = _problem(10103, [7, 5], "batchnorm")
    running = [(rng.standard_normal(7), rng.uniform(0.5, 2, size=7)),
               (rng.standard_normal(5), rng.uniform(0.5, 2, size=5))]
    net = _net(student, [7, 5], normalization="batchnorm")
    net.params = params
    net.bn_params = [{"mode": "train", "running_mean": m, "running_var": v} for m, v in running]
    check_array("test-time scores (running averages)", net.loss(X),
                _scores(params, X, 3, "batchnorm", running=running), tol=1e-9)


@weight(2)
@number("2.4.3")
@timeout(90)
def test_layernorm_net(student):
    """FullyConnectedNet with layer normalization

    Parameter keys, the regularized loss and every gradient against centred
    differences (relative tolerance 1e-6).
    """
    _check_net_gradients(student, "layernorm", [6, 5], 0.15, 10104)


@weight(1)
@number("2.4.4")
@timeout(90)
def test_dropout_net(student):
    """FullyConnectedNet with dropout

    dropout_keep_ratio=0.6 with a seed: no dropout at test time; in training the loss
    differs from the loss without dropout, and every gradient matches centred
    differences of the student's own (seeded, so deterministic) training loss.
    """
    hidden = [7]
    _, params, X, y = _problem(10105, hidden, None, n=8)
    net = _net(student, hidden, dropout_keep_ratio=0.6, seed=42, reg=0.05)
    _check_keys(net.params, 2, None)
    net.params = params
    check_array("test-time scores with dropout_keep_ratio=0.6", net.loss(X),
                _scores(params, X, 2, None), tol=1e-9)
    loss, grads = net.loss(X, y)
    no_dropout = _loss(params, X, y, 2, None, 0.05)
    assert abs(loss - no_dropout) > 1e-6, \
        "the training loss with dropout_keep_ratio=0.6 equals the loss without dropout"
    live = net.ref("params")
    for name in sorted(params):
        def f(v, name=name):
            live[name] = v
            return net.loss(X, y)[0]
        numeric = numeric_gradient(f, params[name].copy())
        live[name] = params[name]
        check_array("grads['%s'] with dropout" % name, grads[name], numeric, tol=1e-6)
