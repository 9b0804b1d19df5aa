"""Fast convolution and max-pooling layers, in numpy alone.

Drop-in replacements for the naive layers in layers.py: same arguments, same
results (up to floating-point rounding), many times faster. They are provided; you
do not have to write or understand them, but they are short and worth reading once
your naive layers work.

How they get their speed:
- Convolution as one matrix product ("im2col"). Every receptive field of the padded
  input is laid out as a column of a matrix `cols` of shape (C * HH * WW, N * H' * W');
  then all outputs at once are w.reshape(F, -1) @ cols. The windows come from
  np.lib.stride_tricks.sliding_window_view, which builds them without copying; one
  copy makes them contiguous for the matrix product.
- The backward pass runs the same products transposed. Turning the column gradients
  back into an image ("col2im") sums every column entry into the input pixel it came
  from; instead of scattering entry by entry, it adds one strided slice per filter
  offset (k, l), HH * WW vectorized additions in all.
- Max pooling loops over the pool_height * pool_width offsets inside a window (four
  for 2x2 pooling) instead of over windows: each step is one elementwise operation
  on a strided view holding that offset of every window. The forward pass also
  records which offset won each window, so the backward pass only routes gradients.
  When the windows tile the input exactly (pool_height == pool_width == stride,
  dividing H and W) every input pixel belongs to one window, and the backward pass
  writes each pixel once.
"""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "conv_forward_fast",
    "conv_backward_fast",
    "max_pool_forward_fast",
    "max_pool_backward_fast",
]


def _pad_spatial(x, pad):
    """x of shape (N, C, H, W) with `pad` zeros on each side of H and W."""
    if pad == 0:
        return x
    N, C, H, W = x.shape
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x
    return x_pad


def conv_forward_fast(x, w, b, conv_param):
    """Forward pass of a convolutional layer, as a single matrix product.

    Inputs and outputs as conv_forward_naive:
    - x: array of shape (N, C, H, W).
    - w: array of shape (F, C, HH, WW).
    - b: array of shape (F,).
    - conv_param: dict with 'stride' and 'pad' (zeros on each side of H and W).

    Returns a tuple of:
    - out: array of shape (N, F, H', W'), H' = 1 + (H + 2 * pad - HH) // stride and
      W' = 1 + (W + 2 * pad - WW) // stride.
    - cache: for conv_backward_fast (not interchangeable with the naive cache).
    """
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = _pad_spatial(x, pad)
    # (N, C, H', W', HH, WW) view: one window per output position, no copy yet.
    windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    H_out, W_out = windows.shape[2], windows.shape[3]
    # Channel and filter offsets first, so that the copy reads the input mostly in
    # order and the matrix product sees a contiguous (C * HH * WW, N * H' * W').
    cols = np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3))
    cols = cols.reshape(C * HH * WW, N * H_out * W_out)
    out = w.reshape(F, -1) @ cols
    out += b.reshape(F, 1)
    out = np.ascontiguousarray(out.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3))
    cache = (x.shape, w, b, conv_param, cols)
    return out, cache


def conv_backward_fast(dout, cache):
    """Backward pass of a convolutional layer (the cache of conv_forward_fast).

    Inputs:
    - dout: array of shape (N, F, H', W'), upstream gradient.
    - cache: from conv_forward_fast.

    Returns a tuple of:
    - dx: array of shape (N, C, H, W).
    - dw: array of shape (F, C, HH, WW).
    - db: array of shape (F,).
    """
    x_shape, w, b, conv_param, cols = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2], dout.shape[3]

    db = np.sum(dout, axis=(0, 2, 3))
    dout_rows = dout.transpose(1, 0, 2, 3).reshape(F, N * H_out * W_out)
    dw = (dout_rows @ cols.T).reshape(w.shape)
    dcols = (w.reshape(F, -1).T @ dout_rows).reshape(C, HH, WW, N, H_out, W_out)

    # col2im: entry (c, k, l, n, i, j) of dcols came from padded pixel
    # (n, c, i * stride + k, j * stride + l). For fixed (k, l) those pixels form a
    # strided slice with no repeats, so one vectorized += per offset is exact.
    dx_pad = np.zeros((C, N, H + 2 * pad, W + 2 * pad), dtype=dcols.dtype)
    i_end, j_end = stride * (H_out - 1) + 1, stride * (W_out - 1) + 1
    for k in range(HH):
        for l in range(WW):
            dx_pad[:, :, k:k + i_end:stride, l:l + j_end:stride] += dcols[:, k, l]
    dx = np.ascontiguousarray(dx_pad[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3))
    return dx, dw, db


