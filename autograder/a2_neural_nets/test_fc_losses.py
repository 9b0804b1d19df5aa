"""Hidden graders: softmax and multiclass SVM losses (scratch/layers.py)."""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, check_scalar, numeric_gradient

pytestmark = question("fc_losses")


def _softmax_loss(x, y):
    # log-sum-exp around each row's maximum: exact for any score magnitude
    m = x.max(axis=1)
    lse = m + np.log(np.exp(x - m[:, None]).sum(axis=1))
    return float(np.mean(lse - x[np.arange(len(y)), y]))


def _svm_loss(x, y):
    n = len(y)
    margins = np.maximum(0.0, x - x[np.arange(n), y][:, None] + 1.0)
    margins[np.arange(n), y] = 0.0
    return float(margins.sum() / n)


@weight(2)
@number("1.2.1")
@timeout(30)
def test_softmax_loss(student):
    """softmax_loss: loss and dx

    Loss against the log-sum-exp formula, dx against centred differences (relative
    tolerance 1e-6), on (10, 7) scores.
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(30251)
    x = rng.standard_normal((10, 7))
    y = rng.integers(0, 7, size=10)
    loss, dx = layers.softmax_loss(x, y)
    check_scalar("softmax loss", loss, _softmax_loss(x, y), tol=1e-10)
    check_array("dx", dx, numeric_gradient(lambda v: _softmax_loss(v, y), x.copy()), tol=1e-6)


@weight(1)
@number("1.2.2")
@timeout(30)
def test_softmax_loss_large_scores(student):
    """softmax_loss with scores around +-1000

    exp overflows there unless each row's maximum is subtracted first; the loss and dx
    must be finite and right.
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(30252)
    x = 3.0 * rng.standard_normal((12, 5)) + 1000.0
    x[::3] -= 2000.0
    y = rng.integers(0, 5, size=12)
    loss, dx = layers.softmax_loss(x, y)
    check_scalar("softmax loss with large scores", loss, _softmax_loss(x, y), tol=1e-9)
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(12), y] -= 1.0
    check_array("dx with large scores", dx, p / 12, tol=1e-8)


@weight(3)
@number("1.2.3")
@timeout(30)
def test_svm_loss(student):
    """svm_loss: loss and dx

    On (30, 6) scores kept away from the hinge's kink; dx against centred differences
    (relative tolerance 1e-7).
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(30253)
    n, c = 30, 6
    y = rng.integers(0, c, size=n)
    x = rng.standard_normal((n, c))
    # no margin within 1e-3 of zero, so centred differences do not straddle a kink
    margin = x - x[np.arange(n), y][:, None] + 1.0
    near = (np.abs(margin) < 1e-3) & (np.arange(c)[None, :] != y[:, None])
    x[near] += 0.01
    loss, dx = layers.svm_loss(x, y)
    check_scalar("svm loss", loss, _svm_loss(x, y), tol=1e-10)
    check_array("dx", dx, numeric_gradient(lambda v: _svm_loss(v, y), x.copy()), tol=1e-7)
