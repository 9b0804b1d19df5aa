"""Question 2: LogSumExp and LogSoftmax (values, stability, numeric gradients)."""

import numpy as np

import reference_needle as ref
from a3_support import backward_with, grad_of, tensor, values
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array, numeric_gradient_array

pytestmark = question("logsumexp")

LSE_CASES = [((4, 5, 3), (1,)), ((2, 3, 4), (0, 2)), ((3, 6), None), ((2, 2, 3, 2), (1, 2, 3))]


def _lse(ndl, z, axes, dtype="float32"):
    """The student's logsumexp of z; a full reduction may come back as shape (1,)."""
    out = values(f"logsumexp(z, axes={axes})", ndl.ops.logsumexp(tensor(ndl, z, dtype=dtype), axes=axes))
    return out.reshape(()) if axes is None and out.size == 1 else out


def _scores(shape, seed, scale=3.0):
    return np.random.default_rng(seed).standard_normal(shape) * scale


@weight(2)
@number("2.1")
def test_logsumexp_forward(ndl):
    for k, (shape, axes) in enumerate(LSE_CASES):
        z = _scores(shape, 100 + k)
        got = _lse(ndl, z, axes)
        check_array(f"logsumexp of a {shape} input, axes={axes}", got,
                    ref.logsumexp(z.astype(np.float32), axes).astype(np.float32), tol=1e-5)


@weight(2)
@number("2.2")
def test_logsumexp_stable(ndl):
    z = _scores((3, 5), 7, scale=1.0) + np.array([[5e3], [-5e3], [0.0]])
    z[2, 1] = 1e4
    for axes in [(1,), (0,)]:
        got = _lse(ndl, z, axes, dtype="float64")
        check_array(f"logsumexp with entries near +-1e4 (overflow without the max shift), axes={axes}",
                    got, ref.logsumexp(z, axes), tol=1e-7)


@weight(3)
@number("2.3")
def test_logsumexp_gradient(ndl):
    for k, (shape, axes) in enumerate(LSE_CASES):
        z = _scores(shape, 200 + k, scale=1.0)
        upstream = np.random.default_rng(300 + k).standard_normal(ref.logsumexp(z, axes).shape)
        x = tensor(ndl, z, dtype="float64")
        backward_with(ndl, ndl.ops.logsumexp(x, axes=axes), upstream, dtype="float64")
        got = grad_of(f"gradient of logsumexp (axes={axes})", x)
        numeric = numeric_gradient_array(
            lambda v: _lse(ndl, v, axes, dtype="float64"), z, upstream)
        check_array(f"gradient of logsumexp of a {shape} input, axes={axes}, against a numeric gradient",
                    got, numeric, tol=1e-6)


@weight(1)
@number("2.4")
def test_logsoftmax_forward(ndl):
    z = _scores((5, 7), 11)
    got = values("logsoftmax(z)", ndl.ops.logsoftmax(tensor(ndl, z)))
    check_array("logsoftmax of a (5, 7) input", got, ref.logsoftmax(z.astype(np.float32)), tol=1e-5)
    big = _scores((3, 4), 12) * 1e4
    got = values("logsoftmax(z)", ndl.ops.logsoftmax(tensor(ndl, big, dtype="float64")))
    check_array("logsoftmax with entries near +-3e4 (overflow without the max shift)", got,
                ref.logsoftmax(big), tol=1e-7)


@weight(2)
@number("2.5")
def test_logsoftmax_gradient(ndl):
    z = _scores((4, 6), 13, scale=1.0)
    upstream = np.random.default_rng(14).standard_normal((4, 6))
    x = tensor(ndl, z, dtype="float64")
    backward_with(ndl, ndl.ops.logsoftmax(x), upstream, dtype="float64")
    got = grad_of("gradient of logsoftmax", x)
    numeric = numeric_gradient_array(
        lambda v: values("logsoftmax", ndl.ops.logsoftmax(tensor(ndl, v, dtype="float64"))), z, upstream)
    check_array("gradient of logsoftmax of a (4, 6) input, against a numeric gradient", got, numeric,
                tol=1e-6)
