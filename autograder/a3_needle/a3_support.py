"""Helpers shared by the a3 (needle) graders. Trusted code: runs in the grader process."""

import os
from pathlib import Path

import numpy as np

from coursekit.grading.checks import as_numeric_array
from coursekit.sandbox.codec import Handle


def values(name, x):
    """A student result as a numpy array: a Tensor's `.numpy()`, or an array as is."""
    if isinstance(x, Handle):
        x = x.numpy()
    if type(x) in (int, float):
        x = np.asarray(x)
    return as_numeric_array(name, x)


def tensor(ndl, array, dtype="float32", requires_grad=True):
    """A needle Tensor made in the student process from a grader array."""
    return ndl.Tensor(np.asarray(array), dtype=dtype, requires_grad=requires_grad)


def backward_with(ndl, out, upstream, dtype="float32"):
    """out.backward(upstream): d(loss)/d(out) is the grader's array `upstream`."""
    out.backward(ndl.Tensor(np.asarray(upstream), dtype=dtype, requires_grad=False))


def grad_of(name, t):
    """`t.grad` as an array, with a clear message when backward never set it."""
    g = t.grad
    if g is None:
        raise AssertionError(f"{name}: .grad is None after backward()")
    return values(name, g)


def readable(path: Path) -> str:
    """Make a grader-written file readable by the student process; its path as str."""
    os.chmod(path, 0o644)
    return str(path)


def check_dtype(name, array, dtype=np.float32):
    if array.dtype != dtype:
        raise AssertionError(f"{name}: expected dtype {np.dtype(dtype).name}, got {array.dtype}")
