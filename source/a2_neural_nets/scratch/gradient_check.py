"""Numeric gradients by centred differences, to check analytic backward passes.

Every function here perturbs its input in place and restores it afterwards, so the
functions it calls must read the array they were given (not a copy made earlier).
"""
from random import randrange

import numpy as np


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numeric gradient of a scalar function at x.

    Inputs:
    - f: function taking one argument (an array shaped like x) and returning a scalar.
    - x: float array, the point to evaluate the gradient at (modified, then restored).
    - verbose: print every coordinate's gradient as it is computed.
    - h: step of the centred difference.

    Returns:
    - grad: array shaped like x, grad[i] ~ (f(x + h e_i) - f(x - h e_i)) / 2h.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numeric gradient of an array-valued function, contracted with an upstream
    gradient: the gradient of sum(f(x) * df) with respect to x.

    Inputs:
    - f: function taking an array shaped like x and returning an array shaped like df.
    - x: float array (modified, then restored).
    - df: array, the upstream gradient dL/df(x).
    - h: step of the centred difference.

    Returns:
    - grad: array shaped like x.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def eval_numerical_gradient_blobs(f, inputs, output, h=1e-5):
    """Numeric gradients of a function of several array inputs that writes its
    result into `output` (used by layers implemented as in-place kernels).

    Inputs:
    - f: function called as f(*inputs) that fills output.vals.
    - inputs: objects with `.vals` (the array) and `.diffs` (its gradient).
    - output: object with `.vals` and `.diffs`, the upstream gradient in `.diffs`.

    Returns:
    - a list of arrays, the numeric gradient for each input.
    """
    grads = []
    for blob in inputs:
        diff = np.zeros_like(blob.diffs)
        it = np.nditer(blob.vals, flags=["multi_index"], op_flags=["readwrite"])
        while not it.finished:
            ix = it.multi_index
            old = blob.vals[ix]
            blob.vals[ix] = old + h
            f(*inputs)
            pos = np.copy(output.vals)
            blob.vals[ix] = old - h
            f(*inputs)
            neg = np.copy(output.vals)
            blob.vals[ix] = old
            diff[ix] = np.sum((pos - neg) * output.diffs) / (2.0 * h)
            it.iternext()
        grads.append(diff)
    return grads


def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5):
    """Compare an analytic gradient with numeric ones at a few random coordinates.

    Inputs:
    - f: function taking an array shaped like x and returning a scalar.
    - x: float array (modified, then restored).
    - analytic_grad: array shaped like x, the gradient to check.
    - num_checks: how many random coordinates to check.
    - h: step of the centred difference.

    Prints, for each coordinate, the numeric and analytic values and their relative
    error.
    """
    for _ in range(num_checks):
        ix = tuple(randrange(m) for m in x.shape)
        old = x[ix]
        x[ix] = old + h
        fxph = f(x)
        x[ix] = old - h
        fxmh = f(x)
        x[ix] = old
        grad_numerical = (fxph - fxmh) / (2 * h)
        grad_analytic = analytic_grad[ix]
        rel_error = abs(grad_numerical - grad_analytic) / max(
            1e-12, abs(grad_numerical) + abs(grad_analytic)
        )
        print(
            "numerical: %f analytic: %f, relative error: %e"
            % (grad_numerical, grad_analytic, rel_error)
        )
