"""Hidden graders: full-batch gradient descent and mini-batch SGD in TwoLayerRegression.ipynb.

Both training functions call the student's own loss_fn and gradients, so a wrong
gradient shows up here too; the messages say so. The grader's runs use autograd's
gradients, computed here.
"""

import numpy as np

from a1_support import (REGRESSION, autograd_off, float_list, param_tuple, reference_descent,
                        reference_loss, regression_problem, require, send)
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array

pytestmark = question("training")

CELLS = ["sigmoid", "forward", "loss_fn", "gradients"]
DEPENDS = " (this uses your loss_fn and gradients: if their tests fail, fix those first)"


@weight(5)
@number("3.1")
def test_gradient_descent(student):
    """gradient_descent: loss history and final parameters match the grader's run, and the loss decreases"""
    nb = student.notebook(REGRESSION, require=CELLS + ["gradient_descent"])
    X, Y, params = regression_problem(301, 20, 2, 6, 1)
    lr, steps = 0.02, 25
    expected_params, expected_losses = reference_descent(X, Y, params, lr, steps)
    with autograd_off(student):
        result = nb.gradient_descent(*send(student, X, Y, *params), lr, steps)
    if type(result) is not tuple or len(result) != 2:
        raise AssertionError("gradient_descent must return a tuple (params, losses)")
    got_params, losses = param_tuple("params", result[0]), float_list("losses", result[1], steps)
    check_array("losses (losses[t] is f before update t)" + DEPENDS, losses, expected_losses, tol=1e-6)
    require(losses[-1] < losses[0], "the loss did not decrease")
    for name, got, want in zip(("W1", "b1", "W2", "b2"), got_params, expected_params):
        check_array(f"{name} after {steps} steps" + DEPENDS, got, want, tol=1e-6)


@weight(3)
@number("3.2")
def test_minibatch_sgd_one_batch_is_gradient_descent(student):
    """minibatch_sgd with batch_size = N: steps of lr / N times the gradient, losses f / N"""
    nb = student.notebook(REGRESSION, require=CELLS + ["minibatch_sgd"])
    N = 24
    X, Y, params = regression_problem(302, N, 3, 5, 2)
    lr, epochs = 0.1, 10
    # With one batch holding every example the order does not matter, so the run is
    # deterministic: gradient descent with step lr / N.
    expected_params, expected_losses = reference_descent(X, Y, params, lr, epochs, scale=1.0 / N)
    with autograd_off(student):
        result = nb.minibatch_sgd(*send(student, X, Y, *params), lr, N, epochs, seed=5)
    if type(result) is not tuple or len(result) != 2:
        raise AssertionError("minibatch_sgd must return a tuple (params, losses)")
    got_params, losses = param_tuple("params", result[0]), float_list("losses", result[1], epochs)
    check_array("losses (f_B / |B| before each update)" + DEPENDS, losses,
                np.asarray(expected_losses) / N, tol=1e-6)
    for name, got, want in zip(("W1", "b1", "W2", "b2"), got_params, expected_params):
        check_array(f"{name} after {epochs} full-batch updates (step lr / |B|)" + DEPENDS, got, want,
                    tol=1e-6)


@weight(2)
@number("3.3")
def test_minibatch_sgd_batches(student):
    """minibatch_sgd with small batches: one update per batch (the last one partial), seeded order, loss decreases"""
    nb = student.notebook(REGRESSION, require=CELLS + ["minibatch_sgd"])
    rng = np.random.default_rng(303)
    N, batch_size, epochs, lr = 50, 16, 3, 0.1
    X = rng.uniform(-1.0, 1.0, (N, 2))
    Y = np.sin(2.0 * X[:, :1]) + X[:, 1:] ** 2
    _, _, params = regression_problem(304, N, 2, 8, 1)
    updates = epochs * -(-N // batch_size)   # 4 batches per epoch: 16 + 16 + 16 + 2
    runs = []
    with autograd_off(student):
        for seed in (7, 7, 8):
            result = nb.minibatch_sgd(*send(student, X, Y, *params), lr, batch_size, epochs, seed=seed)
            if type(result) is not tuple or len(result) != 2:
                raise AssertionError("minibatch_sgd must return a tuple (params, losses)")
            runs.append((param_tuple("params", result[0]),
                         float_list(f"losses ({N} examples, batches of {batch_size}, {epochs} epochs)",
                                    result[1], updates)))
    (p7, l7), (p7b, l7b), (_, l8) = runs
    require(np.array_equal(l7, l7b) and all(np.array_equal(a, b) for a, b in zip(p7, p7b)),
            "two runs with the same seed gave different results: "
            "draw the order with a torch.Generator seeded by `seed`")
    require(not np.array_equal(l7, l8),
            "runs with different seeds visited the batches in the same order")
    before = reference_loss(X, Y, params) / N
    after = reference_loss(X, Y, p7) / N
    require(np.isfinite(after) and after < 0.5 * before,
            f"after {epochs} epochs the mean squared error over all examples is {after:.4g}, "
            f"from {before:.4g} at the start; expected it to at least halve" + DEPENDS)
