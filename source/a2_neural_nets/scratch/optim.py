"""First-order update rules for training neural networks.

Every rule has the same interface:

    next_w, config = update(w, dw, config)

Inputs:
- w: array of any shape, the current weights.
- dw: array of the same shape as w, the gradient of the loss with respect to w.
- config: dict of hyperparameters (learning rate, decay rates, ...) and of any state
  the rule keeps between steps (a velocity, moving averages, a step count). Missing
  keys get their defaults here; None means "all defaults".

Returns:
- next_w: the weights after one update.
- config: the same dict, with the state for the next step.

The Solver keeps one config dict per parameter, so state never mixes between
parameters. Keep the state in `config` under the names given in each docstring.
"""
import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent.

    config:
    - learning_rate: scalar (default 1e-2).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)

    w -= config["learning_rate"] * dw
    return w, config


def sgd_momentum(w, dw, config=None):
    """Stochastic gradient descent with momentum:

        v = momentum * v - learning_rate * dw
        next_w = w + v

    config:
    - learning_rate: scalar (default 1e-2).
    - momentum: scalar in [0, 1) (default 0.9); 0 gives plain SGD.
    - velocity: array shaped like w (default zeros); store the new one back.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))

    next_w = None
    ### BEGIN SOLUTION
    v = config["momentum"] * v - config["learning_rate"] * dw
    next_w = w + v
    ### END SOLUTION
    config["velocity"] = v

    return next_w, config


def rmsprop(w, dw, config=None):
    """RMSProp: divide the step by a moving average of squared gradients.

        cache = decay_rate * cache + (1 - decay_rate) * dw ** 2
        next_w = w - learning_rate * dw / (sqrt(cache) + epsilon)

    config:
    - learning_rate: scalar (default 1e-2).
    - decay_rate: scalar in [0, 1) (default 0.99).
    - epsilon: small scalar that avoids division by zero (default 1e-8).
    - cache: array shaped like w (default zeros), the moving average.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("cache", np.zeros_like(w))

    next_w = None
    ### BEGIN SOLUTION
    cache = config["decay_rate"] * config["cache"] + (1 - config["decay_rate"]) * dw ** 2
    next_w = w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    config["cache"] = cache
    ### END SOLUTION

    return next_w, config


def adam(w, dw, config=None):
    """Adam: moving averages of the gradient and of its square, both corrected for
    their bias towards zero in the first steps.

        t = t + 1
        m = beta1 * m + (1 - beta1) * dw
        v = beta2 * v + (1 - beta2) * dw ** 2
        m_hat = m / (1 - beta1 ** t)
        v_hat = v / (1 - beta2 ** t)
        next_w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    config:
    - learning_rate: scalar (default 1e-3).
    - beta1: decay of the first moment (default 0.9).
    - beta2: decay of the second moment (default 0.999).
    - epsilon: small scalar that avoids division by zero (default 1e-8).
    - m, v: arrays shaped like w (default zeros), the moving averages.
    - t: number of steps taken so far (default 0).
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("m", np.zeros_like(w))
    config.setdefault("v", np.zeros_like(w))
    config.setdefault("t", 0)

    next_w = None
    # Hint: increment t before the bias correction, so the first step divides by
    # (1 - beta1) and not by zero.
    ### BEGIN SOLUTION
    t = config["t"] + 1
    m = config["beta1"] * config["m"] + (1 - config["beta1"]) * dw
    v = config["beta2"] * config["v"] + (1 - config["beta2"]) * dw ** 2
    m_hat = m / (1 - config["beta1"] ** t)
    v_hat = v / (1 - config["beta2"] ** t)
    next_w = w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"])
    config["t"], config["m"], config["v"] = t, m, v
    ### END SOLUTION

    return next_w, config
