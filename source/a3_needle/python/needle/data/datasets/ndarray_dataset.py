"""A dataset made of numpy arrays held in memory."""

from ..data_basic import Dataset


class NDArrayDataset(Dataset):
    """NDArrayDataset(*arrays): arrays of equal length along axis 0; example i is
    (arrays[0][i], arrays[1][i], ...). Indexing with a slice or an index array gives
    the matching batch of each array."""

    def __init__(self, *arrays):
        super().__init__()
        self.arrays = arrays

    def __len__(self) -> int:
        """The number of examples."""
        ### BEGIN SOLUTION
        return self.arrays[0].shape[0]
        ### END SOLUTION

    def __getitem__(self, i) -> object:
        """A tuple with the i-th entry (or batch) of every array."""
        ### BEGIN SOLUTION
        return tuple(a[i] for a in self.arrays)
        ### END SOLUTION
