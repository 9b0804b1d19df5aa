"""Basic tensor constructors (provided).

Every random draw goes through the device, i.e. numpy's global legacy generator:
after `np.random.seed(n)` the same calls give the same tensors.
"""

import numpy

from .. import autograd
from ..backend_numpy import cpu


def rand(*shape, low=0.0, high=1.0, device=None, dtype="float32", requires_grad=False):
    """Uniform draws in [low, high), of the given shape (one call to np.random.rand)."""
    device = cpu() if device is None else device
    array = device.rand(*shape) * (high - low) + low
    return autograd.Tensor(array, device=device, dtype=dtype, requires_grad=requires_grad)


def randn(*shape, mean=0.0, std=1.0, device=None, dtype="float32", requires_grad=False):
    """Normal draws with the given mean and standard deviation (one np.random.randn call)."""
    device = cpu() if device is None else device
    array = device.randn(*shape) * std + mean
    return autograd.Tensor(array, device=device, dtype=dtype, requires_grad=requires_grad)


def constant(*shape, c=1.0, device=None, dtype="float32", requires_grad=False):
    """A tensor filled with c."""
    device = cpu() if device is None else device
    array = device.full(shape, c, dtype=dtype)
    return autograd.Tensor.make_const(array, requires_grad=requires_grad)


def ones(*shape, device=None, dtype="float32", requires_grad=False):
    return constant(*shape, c=1.0, device=device, dtype=dtype, requires_grad=requires_grad)


def zeros(*shape, device=None, dtype="float32", requires_grad=False):
    return constant(*shape, c=0.0, device=device, dtype=dtype, requires_grad=requires_grad)


def randb(*shape, p=0.5, device=None, dtype="bool", requires_grad=False):
    """Bernoulli draws: True (1) with probability p, i.e. where np.random.rand(*shape) <= p."""
    device = cpu() if device is None else device
    array = device.rand(*shape) <= p
    return autograd.Tensor(array, device=device, dtype=dtype, requires_grad=requires_grad)


def one_hot(n, i, device=None, dtype="float32", requires_grad=False):
    """Rows of the n x n identity picked by the integer labels i (a Tensor or array):
    shape i.shape + (n,)."""
    device = cpu() if device is None else device
    labels = i.numpy() if isinstance(i, autograd.Tensor) else i
    array = device.one_hot(n, numpy.asarray(labels).astype("int64", copy=False), dtype=dtype)
    return autograd.Tensor.make_const(array, requires_grad=requires_grad)


def zeros_like(array, *, device=None, requires_grad=False):
    device = device if device else array.device
    return zeros(*array.shape, dtype=array.dtype, device=device, requires_grad=requires_grad)


def ones_like(array, *, device=None, requires_grad=False):
    device = device if device else array.device
    return ones(*array.shape, dtype=array.dtype, device=device, requires_grad=requires_grad)