def _pool_geometry(x_shape, pool_param):
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H, W = x_shape
    H_out = (H - ph) // stride + 1
    W_out = (W - pw) // stride + 1
    tiles = ph == pw == stride and H % ph == 0 and W % pw == 0
    return ph, pw, stride, H_out, W_out, tiles


def _offset_slice(a, k, l, stride, H_out, W_out):
    """a[:, :, k + i * stride, l + j * stride] for all outputs (i, j), as a view."""
    return a[:, :, k:k + stride * (H_out - 1) + 1:stride, l:l + stride * (W_out - 1) + 1:stride]


def max_pool_forward_fast(x, pool_param):
    """Forward pass of a max-pooling layer.

    Inputs and outputs as max_pool_forward_naive:
    - x: array of shape (N, C, H, W).
    - pool_param: dict with 'pool_height', 'pool_width' and 'stride'.

    Returns a tuple of:
    - out: array of shape (N, C, H', W'), H' = 1 + (H - pool_height) // stride and
      W' = 1 + (W - pool_width) // stride.
    - cache: for max_pool_backward_fast.
    """
    ph, pw, stride, H_out, W_out, _ = _pool_geometry(x.shape, pool_param)
    # A running elementwise maximum over the window offsets (numpy's reductions over
    # tiny axes, x.reshape(..., ph, W', pw).max(axis=(3, 5)), are far slower). Along
    # the way `winner` records which offset, numbered k * pool_width + l, holds each
    # window's maximum; only a strictly larger value takes over, so ties keep the
    # first maximum in row-major order, and the backward pass needs no search.
    out = _offset_slice(x, 0, 0, stride, H_out, W_out).copy()
    code_type = np.int8 if ph * pw <= 127 else np.intp
    winner = np.zeros(out.shape, dtype=code_type)
    larger = np.empty(out.shape, dtype=bool)
    larger_01 = larger.view(np.int8)  # the same memory read as 0 / 1
    for k in range(ph):
        for l in range(pw):
            if k or l:
                candidate = _offset_slice(x, k, l, stride, H_out, W_out)
                np.greater(candidate, out, out=larger)
                np.maximum(out, candidate, out=out)
                # winner = where(larger, k * pw + l, winner), in integer arithmetic:
                # np.where and masked copies are several times slower here.
                winner -= winner * larger_01
                winner += larger_01 * code_type(k * pw + l)
    cache = (x.shape, winner, pool_param)
    return out, cache


def max_pool_backward_fast(dout, cache):
    """Backward pass of a max-pooling layer (the cache of max_pool_forward_fast).

    Like max_pool_backward_naive, each window's gradient goes to the first input
    (in row-major order within the window) that equals the window's maximum.

    Inputs:
    - dout: array of shape (N, C, H', W'), upstream gradient.
    - cache: from max_pool_forward_fast.

    Returns:
    - dx: array of shape (N, C, H, W).
    """
    x_shape, winner, pool_param = cache
    ph, pw, stride, H_out, W_out, tiles = _pool_geometry(x_shape, pool_param)
    # When the windows tile the input, every pixel is written exactly once below.
    dx = np.empty(x_shape, dtype=dout.dtype) if tiles else np.zeros(x_shape, dtype=dout.dtype)
    wins = np.empty(winner.shape, dtype=bool)
    for k in range(ph):
        for l in range(pw):
            np.equal(winner, k * pw + l, out=wins)
            dx_slice = _offset_slice(dx, k, l, stride, H_out, W_out)
            if tiles:
                np.multiply(dout, wins, out=dx_slice)
            else:
                # Within one offset no two windows share a pixel, so += is exact
                # even when windows overlap.
                dx_slice += dout * wins
    return dx
