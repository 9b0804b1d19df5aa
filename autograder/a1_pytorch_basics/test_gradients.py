"""Hidden graders: the hand-derived gradients of TwoLayerRegression.ipynb.

Each gradient is compared with autograd's, computed here, on fresh shapes, with
autograd switched off in the student process (the gradients must be derived by hand).
One grader per parameter, so a mistake in one part of the chain rule costs only
the gradients it affects.
"""

from a1_support import REGRESSION, autograd_off, param_tuple, reference_gradients, regression_problem, send
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array

pytestmark = question("gradients")

# (seed, N, D, M, K). N > 1 everywhere: with one example a bias gradient that is not
# summed over the batch would still be right.
PROBLEMS = [(201, 8, 3, 6, 2), (202, 13, 1, 5, 1), (203, 4, 5, 3, 4)]


def _check_gradient(student, index, name):
    nb = student.notebook(REGRESSION, require=["sigmoid", "gradients"])
    for seed, N, D, M, K in PROBLEMS:
        X, Y, params = regression_problem(seed, N, D, M, K)
        _, expected = reference_gradients(X, Y, params)
        with autograd_off(student):
            grads = param_tuple("gradients(...)", nb.gradients(*send(student, X, Y, *params)))
        check_array(f"{name} with N={N}, D={D}, M={M}, K={K}", grads[index], expected[index], tol=1e-8)


@weight(4)
@number("2.1")
def test_grad_W2(student):
    """df/dW2 against autograd"""
    _check_gradient(student, 2, "dW2")


@weight(4)
@number("2.2")
def test_grad_b2(student):
    """df/db2 against autograd (summed over the batch)"""
    _check_gradient(student, 3, "db2")


@weight(4)
@number("2.3")
def test_grad_W1(student):
    """df/dW1 against autograd (through the sigmoid)"""
    _check_gradient(student, 0, "dW1")


@weight(4)
@number("2.4")
def test_grad_b1(student):
    """df/db1 against autograd (through the sigmoid, summed over the batch)"""
    _check_gradient(student, 1, "db1")
