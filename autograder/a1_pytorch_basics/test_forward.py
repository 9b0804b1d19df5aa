"""Hidden graders: sigmoid, forward pass and loss of TwoLayerRegression.ipynb.

Inputs are float64 tensors made in the student process from the grader's arrays;
expected values are computed here with torch's own operations.
"""

import numpy as np
import torch

from a1_support import REGRESSION, regression_problem, send, torch_forward
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array, check_scalar

pytestmark = question("forward")

# (seed, N, D, M, K): shapes the notebook never uses; K = 1 as in the notebook's data too.
PROBLEMS = [(101, 9, 3, 7, 2), (102, 6, 1, 4, 1)]


@weight(2)
@number("1.1")
def test_sigmoid(student):
    """sigmoid on a 2-D tensor, large negative and positive inputs included"""
    nb = student.notebook(REGRESSION, require=["sigmoid"])
    z = np.linspace(-30.0, 30.0, 24).reshape(4, 6)
    z[1, 2] = 0.0
    (zt,) = send(student, z)
    expected = torch.sigmoid(torch.from_numpy(z)).numpy()
    check_array("sigmoid(z)", nb.sigmoid(zt), expected, tol=1e-10)


@weight(4)
@number("1.2")
def test_forward(student):
    """forward(X, W1, b1, W2, b2) on two fresh shapes"""
    nb = student.notebook(REGRESSION, require=["sigmoid", "forward"])
    for seed, N, D, M, K in PROBLEMS:
        X, _, params = regression_problem(seed, N, D, M, K)
        expected = torch_forward(torch.from_numpy(X), *map(torch.from_numpy, params)).numpy()
        out = nb.forward(*send(student, X, *params))
        check_array(f"forward with N={N}, D={D}, M={M}, K={K}", out, expected, tol=1e-10)


@weight(2)
@number("1.3")
def test_loss(student):
    """loss_fn(Y_pred, Y) is the sum of squared residuals (not the mean)"""
    nb = student.notebook(REGRESSION, require=["loss_fn"])
    rng = np.random.default_rng(103)
    for shape in [(7, 3), (5, 1)]:
        Y_pred, Y = rng.standard_normal(shape), rng.standard_normal(shape)
        out = nb.loss_fn(*send(student, Y_pred, Y))
        if type(out) is np.ndarray and out.size != 1:
            raise AssertionError(f"loss_fn must return a single number (a 0-dim tensor), "
                                 f"got an array of shape {out.shape}")
        check_scalar(f"loss_fn on {shape[0]}x{shape[1]} inputs", out, float(((Y - Y_pred) ** 2).sum()),
                     tol=1e-10)
