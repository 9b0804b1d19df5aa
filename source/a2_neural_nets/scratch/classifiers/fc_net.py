"""Fully connected classifiers built from the layers in scratch/layers.py."""
import numpy as np

from ..layers import *
from ..layer_utils import *


class TwoLayerNet:
    """A two-layer fully connected network with a ReLU nonlinearity and a softmax
    loss, using a modular layer design:

        affine - relu - affine - softmax

    Inputs have dimension D, the hidden layer has H units, and there are C classes.
    The network does not run gradient descent itself; a Solver does, through
    `params` and `loss`.

    Attributes:
    - params: dict with "W1" (D, H), "b1" (H,), "W2" (H, C), "b2" (C,).
    - reg: strength of the L2 regularization.
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0):
        """
        Inputs:
        - input_dim: D, the size of one (flattened) input.
        - hidden_dim: H, the size of the hidden layer.
        - num_classes: C.
        - weight_scale: standard deviation of the Gaussian the weights are drawn from.
        - reg: strength of the L2 regularization.
        """
        self.params = {}
        self.reg = reg
        # Hint: draw W1 then W2 with np.random.randn(...) * weight_scale; biases are
        # zeros. Keep this order so your numbers match the notebook's.
        ### BEGIN SOLUTION
        self.params["W1"] = np.random.randn(input_dim, hidden_dim) * weight_scale
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = np.random.randn(hidden_dim, num_classes) * weight_scale
        self.params["b2"] = np.zeros(num_classes)
        ### END SOLUTION

    def loss(self, X, y=None):
        """Compute the loss and gradients on a minibatch, or the scores at test time.

        Inputs:
        - X: array of shape (N, d_1, ..., d_k), with d_1 * ... * d_k = D.
        - y: integer array of shape (N,), labels in [0, C); None at test time.

        Returns:
        - If y is None: scores, an array of shape (N, C).
        - Otherwise a tuple (loss, grads): the softmax loss plus
          0.5 * reg * (sum of squared weights), and a dict with the same keys as
          self.params holding the gradient of that loss with respect to each.
        """
        scores = None
        ### BEGIN SOLUTION
        hidden, cache1 = affine_relu_forward(X, self.params["W1"], self.params["b1"])
        scores, cache2 = affine_forward(hidden, self.params["W2"], self.params["b2"])
        ### END SOLUTION

        if y is None:
            return scores

        loss, grads = 0, {}
        # Hint: the 0.5 in the regularization term keeps its gradient at reg * W.
        ### BEGIN SOLUTION
        W1, W2 = self.params["W1"], self.params["W2"]
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, cache1)
        grads["W2"] += self.reg * W2
        grads["W1"] += self.reg * W1
        ### END SOLUTION

        return loss, grads


class FullyConnectedNet:
    """A fully connected network with any number of hidden layers, ReLU
    nonlinearities and a softmax loss. With L layers it computes

        {affine - [batch/layer norm] - relu - [dropout]} x (L - 1) - affine - softmax

    where normalization and dropout are optional, and the block in braces is
    repeated L - 1 times.

    Attributes:
    - params: dict with "W1", "b1", ..., "WL", "bL" and, when normalization is used,
      "gamma1", "beta1", ..., "gamma{L-1}", "beta{L-1}" (none for the output layer).
    - bn_params: list of L - 1 dicts, the state passed to each normalization layer.
    - dropout_param: dict passed to every dropout layer.
    - reg, num_layers, normalization, use_dropout, dtype.
    """

    def __init__(self, hidden_dims, input_dim=3 * 32 * 32, num_classes=10,
                 dropout_keep_ratio=1, normalization=None, reg=0.0,
                 weight_scale=1e-2, dtype=np.float32, seed=None):
        """
        Inputs:
        - hidden_dims: list of the sizes of the hidden layers.
        - input_dim: D, the size of one (flattened) input.
        - num_classes: C.
        - dropout_keep_ratio: probability of keeping a unit in dropout; 1 means no
          dropout.
        - normalization: None, "batchnorm" or "layernorm".
        - reg: strength of the L2 regularization.
        - weight_scale: standard deviation of the Gaussian the weights are drawn from.
        - dtype: numpy float type of all computation; float64 for gradient checks.
        - seed: when given, dropout layers are seeded with it, so the model is
          deterministic (used by gradient checks).
        """
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio != 1
        self.reg = reg
        self.num_layers = 1 + len(hidden_dims)
        self.dtype = dtype
        self.params = {}

        # Hint: go layer by layer, drawing W_k = np.random.randn(in, out) *
        # weight_scale with zero b_k; with normalization, gamma_k is ones and beta_k
        # zeros for every layer but the last.
        ### BEGIN SOLUTION
        dims = [input_dim] + list(hidden_dims) + [num_classes]
        for k in range(1, self.num_layers + 1):
            self.params["W%d" % k] = np.random.randn(dims[k - 1], dims[k]) * weight_scale
            self.params["b%d" % k] = np.zeros(dims[k])
            if normalization is not None and k < self.num_layers:
                self.params["gamma%d" % k] = np.ones(dims[k])
                self.params["beta%d" % k] = np.zeros(dims[k])
        ### END SOLUTION

        # Every dropout layer shares this dict; loss() sets its mode.
        self.dropout_param = {}
        if self.use_dropout:
            self.dropout_param = {"mode": "train", "p": dropout_keep_ratio}
            if seed is not None:
                self.dropout_param["seed"] = seed

        # One dict per normalization layer: the running averages of batch
        # normalization live there, so each layer needs its own.
        self.bn_params = []
        if self.normalization == "batchnorm":
            self.bn_params = [{"mode": "train"} for _ in range(self.num_layers - 1)]
        if self.normalization == "layernorm":
            self.bn_params = [{} for _ in range(self.num_layers - 1)]

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute the loss and gradients on a minibatch, or the scores at test time.

        Inputs:
        - X: array of shape (N, d_1, ..., d_k), with d_1 * ... * d_k = input_dim.
        - y: integer array of shape (N,), labels in [0, C); None at test time.

        Returns:
        - If y is None: scores, an array of shape (N, C), computed in test mode
          (running statistics for batch normalization, no dropout).
        - Otherwise a tuple (loss, grads): the softmax loss plus
          0.5 * reg * (sum of squared weights W1..WL; gammas and betas are not
          regularized), and a dict with the same keys as self.params holding the
          gradient of that loss with respect to each.
        """
        X = X.astype(self.dtype)
        mode = "test" if y is None else "train"

        # Batch normalization and dropout behave differently in training and test.
        if self.use_dropout:
            self.dropout_param["mode"] = mode
        if self.normalization == "batchnorm":
            for bn_param in self.bn_params:
                bn_param["mode"] = mode

        scores = None
        # Hint: keep every layer's cache in a list; the backward pass walks it in
        # reverse.
        ### BEGIN SOLUTION
        L = self.num_layers
        caches = []
        h = X
        for k in range(1, L):
            w, b = self.params["W%d" % k], self.params["b%d" % k]
            if self.normalization == "batchnorm":
                h, cache = affine_bn_relu_forward(
                    h, w, b, self.params["gamma%d" % k], self.params["beta%d" % k],
                    self.bn_params[k - 1])
            elif self.normalization == "layernorm":
                h, cache = affine_ln_relu_forward(
                    h, w, b, self.params["gamma%d" % k], self.params["beta%d" % k],
                    self.bn_params[k - 1])
            else:
                h, cache = affine_relu_forward(h, w, b)
            drop_cache = None
            if self.use_dropout:
                h, drop_cache = dropout_forward(h, self.dropout_param)
            caches.append((cache, drop_cache))
        scores, out_cache = affine_forward(h, self.params["W%d" % L], self.params["b%d" % L])
        ### END SOLUTION

        if mode == "test":
            return scores

        loss, grads = 0.0, {}
        ### BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        for k in range(1, L + 1):
            w = self.params["W%d" % k]
            loss += 0.5 * self.reg * np.sum(w * w)

        dh, dw, db = affine_backward(dscores, out_cache)
        grads["W%d" % L] = dw + self.reg * self.params["W%d" % L]
        grads["b%d" % L] = db
        for k in range(L - 1, 0, -1):
            cache, drop_cache = caches[k - 1]
            if self.use_dropout:
                dh = dropout_backward(dh, drop_cache)
            if self.normalization == "batchnorm":
                dh, dw, db, dgamma, dbeta = affine_bn_relu_backward(dh, cache)
            elif self.normalization == "layernorm":
                dh, dw, db, dgamma, dbeta = affine_ln_relu_backward(dh, cache)
            else:
                dh, dw, db = affine_relu_backward(dh, cache)
            if self.normalization is not None:
                grads["gamma%d" % k] = dgamma
                grads["beta%d" % k] = dbeta
            grads["W%d" % k] = dw + self.reg * self.params["W%d" % k]
            grads["b%d" % k] = db
        ### END SOLUTION

        return loss, grads


