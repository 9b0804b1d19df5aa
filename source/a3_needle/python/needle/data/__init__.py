"""Data loading: datasets, transforms and the mini-batch DataLoader (Question 6)."""

from .data_basic import *  # noqa: F401,F403
from .data_transforms import *  # noqa: F401,F403
from .datasets import *  # noqa: F401,F403
