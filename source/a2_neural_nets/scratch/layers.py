"""Layers of a neural network, written in numpy.

Every layer comes as a pair: ``*_forward`` computes the output and a ``cache`` of
whatever the backward pass will need; ``*_backward`` takes the upstream gradient and
that cache and returns the gradients with respect to the inputs.
"""
import numpy as np


def affine_forward(x, w, b):
    """Forward pass of an affine (fully connected) layer.

    Each example x[i] has shape (d_1, ..., d_k); it is flattened into a vector of
    D = d_1 * ... * d_k numbers and mapped to a vector of M numbers.

    Inputs:
    - x: array of shape (N, d_1, ..., d_k), a minibatch of N examples.
    - w: array of shape (D, M), the weights.
    - b: array of shape (M,), the biases.

    Returns a tuple of:
    - out: array of shape (N, M), out = x_flat @ w + b.
    - cache: (x, w, b), for the backward pass.
    """
    out = None
    # Hint: reshape x to (N, D) without assuming how many axes an example has.
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b
    ### END SOLUTION
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of an affine layer.

    Inputs:
    - dout: array of shape (N, M), upstream gradient dL/dout.
    - cache: (x, w, b) from affine_forward, with x of shape (N, d_1, ..., d_k),
      w of shape (D, M) and b of shape (M,).

    Returns a tuple of:
    - dx: array of shape (N, d_1, ..., d_k), gradient with respect to x.
    - dw: array of shape (D, M), gradient with respect to w.
    - db: array of shape (M,), gradient with respect to b.
    """
    x, w, b = cache
    dx, dw, db = None, None, None
    # Hint: every gradient has the shape of the variable it belongs to.
    ### BEGIN SOLUTION
    x_flat = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x_flat.T @ dout
    db = dout.sum(axis=0)
    ### END SOLUTION
    return dx, dw, db


def relu_forward(x):
    """Forward pass of a layer of rectified linear units (ReLUs).

    Input:
    - x: array of any shape.

    Returns a tuple of:
    - out: array of the same shape as x, max(0, x) elementwise.
    - cache: x, for the backward pass.
    """
    out = None
    ### BEGIN SOLUTION
    out = np.maximum(0, x)
    ### END SOLUTION
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of a layer of ReLUs.

    Inputs:
    - dout: upstream gradient, of any shape.
    - cache: the input x of relu_forward, of the same shape as dout.

    Returns:
    - dx: gradient with respect to x, same shape as x. Where x is exactly 0 the
      ReLU has no derivative; use 0 there (the subgradient of the flat side).
    """
    dx, x = None, cache
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx


def softmax_loss(x, y):
    """Softmax (cross-entropy) loss and its gradient, averaged over the minibatch.

    Inputs:
    - x: array of shape (N, C), x[i, j] is the score of class j for example i.
    - y: integer array of shape (N,), y[i] in [0, C) is the label of x[i].

    Returns a tuple of:
    - loss: scalar, mean over i of -log(softmax(x[i])[y[i]]).
    - dx: array of shape (N, C), gradient of the loss with respect to x.
    """
    loss, dx = None, None
    # Hint: subtract each row's maximum before exponentiating; the softmax does not
    # change and exp can no longer overflow.
    ### BEGIN SOLUTION
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    ### END SOLUTION
    return loss, dx


