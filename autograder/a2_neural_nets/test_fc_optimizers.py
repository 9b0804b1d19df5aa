"""Hidden graders: update rules in scratch/optim.py.

Each rule gets fresh random weights, gradients and state, and must return the
next weights and the new state computed here from the rule's formulas.
"""
import numpy as np

from coursekit.grading import number, question, timeout, weight
from coursekit.grading.checks import check_array, check_scalar

pytestmark = question("fc_optimizers")


def _arrays(seed, shape=(4, 6)):
    rng = np.random.default_rng(seed)
    return rng, rng.standard_normal(shape), rng.standard_normal(shape)


@weight(3)
@number("1.6.1")
@timeout(30)
def test_sgd_momentum(student):
    """sgd_momentum update

    One step from a given velocity with momentum 0.8, then two steps from the defaults
    (learning_rate 1e-2, momentum 0.9, zero velocity).
    """
    optim = student.module("scratch.optim")
    rng, w, dw = _arrays(6061)
    v = rng.standard_normal(w.shape)
    config = {"learning_rate": 3e-2, "momentum": 0.8, "velocity": v.copy()}
    next_w, config = optim.sgd_momentum(w.copy(), dw, config)
    v_new = 0.8 * v - 3e-2 * dw
    check_array("next_w", next_w, w + v_new, tol=1e-10)
    check_array("config['velocity']", config["velocity"], v_new, tol=1e-10)

    dw2 = rng.standard_normal(w.shape)
    w1, config = optim.sgd_momentum(w.copy(), dw, None)
    w2, config = optim.sgd_momentum(w1, dw2, config)
    v1 = -1e-2 * dw
    v2 = 0.9 * v1 - 1e-2 * dw2
    check_array("next_w after two steps with default settings", w2, w + v1 + v2, tol=1e-10)


@weight(3)
@number("1.6.2")
@timeout(30)
def test_rmsprop(student):
    """rmsprop update

    One step from a given cache with decay_rate 0.95, then two steps from the defaults
    (learning_rate 1e-2, decay_rate 0.99, epsilon 1e-8, zero cache).
    """
    optim = student.module("scratch.optim")
    rng, w, dw = _arrays(6062)
    cache = rng.random(w.shape)
    config = {"learning_rate": 2e-3, "decay_rate": 0.95, "cache": cache.copy()}
    next_w, config = optim.rmsprop(w.copy(), dw, config)
    c_new = 0.95 * cache + 0.05 * dw ** 2
    check_array("next_w", next_w, w - 2e-3 * dw / (np.sqrt(c_new) + 1e-8), tol=1e-10)
    check_array("config['cache']", config["cache"], c_new, tol=1e-10)

    dw2 = rng.standard_normal(w.shape)
    w1, config = optim.rmsprop(w.copy(), dw, None)
    w2, config = optim.rmsprop(w1, dw2, config)
    c1 = 0.01 * dw ** 2
    w1_expected = w - 1e-2 * dw / (np.sqrt(c1) + 1e-8)
    c2 = 0.99 * c1 + 0.01 * dw2 ** 2
    w2_expected = w1_expected - 1e-2 * dw2 / (np.sqrt(c2) + 1e-8)
    check_array("next_w after two steps with default settings", w2, w2_expected, tol=1e-10)


def _adam_step(w, dw, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    t = t + 1
    m = beta1 * m + (1 - beta1) * dw
    v = beta2 * v + (1 - beta2) * dw ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v, t


@weight(3)
@number("1.6.3")
@timeout(30)
def test_adam(student):
    """adam update

    One step from given moments at t=7 (t becomes 8 before the bias correction), then
    three steps from the defaults (learning_rate 1e-3, beta1 0.9, beta2 0.999,
    epsilon 1e-8, zero moments, t=0); relative tolerance 1e-6.
    """
    optim = student.module("scratch.optim")
    rng, w, dw = _arrays(6063)
    m = 0.1 * rng.standard_normal(w.shape)
    v = 0.1 * rng.random(w.shape)
    config = {"learning_rate": 5e-3, "beta1": 0.8, "beta2": 0.99, "m": m.copy(), "v": v.copy(), "t": 7}
    next_w, config = optim.adam(w.copy(), dw, config)
    w_e, m_e, v_e, t_e = _adam_step(w, dw, m, v, 7, lr=5e-3, beta1=0.8, beta2=0.99)
    check_array("next_w", next_w, w_e, tol=1e-6)
    check_array("config['m']", config["m"], m_e, tol=1e-10)
    check_array("config['v']", config["v"], v_e, tol=1e-10)
    check_scalar("config['t']", config["t"], t_e, tol=1e-12)

    w_cur, config = w.copy(), None
    w_e, m_e, v_e, t_e = w.copy(), np.zeros_like(w), np.zeros_like(w), 0
    for step in range(3):
        g = rng.standard_normal(w.shape)
        w_cur, config = optim.adam(w_cur, g, config)
        w_e, m_e, v_e, t_e = _adam_step(w_e, g, m_e, v_e, t_e)
        check_array("next_w after %d steps with default settings" % (step + 1), w_cur, w_e, tol=1e-6)
