"""A small convolutional network for image classification."""
import numpy as np

from ..layers import *
from ..fast_layers import *
from ..layer_utils import *


class ThreeLayerConvNet:
    """A three-layer convolutional network with the architecture

        conv - relu - 2x2 max pool - affine - relu - affine - softmax

    It works on minibatches of N images, each of shape (C, H, W).

    The convolution keeps the spatial size: stride 1 and (filter_size - 1) // 2
    zeros of padding on each side (filter_size is odd). The pool has 2x2 windows
    and stride 2, so it halves H and W (round down).

    Learnable parameters live in self.params:
    - W1: (num_filters, C, filter_size, filter_size), b1: (num_filters,), the
      convolution's filters and biases.
    - W2: (num_filters * (H // 2) * (W // 2), hidden_dim), b2: (hidden_dim,), the
      hidden affine layer; its input is the pooled output flattened per example.
    - W3: (hidden_dim, num_classes), b3: (num_classes,), the output affine layer.
    """

    def __init__(
        self,
        input_dim=(3, 32, 32),
        num_filters=32,
        filter_size=7,
        hidden_dim=100,
        num_classes=10,
        weight_scale=1e-3,
        reg=0.0,
        dtype=np.float32,
    ):
        """
        Inputs:
        - input_dim: tuple (C, H, W), the shape of one input image.
        - num_filters: number of filters of the convolutional layer.
        - filter_size: width and height of those filters (odd).
        - hidden_dim: number of units of the hidden affine layer.
        - num_classes: number of scores to produce.
        - weight_scale: standard deviation of the normal distribution the weights
          are drawn from (mean 0); all biases start at zero.
        - reg: strength of the L2 regularization.
        - dtype: numpy float type of every parameter and computation; float32 is
          faster, float64 is needed for numeric gradient checks.
        """
        self.params = {}
        self.reg = reg
        self.dtype = dtype

        # Hint: use np.random.randn for the weights, so that np.random.seed makes
        # initialization reproducible.
        ### BEGIN SOLUTION
        C, H, W = input_dim
        F = num_filters
        self.params["W1"] = weight_scale * np.random.randn(F, C, filter_size, filter_size)
        self.params["b1"] = np.zeros(F)
        self.params["W2"] = weight_scale * np.random.randn(F * (H // 2) * (W // 2), hidden_dim)
        self.params["b2"] = np.zeros(hidden_dim)
        self.params["W3"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b3"] = np.zeros(num_classes)
        ### END SOLUTION

        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        """Compute the scores, or the loss and its gradient, for a minibatch.

        Inputs:
        - X: array of shape (N, C, H, W), input images.
        - y: integer array of shape (N,), y[i] in [0, num_classes) is the label of
          X[i]; None at test time.

        Returns:
        If y is None, the test-time forward pass:
        - scores: array of shape (N, num_classes), scores[i, c] is the score of
          class c for X[i].
        Otherwise, the training-time forward and backward passes:
        - loss: scalar, the mean softmax loss plus
          0.5 * reg * (sum of squared entries of W1, W2 and W3); biases are not
          regularized.
        - grads: dict with the same keys as self.params, grads[k] the gradient of
          the loss with respect to self.params[k].
        """
        X = X.astype(self.dtype)
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        W3, b3 = self.params["W3"], self.params["b3"]

        # Pass conv_param and pool_param to the forward passes of the layers.
        filter_size = W1.shape[2]
        conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}

        scores = None
        # Hint: the fast layers and the sandwich layers in layer_utils.py
        # (conv_relu_pool_forward, affine_relu_forward) keep this short and quick.
        ### BEGIN SOLUTION
        pooled, cache1 = conv_relu_pool_forward(X, W1, b1, conv_param, pool_param)
        hidden, cache2 = affine_relu_forward(pooled, W2, b2)
        scores, cache3 = affine_forward(hidden, W3, b3)
        ### END SOLUTION

        if y is None:
            return scores

        loss, grads = 0, {}
        # Hint: the 0.5 in the regularization term makes the gradient reg * W.
        ### BEGIN SOLUTION
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2) + np.sum(W3 * W3))
        dhidden, grads["W3"], grads["b3"] = affine_backward(dscores, cache3)
        dpooled, grads["W2"], grads["b2"] = affine_relu_backward(dhidden, cache2)
        _, grads["W1"], grads["b1"] = conv_relu_pool_backward(dpooled, cache1)
        grads["W3"] += self.reg * W3
        grads["W2"] += self.reg * W2
        grads["W1"] += self.reg * W1
        ### END SOLUTION

        return loss, grads
