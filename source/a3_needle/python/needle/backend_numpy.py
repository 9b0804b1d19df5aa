"""The array backend of this homework: plain numpy arrays on the CPU.

Every tensor stores its value as a numpy array (`NDArray`). A later homework swaps
this module for a backend with its own arrays and devices, so the rest of needle
talks to arrays only through the device object below.
"""

import numpy

__device_name__ = "numpy"

NDArray = numpy.ndarray


class Device:
    """Where an array lives."""


class CPUDevice(Device):
    """The host CPU, with numpy arrays. All random draws go through numpy's global
    (legacy) generator, so `np.random.seed(n)` makes them reproducible."""

    def __repr__(self):
        return "cpu()"

    def __hash__(self):
        return hash(repr(self))

    def __eq__(self, other):
        return isinstance(other, CPUDevice)

    def enabled(self):
        return True

    def zeros(self, *shape, dtype="float32"):
        return numpy.zeros(shape, dtype=dtype)

    def ones(self, *shape, dtype="float32"):
        return numpy.ones(shape, dtype=dtype)

    def randn(self, *shape):
        # float64 draws, as numpy makes them; callers cast to the tensor's dtype.
        return numpy.random.randn(*shape)

    def rand(self, *shape):
        return numpy.random.rand(*shape)

    def one_hot(self, n, i, dtype="float32"):
        return numpy.eye(n, dtype=dtype)[i]

    def empty(self, shape, dtype="float32"):
        return numpy.empty(shape, dtype=dtype)

    def full(self, shape, fill_value, dtype="float32"):
        return numpy.full(shape, fill_value, dtype=dtype)


def cpu():
    """The CPU device."""
    return CPUDevice()


def default_device():
    return cpu()


def all_devices():
    """Every device this backend offers."""
    return [cpu()]
