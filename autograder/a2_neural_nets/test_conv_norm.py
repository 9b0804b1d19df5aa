"""Hidden graders for part 3: spatial batch normalization and spatial group normalization.

Expected values come from PyTorch's batch_norm and group_norm (float64, CPU) and its
autograd, computed in the grader process.
"""
import numpy as np
import torch
import torch.nn.functional as F

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array

SEED = 7301
EPS = 1e-5


def _tensors(*arrays):
    return [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]


def _batchnorm_oracle(x, gamma, beta, dout):
    """Training-mode spatial batch norm by torch: out, dx, dgamma, dbeta."""
    xt, gt, bt = _tensors(x, gamma, beta)
    out = F.batch_norm(xt, None, None, gt, bt, training=True, eps=EPS)
    grads = torch.autograd.grad(out, (xt, gt, bt), torch.tensor(dout))
    return (out.detach().numpy(),) + tuple(g.numpy() for g in grads)


def _groupnorm_oracle(x, gamma, beta, G, dout):
    """Spatial group norm by torch (gamma, beta of shape (1, C, 1, 1)): out, dx, dgamma, dbeta."""
    xt, gt, bt = _tensors(x, gamma, beta)
    out = F.group_norm(xt, G, gt.reshape(-1), bt.reshape(-1), eps=EPS)
    grads = torch.autograd.grad(out, (xt, gt, bt), torch.tensor(dout))
    return (out.detach().numpy(),) + tuple(g.numpy() for g in grads)


def _bn_inputs(offset, shape):
    rng = np.random.default_rng(SEED + offset)
    N, C, H, W = shape
    # Channels with their own offsets and scales, so statistics over the wrong axes
    # give visibly wrong results.
    x = rng.standard_normal(shape) * rng.uniform(0.5, 4.0, (1, C, 1, 1)) + rng.uniform(-3, 3, (1, C, 1, 1))
    gamma = rng.uniform(0.5, 2.0, C)
    beta = rng.standard_normal(C)
    dout = rng.standard_normal(shape)
    return x, gamma, beta, dout


BN_SHAPES = [(4, 3, 5, 6), (3, 5, 4, 2)]


@weight(2)
@number("3.5.1")
@timeout(30)
@question("conv_spatial_batchnorm")
def test_spatial_batchnorm_forward_train(student):
    """spatial_batchnorm_forward, training mode: per-channel statistics over N, H and W."""
    layers = student.module("scratch.layers")
    for k, shape in enumerate(BN_SHAPES):
        x, gamma, beta, dout = _bn_inputs(k, shape)
        out, _ = layers.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
        expected = _batchnorm_oracle(x, gamma, beta, dout)[0]
        check_array(f"out (x {shape}, training mode)", out, expected, tol=1e-7)


@weight(1)
@number("3.5.2")
@timeout(30)
@question("conv_spatial_batchnorm")
def test_spatial_batchnorm_forward_test(student):
    """spatial_batchnorm_forward, test mode: the given running averages replace batch statistics."""
    layers = student.module("scratch.layers")
    x, gamma, beta, _ = _bn_inputs(10, (3, 4, 5, 5))
    rng = np.random.default_rng(SEED + 11)
    running_mean = rng.standard_normal(4)
    running_var = rng.uniform(0.5, 3.0, 4)
    bn_param = {"mode": "test", "running_mean": running_mean.copy(), "running_var": running_var.copy()}
    out, _ = layers.spatial_batchnorm_forward(x, gamma, beta, bn_param)
    expected = F.batch_norm(torch.tensor(x), torch.tensor(running_mean), torch.tensor(running_var),
                            torch.tensor(gamma), torch.tensor(beta), training=False, eps=EPS).numpy()
    check_array("out (test mode)", out, expected, tol=1e-7)


