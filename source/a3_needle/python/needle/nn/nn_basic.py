"""Neural-network modules (Questions 3 and 4).

A `Module` holds Parameters and sub-modules as attributes and maps input Tensors to
an output Tensor in `forward`. Build every forward pass from needle operators (no
numpy on tensor values) so that `backward` can differentiate it.

Shapes: N is the batch size, D (or `dim`) the number of features.
"""

from typing import List

import numpy as np

import needle.init as init
from needle import ops
from needle.autograd import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: found by `Module.parameters()`."""


def _unpack_params(value: object) -> List[Tensor]:
    if isinstance(value, Parameter):
        return [value]
    if isinstance(value, Module):
        return value.parameters()
    if isinstance(value, dict):
        params = []
        for v in value.values():
            params += _unpack_params(v)
        return params
    if isinstance(value, (list, tuple)):
        params = []
        for v in value:
            params += _unpack_params(v)
        return params
    return []


def _child_modules(value: object) -> List["Module"]:
    if isinstance(value, Module):
        modules = [value]
        modules.extend(_child_modules(value.__dict__))
        return modules
    if isinstance(value, dict):
        modules = []
        for v in value.values():
            modules += _child_modules(v)
        return modules
    if isinstance(value, (list, tuple)):
        modules = []
        for v in value:
            modules += _child_modules(v)
        return modules
    return []


class Module:
    """Base class of all modules (provided)."""

    def __init__(self):
        self.training = True

    def parameters(self) -> List[Tensor]:
        """Every Parameter of this module and its sub-modules, in attribute order."""
        return _unpack_params(self.__dict__)

    def _children(self) -> List["Module"]:
        return _child_modules(self.__dict__)

    def eval(self):
        """Switch this module and all sub-modules to evaluation mode."""
        self.training = False
        for m in self._children():
            m.training = False
        return self

    def train(self):
        """Switch this module and all sub-modules to training mode."""
        self.training = True
        for m in self._children():
            m.training = True
        return self

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)


class Identity(Module):
    def forward(self, x):
        """Returns x unchanged."""
        ### BEGIN SOLUTION
        return x
        ### END SOLUTION


class Linear(Module):
    """y = x W + b.

    Parameters (created in this order, which fixes the random draws):
    - weight: Parameter of shape (in_features, out_features),
      init.kaiming_uniform(in_features, out_features);
    - bias (when bias=True): Parameter of shape (1, out_features),
      init.kaiming_uniform(out_features, 1) reshaped to (1, out_features).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype="float32"):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        # Hint: pass device and dtype on to the initializer; wrap tensors in Parameter.
        ### BEGIN SOLUTION
        self.weight = Parameter(
            init.kaiming_uniform(in_features, out_features, device=device, dtype=dtype))
        if bias:
            b = init.kaiming_uniform(out_features, 1, device=device, dtype=dtype)
            self.bias = Parameter(b.reshape((1, out_features)))
        else:
            self.bias = None
        ### END SOLUTION

    def forward(self, X: Tensor) -> Tensor:
        """
        Inputs:
        - X: Tensor of shape (N, ..., in_features); any number of leading axes.

        Returns: Tensor of shape (N, ..., out_features).
        """
        # Hint: needle's broadcast_to does not broadcast implicitly: broadcast the
        # bias to the output's shape yourself.
        ### BEGIN SOLUTION
        out = X @ self.weight
        if self.bias is not None:
            out = out + self.bias.broadcast_to(out.shape)
        return out
        ### END SOLUTION


class Flatten(Module):
    def forward(self, X):
        """
        Inputs:
        - X: Tensor of shape (N, d1, d2, ...).

        Returns: Tensor of shape (N, d1 * d2 * ...), in row-major order.
        """
        ### BEGIN SOLUTION
        return X.reshape((X.shape[0], int(np.prod(X.shape[1:]))))
        ### END SOLUTION


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        """Element-wise max(x, 0), same shape as x."""
        ### BEGIN SOLUTION
        return ops.relu(x)
        ### END SOLUTION


class Sequential(Module):
    """Applies `modules` one after the other."""

    def __init__(self, *modules):
        super().__init__()
        self.modules = modules

    def forward(self, x: Tensor) -> Tensor:
        """Returns modules[-1](...modules[1](modules[0](x)))."""
        ### BEGIN SOLUTION
        for module in self.modules:
            x = module(x)
        return x
        ### END SOLUTION


