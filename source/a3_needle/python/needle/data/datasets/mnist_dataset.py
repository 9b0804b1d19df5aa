"""MNIST from the official idx files (gzip-compressed)."""

import gzip
import struct
from typing import List, Optional

import numpy as np

from ..data_basic import Dataset


class MNISTDataset(Dataset):
    """MNIST images and labels.

    MNISTDataset(image_filename, label_filename, transforms=None)
    - image_filename: path of an idx3 image file, gzip-compressed (e.g.
      "data/train-images-idx3-ubyte.gz"): big-endian header (magic 2051, count,
      rows, cols), then uint8 pixels row by row.
    - label_filename: path of the matching idx1 label file (magic 2049, count, then
      uint8 labels).
    - transforms: optional list of Transforms applied to each image, in order.

    dataset[i] is (image, label): image float32 of shape (28, 28, 1) with values in
    [0, 1] (pixel / 255), label a uint8 digit. A slice or an index array gives
    (images of shape (B, 28, 28, 1), labels of shape (B,)), transforms applied to each
    image of the batch in order.
    """

    def __init__(self, image_filename: str, label_filename: str,
                 transforms: Optional[List] = None):
        super().__init__(transforms)
        # Hint: gzip.open, struct.unpack(">IIII", ...) for the header, np.frombuffer.
        ### BEGIN SOLUTION
        with gzip.open(image_filename, "rb") as fh:
            magic, count, rows, cols = struct.unpack(">IIII", fh.read(16))
            assert magic == 2051, f"{image_filename}: not an idx3 image file"
            pixels = np.frombuffer(fh.read(count * rows * cols), dtype=np.uint8)
        with gzip.open(label_filename, "rb") as fh:
            magic, n_labels = struct.unpack(">II", fh.read(8))
            assert magic == 2049, f"{label_filename}: not an idx1 label file"
            self.labels = np.frombuffer(fh.read(n_labels), dtype=np.uint8).copy()
        assert n_labels == count, "image and label files differ in length"
        self.images = (pixels.reshape(count, rows, cols, 1) / np.float32(255)).astype(np.float32)
        ### END SOLUTION

    def __getitem__(self, index) -> object:
        ### BEGIN SOLUTION
        images = self.images[index]
        if images.ndim == 3:
            return self.apply_transforms(images), self.labels[index]
        if self.transforms:
            images = np.stack([self.apply_transforms(img) for img in images])
        return images, self.labels[index]
        ### END SOLUTION

    def __len__(self) -> int:
        ### BEGIN SOLUTION
        return self.labels.shape[0]
        ### END SOLUTION