def save_model(path, model, mean_image=None):
    """Save a TwoLayerNet or FullyConnectedNet as an .npz file (no pickles).

    The file holds every parameter ("param_W1", ...), the architecture the network
    is rebuilt from ("config_*"), the running averages of batch normalization
    ("bn_running_mean_k", "bn_running_var_k") and, when given, the mean image that
    was subtracted from the inputs ("mean_image").

    Inputs:
    - path: file name, normally ending in .npz.
    - model: the trained network.
    - mean_image: optional array, the preprocessing the network expects.
    """
    params = model.params
    num_layers = sum(1 for k in params if k.startswith("W"))
    widths = [params["W%d" % k].shape[1] for k in range(1, num_layers + 1)]
    normalization = getattr(model, "normalization", None)
    arrays = {
        "config_input_dim": np.int64(params["W1"].shape[0]),
        "config_hidden_dims": np.asarray(widths[:-1], dtype=np.int64),
        "config_num_classes": np.int64(widths[-1]),
        "config_normalization": np.str_(normalization or "none"),
    }
    for k, v in params.items():
        arrays["param_" + k] = np.asarray(v)
    if normalization == "batchnorm":
        for k, bn_param in enumerate(model.bn_params, start=1):
            arrays["bn_running_mean_%d" % k] = np.asarray(bn_param["running_mean"])
            arrays["bn_running_var_%d" % k] = np.asarray(bn_param["running_var"])
    if mean_image is not None:
        arrays["mean_image"] = np.asarray(mean_image)
    np.savez(path, **arrays)


def load_model(path):
    """Rebuild a network saved by save_model.

    Returns a tuple of:
    - model: a FullyConnectedNet in test-ready state.
    - mean_image: the saved mean image, or None.
    """
    with np.load(path, allow_pickle=False) as f:
        normalization = str(f["config_normalization"])
        model = FullyConnectedNet(
            hidden_dims=[int(d) for d in f["config_hidden_dims"]],
            input_dim=int(f["config_input_dim"]),
            num_classes=int(f["config_num_classes"]),
            normalization=None if normalization == "none" else normalization,
        )
        for k in list(model.params):
            model.params[k] = f["param_" + k]
        if normalization == "batchnorm":
            for k, bn_param in enumerate(model.bn_params, start=1):
                bn_param["running_mean"] = f["bn_running_mean_%d" % k]
                bn_param["running_var"] = f["bn_running_var_%d" % k]
        mean_image = f["mean_image"] if "mean_image" in f.files else None
    return model, mean_image
