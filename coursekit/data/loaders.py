"""Load MNIST and CIFAR-10 from their official files into numpy arrays.

numpy and the standard library only. Every file is checked before use (see
formats.py); a bad file raises FormatError naming the file and what is wrong, and the
CIFAR-10 pickles are read with a restricted unpickler that executes nothing.

    root = data_root()                      # COURSEKIT_DATA, else the kit's datasets/
    X, y = load_mnist(root, kind="train")   # (60000, 28, 28) uint8, (60000,) uint8
    Xtr, ytr, Xte, yte = load_cifar10(root) # (50000, 32, 32, 3) uint8, (50000,) int64, ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import formats
from .fetch import data_root
from .formats import FormatError

__all__ = ["FormatError", "data_root", "read_idx", "load_mnist", "load_cifar10_batch", "load_cifar10", "cifar10_class_names"]

MNIST_FOLDER = "mnist"
CIFAR10_FOLDER = "cifar-10-batches-py"


def read_idx(path, shape=None, dtype=None) -> np.ndarray:
    """Read an idx file (gzip-compressed when its name ends in ".gz").

    Inputs:
        path: the file.
        shape: optional expected shape, a tuple of ints or None (any size).
        dtype: optional expected item type name, e.g. "uint8".

    Returns a writable numpy array with the file's shape and item type (native byte order).
    """
    path = Path(path)
    payload = formats.read_payload(path)
    header = formats.parse_idx(payload, path.name, shape, dtype)
    # idx stores multi-byte items big-endian.
    big_endian = np.dtype(header.dtype).newbyteorder(">")
    arr = np.frombuffer(payload, dtype=big_endian, offset=header.offset).reshape(header.shape)
    return arr.astype(header.dtype)


def _find(root: Path, folder: str, fname: str) -> Path:
    """root/folder/fname, else root/fname (a --flat folder), else the .gz-less name."""
    candidates = [root / folder / fname, root / fname]
    if fname.endswith(".gz"):
        candidates += [c.with_suffix("") for c in candidates]
    for c in candidates:
        if c.is_file():
            return c
    raise FormatError(f"{fname}: missing: looked in {root / folder} and {root}; "
                      f"run `python -m kitdata.fetch {'mnist' if folder == MNIST_FOLDER else 'cifar10'}` to get it")


def load_mnist(root=None, kind: str = "train"):
    """Load one split of MNIST.

    Inputs:
        root: the data root holding mnist/ (or a folder holding the four files
            directly); default data_root().
        kind: "train" (60,000 digits) or "t10k" (the 10,000 test digits).

    Returns (images, labels):
        images: uint8 array of shape (N, 28, 28), pixel values 0..255 (0 is background).
        labels: uint8 array of shape (N,), the digits 0..9.
    """
    if kind not in ("train", "t10k"):
        raise ValueError(f"kind must be 'train' or 't10k', got {kind!r}")
    root = Path(root) if root is not None else data_root()
    images_path = _find(root, MNIST_FOLDER, f"{kind}-images-idx3-ubyte.gz")
    labels_path = _find(root, MNIST_FOLDER, f"{kind}-labels-idx1-ubyte.gz")
    images = read_idx(images_path, (None, 28, 28), "uint8")
    labels = read_idx(labels_path, (None,), "uint8")
    if len(images) != len(labels):
        raise FormatError(f"{labels_path.name}: holds {len(labels)} labels for the {len(images)} images "
                          f"of {images_path.name}")
    if labels.size and labels.max() > 9:
        raise FormatError(f"{labels_path.name}: label {labels.max()} is not a digit 0..9")
    return images, labels


def load_cifar10_batch(path):
    """Load one CIFAR-10 batch file (data_batch_1..5 or test_batch).

    Inputs:
        path: the file.

    Returns (X, y):
        X: uint8 array of shape (N, 32, 32, 3), channels last (red, green, blue).
        y: int64 array of shape (N,), classes 0..9 (names in batches.meta).
    """
    path = Path(path)
    data, labels = formats.check_cifar_batch(formats.load_pickle(path), path.name)
    rows = np.frombuffer(data.data, dtype=np.uint8).reshape(data.shape, order="F" if data.fortran else "C")
    # Each row holds the red, green and blue 32x32 planes one after another.
    X = np.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    y = np.array(labels, dtype=np.int64)
    return X, y


def load_cifar10(root=None):
    """Load all of CIFAR-10.

    Inputs:
        root: the data root holding cifar-10-batches-py/ (or that folder itself);
            default data_root().

    Returns (X_train, y_train, X_test, y_test):
        X_train: uint8 (50000, 32, 32, 3); y_train: int64 (50000,) classes 0..9;
        X_test: uint8 (10000, 32, 32, 3); y_test: int64 (10000,).
    """
    root = Path(root) if root is not None else data_root()
    parts = [load_cifar10_batch(_find(root, CIFAR10_FOLDER, f"data_batch_{k}")) for k in range(1, 6)]
    X_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    X_test, y_test = load_cifar10_batch(_find(root, CIFAR10_FOLDER, "test_batch"))
    return X_train, y_train, X_test, y_test


def cifar10_class_names(root=None) -> list:
    """The ten class names from batches.meta, in label order ("airplane", ..., "truck")."""
    root = Path(root) if root is not None else data_root()
    path = _find(root, CIFAR10_FOLDER, "batches.meta")
    return formats.check_cifar_meta(formats.load_pickle(path), path.name)
