"""Trusted numpy reference for the a3 (needle) graders. Runs in the grader process only.

Everything a grader compares against is computed here from the formulas in the
handout, in float64, with random draws replayed on a private `np.random.RandomState`:
the legacy global generator that the student process seeds is a RandomState too, so
the same seed gives the same stream (rand, randn, randint, permutation).

Models are described as nested tuples so the forward pass can be replayed:
    ("linear", W, b)    W: (in, out), b: (1, out) or None
    ("relu",)
    ("bn", weight, bias, running_mean, running_var, eps, momentum)
    ("ln", weight, bias, eps)
    ("dropout", p)
    ("residual", spec)
    ("seq", [spec, ...])
"""

from __future__ import annotations

import gzip
import math
import struct

import numpy as np

F32 = np.float32

# ---------------------------------------------------------------- initializers


def uniform(rs, shape, bound):
    """What init.rand(*shape, low=-bound, high=bound) gives: a float32 tensor."""
    return (rs.rand(*shape) * (2 * bound) - bound).astype(F32)


def normal(rs, shape, std):
    return (rs.randn(*shape) * std).astype(F32)


def xavier_uniform(rs, fan_in, fan_out, gain=1.0):
    return uniform(rs, (fan_in, fan_out), gain * math.sqrt(6.0 / (fan_in + fan_out)))


def xavier_normal(rs, fan_in, fan_out, gain=1.0):
    return normal(rs, (fan_in, fan_out), gain * math.sqrt(2.0 / (fan_in + fan_out)))


def kaiming_uniform(rs, fan_in, fan_out):
    return uniform(rs, (fan_in, fan_out), math.sqrt(2.0) * math.sqrt(3.0 / fan_in))


def kaiming_normal(rs, fan_in, fan_out):
    return normal(rs, (fan_in, fan_out), math.sqrt(2.0 / fan_in))


def linear_params(rs, fan_in, fan_out, bias=True):
    """Linear's parameters in their draw order: weight, then bias (drawn as (out, 1))."""
    weight = kaiming_uniform(rs, fan_in, fan_out)
    if not bias:
        return weight, None
    return weight, kaiming_uniform(rs, fan_out, 1).reshape(1, fan_out)


# ---------------------------------------------------------------- ops


def logsumexp(z, axes=None):
    """log(sum(exp(z))) over `axes` (int, tuple or None), reduced axes removed."""
    z = np.asarray(z, dtype=np.float64)
    axes = tuple(range(z.ndim)) if axes is None else ((axes,) if isinstance(axes, int) else tuple(axes))
    top = np.max(z, axis=axes, keepdims=True)
    out = np.log(np.sum(np.exp(z - top), axis=axes, keepdims=True)) + top
    return np.squeeze(out, axis=axes)


def logsumexp_grad(z, axes, out_grad):
    """d/dz of sum(logsumexp(z, axes) * out_grad) = softmax over axes times out_grad."""
    z = np.asarray(z, dtype=np.float64)
    axes = tuple(range(z.ndim)) if axes is None else ((axes,) if isinstance(axes, int) else tuple(axes))
    kept = tuple(1 if k in axes else n for k, n in enumerate(z.shape))
    lse = logsumexp(z, axes).reshape(kept)
    return np.exp(z - lse) * np.asarray(out_grad, dtype=np.float64).reshape(kept)


def logsoftmax(z):
    z = np.asarray(z, dtype=np.float64)
    return z - logsumexp(z, axes=(z.ndim - 1,))[..., None]


def logsoftmax_grad(z, out_grad):
    """d/dz of sum(logsoftmax(z) * out_grad), rows along the last axis."""
    soft = np.exp(logsoftmax(z))
    g = np.asarray(out_grad, dtype=np.float64)
    return g - soft * g.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------- losses and layers


def softmax_loss(logits, labels):
    """Mean cross-entropy of integer labels; returns (loss, d loss / d logits)."""
    z = np.asarray(logits, dtype=np.float64)
    n = z.shape[0]
    logp = logsoftmax(z)
    loss = -logp[np.arange(n), labels].mean()
    grad = np.exp(logp)
    grad[np.arange(n), labels] -= 1
    return loss, grad / n


