"""needle's operators: `from needle.ops import *` gives the classes and the
lower-case functions (`ops.logsumexp(x, axes=(1,))`)."""

from .ops_mathematic import *  # noqa: F401,F403
from .ops_logarithmic import *  # noqa: F401,F403
from .ops_tuple import *  # noqa: F401,F403
