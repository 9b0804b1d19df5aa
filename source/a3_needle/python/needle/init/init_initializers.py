"""Weight initializers (Question 1).

Each initializer makes exactly one random draw, of shape (fan_in, fan_out), with
`rand` or `randn` from init_basic, so that a seeded run is reproducible:

    np.random.seed(0); W = kaiming_uniform(784, 100)

Extra keyword arguments (device, dtype, requires_grad) are passed on to that draw.
"""

import math

from .init_basic import *  # noqa: F401,F403


def xavier_uniform(fan_in, fan_out, gain=1.0, **kwargs):
    """Xavier (Glorot) uniform initialization.

    Inputs:
    - fan_in, fan_out: ints, the numbers of input and output units.
    - gain: float, scales the bound.

    Returns: Tensor of shape (fan_in, fan_out) with entries drawn from U(-a, a),
    a = gain * sqrt(6 / (fan_in + fan_out)).
    """
    ### BEGIN SOLUTION
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return rand(fan_in, fan_out, low=-a, high=a, **kwargs)
    ### END SOLUTION


def xavier_normal(fan_in, fan_out, gain=1.0, **kwargs):
    """Xavier (Glorot) normal initialization.

    Returns: Tensor of shape (fan_in, fan_out) with entries drawn from N(0, std^2),
    std = gain * sqrt(2 / (fan_in + fan_out)).
    """
    ### BEGIN SOLUTION
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return randn(fan_in, fan_out, mean=0.0, std=std, **kwargs)
    ### END SOLUTION


def kaiming_uniform(fan_in, fan_out, nonlinearity="relu", **kwargs):
    """Kaiming (He) uniform initialization, for ReLU networks.

    Inputs:
    - fan_in, fan_out: ints.
    - nonlinearity: only "relu" is supported (gain = sqrt(2)).

    Returns: Tensor of shape (fan_in, fan_out) with entries drawn from U(-b, b),
    b = gain * sqrt(3 / fan_in).
    """
    assert nonlinearity == "relu", "Only relu supported currently"
    ### BEGIN SOLUTION
    bound = math.sqrt(2.0) * math.sqrt(3.0 / fan_in)
    return rand(fan_in, fan_out, low=-bound, high=bound, **kwargs)
    ### END SOLUTION


def kaiming_normal(fan_in, fan_out, nonlinearity="relu", **kwargs):
    """Kaiming (He) normal initialization.

    Returns: Tensor of shape (fan_in, fan_out) with entries drawn from N(0, std^2),
    std = gain / sqrt(fan_in), gain = sqrt(2).
    """
    assert nonlinearity == "relu", "Only relu supported currently"
    ### BEGIN SOLUTION
    std = math.sqrt(2.0) / math.sqrt(fan_in)
    return randn(fan_in, fan_out, mean=0.0, std=std, **kwargs)
    ### END SOLUTION
