"""Trusted comparisons for graders. Everything here runs in the grader process.

Messages are written for students: they name the quantity, say what was wrong and
what was expected, and never show grader code.
"""

from __future__ import annotations

import numpy as np

from coursekit.sandbox.codec import Handle


def rel_error(x, y) -> float:
    """Largest elementwise relative error: max |x - y| / max(1e-8, |x| + |y|)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))) if x.size else 0.0


def _describe(value) -> str:
    if isinstance(value, Handle):
        return f"an object of type {value._type}"
    return f"a value of type {type(value).__name__}"


def as_numeric_array(name: str, value) -> np.ndarray:
    """`value` if it is a plain numpy array of bool, integer or float dtype, else AssertionError."""
    if type(value) is not np.ndarray:
        raise AssertionError(f"{name}: expected a numpy array, got {_describe(value)}")
    if value.dtype.kind not in "biuf":
        raise AssertionError(f"{name}: expected a numeric array, got dtype {value.dtype}")
    return value


def check_array(name: str, actual, expected, tol: float = 1e-7) -> None:
    """Assert `actual` is a finite numeric array of `expected`'s shape within relative error `tol`."""
    expected = np.asarray(expected)
    actual = as_numeric_array(name, actual)
    if actual.shape != expected.shape:
        raise AssertionError(f"{name}: expected shape {expected.shape}, got {actual.shape}")
    if not np.all(np.isfinite(actual)):
        bad = int(np.size(actual) - np.count_nonzero(np.isfinite(actual)))
        raise AssertionError(f"{name}: {bad} entries are NaN or infinite")
    err = rel_error(actual, expected)
    if not err < tol:
        raise AssertionError(f"{name}: relative error {err:.1e}, expected below {tol:.0e}")


def check_scalar(name: str, actual, expected, tol: float = 1e-7) -> None:
    """Assert `actual` is a finite real number within relative error `tol` of `expected`."""
    if type(actual) is np.ndarray and actual.shape in ((), (1,)) and actual.dtype.kind in "biuf":
        actual = actual.reshape(()).item()
    if type(actual) is bool or type(actual) not in (int, float):
        raise AssertionError(f"{name}: expected a number, got {_describe(actual)}")
    if not np.isfinite(actual):
        raise AssertionError(f"{name}: got {actual}, expected a finite number")
    err = rel_error(actual, expected)
    if not err < tol:
        raise AssertionError(
            f"{name}: got {actual:.6g}, expected {float(expected):.6g} "
            f"(relative error {err:.1e}, expected below {tol:.0e})")


def numeric_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of a scalar function `f` at `x` (x is not modified)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    flat = x.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = float(f(x.copy()))
        flat[i] = old - h
        minus = float(f(x.copy()))
        flat[i] = old
        grad.reshape(-1)[i] = (plus - minus) / (2 * h)
    return grad


def numeric_gradient_array(f, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Centred-difference gradient of sum(f(x) * df) for an array-valued `f`."""
    df = np.asarray(df, dtype=np.float64)

    def scalar(v):
        out = as_numeric_array("output", f(v))
        if out.shape != df.shape:
            raise AssertionError(f"output: expected shape {df.shape}, got {out.shape}")
        return float(np.sum(out * df))

    return numeric_gradient(scalar, x, h)


def accuracy(predictions, labels: np.ndarray, name: str = "predictions") -> float:
    """Fraction of correct predictions: `predictions` are (N,) labels or (N, C) scores."""
    labels = np.asarray(labels)
    predictions = as_numeric_array(name, predictions)
    n = labels.shape[0]
    if predictions.ndim == 2 and predictions.shape[0] == n:
        if not np.all(np.isfinite(predictions)):
            raise AssertionError(f"{name}: scores contain NaN or infinite values")
        predictions = predictions.argmax(axis=1)
    if predictions.shape != (n,):
        raise AssertionError(f"{name}: expected shape ({n},) or ({n}, num_classes), got {predictions.shape}")
    return float(np.mean(predictions == labels))
