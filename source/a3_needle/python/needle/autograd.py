"""The core of needle: tensors that record how they were computed, and reverse-mode
automatic differentiation over that record.

A `Tensor` made by an operator keeps the operator (`op`) and the tensors it was
applied to (`inputs`); leaves (data, parameters) have `op is None`. Calling
`loss.backward()` walks this graph from `loss` back to the leaves and stores
d(loss)/d(node) in every node's `.grad`.

This file is provided complete; you do not need to change it.
"""

from functools import reduce
from operator import add
from typing import Dict, List, Optional, Tuple

import numpy

from .backend_numpy import Device, cpu, all_devices  # noqa: F401  (re-exported)

# When True, operators only record the graph and values are computed on demand.
LAZY_MODE = False
# Number of Value objects alive right now; the optimizer memory checks read it.
TENSOR_COUNTER = 0

# numpy is the array library behind every tensor in this homework.
array_api = numpy
NDArray = numpy.ndarray

class Op:
    """An operator: how to compute a value from input arrays, and how to pass an
    output gradient back to the inputs."""

    def __call__(self, *args):
        raise NotImplementedError()

    def compute(self, *args: Tuple[NDArray]):
        """Compute the output array from the input arrays.

        Inputs: the input values, as arrays (numpy arrays here).
        Returns: the output value, as an array.
        """
        raise NotImplementedError()

    def gradient(self, out_grad: "Value", node: "Value") -> "Value | Tuple[Value, ...]":
        """Partial adjoints of the inputs, given the output's adjoint.

        Inputs:
        - out_grad: d(loss)/d(node), a Tensor shaped like `node`.
        - node: the Tensor this operator produced (its inputs are `node.inputs`).
        Returns: one Tensor per input, each shaped like that input (a single
        Tensor for a one-input operator, else a tuple).
        """
        raise NotImplementedError()

    def gradient_as_tuple(self, out_grad: "Value", node: "Value") -> Tuple["Value", ...]:
        output = self.gradient(out_grad, node)
        if isinstance(output, tuple):
            return output
        if isinstance(output, list):
            return tuple(output)
        return (output,)


class TensorOp(Op):
    """An operator whose output is a single Tensor."""

    def __call__(self, *args):
        return Tensor.make_from_op(self, args)


class TensorTupleOp(Op):
    """An operator whose output is a tuple of tensors."""

    def __call__(self, *args):
        return TensorTuple.make_from_op(self, args)


class Value:
    """A node of the computational graph."""

    op: Optional[Op]
    inputs: List["Value"]
    cached_data: NDArray
    requires_grad: bool

    def realize_cached_data(self):
        """The node's value, computing it (and its inputs') if not done yet."""
        if self.cached_data is not None:
            return self.cached_data
        self.cached_data = self.op.compute(*[x.realize_cached_data() for x in self.inputs])
        return self.cached_data

    def is_leaf(self):
        return self.op is None

    def __del__(self):
        global TENSOR_COUNTER
        TENSOR_COUNTER -= 1

    def _init(self, op: Optional[Op], inputs: List["Value"], *, num_outputs: int = 1,
              cached_data=None, requires_grad: Optional[bool] = None):
        global TENSOR_COUNTER
        TENSOR_COUNTER += 1
        if requires_grad is None:
            requires_grad = any(x.requires_grad for x in inputs)
        self.op = op
        self.inputs = inputs
        self.num_outputs = num_outputs
        self.cached_data = cached_data
        self.requires_grad = requires_grad

    @classmethod
    def make_const(cls, data, *, requires_grad=False):
        """A leaf holding `data` (an array, or another Value's data) without copying."""
        value = cls.__new__(cls)
        if isinstance(data, Value):
            data = data.realize_cached_data()
        value._init(None, [], cached_data=data, requires_grad=requires_grad)
        return value

    @classmethod
    def make_from_op(cls, op: Op, inputs: List["Value"]):
        value = cls.__new__(cls)
        inputs = list(inputs)
        if any(x.requires_grad for x in inputs):
            value._init(op, inputs, requires_grad=True)
            if not LAZY_MODE:
                value.realize_cached_data()
        else:
            # Nothing upstream needs a gradient: keep the value, not the graph.
            data = op.compute(*[x.realize_cached_data() for x in inputs])
            value._init(None, [], cached_data=data, requires_grad=False)
        return value


class TensorTuple(Value):
    """A tuple of tensors produced by one operator (see ops/ops_tuple.py)."""

    def __len__(self):
        return len(self.realize_cached_data())

    def __getitem__(self, index: int):
        return _ops.tuple_get_item(self, index)

    def tuple(self):
        return tuple(self[i] for i in range(len(self)))

    def __repr__(self):
        return "needle.TensorTuple" + str(self.tuple())

    def __str__(self):
        return self.__repr__()

    def __add__(self, other):
        assert isinstance(other, TensorTuple) and len(self) == len(other)
        return _ops.make_tuple(*[self[i] + other[i] for i in range(len(self))])

    def detach(self):
        return TensorTuple.make_const(self.realize_cached_data())


