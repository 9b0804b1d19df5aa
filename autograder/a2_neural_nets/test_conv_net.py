"""Hidden graders for part 3: ThreeLayerConvNet in scratch/classifiers/cnn.py.

The network's scores, loss and gradients are checked against the same architecture
written with PyTorch (float64, CPU, autograd) in the grader process, on parameters
the grader chooses and writes into the student's model.
"""
import numpy as np
import torch
import torch.nn.functional as F

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, check_scalar

SEED = 7401
KEYS = ("W1", "b1", "W2", "b2", "W3", "b3")

# input_dim, num_filters, filter_size, hidden_dim, num_classes. Odd heights and
# widths check that pooling rounds down; the two filter sizes check the padding.
CONFIGS = [((2, 9, 8), 5, 3, 12, 4), ((3, 8, 10), 4, 5, 9, 6)]


def _make_net(student, config, reg=0.0, weight_scale=1e-3, dtype="float64"):
    input_dim, num_filters, filter_size, hidden_dim, num_classes = config
    cnn = student.module("scratch.classifiers.cnn")
    # The dtype argument is a numpy type, which only exists as an object in the
    # student process: fetch it there and pass the handle back.
    np_dtype = getattr(student.module("numpy"), dtype)
    return cnn.ThreeLayerConvNet(input_dim=input_dim, num_filters=num_filters,
                                 filter_size=filter_size, hidden_dim=hidden_dim,
                                 num_classes=num_classes, weight_scale=weight_scale,
                                 reg=reg, dtype=np_dtype)


