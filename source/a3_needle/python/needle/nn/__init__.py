"""Modules for building networks: `needle.nn.Linear`, `needle.nn.Sequential`, ..."""

from .nn_basic import *  # noqa: F401,F403
