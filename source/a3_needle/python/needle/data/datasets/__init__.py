from .mnist_dataset import *  # noqa: F401,F403
from .ndarray_dataset import *  # noqa: F401,F403
