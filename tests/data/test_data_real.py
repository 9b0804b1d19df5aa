"""Known facts about the real MNIST and CIFAR-10, reproduced from the files in the data root.

Skipped when the data root (COURSEKIT_DATA, else datasets/cache) lacks the files; `make
data` fills it.
"""

from __future__ import annotations

import numpy as np
import pytest

from coursekit.data import fetch, loaders

ROOT = fetch.data_root()
MNIST = [f"{k}-{p}-ubyte.gz" for k in ("train", "t10k") for p in ("images-idx3", "labels-idx1")]
CIFAR = [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch", "batches.meta"]


def _have(folder, names):
    return all((ROOT / folder / n).is_file() for n in names)


@pytest.fixture(scope="module")
def mnist():
    return {kind: loaders.load_mnist(ROOT, kind) for kind in ("train", "t10k")}


@pytest.fixture(scope="module")
def cifar():
    return loaders.load_cifar10(ROOT)


@pytest.mark.realdata
@pytest.mark.skipif(not _have("mnist", MNIST), reason=f"MNIST not in {ROOT} (run `make data`)")
class TestMnist:
    def test_files_have_the_official_checksums(self):
        statuses = fetch.check(["mnist"], ROOT)
        assert [s.state for s in statuses] == ["verified"] * 4, [s.describe() for s in statuses]

    def test_shapes(self, mnist):
        (Xtr, ytr), (Xte, yte) = mnist["train"], mnist["t10k"]
        assert Xtr.shape == (60000, 28, 28) and ytr.shape == (60000,)
        assert Xte.shape == (10000, 28, 28) and yte.shape == (10000,)
        assert Xtr.dtype == ytr.dtype == np.uint8

    def test_first_test_labels(self, mnist):
        assert mnist["t10k"][1][:5].tolist() == [7, 2, 1, 0, 4]

    def test_class_counts(self, mnist):
        assert np.bincount(mnist["train"][1]).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
        assert np.bincount(mnist["t10k"][1]).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

    def test_pixel_statistics(self, mnist):
        # The usual normalisation constants of MNIST's training images (mean 0.1307, std 0.3081).
        # Computed from the histogram of the 256 grey levels, which is exact and quick.
        counts = np.bincount(mnist["train"][0].ravel(), minlength=256)
        levels = np.arange(256) / 255
        mean = (counts * levels).sum() / counts.sum()
        std = np.sqrt((counts * (levels - mean) ** 2).sum() / counts.sum())
        assert round(mean, 4) == 0.1307 and round(std, 4) == 0.3081


@pytest.mark.realdata
@pytest.mark.skipif(not _have("cifar-10-batches-py", CIFAR), reason=f"CIFAR-10 not in {ROOT} (run `make data`)")
class TestCifar10:
    def test_files_verify(self):
        statuses = fetch.check(["cifar10"], ROOT)
        # The offline copy is re-encoded, so "mirror" / "unofficial" are as good as "verified" here.
        assert all(s.ok() for s in statuses), [s.describe() for s in statuses]

    def test_shapes_and_types(self, cifar):
        Xtr, ytr, Xte, yte = cifar
        assert Xtr.shape == (50000, 32, 32, 3) and Xte.shape == (10000, 32, 32, 3)
        assert Xtr.dtype == Xte.dtype == np.uint8 and ytr.dtype == yte.dtype == np.int64

    def test_class_counts(self, cifar):
        _, ytr, _, yte = cifar
        assert np.bincount(ytr).tolist() == [5000] * 10
        assert np.bincount(yte).tolist() == [1000] * 10

    def test_class_names(self):
        assert loaders.cifar10_class_names(ROOT) == ["airplane", "automobile", "bird", "cat", "deer",
                                                      "dog", "frog", "horse", "ship", "truck"]

    def test_channel_means(self, cifar):
        # The usual per-channel means of the training images (0.4914, 0.4822, 0.4465); a
        # loader that mixes up the plane layout would give three nearly equal values. The
        # tolerance allows for the JPEG loss of an offline copy.
        pixels = cifar[0].reshape(-1, 3)
        means = pixels.sum(axis=0, dtype=np.int64) / len(pixels) / 255
        np.testing.assert_allclose(means, [0.4914, 0.4822, 0.4465], atol=3e-3)
