"""coursekit.grading.checks: the comparisons graders rely on accept right values and
refuse wrong ones with the documented messages."""

import math

import numpy as np
import pytest

from coursekit.grading.checks import (accuracy, as_numeric_array, check_array, check_scalar,
                                      numeric_gradient, numeric_gradient_array, rel_error)
from coursekit.sandbox.codec import Handle


def test_rel_error_follows_its_formula():
    # max |x - y| / max(1e-8, |x| + |y|), worked by hand
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)
    assert rel_error(3.0, -3.0) == pytest.approx(1.0)
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-12 / 1e-8)   # the floor, not 1.0
    assert rel_error(np.zeros(0), np.zeros(0)) == 0.0


def test_check_array_accepts_close_values_of_any_numeric_dtype():
    expected = np.linspace(-1, 1, 6).reshape(2, 3)
    check_array("dx", expected * (1 + 1e-9), expected)
    check_array("dx", expected.astype(np.float32), expected, tol=1e-6)
    check_array("mask", np.array([True, False]), np.array([1, 0]))
    check_array("counts", np.arange(4, dtype=np.int16), np.arange(4.0))


@pytest.mark.parametrize("actual, message", [
    (np.full((2, 3), 0.5) * 1.1, "dx: relative error 4.8e-02, expected below 1e-07"),
    (np.zeros((3, 2)), "dx: expected shape (2, 3), got (3, 2)"),
    (np.full((2, 3), 0.5).tolist(), "dx: expected a numpy array, got a value of type list"),
    (np.array([["a"] * 3] * 2), "dx: expected a numeric array, got dtype <U1"),
    (np.array([[np.nan, 0.5, 0.5], [0.5, np.inf, -np.inf]]), "dx: 3 entries are NaN or infinite"),
    (np.full((2, 3), 0.5).view(np.recarray), "dx: expected a numpy array, got a value of type recarray"),
    (np.full((2, 3), 0.5 + 0j), "dx: expected a numeric array, got dtype complex128"),
])
def test_check_array_refuses_wrong_values_with_its_message(actual, message):
    with pytest.raises(AssertionError) as info:
        check_array("dx", actual, np.full((2, 3), 0.5))
    assert str(info.value) == message


def test_check_array_refuses_a_handle_by_its_type():
    handle = Handle(7, "torch.Tensor", "tensor([1.])")
    with pytest.raises(AssertionError, match=r"^out: expected a numpy array, got an object of type torch.Tensor$"):
        as_numeric_array("out", handle)


def test_check_array_tolerance_is_strict():
    expected = np.array([1.0])
    actual = np.array([1.0 + 2e-3])
    err = rel_error(actual, expected)
    check_array("x", actual, expected, tol=err * 1.01)
    with pytest.raises(AssertionError, match="relative error"):
        check_array("x", actual, expected, tol=err)


def test_check_scalar_accepts_numbers_and_one_element_arrays():
    check_scalar("loss", 2.3025850929940455, math.log(10))
    check_scalar("loss", np.array(2.0), 2.0)
    check_scalar("loss", np.array([7], dtype=np.int64), 7)
    check_scalar("count", 3, 3.0)


@pytest.mark.parametrize("actual, message", [
    (2.5, "loss: got 2.5, expected 2 (relative error 1.1e-01, expected below 1e-07)"),
    ("2.0", "loss: expected a number, got a value of type str"),
    (True, "loss: expected a number, got a value of type bool"),
    (np.float64(2.0), "loss: expected a number, got a value of type float64"),
    (np.array([2.0, 2.0]), "loss: expected a number, got a value of type ndarray"),
    (float("nan"), "loss: got nan, expected a finite number"),
    (float("inf"), "loss: got inf, expected a finite number"),
])
def test_check_scalar_refuses_wrong_values_with_its_message(actual, message):
    with pytest.raises(AssertionError) as info:
        check_scalar("loss", actual, 2.0)
    assert str(info.value) == message


def test_numeric_gradient_matches_the_analytic_one_and_leaves_x_alone():
    x = np.array([[0.3, -1.2], [2.0, 0.7]])
    before = x.copy()
    grad = numeric_gradient(lambda v: float(np.sum(v ** 3) + v[0, 1] * v[1, 0]), x)
    analytic = 3 * x ** 2 + np.array([[0, x[1, 0]], [x[0, 1], 0]])
    assert rel_error(grad, analytic) < 1e-8
    assert np.array_equal(x, before)


def test_numeric_gradient_tells_a_wrong_gradient_apart():
    x = np.array([0.5, -0.25, 1.5])
    grad = numeric_gradient(lambda v: float(np.sum(np.sin(v))), x)
    with pytest.raises(AssertionError, match="relative error"):
        check_array("dx", -np.sin(x), grad, tol=1e-6)       # the wrong derivative
    check_array("dx", np.cos(x), grad, tol=1e-8)


def test_numeric_gradient_array_is_the_gradient_of_sum_f_times_df():
    x = np.array([[1.0, -2.0, 0.5]])
    df = np.array([[0.1, 0.2, -0.3], [1.0, 0.0, 2.0]])
    w = np.array([[2.0, 0.0, 1.0], [-1.0, 3.0, 0.5], [0.0, 1.0, 1.0]])
    grad = numeric_gradient_array(lambda v: np.vstack([v @ w, v ** 2]), x, df)
    analytic = df[:1] @ w.T + df[1:] * 2 * x
    assert rel_error(grad, analytic) < 1e-8


def test_numeric_gradient_array_refuses_a_wrong_output_shape():
    with pytest.raises(AssertionError, match=r"^output: expected shape \(3,\), got \(2,\)$"):
        numeric_gradient_array(lambda v: v[:2], np.ones(3), np.ones(3))


def test_accuracy_of_labels_and_of_scores():
    labels = np.array([0, 1, 2, 1])
    assert accuracy(np.array([0, 1, 1, 1]), labels) == 0.75
    scores = np.array([[5.0, 1, 0], [0, 2, 1], [1, 0, 0], [3, 0, 0]])   # argmax 0, 1, 0, 0
    assert accuracy(scores, labels) == 0.5


@pytest.mark.parametrize("predictions, message", [
    (np.array([0, 1, 2]), r"^predictions: expected shape \(4,\) or \(4, num_classes\), got \(3,\)$"),
    (np.full((4, 3), np.nan), r"^predictions: scores contain NaN or infinite values$"),
    ([0, 1, 2, 1], r"^predictions: expected a numpy array, got a value of type list$"),
])
def test_accuracy_refuses_malformed_predictions(predictions, message):
    with pytest.raises(AssertionError, match=message):
        accuracy(predictions, np.array([0, 1, 2, 1]))
