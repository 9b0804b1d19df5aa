"""Dataset and DataLoader."""

from typing import List, Optional

import numpy as np

from ..autograd import Tensor


class Dataset:
    """An indexable collection of examples (provided).

    Subclasses implement `__getitem__` (an int index gives one example, a slice or an
    array of indices a batch) and `__len__`, and call `apply_transforms` on each image.
    """

    def __init__(self, transforms: Optional[List] = None):
        self.transforms = transforms

    def __getitem__(self, index) -> object:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def apply_transforms(self, x):
        """Apply self.transforms, in order, to one example x."""
        if self.transforms is not None:
            for tform in self.transforms:
                x = tform(x)
        return x


class DataLoader:
    """Iterates over a dataset in mini-batches.

    Each batch is a tuple of Tensors, one per array the dataset returns (e.g.
    (images, labels)), taken as `dataset[indices]` for the batch's indices. Batches
    have `batch_size` examples; the last one may be smaller.

    shuffle=False: the batches follow the dataset's order, every epoch.
    shuffle=True: each new iteration (each `iter(loader)`, i.e. each epoch) draws a
    new order with one call to np.random.permutation(len(dataset)).
    """

    dataset: Dataset
    batch_size: Optional[int]

    def __init__(self, dataset: Dataset, batch_size: Optional[int] = 1, shuffle: bool = False):
        self.dataset = dataset
        self.shuffle = shuffle
        self.batch_size = batch_size
        if not self.shuffle:
            self.ordering = np.array_split(np.arange(len(dataset)),
                                           range(batch_size, len(dataset), batch_size))

    def __iter__(self):
        # Hint: a shuffled loader builds self.ordering here, like __init__ does, from
        # np.random.permutation(len(self.dataset)).
        ### BEGIN SOLUTION
        if self.shuffle:
            order = np.random.permutation(len(self.dataset))
            self.ordering = np.array_split(order, range(self.batch_size, len(self.dataset),
                                                        self.batch_size))
        self._batch = 0
        ### END SOLUTION
        return self

    def __next__(self):
        """Returns the next batch as a tuple of Tensors; raises StopIteration at the end."""
        ### BEGIN SOLUTION
        if self._batch >= len(self.ordering):
            raise StopIteration
        indices = self.ordering[self._batch]
        self._batch += 1
        # Input data needs no gradient: leaving it out of backward saves work.
        return tuple(Tensor(part, requires_grad=False) for part in self.dataset[indices])
        ### END SOLUTION