def svm_loss(x, y):
    """Multiclass SVM (hinge) loss with margin 1 and its gradient, averaged over
    the minibatch.

    Inputs:
    - x: array of shape (N, C), x[i, j] is the score of class j for example i.
    - y: integer array of shape (N,), y[i] in [0, C) is the label of x[i].

    Returns a tuple of:
    - loss: scalar, mean over i of sum over j != y[i] of max(0, x[i, j] - x[i, y[i]] + 1).
    - dx: array of shape (N, C), gradient of the loss with respect to x.
    """
    loss, dx = None, None
    ### BEGIN SOLUTION
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1.0)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    positive = (margins > 0).astype(x.dtype)
    dx = positive
    dx[np.arange(N), y] = -positive.sum(axis=1)
    dx /= N
    ### END SOLUTION
    return loss, dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of batch normalization.

    In training mode each feature is normalized with the mean and (biased) variance
    of the minibatch, then scaled by gamma and shifted by beta. The layer also keeps
    exponentially decaying running averages of those statistics:

        running_mean = momentum * running_mean + (1 - momentum) * sample_mean
        running_var = momentum * running_var + (1 - momentum) * sample_var

    In test mode the running averages take the place of the batch statistics, and
    nothing is updated.

    Inputs:
    - x: array of shape (N, D).
    - gamma: array of shape (D,), scale.
    - beta: array of shape (D,), shift.
    - bn_param: dict with keys
      - mode: 'train' or 'test' (required)
      - eps: added to the variance for numeric stability (default 1e-5)
      - momentum: of the running averages (default 0.9)
      - running_mean: array of shape (D,) (zeros when absent; written back)
      - running_var: array of shape (D,) (zeros when absent; written back)

    Returns a tuple of:
    - out: array of shape (N, D).
    - cache: what the backward pass needs.
    """
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)

    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))

    out, cache = None, None
    if mode == "train":
        # Hint: use the biased variance (divide by N), as the running average does.
        ### BEGIN SOLUTION
        mu = x.mean(axis=0)
        xc = x - mu
        var = (xc ** 2).mean(axis=0)
        std = np.sqrt(var + eps)
        x_hat = xc / std
        out = gamma * x_hat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (x_hat, xc, std, gamma)
        ### END SOLUTION
    elif mode == "test":
        ### BEGIN SOLUTION
        x_hat = (x - running_mean) / np.sqrt(running_var + eps)
        out = gamma * x_hat + beta
        ### END SOLUTION
    else:
        raise ValueError('Invalid forward batchnorm mode "%s"' % mode)

    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    """Backward pass of batch normalization (training mode), step by step through
    the computational graph of batchnorm_forward.

    Inputs:
    - dout: array of shape (N, D), upstream gradient.
    - cache: from batchnorm_forward.

    Returns a tuple of:
    - dx: array of shape (N, D), gradient with respect to x.
    - dgamma: array of shape (D,), gradient with respect to gamma.
    - dbeta: array of shape (D,), gradient with respect to beta.
    """
    dx, dgamma, dbeta = None, None, None
    # Hint: walk the graph backwards one node at a time: x -> mean -> centred ->
    # variance -> std -> normalized -> scaled and shifted.
    ### BEGIN SOLUTION
    x_hat, xc, std, gamma = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = xc * inv_std
    inv_std = 1.0 / std
    dxc = dx_hat * inv_std
    dinv_std = (dx_hat * xc).sum(axis=0)
    # inv_std = (var + eps) ** -0.5
    dvar = dinv_std * (-0.5) * inv_std ** 3
    # var = mean(xc ** 2)
    dxc += 2.0 * xc * dvar / N
    # xc = x - mean(x)
    dmu = -dxc.sum(axis=0)
    dx = dxc + dmu / N
    ### END SOLUTION
    return dx, dgamma, dbeta


def batchnorm_backward_alt(dout, cache):
    """Backward pass of batch normalization in closed form.

    Same inputs and outputs as batchnorm_backward; derive dL/dx on paper and
    simplify it into a single expression before coding it.
    """
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    x_hat, _, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    ### END SOLUTION
    return dx, dgamma, dbeta


def layernorm_forward(x, gamma, beta, ln_param):
    """Forward pass of layer normalization.

    Each example is normalized with the mean and (biased) variance of its own D
    features, then scaled by gamma and shifted by beta. Training and test time
    behave the same, so there are no running averages.

    Inputs:
    - x: array of shape (N, D).
    - gamma: array of shape (D,), scale.
    - beta: array of shape (D,), shift.
    - ln_param: dict with key
      - eps: added to the variance for numeric stability (default 1e-5)

    Returns a tuple of:
    - out: array of shape (N, D).
    - cache: what the backward pass needs.
    """
    out, cache = None, None
    eps = ln_param.get("eps", 1e-5)
    # Hint: batch normalization with the roles of examples and features swapped.
    ### BEGIN SOLUTION
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    std = np.sqrt((xc ** 2).mean(axis=1, keepdims=True) + eps)
    x_hat = xc / std
    out = gamma * x_hat + beta
    cache = (x_hat, std, gamma)
    ### END SOLUTION
    return out, cache


def layernorm_backward(dout, cache):
    """Backward pass of layer normalization.

    Inputs:
    - dout: array of shape (N, D), upstream gradient.
    - cache: from layernorm_forward.

    Returns a tuple of:
    - dx: array of shape (N, D), gradient with respect to x.
    - dgamma: array of shape (D,), gradient with respect to gamma.
    - dbeta: array of shape (D,), gradient with respect to beta.
    """
    dx, dgamma, dbeta = None, None, None
    ### BEGIN SOLUTION
    x_hat, std, gamma = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.mean(axis=1, keepdims=True)
          - x_hat * (dx_hat * x_hat).mean(axis=1, keepdims=True)) / std
    ### END SOLUTION
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Forward pass of (inverted) dropout.

    Inputs:
    - x: array of any shape.
    - dropout_param: dict with keys
      - p: probability of KEEPING each unit.
      - mode: 'train' drops units; 'test' returns x unchanged.
      - seed: optional; when given, the global numpy RNG is seeded with it first, so
        the mask is reproducible (used by gradient checks).

    In training mode each unit is kept with probability p and the kept ones are
    divided by p, so the expected output equals x and test time needs no scaling.

    Returns a tuple of:
    - out: array of the same shape and dtype as x.
    - cache: (dropout_param, mask); mask is None in test mode.
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])

    mask = None
    out = None
    if mode == "train":
        # Hint: draw the mask with np.random.rand(*x.shape) < p.
        ### BEGIN SOLUTION
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
        ### END SOLUTION
    elif mode == "test":
        ### BEGIN SOLUTION
        out = x
        ### END SOLUTION

    cache = (dropout_param, mask)
    out = out.astype(x.dtype, copy=False)
    return out, cache


def dropout_backward(dout, cache):
    """Backward pass of (inverted) dropout.

    Inputs:
    - dout: upstream gradient, of any shape.
    - cache: (dropout_param, mask) from dropout_forward.

    Returns:
    - dx: gradient with respect to x, same shape as dout.
    """
    dropout_param, mask = cache
    mode = dropout_param["mode"]

    dx = None
    if mode == "train":
        ### BEGIN SOLUTION
        dx = dout * mask
        ### END SOLUTION
    elif mode == "test":
        dx = dout
    return dx


# ---- Convolutional layers ----


def conv_forward_naive(x, w, b, conv_param):
    """Forward pass of a convolutional layer, written with plain loops.

    The input has N examples, each with C channels, height H and width W. It is
    convolved with F filters, each spanning all C channels with height HH and
    width WW (as in every deep-learning library, "convolution" here means
    cross-correlation: the filter is not flipped).

    Inputs:
    - x: array of shape (N, C, H, W), the input.
    - w: array of shape (F, C, HH, WW), the filter weights.
    - b: array of shape (F,), one bias per filter.
    - conv_param: dict with keys
      - 'stride': number of pixels between neighbouring receptive fields, in both
        the horizontal and vertical directions.
      - 'pad': number of zeros added on EACH side of the input, along the height and
        width axes only (not the example or channel axes).

    Returns a tuple of:
    - out: array of shape (N, F, H', W'), where
        H' = 1 + (H + 2 * pad - HH) // stride
        W' = 1 + (W + 2 * pad - WW) // stride
      out[n, f, i, j] = b[f] + sum over c, k, l of
        x_padded[n, c, i * stride + k, j * stride + l] * w[f, c, k, l].
    - cache: (x, w, b, conv_param), for the backward pass.

    Do not modify x: pad a copy (np.pad does).
    """
    out = None
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    # Hint: np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))) pads the two spatial
    # axes only. Then loop over examples, filters and output positions; each output
    # is the sum of one input window times one filter.
    ### BEGIN SOLUTION
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x_pad[n, :, top:top + HH, left:left + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    ### END SOLUTION
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    """Backward pass of a convolutional layer, written with plain loops.

    Inputs:
    - dout: array of shape (N, F, H', W'), upstream gradient dL/dout.
    - cache: (x, w, b, conv_param) as returned by conv_forward_naive.

    Returns a tuple of:
    - dx: array of shape (N, C, H, W), gradient with respect to x (the unpadded
      input: gradients that land on the padding are dropped).
    - dw: array of shape (F, C, HH, WW), gradient with respect to w.
    - db: array of shape (F,), gradient with respect to b.
    """
    dx, dw, db = None, None, None
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    # Hint: mirror the forward loops. Each output out[n, f, i, j] touched one window
    # of the padded input and the whole filter w[f]; send dout[n, f, i, j] back to
    # both, then cut the padding off the input's gradient.
    ### BEGIN SOLUTION
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    g = dout[n, f, i, j]
                    dw[f] += g * x_pad[n, :, top:top + HH, left:left + WW]
                    dx_pad[n, :, top:top + HH, left:left + WW] += g * w[f]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    db = dout.sum(axis=(0, 2, 3))
    ### END SOLUTION
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    """Forward pass of a max-pooling layer, written with plain loops.

    Each channel of each example is pooled on its own; there is no padding.

    Inputs:
    - x: array of shape (N, C, H, W).
    - pool_param: dict with keys
      - 'pool_height': height of each pooling window.
      - 'pool_width': width of each pooling window.
      - 'stride': distance between neighbouring pooling windows.

    Returns a tuple of:
    - out: array of shape (N, C, H', W'), where
        H' = 1 + (H - pool_height) // stride
        W' = 1 + (W - pool_width) // stride
      out[n, c, i, j] is the maximum of
        x[n, c, i * stride : i * stride + pool_height, j * stride : j * stride + pool_width].
    - cache: (x, pool_param), for the backward pass.
    """
    out = None
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H, W = x.shape
    ### BEGIN SOLUTION
    H_out = 1 + (H - ph) // stride
    W_out = 1 + (W - pw) // stride
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    out[n, c, i, j] = np.max(x[n, c, top:top + ph, left:left + pw])
    ### END SOLUTION
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Backward pass of a max-pooling layer, written with plain loops.

    Each output is the maximum of its window, so its gradient flows to the one
    input that attained the maximum. When several inputs of a window tie for the
    maximum, the whole gradient goes to the FIRST of them in row-major order (the
    one np.argmax picks on the flattened window); the others get nothing from that
    window. Windows may overlap (stride < pool size): an input then collects the
    gradient of every window it is the chosen maximum of.

    Inputs:
    - dout: array of shape (N, C, H', W'), upstream gradient.
    - cache: (x, pool_param) as returned by max_pool_forward_naive.

    Returns:
    - dx: array of shape (N, C, H, W), gradient with respect to x.
    """
    dx = None
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride = pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    # Hint: np.unravel_index(np.argmax(window), window.shape) locates the chosen
    # maximum of a 2-D window.
    ### BEGIN SOLUTION
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    top, left = i * stride, j * stride
                    window = x[n, c, top:top + ph, left:left + pw]
                    k, l = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, top + k, left + l] += dout[n, c, i, j]
    ### END SOLUTION
    return dx


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Forward pass of spatial batch normalization.

    Convolutional feature maps are normalized per channel: the mean and variance of
    channel c are taken over all N examples and all H * W positions, so every
    position of a channel is treated the same way, as a convolution treats it.

    Inputs:
    - x: array of shape (N, C, H, W).
    - gamma: array of shape (C,), scale per channel.
    - beta: array of shape (C,), shift per channel.
    - bn_param: dict as for batchnorm_forward, with keys
      - mode: 'train' or 'test' (required)
      - eps: added to the variance for numeric stability (default 1e-5)
      - momentum: of the running averages (default 0.9)
      - running_mean: array of shape (C,) (zeros when absent; written back)
      - running_var: array of shape (C,) (zeros when absent; written back)

    Returns a tuple of:
    - out: array of shape (N, C, H, W).
    - cache: what the backward pass needs.
    """
    out, cache = None, None
    # Hint: move the channel axis last and flatten the rest, and the vanilla
    # batchnorm_forward does the work in a few lines.
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    x_rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = batchnorm_forward(x_rows, gamma, beta, bn_param)
    out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return out, cache


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of spatial batch normalization (training mode).

    Inputs:
    - dout: array of shape (N, C, H, W), upstream gradient.
    - cache: from spatial_batchnorm_forward.

    Returns a tuple of:
    - dx: array of shape (N, C, H, W), gradient with respect to x.
    - dgamma: array of shape (C,), gradient with respect to gamma.
    - dbeta: array of shape (C,), gradient with respect to beta.
    """
    dx, dgamma, dbeta = None, None, None
    # Hint: the same reshaping as the forward pass, around a vanilla backward pass.
    ### BEGIN SOLUTION
    N, C, H, W = dout.shape
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx_rows, dgamma, dbeta = batchnorm_backward_alt(dout_rows, cache)
    dx = dx_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    ### END SOLUTION
    return dx, dgamma, dbeta