def layernorm(x, weight, bias, eps=1e-5):
    """Row-wise layer norm of (N, D) x; returns (out, cache)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    return xhat * weight + bias, (xhat, var, eps, weight)


def layernorm_backward(dout, cache):
    """Gradients (dx, dweight, dbias) of layer norm, normalizing along axis 1."""
    xhat, var, eps, weight = cache
    dout = np.asarray(dout, dtype=np.float64)
    dxhat = dout * weight
    d = xhat.shape[1]
    dx = (d * dxhat - dxhat.sum(axis=1, keepdims=True)
          - xhat * (dxhat * xhat).sum(axis=1, keepdims=True)) / (d * np.sqrt(var + eps))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def batchnorm_train(x, weight, bias, eps=1e-5):
    """Batch norm with batch statistics; returns (out, mean, biased var, cache)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    return xhat * weight + bias, mu, var, (xhat, var, eps, weight)


def batchnorm_backward(dout, cache):
    """Gradients (dx, dweight, dbias) of training-mode batch norm."""
    xhat, var, eps, weight = cache
    dout = np.asarray(dout, dtype=np.float64)
    dxhat = dout * weight
    n = xhat.shape[0]
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * np.sqrt(var + eps))
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def dropout_mask(rs, shape, p):
    """The kept entries, as init.randb(*shape, p=1 - p) draws them."""
    return rs.rand(*shape) <= 1 - p


# ---------------------------------------------------------------- models


def forward(spec, x, rs=None, training=True):
    """Replay a model's forward pass on x (float64 result).

    Dropout masks are drawn from `rs` in forward order when training; batch norm uses
    batch statistics when training (and updates the spec's running statistics, like
    the module does) and its running statistics otherwise.
    """
    kind = spec[0]
    x = np.asarray(x, dtype=np.float64)
    if kind == "linear":
        _, weight, bias = spec
        out = x @ weight.astype(np.float64)
        return out if bias is None else out + bias
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "bn":
        _, weight, bias, running = spec[:4]
        eps, momentum = spec[5], spec[6]
        if training:
            out, mu, var, _ = batchnorm_train(x, weight, bias, eps)
            running[:] = (1 - momentum) * running + momentum * mu
            spec[4][:] = (1 - momentum) * spec[4] + momentum * var
            return out
        return (x - running) / np.sqrt(spec[4] + eps) * weight + bias
    if kind == "ln":
        _, weight, bias, eps = spec
        return layernorm(x, weight, bias, eps)[0]
    if kind == "dropout":
        p = spec[1]
        if not training:
            return x
        return x * dropout_mask(rs, x.shape, p) / (1 - p)
    if kind == "residual":
        return forward(spec[1], x, rs, training) + x
    if kind == "seq":
        for part in spec[1]:
            x = forward(part, x, rs, training)
        return x
    raise ValueError(kind)


def norm_spec(kind, dim, eps=1e-5, momentum=0.1):
    """A fresh norm layer, as constructed: weight ones, bias zeros, running (0, 1)."""
    if kind == "bn":
        return ("bn", np.ones(dim), np.zeros(dim), np.zeros(dim), np.ones(dim), eps, momentum)
    return ("ln", np.ones(dim), np.zeros(dim), eps)


def residual_block(rs, dim, hidden, norm, drop_prob):
    """ResidualBlock as constructed after the same seed (norm: "bn" or "ln")."""
    w1, b1 = linear_params(rs, dim, hidden)
    w2, b2 = linear_params(rs, hidden, dim)
    inner = ("seq", [("linear", w1, b1), norm_spec(norm, hidden), ("relu",), ("dropout", drop_prob),
                     ("linear", w2, b2), norm_spec(norm, dim)])
    return ("seq", [("residual", inner), ("relu",)])


