"""Log-sum-exp and log-softmax: the numerically stable building blocks of the
softmax (cross-entropy) loss. Question 2."""

from typing import Optional

from ..autograd import NDArray, Tensor, TensorOp
from ..autograd import array_api
from .ops_mathematic import *  # noqa: F401,F403


class LogSoftmax(TensorOp):
    """Log-softmax over the last axis of a 2-D input.

    LogSoftmax(z)_ij = z_ij - log(sum_k exp(z_ik)).
    """

    def compute(self, Z: NDArray) -> NDArray:
        """
        Inputs:
        - Z: array of shape (N, C), one row of scores per example.

        Returns: array of shape (N, C); exp of each row sums to 1. Must not overflow
        for large scores (e.g. 1e5): subtract each row's maximum first.
        """
        # Hint: log(sum exp(z)) = max(z) + log(sum exp(z - max(z))).
        ### BEGIN SOLUTION
        shifted = Z - array_api.max(Z, axis=-1, keepdims=True)
        return shifted - array_api.log(array_api.sum(array_api.exp(shifted), axis=-1, keepdims=True))
        ### END SOLUTION

    def gradient(self, out_grad: Tensor, node: Tensor) -> Tensor:
        """
        Inputs:
        - out_grad: Tensor of shape (N, C), the adjoint of the output.
        - node: the output Tensor, log-softmax of node.inputs[0].

        Returns: Tensor of shape (N, C), the adjoint of the input. Build it from
        needle operators so that it is differentiable too.
        """
        # Hint: with s = softmax(z) = exp(node), dz = g - s * (sum of g over the row).
        ### BEGIN SOLUTION
        shape = node.shape
        row_sums = summation(out_grad, axes=(len(shape) - 1,))
        row_sums = broadcast_to(reshape(row_sums, shape[:-1] + (1,)), shape)
        return out_grad - exp(node) * row_sums
        ### END SOLUTION


def logsoftmax(a):
    return LogSoftmax()(a)


class LogSumExp(TensorOp):
    """log(sum(exp(z))) over `axes`, computed without overflow.

    LogSumExp(axes)(z) = max_z + log(sum(exp(z - max_z), axes)), where max_z is the
    maximum over the same axes. The reduced axes are removed from the shape, as
    in `summation`.
    """

    def __init__(self, axes: Optional[tuple] = None):
        """axes: an int, a tuple of ints, or None for every axis."""
        if isinstance(axes, int):
            axes = (axes,)
        self.axes = axes

    def compute(self, Z: NDArray) -> NDArray:
        """
        Inputs:
        - Z: array of any shape.

        Returns: array of Z's shape with `self.axes` removed (shape () when axes is
        None). Finite even when exp(Z) would overflow (e.g. Z = 1e10).
        """
        # Hint: keep the maximum with keepdims=True so it broadcasts against Z.
        ### BEGIN SOLUTION
        z_max = array_api.max(Z, axis=self.axes, keepdims=True)
        summed = array_api.sum(array_api.exp(Z - z_max), axis=self.axes, keepdims=True)
        out = array_api.log(summed) + z_max
        if self.axes is None:
            return out.reshape(())
        return array_api.squeeze(out, axis=self.axes)
        ### END SOLUTION

    def gradient(self, out_grad: Tensor, node: Tensor) -> Tensor:
        """
        Inputs:
        - out_grad: Tensor shaped like the output.
        - node: the output Tensor; node.inputs[0] is Z.

        Returns: Tensor shaped like Z. Use needle operators (reshape, broadcast_to,
        exp, ...) so the result stays differentiable.
        """
        # Hint: d lse / dz = exp(z - lse), with lse broadcast back over the reduced axes.
        ### BEGIN SOLUTION
        z = node.inputs[0]
        axes = range(len(z.shape)) if self.axes is None else self.axes
        axes = {ax % len(z.shape) for ax in axes}
        kept = tuple(1 if k in axes else n for k, n in enumerate(z.shape))
        lse = broadcast_to(reshape(node, kept), z.shape)
        grad = broadcast_to(reshape(out_grad, kept), z.shape)
        return grad * exp(z - lse)
        ### END SOLUTION


def logsumexp(a, axes=None):
    return LogSumExp(axes=axes)(a)
