"""Element-wise, shape and matrix operators, each with its gradient.

Every operator has two halves:
- `compute(*arrays)` works on numpy arrays and returns the output array;
- `gradient(out_grad, node)` works on Tensors (so gradients are differentiable
  too) and returns one adjoint per input, shaped like that input.

This file is provided complete (it was the previous homework).
"""

from numbers import Number
from typing import Optional, Tuple

from ..autograd import NDArray, Tensor, TensorOp
from ..autograd import array_api


class EWiseAdd(TensorOp):
    def compute(self, a: NDArray, b: NDArray):
        return a + b

    def gradient(self, out_grad: Tensor, node: Tensor):
        return out_grad, out_grad


def add(a, b):
    return EWiseAdd()(a, b)


class AddScalar(TensorOp):
    def __init__(self, scalar):
        self.scalar = scalar

    def compute(self, a: NDArray):
        return a + self.scalar

    def gradient(self, out_grad: Tensor, node: Tensor):
        return out_grad


def add_scalar(a, scalar):
    return AddScalar(scalar)(a)


class EWiseMul(TensorOp):
    def compute(self, a: NDArray, b: NDArray):
        return a * b

    def gradient(self, out_grad: Tensor, node: Tensor):
        lhs, rhs = node.inputs
        return out_grad * rhs, out_grad * lhs


def multiply(a, b):
    return EWiseMul()(a, b)


class MulScalar(TensorOp):
    def __init__(self, scalar):
        self.scalar = scalar

    def compute(self, a: NDArray):
        return a * self.scalar

    def gradient(self, out_grad: Tensor, node: Tensor):
        return (out_grad * self.scalar,)


def mul_scalar(a, scalar):
    return MulScalar(scalar)(a)


class EWisePow(TensorOp):
    """a ** b, element-wise, for tensors a > 0 and b."""

    def compute(self, a: NDArray, b: NDArray) -> NDArray:
        return a**b

    def gradient(self, out_grad, node):
        a, b = node.inputs
        return out_grad * b * a ** (b - 1), out_grad * node * log(a)


def power(a, b):
    return EWisePow()(a, b)


class PowerScalar(TensorOp):
    """a ** scalar, element-wise, for a number `scalar`."""

    def __init__(self, scalar: Number):
        self.scalar = scalar

    def compute(self, a: NDArray) -> NDArray:
        return a**self.scalar

    def gradient(self, out_grad, node):
        a = node.inputs[0]
        return out_grad * self.scalar * a ** (self.scalar - 1)


def power_scalar(a, scalar):
    return PowerScalar(scalar)(a)


class EWiseDiv(TensorOp):
    def compute(self, a, b):
        return a / b

    def gradient(self, out_grad, node):
        a, b = node.inputs
        return out_grad / b, -out_grad * a / (b * b)


def divide(a, b):
    return EWiseDiv()(a, b)


class DivScalar(TensorOp):
    def __init__(self, scalar):
        self.scalar = scalar

    def compute(self, a):
        return a / self.scalar

    def gradient(self, out_grad, node):
        return out_grad / self.scalar


def divide_scalar(a, scalar):
    return DivScalar(scalar)(a)


class Transpose(TensorOp):
    """Swap two axes: `axes=(i, j)`; by default the last two."""

    def __init__(self, axes: Optional[tuple] = None):
        self.axes = axes

    def _pair(self, ndim):
        return self.axes if self.axes is not None else (ndim - 2, ndim - 1)

    def compute(self, a):
        i, j = self._pair(a.ndim)
        return array_api.swapaxes(a, i, j)

    def gradient(self, out_grad, node):
        # Swapping the same two axes again undoes the swap.
        return transpose(out_grad, self._pair(len(out_grad.shape)))


def transpose(a, axes=None):
    return Transpose(axes)(a)


class Reshape(TensorOp):
    def __init__(self, shape):
        self.shape = tuple(shape)

    def compute(self, a):
        return array_api.reshape(a, self.shape)

    def gradient(self, out_grad, node):
        return reshape(out_grad, node.inputs[0].shape)


def reshape(a, shape):
    return Reshape(shape)(a)


class BroadcastTo(TensorOp):
    """Repeat `a` along its length-1 axes (and new leading axes) to `shape`."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def compute(self, a):
        return array_api.broadcast_to(a, self.shape)

    def gradient(self, out_grad, node):
        in_shape = node.inputs[0].shape
        return reshape(summation(out_grad, _broadcast_axes(in_shape, self.shape)), in_shape)


def _broadcast_axes(in_shape, out_shape) -> Tuple[int, ...]:
    """The axes of `out_shape` that broadcasting from `in_shape` created or stretched."""
    lead = len(out_shape) - len(in_shape)
    stretched = tuple(
        lead + k for k, (n_in, n_out) in enumerate(zip(in_shape, out_shape[lead:]))
        if n_in == 1 and n_out != 1
    )
    return tuple(range(lead)) + stretched


def broadcast_to(a, shape):
    return BroadcastTo(shape)(a)


class Summation(TensorOp):
    """Sum over `axes` (an int, a tuple of ints, or None for all axes); the summed
    axes are removed from the shape."""

    def __init__(self, axes: Optional[tuple] = None):
        if isinstance(axes, int):
            axes = (axes,)
        self.axes = axes

    def compute(self, a):
        return array_api.sum(a, axis=self.axes)

    def gradient(self, out_grad, node):
        in_shape = node.inputs[0].shape
        axes = range(len(in_shape)) if self.axes is None else self.axes
        axes = {ax % len(in_shape) for ax in axes}
        # Put the summed axes back as length-1 axes, then repeat along them.
        kept_shape = tuple(1 if k in axes else n for k, n in enumerate(in_shape))
        return broadcast_to(reshape(out_grad, kept_shape), in_shape)


def summation(a, axes=None):
    return Summation(axes)(a)


class MatMul(TensorOp):
    """Matrix product; leading axes are batch axes, broadcast as in numpy."""

    def compute(self, a, b):
        return a @ b

    def gradient(self, out_grad, node):
        a, b = node.inputs
        grad_a = matmul(out_grad, transpose(b))
        grad_b = matmul(transpose(a), out_grad)
        return _sum_to_shape(grad_a, a.shape), _sum_to_shape(grad_b, b.shape)


def _sum_to_shape(grad, shape):
    """Undo batch broadcasting: sum the extra leading axes of `grad` away."""
    if grad.shape == tuple(shape):
        return grad
    return reshape(summation(grad, _broadcast_axes(shape, grad.shape)), shape)


def matmul(a, b):
    return MatMul()(a, b)


class Negate(TensorOp):
    def compute(self, a):
        return -a

    def gradient(self, out_grad, node):
        return -out_grad


def negate(a):
    return Negate()(a)


class Log(TensorOp):
    def compute(self, a):
        return array_api.log(a)

    def gradient(self, out_grad, node):
        return out_grad / node.inputs[0]


def log(a):
    return Log()(a)


class Exp(TensorOp):
    def compute(self, a):
        return array_api.exp(a)

    def gradient(self, out_grad, node):
        return out_grad * node


def exp(a):
    return Exp()(a)


class ReLU(TensorOp):
    def compute(self, a):
        return array_api.maximum(a, 0)

    def gradient(self, out_grad, node):
        # The derivative is 1 where the input was positive, else 0; it is data, not
        # part of the graph.
        x = node.inputs[0].realize_cached_data()
        return out_grad * Tensor.make_const((x > 0).astype(x.dtype))


def relu(a):
    return ReLU()(a)