@weight(3)
@number("3.5.3")
@timeout(30)
@question("conv_spatial_batchnorm")
def test_spatial_batchnorm_backward(student):
    """spatial_batchnorm_backward: dx, dgamma and dbeta in training mode."""
    layers = student.module("scratch.layers")
    for k, shape in enumerate(BN_SHAPES):
        x, gamma, beta, dout = _bn_inputs(20 + k, shape)
        _, cache = layers.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
        grads = layers.spatial_batchnorm_backward(dout, cache)
        if not (isinstance(grads, (tuple, list)) and len(grads) == 3):
            raise AssertionError("spatial_batchnorm_backward must return a tuple (dx, dgamma, dbeta)")
        _, dx_ref, dgamma_ref, dbeta_ref = _batchnorm_oracle(x, gamma, beta, dout)
        check_array(f"dx (x {shape})", grads[0], dx_ref, tol=1e-6)
        check_array(f"dgamma (x {shape})", grads[1], dgamma_ref, tol=1e-7)
        check_array(f"dbeta (x {shape})", grads[2], dbeta_ref, tol=1e-7)


# (x shape, G): several groups of several channels, one channel per group, and a
# single group.
GN_CASES = [((2, 6, 4, 5), 3), ((3, 8, 3, 3), 2), ((2, 4, 3, 5), 4), ((2, 3, 4, 4), 1)]


def _gn_inputs(offset, shape):
    rng = np.random.default_rng(SEED + offset)
    N, C, H, W = shape
    # Every example and channel gets its own offset and scale, so statistics taken
    # over the wrong examples or channels give visibly wrong results.
    x = rng.standard_normal(shape) * rng.uniform(0.5, 4.0, (N, C, 1, 1)) + rng.uniform(-3, 3, (N, C, 1, 1))
    gamma = rng.uniform(0.5, 2.0, (1, C, 1, 1))
    beta = rng.standard_normal((1, C, 1, 1))
    dout = rng.standard_normal(shape)
    return x, gamma, beta, dout


def _groupnorm_results(layers, offset):
    """Yield (label, student's (out, dx, dgamma, dbeta), torch's) for every case."""
    for k, (shape, G) in enumerate(GN_CASES):
        x, gamma, beta, dout = _gn_inputs(offset + k, shape)
        out, cache = layers.spatial_groupnorm_forward(x, gamma, beta, G, {})
        grads = layers.spatial_groupnorm_backward(dout, cache)
        if not (isinstance(grads, (tuple, list)) and len(grads) == 3):
            raise AssertionError("spatial_groupnorm_backward must return a tuple (dx, dgamma, dbeta)")
        yield f"(x {shape}, G={G})", (out,) + tuple(grads), _groupnorm_oracle(x, gamma, beta, G, dout)


@weight(3)
@number("3.6.1")
@timeout(30)
@question("conv_spatial_groupnorm")
def test_spatial_groupnorm_forward(student):
    """spatial_groupnorm_forward: statistics per example and group of consecutive channels."""
    layers = student.module("scratch.layers")
    for k, (shape, G) in enumerate(GN_CASES):
        x, gamma, beta, dout = _gn_inputs(30 + k, shape)
        out, _ = layers.spatial_groupnorm_forward(x, gamma, beta, G, {})
        expected = _groupnorm_oracle(x, gamma, beta, G, dout)[0]
        check_array(f"out (x {shape}, G={G})", out, expected, tol=1e-7)


@weight(3)
@number("3.6.2")
@timeout(30)
@question("conv_spatial_groupnorm")
def test_spatial_groupnorm_backward_dx(student):
    """spatial_groupnorm_backward: gradient with respect to the input."""
    for label, (_, dx, _, _), (_, dx_ref, _, _) in _groupnorm_results(student.module("scratch.layers"), 40):
        check_array(f"dx {label}", dx, dx_ref, tol=1e-6)


@weight(2)
@number("3.6.3")
@timeout(30)
@question("conv_spatial_groupnorm")
def test_spatial_groupnorm_backward_params(student):
    """spatial_groupnorm_backward: gradients with respect to gamma and beta, shaped (1, C, 1, 1)."""
    for label, (_, _, dgamma, dbeta), (_, _, dgamma_ref, dbeta_ref) in _groupnorm_results(
            student.module("scratch.layers"), 50):
        check_array(f"dgamma {label}", dgamma, dgamma_ref, tol=1e-7)
        check_array(f"dbeta {label}", dbeta, dbeta_ref, tol=1e-7)