class SoftmaxLoss(Module):
    def forward(self, logits: Tensor, y: Tensor):
        """Mean softmax (cross-entropy) loss.

        Inputs:
        - logits: Tensor of shape (N, K), unnormalized class scores.
        - y: Tensor of shape (N,), integer labels in [0, K).

        Returns: Tensor of shape (), mean over the batch of
        logsumexp(logits_i) - logits_i[y_i].
        """
        # Hint: init.one_hot picks logits_i[y_i] with a product and a sum.
        ### BEGIN SOLUTION
        n, k = logits.shape
        y_one_hot = init.one_hot(k, y, device=logits.device, dtype=logits.dtype)
        picked = ops.summation(logits * y_one_hot, axes=(1,))
        return ops.summation(ops.logsumexp(logits, axes=(1,)) - picked) / n
        ### END SOLUTION


class BatchNorm1d(Module):
    """Batch normalization over the batch axis of (N, dim) inputs.

    Training: normalize with the batch mean and the biased batch variance, and
    update running_mean / running_var (not Parameters) as
        running = (1 - momentum) * running + momentum * batch_statistic,
    using the same biased variance. Evaluation: normalize with the running values.
    Output: weight * normalized + bias, with weight and bias of shape (dim,).
    """

    def __init__(self, dim, eps=1e-5, momentum=0.1, device=None, dtype="float32"):
        super().__init__()
        self.dim = dim
        self.eps = eps
        self.momentum = momentum
        ### BEGIN SOLUTION
        self.weight = Parameter(init.ones(dim, device=device, dtype=dtype))
        self.bias = Parameter(init.zeros(dim, device=device, dtype=dtype))
        self.running_mean = init.zeros(dim, device=device, dtype=dtype)
        self.running_var = init.ones(dim, device=device, dtype=dtype)
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """
        Inputs:
        - x: Tensor of shape (N, dim).

        Returns: Tensor of shape (N, dim).
        """
        # Hint: keep the running statistics out of the graph (.data / .detach()),
        # or every step would keep the previous steps' graphs alive.
        ### BEGIN SOLUTION
        n, d = x.shape
        if self.training:
            mean = ops.summation(x, axes=(0,)) / n
            centered = x - mean.reshape((1, d)).broadcast_to((n, d))
            var = ops.summation(centered**2, axes=(0,)) / n
            m = self.momentum
            self.running_mean = ((1 - m) * self.running_mean + m * mean.data).data
            self.running_var = ((1 - m) * self.running_var + m * var.data).data
        else:
            centered = x - self.running_mean.reshape((1, d)).broadcast_to((n, d))
            var = self.running_var
        std = ((var + self.eps) ** 0.5).reshape((1, d)).broadcast_to((n, d))
        normalized = centered / std
        return (self.weight.reshape((1, d)).broadcast_to((n, d)) * normalized
                + self.bias.reshape((1, d)).broadcast_to((n, d)))
        ### END SOLUTION


class LayerNorm1d(Module):
    """Layer normalization over the feature axis of (N, dim) inputs: each row is
    normalized with its own mean and biased variance, then scaled by weight and
    shifted by bias (both of shape (dim,), initialized to ones and zeros)."""

    def __init__(self, dim, eps=1e-5, device=None, dtype="float32"):
        super().__init__()
        self.dim = dim
        self.eps = eps
        ### BEGIN SOLUTION
        self.weight = Parameter(init.ones(dim, device=device, dtype=dtype))
        self.bias = Parameter(init.zeros(dim, device=device, dtype=dtype))
        ### END SOLUTION

    def forward(self, x: Tensor) -> Tensor:
        """
        Inputs:
        - x: Tensor of shape (N, dim).

        Returns: Tensor of shape (N, dim).
        """
        ### BEGIN SOLUTION
        n, d = x.shape
        mean = (ops.summation(x, axes=(1,)) / d).reshape((n, 1)).broadcast_to((n, d))
        centered = x - mean
        var = (ops.summation(centered**2, axes=(1,)) / d).reshape((n, 1))
        std = ((var + self.eps) ** 0.5).broadcast_to((n, d))
        return (self.weight.reshape((1, d)).broadcast_to((n, d)) * (centered / std)
                + self.bias.reshape((1, d)).broadcast_to((n, d)))
        ### END SOLUTION


class Dropout(Module):
    """In training, zero each entry with probability p and scale the survivors by
    1 / (1 - p); in evaluation, the identity."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        """
        Inputs:
        - x: Tensor of any shape.

        Returns: Tensor of the same shape.
        """
        # Hint: draw the mask with init.randb(*x.shape, p=1 - self.p): an entry is
        # kept where np.random.rand(...) <= 1 - p.
        ### BEGIN SOLUTION
        if not self.training:
            return x
        keep = init.randb(*x.shape, p=1 - self.p, device=x.device, dtype=x.dtype)
        return x * keep / (1 - self.p)
        ### END SOLUTION


class Residual(Module):
    """fn(x) + x, for a module fn whose output has x's shape."""

    def __init__(self, fn: Module):
        super().__init__()
        self.fn = fn

    def forward(self, x: Tensor) -> Tensor:
        ### BEGIN SOLUTION
        return self.fn(x) + x
        ### END SOLUTION
