"""Sandwich layers: common sequences of layers fused into one forward/backward pair."""
from .layers import *


def affine_relu_forward(x, w, b):
    """An affine layer followed by a ReLU.

    Inputs:
    - x: array of shape (N, d_1, ..., d_k), input to the affine layer.
    - w: array of shape (D, M), b: array of shape (M,), its weights and biases.

    Returns a tuple of:
    - out: array of shape (N, M), output of the ReLU.
    - cache: what affine_relu_backward needs.
    """
    ### BEGIN SOLUTION
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    cache = (fc_cache, relu_cache)
    ### END SOLUTION
    return out, cache


def affine_relu_backward(dout, cache):
    """Backward pass of the affine-ReLU layer.

    Inputs:
    - dout: array of shape (N, M), upstream gradient.
    - cache: from affine_relu_forward.

    Returns a tuple (dx, dw, db) shaped like (x, w, b).
    """
    ### BEGIN SOLUTION
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    ### END SOLUTION
    return dx, dw, db


def affine_bn_relu_forward(x, w, b, gamma, beta, bn_param):
    """Affine layer, then batch normalization, then ReLU.

    Inputs:
    - x, w, b: as in affine_forward; the affine output has shape (N, M).
    - gamma, beta: arrays of shape (M,), batch normalization scale and shift.
    - bn_param: dict passed to batchnorm_forward (mode, running averages, ...).

    Returns a tuple of:
    - out: array of shape (N, M).
    - cache: what affine_bn_relu_backward needs.
    """
    ### BEGIN SOLUTION
    a, fc_cache = affine_forward(x, w, b)
    n, bn_cache = batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(n)
    cache = (fc_cache, bn_cache, relu_cache)
    ### END SOLUTION
    return out, cache


def affine_bn_relu_backward(dout, cache):
    """Backward pass of the affine-batchnorm-ReLU layer.

    Inputs:
    - dout: array of shape (N, M), upstream gradient.
    - cache: from affine_bn_relu_forward.

    Returns a tuple (dx, dw, db, dgamma, dbeta) shaped like (x, w, b, gamma, beta).
    """
    ### BEGIN SOLUTION
    fc_cache, bn_cache, relu_cache = cache
    dn = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = batchnorm_backward_alt(dn, bn_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    ### END SOLUTION
    return dx, dw, db, dgamma, dbeta


def affine_ln_relu_forward(x, w, b, gamma, beta, ln_param):
    """Affine layer, then layer normalization, then ReLU.

    Inputs:
    - x, w, b: as in affine_forward; the affine output has shape (N, M).
    - gamma, beta: arrays of shape (M,), layer normalization scale and shift.
    - ln_param: dict passed to layernorm_forward.

    Returns a tuple of:
    - out: array of shape (N, M).
    - cache: what affine_ln_relu_backward needs.
    """
    ### BEGIN SOLUTION
    a, fc_cache = affine_forward(x, w, b)
    n, ln_cache = layernorm_forward(a, gamma, beta, ln_param)
    out, relu_cache = relu_forward(n)
    cache = (fc_cache, ln_cache, relu_cache)
    ### END SOLUTION
    return out, cache


def affine_ln_relu_backward(dout, cache):
    """Backward pass of the affine-layernorm-ReLU layer.

    Inputs:
    - dout: array of shape (N, M), upstream gradient.
    - cache: from affine_ln_relu_forward.

    Returns a tuple (dx, dw, db, dgamma, dbeta) shaped like (x, w, b, gamma, beta).
    """
    ### BEGIN SOLUTION
    fc_cache, ln_cache, relu_cache = cache
    dn = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = layernorm_backward(dn, ln_cache)
    dx, dw, db = affine_backward(da, fc_cache)
    ### END SOLUTION
    return dx, dw, db, dgamma, dbeta


# ---- Convolutional sandwich layers ----
# These are provided. They use the fast layers of fast_layers.py, which compute what
# your naive layers compute, only much faster; so their caches come from and go
# back to the fast layers, never to the naive ones.
from .fast_layers import (conv_backward_fast, conv_forward_fast,
                          max_pool_backward_fast, max_pool_forward_fast)


def conv_relu_forward(x, w, b, conv_param):
    """A convolution followed by a ReLU.

    Inputs:
    - x: array of shape (N, C, H, W), input to the convolution.
    - w: array of shape (F, C, HH, WW), b: array of shape (F,), its filters and
      biases.
    - conv_param: dict with 'stride' and 'pad', as for conv_forward_naive.

    Returns a tuple of:
    - out: array of shape (N, F, H', W'), output of the ReLU.
    - cache: what conv_relu_backward needs.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    cache = (conv_cache, relu_cache)
    return out, cache


def conv_relu_backward(dout, cache):
    """Backward pass of the conv-ReLU layer.

    Inputs:
    - dout: array of shape (N, F, H', W'), upstream gradient.
    - cache: from conv_relu_forward.

    Returns a tuple (dx, dw, db) shaped like (x, w, b).
    """
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db


def conv_relu_pool_forward(x, w, b, conv_param, pool_param):
    """A convolution, a ReLU, then max pooling.

    Inputs:
    - x: array of shape (N, C, H, W), input to the convolution.
    - w: array of shape (F, C, HH, WW), b: array of shape (F,), its filters and
      biases.
    - conv_param: dict with 'stride' and 'pad', as for conv_forward_naive.
    - pool_param: dict with 'pool_height', 'pool_width' and 'stride', as for
      max_pool_forward_naive.

    Returns a tuple of:
    - out: array of shape (N, F, H'', W''), output of the pooling layer.
    - cache: what conv_relu_pool_backward needs.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    cache = (conv_cache, relu_cache, pool_cache)
    return out, cache


def conv_relu_pool_backward(dout, cache):
    """Backward pass of the conv-ReLU-pool layer.

    Inputs:
    - dout: array of shape (N, F, H'', W''), upstream gradient.
    - cache: from conv_relu_pool_forward.

    Returns a tuple (dx, dw, db) shaped like (x, w, b).
    """
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db


def conv_bn_relu_forward(x, w, b, gamma, beta, conv_param, bn_param):
    """A convolution, spatial batch normalization, then a ReLU.

    Inputs:
    - x, w, b, conv_param: as for conv_relu_forward; the convolution's output has
      shape (N, F, H', W').
    - gamma, beta: arrays of shape (F,), batch normalization scale and shift.
    - bn_param: dict passed to spatial_batchnorm_forward (mode, running averages).

    Returns a tuple of:
    - out: array of shape (N, F, H', W').
    - cache: what conv_bn_relu_backward needs.
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    n, bn_cache = spatial_batchnorm_forward(a, gamma, beta, bn_param)
    out, relu_cache = relu_forward(n)
    cache = (conv_cache, bn_cache, relu_cache)
    return out, cache


def conv_bn_relu_backward(dout, cache):
    """Backward pass of the conv-batchnorm-ReLU layer.

    Inputs:
    - dout: array of shape (N, F, H', W'), upstream gradient.
    - cache: from conv_bn_relu_forward.

    Returns a tuple (dx, dw, db, dgamma, dbeta) shaped like (x, w, b, gamma, beta).
    """
    conv_cache, bn_cache, relu_cache = cache
    dn = relu_backward(dout, relu_cache)
    da, dgamma, dbeta = spatial_batchnorm_backward(dn, bn_cache)
    dx, dw, db = conv_backward_fast(da, conv_cache)
    return dx, dw, db, dgamma, dbeta