def _shapes(config):
    (C, H, W), F_, fs, hidden, classes = config
    return {"W1": (F_, C, fs, fs), "b1": (F_,), "W2": (F_ * (H // 2) * (W // 2), hidden),
            "b2": (hidden,), "W3": (hidden, classes), "b3": (classes,)}


def _random_params(config, rng):
    shapes = _shapes(config)
    params = {}
    for key in KEYS:
        # Weights large enough that every layer matters; nonzero biases.
        scale = 0.5 if key == "W1" else 0.3
        params[key] = rng.standard_normal(shapes[key]) * scale
    return params


def _oracle(params, X, y, reg):
    """Scores, and with labels the loss and gradients, of the architecture in torch."""
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    filter_size = params["W1"].shape[2]
    Xt = torch.tensor(X, dtype=torch.float64)
    a = F.relu(F.conv2d(Xt, t["W1"], t["b1"], stride=1, padding=(filter_size - 1) // 2))
    pooled = F.max_pool2d(a, kernel_size=2, stride=2)
    hidden = F.relu(pooled.reshape(X.shape[0], -1) @ t["W2"] + t["b2"])
    scores = hidden @ t["W3"] + t["b3"]
    if y is None:
        return scores.detach().numpy()
    loss = F.cross_entropy(scores, torch.tensor(y)) + 0.5 * reg * sum(
        (t[k] ** 2).sum() for k in ("W1", "W2", "W3"))
    grads = torch.autograd.grad(loss, [t[k] for k in KEYS])
    return float(loss.detach()), {k: g.numpy() for k, g in zip(KEYS, grads)}


def _set_params(net, params):
    remote = net.ref("params")
    for key, value in params.items():
        remote[key] = value


def _data(config, rng, N=4):
    input_dim, _, _, _, num_classes = config
    X = rng.standard_normal((N,) + input_dim)
    y = rng.integers(0, num_classes, N)
    return X, y


@weight(2)
@number("3.4.1")
@timeout(60)
@question("conv_three_layer_net")
def test_cnn_init(student):
    """ThreeLayerConvNet.__init__: parameter names, shapes, dtype and scale."""
    for k, config in enumerate(CONFIGS):
        student.seed(SEED + k)
        weight_scale = 0.05
        net = _make_net(student, config, weight_scale=weight_scale)
        params = net.params
        if not isinstance(params, dict) or set(params) != set(KEYS):
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise AssertionError(f"params: expected the keys {list(KEYS)}, got {got}")
        for key, shape in _shapes(config).items():
            value = params[key]
            if not isinstance(value, np.ndarray) or value.shape != shape:
                got = value.shape if isinstance(value, np.ndarray) else type(value).__name__
                raise AssertionError(f"{key} (input_dim {config[0]}, filter_size {config[2]}): "
                                     f"expected shape {shape}, got {got}")
            if value.dtype != np.float64:
                raise AssertionError(f"{key}: expected dtype float64 (the dtype argument), got {value.dtype}")
            if key.startswith("b"):
                if np.any(value != 0):
                    raise AssertionError(f"{key}: biases must start at zero")
            else:
                std = float(value.std())
                if not 0.6 * weight_scale < std < 1.4 * weight_scale:
                    raise AssertionError(f"{key}: standard deviation {std:.3g}, expected about "
                                         f"weight_scale = {weight_scale}")
                if abs(float(value.mean())) > 5 * weight_scale / np.sqrt(value.size):
                    raise AssertionError(f"{key}: mean {float(value.mean()):.3g}, expected about 0")
    net32 = _make_net(student, CONFIGS[0], dtype="float32")
    dtypes = {k: v.dtype for k, v in net32.params.items()}
    if any(d != np.float32 for d in dtypes.values()):
        raise AssertionError(f"with dtype=np.float32 every parameter must be float32, got {dtypes}")


@weight(3)
@number("3.4.2")
@timeout(60)
@question("conv_three_layer_net")
def test_cnn_scores(student):
    """ThreeLayerConvNet.loss without labels: the class scores."""
    for k, config in enumerate(CONFIGS):
        rng = np.random.default_rng(SEED + 10 + k)
        params = _random_params(config, rng)
        X, _ = _data(config, rng)
        net = _make_net(student, config, reg=0.1)
        _set_params(net, params)
        scores = net.loss(X)
        check_array(f"scores (input_dim {config[0]}, filter_size {config[2]})",
                    scores, _oracle(params, X, None, 0.0), tol=1e-7)


@weight(2)
@number("3.4.3")
@timeout(60)
@question("conv_three_layer_net")
def test_cnn_loss(student):
    """ThreeLayerConvNet.loss with labels: softmax loss plus 0.5 * reg * sum of squared weights."""
    for k, (config, reg) in enumerate([(CONFIGS[0], 0.0), (CONFIGS[1], 0.0), (CONFIGS[0], 0.37)]):
        rng = np.random.default_rng(SEED + 20 + k)
        params = _random_params(config, rng)
        X, y = _data(config, rng)
        net = _make_net(student, config, reg=reg)
        _set_params(net, params)
        result = net.loss(X, y)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise AssertionError("loss(X, y) must return a tuple (loss, grads)")
        expected, _ = _oracle(params, X, y, reg)
        check_scalar(f"loss (reg = {reg}, filter_size {config[2]})", result[0], expected, tol=1e-7)


@weight(3)
@number("3.4.4")
@timeout(60)
@question("conv_three_layer_net")
def test_cnn_gradients(student):
    """ThreeLayerConvNet.loss with labels: gradients of every parameter, with regularization."""
    for k, config in enumerate(CONFIGS):
        rng = np.random.default_rng(SEED + 30 + k)
        params = _random_params(config, rng)
        X, y = _data(config, rng)
        reg = 0.21
        net = _make_net(student, config, reg=reg)
        _set_params(net, params)
        result = net.loss(X, y)
        if not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise AssertionError("loss(X, y) must return a tuple (loss, grads)")
        grads = result[1]
        if not isinstance(grads, dict) or set(grads) != set(KEYS):
            got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise AssertionError(f"grads: expected the keys {list(KEYS)}, got {got}")
        _, expected = _oracle(params, X, y, reg)
        for key in KEYS:
            check_array(f"grads['{key}'] (filter_size {config[2]})", grads[key], expected[key], tol=1e-6)