class Tensor(Value):
    """An n-dimensional array that takes part in automatic differentiation.

    Tensor(array, *, device=None, dtype=None, requires_grad=True)
    - array: a numpy array, a (nested) list or number, or another Tensor. The data
      is copied.
    - dtype: e.g. "float32"; None keeps the dtype of `array`.
    - requires_grad: whether gradients flow back into this tensor.
    """

    grad: "Tensor"

    def __init__(self, array, *, device: Optional[Device] = None, dtype=None,
                 requires_grad=True, **kwargs):
        if isinstance(array, Tensor):
            if device is None:
                device = array.device
            if dtype is None:
                dtype = array.dtype
            if device == array.device and dtype == array.dtype:
                cached_data = array.realize_cached_data()
            else:
                cached_data = Tensor._array_from_numpy(array.numpy(), device=device, dtype=dtype)
        else:
            device = device if device else cpu()
            cached_data = Tensor._array_from_numpy(array, device=device, dtype=dtype)
        self._init(None, [], cached_data=cached_data, requires_grad=requires_grad)

    @staticmethod
    def _array_from_numpy(numpy_array, device, dtype):
        return array_api.array(numpy_array, dtype=dtype)

    @property
    def data(self):
        """The same values, detached from the graph (no gradient flows through)."""
        return self.detach()

    @data.setter
    def data(self, value):
        assert isinstance(value, Tensor), "assign a Tensor to .data"
        assert value.dtype == self.dtype, f"dtype mismatch: {value.dtype} vs {self.dtype}"
        self.cached_data = value.realize_cached_data()

    def detach(self):
        """A new leaf Tensor sharing this tensor's values, outside the graph."""
        return Tensor.make_const(self.realize_cached_data())

    @property
    def shape(self):
        return self.realize_cached_data().shape

    @property
    def dtype(self):
        return self.realize_cached_data().dtype

    @property
    def device(self):
        return cpu()

    @property
    def ndim(self):
        return len(self.shape)

    def backward(self, out_grad: Optional["Tensor"] = None):
        """Store d(self)/d(node) in `.grad` of every node self depends on.

        out_grad: the adjoint of self; ones (for a scalar loss: 1) when omitted.
        """
        from . import init

        if out_grad is None:
            out_grad = init.ones(*self.shape, dtype=self.dtype, device=self.device)
        compute_gradient_of_variables(self, out_grad)

    def numpy(self):
        """The values as a numpy array (shared, not copied)."""
        data = self.realize_cached_data()
        if array_api is numpy:
            return data
        return data.numpy()

    def __repr__(self):
        return "needle.Tensor(" + str(self.realize_cached_data()) + ")"

    def __str__(self):
        return self.realize_cached_data().__str__()

    # ---- operators; each builds one node of the graph (see ops/) ----

    def __add__(self, other):
        if isinstance(other, Tensor):
            return _ops.EWiseAdd()(self, other)
        return _ops.AddScalar(other)(self)

    def __mul__(self, other):
        if isinstance(other, Tensor):
            return _ops.EWiseMul()(self, other)
        return _ops.MulScalar(other)(self)

    def __pow__(self, other):
        if isinstance(other, Tensor):
            return _ops.EWisePow()(self, other)
        return _ops.PowerScalar(other)(self)

    def __sub__(self, other):
        if isinstance(other, Tensor):
            return _ops.EWiseAdd()(self, _ops.Negate()(other))
        return _ops.AddScalar(-other)(self)

    def __rsub__(self, other):
        return _ops.AddScalar(other)(_ops.Negate()(self))

    def __truediv__(self, other):
        if isinstance(other, Tensor):
            return _ops.EWiseDiv()(self, other)
        return _ops.DivScalar(other)(self)

    def __matmul__(self, other):
        return _ops.MatMul()(self, other)

    def matmul(self, other):
        return _ops.MatMul()(self, other)

    def sum(self, axes=None):
        return _ops.Summation(axes)(self)

    def broadcast_to(self, shape):
        return _ops.BroadcastTo(shape)(self)

    def reshape(self, shape):
        return _ops.Reshape(shape)(self)

    def __neg__(self):
        return _ops.Negate()(self)

    def transpose(self, axes=None):
        return _ops.Transpose(axes)(self)

    __radd__ = __add__
    __rmul__ = __mul__
    __rmatmul__ = __matmul__


def compute_gradient_of_variables(output_tensor: Tensor, out_grad: Tensor) -> None:
    """Reverse-mode differentiation: set `.grad` of every node that `output_tensor`
    depends on and that requires a gradient.

    Nodes are visited in reverse topological order, so when a node is reached all
    the contributions to its adjoint (one per use of the node) are known.

    The gradients are computed with tensor operators, so they record a graph of
    their own (as in the public needle): a `.grad` is a Tensor that keeps the tensors
    it was computed from alive. Optimizers therefore work on `.grad.data` / `.detach()`
    and store only detached tensors.
    """
    grads_of: Dict[Value, List[Tensor]] = {output_tensor: [out_grad]}
    for node in reversed(find_topo_sort([output_tensor])):
        contributions = grads_of.pop(node, None)
        if contributions is None:
            continue
        node.grad = sum_node_list(contributions)
        if node.op is None:
            continue
        partials = node.op.gradient_as_tuple(node.grad, node)
        for inp, partial in zip(node.inputs, partials):
            if inp.requires_grad:
                grads_of.setdefault(inp, []).append(partial)


def find_topo_sort(node_list: List[Value]) -> List[Value]:
    """The nodes reachable from `node_list`, each after all of its inputs.

    Iterative depth-first search, so deep graphs (long training loops kept in one
    graph) do not hit Python's recursion limit.
    """
    order: List[Value] = []
    visited = set()
    for root in node_list:
        if id(root) in visited:
            continue
        stack = [(root, False)]
        while stack:
            node, inputs_done = stack.pop()
            if inputs_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for inp in reversed(node.inputs):
                if id(inp) not in visited:
                    stack.append((inp, False))
    return order


def sum_node_list(node_list):
    """The sum of a list of tensors, without creating a redundant zero node."""
    return reduce(add, node_list)



# Imported last: the operators subclass TensorOp and build Tensors defined above.
from . import ops as _ops  # noqa: E402
