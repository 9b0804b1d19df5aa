"""Hidden graders for part 3: the naive convolution and max-pooling layers.

Expected values come from PyTorch (float64, CPU) in the grader process, an
implementation independent of the reference solution. The one exception is which
input of a tied window receives the max-pool gradient: the assignment fixes that
rule (the first maximum in row-major order), so `_first_max_pool_backward` below
computes it directly from the rule.
"""
import numpy as np
import torch
import torch.nn.functional as F

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array

# Inputs are drawn per test from this seed plus an offset; they differ from the
# notebook's public checks.
SEED = 7201


def _conv_oracle(x, w, b, stride, pad, dout=None):
    """(out, dx, dw, db) of a convolution, by torch; gradients only with dout."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    out = F.conv2d(xt, wt, bt, stride=stride, padding=pad)
    if dout is None:
        return out.detach().numpy(), None, None, None
    dx, dw, db = torch.autograd.grad(out, (xt, wt, bt), torch.tensor(dout, dtype=torch.float64))
    return out.detach().numpy(), dx.numpy(), dw.numpy(), db.numpy()


def _pool_oracle(x, ph, pw, stride, dout=None):
    """(out, dx) of max pooling, by torch; dx only with dout (inputs without ties)."""
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    out = F.max_pool2d(xt, (ph, pw), stride=stride)
    if dout is None:
        return out.detach().numpy(), None
    (dx,) = torch.autograd.grad(out, (xt,), torch.tensor(dout, dtype=torch.float64))
    return out.detach().numpy(), dx.numpy()


def _first_max_pool_backward(x, dout, ph, pw, stride):
    """Max-pool gradient that sends each window's gradient to its first maximum."""
    dx = np.zeros_like(x, dtype=np.float64)
    N, C, H_out, W_out = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * stride:i * stride + ph, j * stride:j * stride + pw]
                    flat = int(np.argmax(window))
                    dx[n, c, i * stride + flat // pw, j * stride + flat % pw] += dout[n, c, i, j]
    return dx


# (x shape, w shape, stride, pad): one of each kind of geometry the layer must handle.
CONV_BASIC = ((2, 3, 6, 6), (4, 3, 3, 3), 1, 1)
CONV_STRIDED = [((2, 2, 9, 9), (3, 2, 3, 3), 2, 2), ((1, 3, 8, 8), (2, 3, 4, 4), 3, 1)]
CONV_RECT = [((2, 3, 5, 8), (3, 3, 3, 2), 1, 1), ((3, 2, 7, 10), (2, 2, 2, 5), 2, 0)]
CONV_BACKWARD = [((2, 3, 6, 5), (3, 3, 3, 3), 1, 1), ((2, 2, 9, 8), (3, 2, 3, 2), 2, 2)]


def _conv_inputs(offset, x_shape, w_shape):
    rng = np.random.default_rng(SEED + offset)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    return x, w, b


def _check_conv_forward(layers, cases, offset):
    for k, (x_shape, w_shape, stride, pad) in enumerate(cases):
        x, w, b = _conv_inputs(offset + k, x_shape, w_shape)
        out, _ = layers.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
        expected, _, _, _ = _conv_oracle(x, w, b, stride, pad)
        check_array(f"out (x {x_shape}, w {w_shape}, stride {stride}, pad {pad})",
                    out, expected, tol=1e-8)



@weight(2)
@number("3.1.1")
@timeout(30)
@question("conv_forward")
def test_conv_forward_basic(student):
    """conv_forward_naive: stride 1 with one pixel of zero padding."""
    _check_conv_forward(student.module("scratch.layers"), [CONV_BASIC], 0)


@weight(2)
@number("3.1.2")
@timeout(30)
@question("conv_forward")
def test_conv_forward_stride_and_padding(student):
    """conv_forward_naive: strides 2 and 3, padding 2 and 1 (one stride does not divide evenly)."""
    _check_conv_forward(student.module("scratch.layers"), CONV_STRIDED, 10)


@weight(2)
@number("3.1.3")
@timeout(30)
@question("conv_forward")
def test_conv_forward_rectangular(student):
    """conv_forward_naive: inputs and filters whose height and width differ."""
    _check_conv_forward(student.module("scratch.layers"), CONV_RECT, 20)


def _conv_backward_results(layers):
    """Yield (label, student's (dx, dw, db), torch's (dx, dw, db)) for each case."""
    for k, (x_shape, w_shape, stride, pad) in enumerate(CONV_BACKWARD):
        x, w, b = _conv_inputs(30 + k, x_shape, w_shape)
        conv_param = {"stride": stride, "pad": pad}
        out, _, _, _ = _conv_oracle(x, w, b, stride, pad)
        dout = np.random.default_rng(SEED + 40 + k).standard_normal(out.shape)
        _, cache = layers.conv_forward_naive(x, w, b, conv_param)
        grads = layers.conv_backward_naive(dout, cache)
        if not (isinstance(grads, (tuple, list)) and len(grads) == 3):
            raise AssertionError("conv_backward_naive must return a tuple (dx, dw, db)")
        _, dx, dw, db = _conv_oracle(x, w, b, stride, pad, dout)
        yield f"(x {x_shape}, w {w_shape}, stride {stride}, pad {pad})", grads, (dx, dw, db)


@weight(3)
@number("3.2.1")
@timeout(30)
@question("conv_backward")
def test_conv_backward_dx(student):
    """conv_backward_naive: gradient with respect to the input."""
    for label, (dx, _, _), (dx_ref, _, _) in _conv_backward_results(student.module("scratch.layers")):
        check_array(f"dx {label}", dx, dx_ref, tol=1e-8)


@weight(3)
@number("3.2.2")
@timeout(30)
@question("conv_backward")
def test_conv_backward_dw(student):
    """conv_backward_naive: gradient with respect to the filters."""
    for label, (_, dw, _), (_, dw_ref, _) in _conv_backward_results(student.module("scratch.layers")):
        check_array(f"dw {label}", dw, dw_ref, tol=1e-8)


@weight(2)
@number("3.2.3")
@timeout(30)
@question("conv_backward")
def test_conv_backward_db(student):
    """conv_backward_naive: gradient with respect to the biases."""
    for label, (_, _, db), (_, _, db_ref) in _conv_backward_results(student.module("scratch.layers")):
        check_array(f"db {label}", db, db_ref, tol=1e-8)


# (x shape, pool_height, pool_width, stride): tiling, overlapping, and windows that
# do not cover the input exactly.
POOL_CASES = [((2, 3, 8, 6), 2, 2, 2), ((2, 2, 7, 6), 3, 2, 1), ((1, 2, 7, 9), 2, 3, 2)]


def _pool_param(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


@weight(3)
@number("3.3.1")
@timeout(30)
@question("conv_max_pool")
def test_max_pool_forward(student):
    """max_pool_forward_naive: square, overlapping and rectangular windows."""
    layers = student.module("scratch.layers")
    for k, (x_shape, ph, pw, stride) in enumerate(POOL_CASES):
        x = np.random.default_rng(SEED + 50 + k).standard_normal(x_shape)
        out, _ = layers.max_pool_forward_naive(x, _pool_param(ph, pw, stride))
        expected, _ = _pool_oracle(x, ph, pw, stride)
        check_array(f"out (x {x_shape}, {ph}x{pw} windows, stride {stride})", out, expected, tol=1e-12)


@weight(3)
@number("3.3.2")
@timeout(30)
@question("conv_max_pool")
def test_max_pool_backward(student):
    """max_pool_backward_naive: square, overlapping and rectangular windows, no ties."""
    layers = student.module("scratch.layers")
    for k, (x_shape, ph, pw, stride) in enumerate(POOL_CASES):
        rng = np.random.default_rng(SEED + 60 + k)
        x = rng.standard_normal(x_shape)
        out, _ = _pool_oracle(x, ph, pw, stride)
        dout = rng.standard_normal(out.shape)
        _, cache = layers.max_pool_forward_naive(x, _pool_param(ph, pw, stride))
        dx = layers.max_pool_backward_naive(dout, cache)
        _, dx_ref = _pool_oracle(x, ph, pw, stride, dout)
        check_array(f"dx (x {x_shape}, {ph}x{pw} windows, stride {stride})", dx, dx_ref, tol=1e-12)


@weight(2)
@number("3.3.3")
@timeout(30)
@question("conv_max_pool")
def test_max_pool_backward_ties(student):
    """max_pool_backward_naive: a window with several maxima sends its gradient to the first."""
    layers = student.module("scratch.layers")
    for k, (x_shape, ph, pw, stride) in enumerate([((2, 2, 6, 8), 2, 2, 2), ((1, 3, 6, 7), 3, 3, 1)]):
        rng = np.random.default_rng(SEED + 70 + k)
        # Three distinct values make ties common in every window size used here.
        x = rng.integers(0, 3, size=x_shape).astype(np.float64)
        H_out = 1 + (x_shape[2] - ph) // stride
        W_out = 1 + (x_shape[3] - pw) // stride
        dout = rng.standard_normal((x_shape[0], x_shape[1], H_out, W_out))
        _, cache = layers.max_pool_forward_naive(x, _pool_param(ph, pw, stride))
        dx = layers.max_pool_backward_naive(dout, cache)
        expected = _first_max_pool_backward(x, dout, ph, pw, stride)
        check_array(f"dx with tied maxima ({ph}x{pw} windows, stride {stride})", dx, expected, tol=1e-12)
