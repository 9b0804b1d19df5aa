"""CIFAR-10 for the notebooks: loading and the usual train/val/test preprocessing."""
import os

import numpy as np


def _loaders():
    # The kit ships the loaders as `kitdata`; inside the course repository they
    # live in the engine package.
    try:
        from kitdata import loaders
    except ImportError:
        from coursekit.data import loaders
    return loaders


def cifar10_dir():
    """The folder holding the CIFAR-10 python batches (data_batch_1..5, test_batch)."""
    return os.path.join(str(_loaders().data_root()), "cifar-10-batches-py")


def cifar10_class_names():
    """The ten class names, in label order ("airplane", ..., "truck")."""
    return list(_loaders().cifar10_class_names())


def load_CIFAR10(ROOT):
    """Load all of CIFAR-10.

    Inputs:
    - ROOT: the folder holding data_batch_1..5 and test_batch (the official
      python version of the data set).

    Returns a tuple of:
    - X_train: float64 array of shape (50000, 32, 32, 3), pixel values in [0, 255].
    - y_train: int64 array of shape (50000,), labels in [0, 10).
    - X_test: float64 array of shape (10000, 32, 32, 3).
    - y_test: int64 array of shape (10000,).
    """
    Xtr, ytr, Xte, yte = _loaders().load_cifar10(ROOT)
    return (Xtr.astype(np.float64), np.asarray(ytr, dtype=np.int64),
            Xte.astype(np.float64), np.asarray(yte, dtype=np.int64))


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, root=None):
    """Load CIFAR-10 and prepare it for the classifiers of this assignment.

    The validation set is the `num_validation` training images that follow the
    first `num_training`; the test set is the first `num_test` test images.

    Inputs:
    - num_training, num_validation, num_test: sizes of the three splits.
    - subtract_mean: subtract the mean training image from every split.
    - root: folder of the CIFAR-10 batches (default: cifar10_dir()).

    Returns a dict with:
    - "X_train", "X_val", "X_test": float32 arrays of shape (N, 3, 32, 32)
      (channels first).
    - "y_train", "y_val", "y_test": int64 arrays of shape (N,).
    - "mean_image": float32 array of shape (3, 32, 32), what was subtracted
      (zeros when subtract_mean is False).
    """
    Xtr, ytr, Xte, yte = _loaders().load_cifar10(root or cifar10_dir())

    def channels_first(images):
        return images.astype(np.float32).transpose(0, 3, 1, 2).copy()

    val = slice(num_training, num_training + num_validation)
    X_train, y_train = channels_first(Xtr[:num_training]), ytr[:num_training]
    X_val, y_val = channels_first(Xtr[val]), ytr[val]
    X_test, y_test = channels_first(Xte[:num_test]), yte[:num_test]

    mean_image = np.zeros((3, 32, 32), dtype=np.float32)
    if subtract_mean:
        mean_image = X_train.mean(axis=0)
        X_train -= mean_image
        X_val -= mean_image
        X_test -= mean_image

    return {
        "X_train": X_train, "y_train": np.asarray(y_train, dtype=np.int64),
        "X_val": X_val, "y_val": np.asarray(y_val, dtype=np.int64),
        "X_test": X_test, "y_test": np.asarray(y_test, dtype=np.int64),
        "mean_image": mean_image,
    }
