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
