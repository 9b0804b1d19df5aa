"""Hidden graders: inverted dropout (scratch/layers.py).

Masks are random, so the forward pass is checked statistically (with margins of many
standard deviations) and structurally (kept units are scaled by exactly 1/p); any
correct way of drawing the mask passes.
"""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array

pytestmark = question("norm_dropout")


@weight(3)
@number("2.3.1")
@timeout(30)
def test_dropout_forward_train(student):
    """dropout_forward in training mode

    Keep probabilities 0.25 and 0.7: the kept fraction is p (within 0.01 on 100,000
    units), kept units are divided by p, the rest are 0, the dtype is preserved, and
    the same seed gives the same output.
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(9091)
    x = rng.uniform(1.0, 2.0, size=(400, 250))  # no zeros, so a dropped unit is visible
    for p in (0.25, 0.7):
        out, _ = layers.dropout_forward(x, {"mode": "train", "p": p})
        assert out.shape == x.shape, "out has shape %s, expected %s" % (out.shape, x.shape)
        kept = out != 0
        frac = kept.mean()
        assert abs(frac - p) < 0.01, \
            "p=%g: %.4f of the units were kept, expected about %g (p is the keep probability)" % (p, frac, p)
        check_array("p=%g: kept units (expected x / p)" % p, out[kept], x[kept] / p, tol=1e-12)

    x32 = x[:50].astype(np.float32)
    out, _ = layers.dropout_forward(x32, {"mode": "train", "p": 0.5, "seed": 17})
    assert out.dtype == np.float32, "float32 input gave dtype %s" % out.dtype
    again, _ = layers.dropout_forward(x32, {"mode": "train", "p": 0.5, "seed": 17})
    check_array("out for the same seed twice", again, out, tol=1e-12)


@weight(1)
@number("2.3.2")
@timeout(30)
def test_dropout_forward_test(student):
    """dropout_forward in test mode

    Returns the input unchanged, whatever p.
    """
    layers = student.module("scratch.layers")
    x = np.random.default_rng(9092).standard_normal((30, 20))
    for p in (0.3, 0.8):
        out, _ = layers.dropout_forward(x, {"mode": "test", "p": p})
        check_array("out in test mode with p=%g" % p, out, x, tol=1e-12)


@weight(2)
@number("2.3.3")
@timeout(30)
def test_dropout_backward(student):
    """dropout_backward in training mode

    dx equals dout times the forward pass's scaled mask (read off out / x), for keep
    probabilities 0.4 and 0.85.
    """
    layers = student.module("scratch.layers")
    rng = np.random.default_rng(9093)
    x = rng.uniform(0.5, 1.5, size=(60, 40)) * rng.choice([-1.0, 1.0], size=(60, 40))
    dout = rng.standard_normal((60, 40))
    for p in (0.4, 0.85):
        out, cache = layers.dropout_forward(x, {"mode": "train", "p": p, "seed": 3})
        scale = out / x
        assert np.all(np.isclose(scale, 0) | np.isclose(scale, 1 / p)), \
            "dropout_forward must keep units scaled by 1/p and zero the others"
        dx = layers.dropout_backward(dout, cache)
        check_array("dx with p=%g" % p, dx, dout * scale, tol=1e-10)