def mlp_resnet(rs, dim, hidden=100, blocks=3, classes=10, norm="bn", drop_prob=0.1):
    """MLPResNet as constructed after the same seed."""
    w0, b0 = linear_params(rs, dim, hidden)
    parts = [("linear", w0, b0), ("relu",)]
    parts += [residual_block(rs, hidden, hidden // 2, norm, drop_prob) for _ in range(blocks)]
    w, b = linear_params(rs, hidden, classes)
    return ("seq", parts + [("linear", w, b)])


def mlp_resnet_from_weights(params, blocks, norm="bn", drop_prob=0.1):
    """MLPResNet built from its parameter arrays, in `parameters()` order:
    W0, b0, then per block W1, b1, n1.weight, n1.bias, W2, b2, n2.weight, n2.bias,
    then W, b. Running statistics start at (0, 1)."""
    params = [np.asarray(p, dtype=np.float64) for p in params]
    it = iter(params)
    parts = [("linear", next(it), next(it)), ("relu",)]
    for _ in range(blocks):
        w1, b1, g1, c1, w2, b2, g2, c2 = (next(it) for _ in range(8))
        first = _norm_with(norm, g1, c1)
        second = _norm_with(norm, g2, c2)
        inner = ("seq", [("linear", w1, b1), first, ("relu",), ("dropout", drop_prob),
                         ("linear", w2, b2), second])
        parts.append(("seq", [("residual", inner), ("relu",)]))
    parts.append(("linear", next(it), next(it)))
    return ("seq", parts)


def _norm_with(kind, weight, bias):
    spec = norm_spec(kind, weight.shape[-1])
    if kind == "bn":
        return ("bn", weight.reshape(-1), bias.reshape(-1), spec[3], spec[4], spec[5], spec[6])
    return ("ln", weight.reshape(-1), bias.reshape(-1), spec[3])


def run_epoch(spec, batches, rs, training):
    """What epoch() returns for a model that does not change (no or zero-step updates):
    (error rate, sample-weighted mean loss) over (X, y) batches."""
    wrong, total, loss_sum = 0, 0, 0.0
    for X, y in batches:
        logits = forward(spec, X.reshape(X.shape[0], -1), rs, training)
        loss, _ = softmax_loss(logits, y)
        wrong += int((logits.argmax(axis=1) != y).sum())
        loss_sum += loss * len(y)
        total += len(y)
    return wrong / total, loss_sum / total


# ---------------------------------------------------------------- optimizers


class SGD:
    def __init__(self, lr, momentum=0.0, weight_decay=0.0):
        self.lr, self.momentum, self.wd = lr, momentum, weight_decay
        self.u = {}

    def step(self, params, grads):
        m = self.momentum
        for k, (w, g) in enumerate(zip(params, grads)):
            g = g + self.wd * w
            self.u[k] = m * self.u.get(k, 0.0) + (1 - m) * g
            params[k] = w - self.lr * self.u[k]


class Adam:
    def __init__(self, lr, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, beta1, beta2, eps, weight_decay
        self.t = 0
        self.m, self.v = {}, {}

    def step(self, params, grads):
        self.t += 1
        for k, (w, g) in enumerate(zip(params, grads)):
            g = g + self.wd * w
            self.m[k] = self.b1 * self.m.get(k, 0.0) + (1 - self.b1) * g
            self.v[k] = self.b2 * self.v.get(k, 0.0) + (1 - self.b2) * g * g
            m_hat = self.m[k] / (1 - self.b1**self.t)
            v_hat = self.v[k] / (1 - self.b2**self.t)
            params[k] = w - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


# ---------------------------------------------------------------- data


def flip(rs, img, p):
    """RandomFlipHorizontal: one rs.rand() draw; mirror along the width axis if < p."""
    return img[:, ::-1, :] if rs.rand() < p else img


def crop(rs, img, padding):
    """RandomCrop: one randint draw of two shifts; pixel (i, j) <- img[i + dx, j + dy] or 0."""
    dx, dy = rs.randint(low=-padding, high=padding + 1, size=2)
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    for i in range(h):
        for j in range(w):
            if 0 <= i + dx < h and 0 <= j + dy < w:
                out[i, j] = img[i + dx, j + dy]
    return out


def write_idx_images(path, images):
    """Write uint8 images (N, rows, cols) as a gzip-compressed idx3 file."""
    n, rows, cols = images.shape
    with gzip.open(path, "wb") as fh:
        fh.write(struct.pack(">IIII", 2051, n, rows, cols))
        fh.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())


def write_idx_labels(path, labels):
    with gzip.open(path, "wb") as fh:
        fh.write(struct.pack(">II", 2049, len(labels)))
        fh.write(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())


def batch_order(n, batch_size, order=None):
    """Index batches of a loader: `order` (default 0..n-1) cut every batch_size."""
    order = np.arange(n) if order is None else order
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]
