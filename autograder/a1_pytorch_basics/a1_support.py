"""Helpers shared by the a1 graders. Trusted code: runs in the grader process.

The reference values here come from PyTorch in the grader process: forward passes
written out with torch operations and gradients from autograd, never from the
student's code.
"""

import re
from contextlib import contextmanager

import numpy as np
import torch

from coursekit.sandbox.errors import SandboxFailure, StudentError

REGRESSION = "TwoLayerRegression.ipynb"
MNIST = "MNIST.ipynb"
PARAM_NAMES = ("W1", "b1", "W2", "b2")


def require(condition, message):
    """Fail the grader with exactly `message` (a plain assert would add pytest's introspection)."""
    if not condition:
        raise AssertionError(message)


def unpickling_problem(message):
    """A short reason why torch.load(weights_only=True) refused a file."""
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", message)
    if found:
        return f"it holds a pickled {found.group(1)} object, not only tensors"
    return message.strip().splitlines()[0][:300] if message.strip() else "it could not be read"


def regression_problem(seed, N, D, M, K):
    """A random regression problem in float64: (X, Y, (W1, b1, W2, b2)) as numpy arrays.

    Every parameter is non-zero (b2 included), so an implementation that drops a
    term cannot match by accident.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    Y = rng.standard_normal((N, K))
    W1 = 1.5 * rng.standard_normal((D, M))
    b1 = rng.standard_normal(M)
    W2 = rng.standard_normal((M, K)) / np.sqrt(M)
    b2 = rng.standard_normal(K)
    return X, Y, (W1, b1, W2, b2)


def torch_forward(X, W1, b1, W2, b2):
    """The network's output computed with torch's own sigmoid, on torch tensors."""
    return torch.sigmoid(X @ W1 + b1) @ W2 + b2


def reference_loss(X, Y, params):
    """f = ||Y - Y_pred||_F^2 for numpy inputs, as a Python float."""
    with torch.no_grad():
        t = [torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (X, Y, *params)]
        return float(((t[1] - torch_forward(t[0], *t[2:])) ** 2).sum())


def reference_gradients(X, Y, params):
    """(f, [dW1, db1, dW2, db2]) from autograd, as a float and numpy arrays."""
    Xt, Yt = torch.from_numpy(X), torch.from_numpy(Y)
    leaves = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
    f = ((Yt - torch_forward(Xt, *leaves)) ** 2).sum()
    grads = torch.autograd.grad(f, leaves)
    return float(f.detach()), [g.numpy() for g in grads]


def reference_descent(X, Y, params, lr, num_steps, scale=1.0):
    """Gradient descent with autograd gradients; each step moves by lr * scale * df/dW.

    Returns (final params, losses before each step), numpy arrays and floats.
    """
    params = [np.array(p, dtype=np.float64) for p in params]
    losses = []
    for _ in range(num_steps):
        f, grads = reference_gradients(X, Y, params)
        losses.append(f)
        params = [p - lr * scale * g for p, g in zip(params, grads)]
    return params, losses


def send(student, *arrays):
    """Torch tensors in the student process (handles), one per numpy array."""
    return [student.tensor(np.ascontiguousarray(a)) for a in arrays]


@contextmanager
def autograd_off(student):
    """Run student calls with autograd disabled in the student process.

    Hand-derived gradients need no autograd; code that secretly calls backward()
    fails here with an error that says so.
    """
    torch_in_child = student.module("torch")
    torch_in_child.set_grad_enabled(False)
    try:
        yield
    except StudentError as exc:
        if "does not require grad" in exc.message or "grad_fn" in exc.message:
            raise AssertionError(
                "gradients must be computed by hand, without autograd (.backward() or "
                "torch.autograd), but your code needed it:\n" + str(exc)) from None
        raise
    finally:
        try:
            torch_in_child.set_grad_enabled(True)
        except SandboxFailure:
            pass  # the process died or timed out: the next test gets a fresh one


def as_float(name, value):
    """A Python float from a student's number or 0-d / 1-element array."""
    if type(value) is np.ndarray and value.size == 1 and value.dtype.kind in "biuf":
        return float(value.reshape(()))
    if type(value) in (int, float):
        return float(value)
    raise AssertionError(f"{name}: expected a number, got a value of type {type(value).__name__}")


def float_list(name, value, length):
    """A student's list of numbers as a float64 array of the given length."""
    if type(value) not in (list, tuple):
        raise AssertionError(f"{name}: expected a list of floats, got {type(value).__name__}")
    if len(value) != length:
        raise AssertionError(f"{name}: expected {length} entries, got {len(value)}")
    return np.array([as_float(f"{name}[{i}]", v) for i, v in enumerate(value)], dtype=np.float64)


def param_tuple(name, value):
    """A student's (W1, b1, W2, b2) result as four arrays, with a clear message otherwise."""
    if type(value) not in (list, tuple) or len(value) != 4:
        raise AssertionError(f"{name}: expected a tuple (W1, b1, W2, b2)")
    return list(value)
