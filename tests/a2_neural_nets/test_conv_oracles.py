"""The expected values of the part 3 graders, checked against independent computations.

The graders take most expected values from torch; the one rule torch is not asked
about is the max-pool tie rule (first maximum in row-major order), which the graders
compute themselves. Here that computation is compared with torch's CPU max pooling,
which keeps the first maximum it meets, and the net's torch oracle with the
reference network, so a mistake in a grader cannot hide behind a matching mistake in
the reference.
"""
import importlib
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

# The graders' question/timeout marks are registered by the grading plugin, which
# does not run here.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "autograder" / "a2_neural_nets"
from a2_reference import SOURCE, import_reference  # noqa: E402,F401


def _load_grader(name):
    spec = importlib.util.spec_from_file_location(f"_conv_grader_{name}", GRADERS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def pool_graders():
    return _load_grader("test_conv_layers")


@pytest.mark.parametrize("x_shape,ph,pw,stride",
                         [((2, 2, 6, 8), 2, 2, 2), ((1, 3, 6, 7), 3, 3, 1), ((2, 1, 7, 5), 3, 2, 2)])
def test_tie_oracle_matches_torch(pool_graders, x_shape, ph, pw, stride):
    rng = np.random.default_rng(11)
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)
    xt = torch.tensor(x, requires_grad=True)
    out = torch.nn.functional.max_pool2d(xt, (ph, pw), stride=stride)
    dout = rng.standard_normal(tuple(out.shape))
    (dx_torch,) = torch.autograd.grad(out, (xt,), torch.tensor(dout))
    dx = pool_graders._first_max_pool_backward(x, dout, ph, pw, stride)
    np.testing.assert_array_equal(dx, dx_torch.numpy())
    # The inputs really do exercise the rule: many windows hold several maxima.
    windows = np.lib.stride_tricks.sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    tied = (windows == windows.max(axis=(4, 5), keepdims=True)).sum(axis=(4, 5)) > 1
    assert tied.mean() > 0.2


def test_cnn_oracle_matches_reference_network():
    net_graders = _load_grader("test_conv_net")
    (cnn,) = import_reference("classifiers.cnn")
    ThreeLayerConvNet = cnn.ThreeLayerConvNet

    rng = np.random.default_rng(5)
    for config in net_graders.CONFIGS:
        params = net_graders._random_params(config, rng)
        X, y = net_graders._data(config, rng)
        input_dim, num_filters, filter_size, hidden_dim, num_classes = config
        net = ThreeLayerConvNet(input_dim=input_dim, num_filters=num_filters, filter_size=filter_size,
                                hidden_dim=hidden_dim, num_classes=num_classes, reg=0.4, dtype=np.float64)
        net.params = {k: v.copy() for k, v in params.items()}
        loss, grads = net.loss(X, y)
        loss_ref, grads_ref = net_graders._oracle(params, X, y, 0.4)
        assert loss == pytest.approx(loss_ref, rel=1e-10)
        for k in grads:
            np.testing.assert_allclose(grads[k], grads_ref[k], rtol=1e-7, atol=1e-10)