def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
    """Forward pass of spatial group normalization.

    The C channels are split into G groups of C // G consecutive channels
    (channels 0 .. C/G - 1 form group 0, and so on). Each example is normalized on
    its own: the mean and (biased) variance of group g of example n are taken over
    that group's C // G channels and all H * W positions. Then every channel is
    scaled and shifted by its own gamma and beta. Training and test time behave
    the same, so there are no running averages.

    Inputs:
    - x: array of shape (N, C, H, W).
    - gamma: array of shape (1, C, 1, 1), scale per channel.
    - beta: array of shape (1, C, 1, 1), shift per channel.
    - G: number of groups; it divides C.
    - gn_param: dict with key
      - eps: added to the variance for numeric stability (default 1e-5)

    Returns a tuple of:
    - out: array of shape (N, C, H, W).
    - cache: what the backward pass needs.
    """
    out, cache = None, None
    eps = gn_param.get("eps", 1e-5)
    # Hint: reshape x to (N, G, C // G, H, W) (or (N, G, -1)); a group is then one
    # slice, much as an example is one row in layer normalization.
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    xg = x.reshape(N, G, -1)
    mu = xg.mean(axis=2, keepdims=True)
    xc = xg - mu
    std = np.sqrt((xc ** 2).mean(axis=2, keepdims=True) + eps)
    x_hat = (xc / std).reshape(N, C, H, W)
    out = gamma * x_hat + beta
    cache = (x_hat, std, gamma, G)
    ### END SOLUTION
    return out, cache


def spatial_groupnorm_backward(dout, cache):
    """Backward pass of spatial group normalization.

    Inputs:
    - dout: array of shape (N, C, H, W), upstream gradient.
    - cache: from spatial_groupnorm_forward.

    Returns a tuple of:
    - dx: array of shape (N, C, H, W), gradient with respect to x.
    - dgamma: array of shape (1, C, 1, 1), gradient with respect to gamma.
    - dbeta: array of shape (1, C, 1, 1), gradient with respect to beta.
    """
    dx, dgamma, dbeta = None, None, None
    # Hint: once dL/dx_hat is known, each group is a layer normalization of its
    # own slice.
    ### BEGIN SOLUTION
    x_hat, std, gamma, G = cache
    N, C, H, W = dout.shape
    dbeta = dout.sum(axis=(0, 2, 3), keepdims=True)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx_hat = (dout * gamma).reshape(N, G, -1)
    x_hat_g = x_hat.reshape(N, G, -1)
    dx = (dx_hat - dx_hat.mean(axis=2, keepdims=True)
          - x_hat_g * (dx_hat * x_hat_g).mean(axis=2, keepdims=True)) / std
    dx = dx.reshape(N, C, H, W)
    ### END SOLUTION
    return dx, dgamma, dbeta
