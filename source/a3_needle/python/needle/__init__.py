"""needle: a small deep-learning library with reverse-mode automatic differentiation.

    import needle as ndl
    x = ndl.Tensor([[1.0, 2.0]], dtype="float32")
    loss = (x * x).sum()
    loss.backward()          # x.grad == 2 * x
"""

from . import ops
from .ops import *  # noqa: F401,F403
from .autograd import Tensor, cpu, all_devices  # noqa: F401
from .backend_numpy import default_device  # noqa: F401

from . import init
from .init import ones, zeros, zeros_like, ones_like  # noqa: F401

from . import data
from . import nn
from . import optim
