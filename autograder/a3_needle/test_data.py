"""Question 6: transforms, MNISTDataset, NDArrayDataset and DataLoader."""

import numpy as np

import reference_needle as ref
from a3_support import check_dtype, readable, values
from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array

pytestmark = question("data")


def _images(seed, shape):
    return np.random.default_rng(seed).random(shape)


@weight(2)
@number("6.1")
def test_random_flip(student, ndl):
    for seed, p in [(3, 0.5), (10, 0.3)]:
        tform = ndl.data.RandomFlipHorizontal(p)
        imgs = [_images(seed + k, (4, 5, 2)) for k in range(6)]
        student.seed(seed)
        rs = np.random.RandomState(seed)
        for k, img in enumerate(imgs):
            got = values("flipped image", tform(img))
            check_array(f"RandomFlipHorizontal({p}) call {k + 1} after np.random.seed({seed}) on a "
                        "(4, 5, 2) image", got, ref.flip(rs, img, p), tol=1e-12)


@weight(2)
@number("6.2")
def test_random_crop(student, ndl):
    for seed, padding, shape in [(5, 2, (5, 6, 2)), (9, 3, (6, 4, 1))]:
        tform = ndl.data.RandomCrop(padding)
        imgs = [_images(seed + k, shape) for k in range(6)]
        student.seed(seed)
        rs = np.random.RandomState(seed)
        for k, img in enumerate(imgs):
            got = values("cropped image", tform(img))
            check_array(f"RandomCrop({padding}) call {k + 1} after np.random.seed({seed}) on a {shape} "
                        "image", got, ref.crop(rs, img, padding), tol=1e-12)


def _fake_mnist(folder, n, seed):
    """Small idx files in the official format; returns (paths, images uint8, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[:, :, :4] = 0  # a blank band, so a flip is visible
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    ref.write_idx_images(folder / "images-idx3-ubyte.gz", images)
    ref.write_idx_labels(folder / "labels-idx1-ubyte.gz", labels)
    paths = (readable(folder / "images-idx3-ubyte.gz"), readable(folder / "labels-idx1-ubyte.gz"))
    return paths, images, labels


@weight(3)
@number("6.3")
def test_mnist_dataset(student, ndl, shared_folder):
    (img_path, lbl_path), images, labels = _fake_mnist(shared_folder, 23, seed=1)
    expected = images.reshape(23, 28, 28, 1).astype(np.float64) / 255
    dataset = ndl.data.MNISTDataset(img_path, lbl_path)
    size = student.module("builtins").len(dataset)
    if size != 23:
        raise AssertionError(f"len(MNISTDataset) is {size} for a file of 23 images")
    x, y = dataset[7]
    x = values("MNISTDataset[7] image", x)
    check_array("MNISTDataset[7] image (float32 in [0, 1], shape (28, 28, 1))", x, expected[7], tol=1e-6)
    check_dtype("MNISTDataset[7] image", x)
    if int(values("MNISTDataset[7] label", y)) != labels[7]:
        raise AssertionError(f"MNISTDataset[7] label: got {y}, expected {labels[7]}")
    xs, ys = dataset[student.module("builtins").slice(3, 9)]
    check_array("MNISTDataset[3:9] images, shape (6, 28, 28, 1)", values("images", xs), expected[3:9],
                tol=1e-6)
    check_array("MNISTDataset[3:9] labels", values("labels", ys), labels[3:9], tol=1e-12)

    data = ndl.data
    augmented = data.MNISTDataset(img_path, lbl_path,
                                  transforms=[data.RandomCrop(3), data.RandomFlipHorizontal(0.5)])
    student.seed(21)
    rs = np.random.RandomState(21)
    for i in [0, 5, 22, 11]:
        want = ref.flip(rs, ref.crop(rs, expected[i], 3), 0.5)
        check_array(f"MNISTDataset(..., transforms=[RandomCrop(3), RandomFlipHorizontal()])[{i}] "
                    "after np.random.seed(21)", values("image", augmented[i][0]), want, tol=1e-6)


@weight(1)
@number("6.4")
def test_ndarray_dataset(student, ndl):
    a = np.arange(30.0).reshape(10, 3)
    b = np.arange(10) % 4
    dataset = ndl.data.NDArrayDataset(a, b)
    size = student.module("builtins").len(dataset)
    if size != 10:
        raise AssertionError(f"len(NDArrayDataset) is {size} for arrays of length 10")
    first, second = dataset[4]
    check_array("NDArrayDataset[4][0]", values("item", first), a[4], tol=1e-12)
    check_array("NDArrayDataset[4][1]", values("item", second), b[4], tol=1e-12)
    first, second = dataset[np.array([7, 1, 2])]
    check_array("NDArrayDataset[[7, 1, 2]][0]", values("batch", first), a[[7, 1, 2]], tol=1e-12)
    check_array("NDArrayDataset[[7, 1, 2]][1]", values("batch", second), b[[7, 1, 2]], tol=1e-12)


def _epoch(builtins, loader, name):
    """One pass over a student DataLoader: a list of (x, y) arrays per batch."""
    batches = builtins.list(loader)  # one iter(loader): one epoch
    if type(batches) is not list:
        raise AssertionError(f"{name}: iterating gave {batches}")
    out = []
    for k, batch in enumerate(batches):
        if not isinstance(batch, tuple) or len(batch) != 2:
            raise AssertionError(f"{name}: batch {k} is not a tuple of 2 Tensors")
        out.append(tuple(values(f"{name}: batch {k}", part) for part in batch))
    return out


def _check_batches(name, got, a, b, order, batch_size):
    want = ref.batch_order(len(a), batch_size, order)
    if len(got) != len(want):
        raise AssertionError(f"{name}: {len(got)} batches, expected {len(want)}")
    for k, ((x, y), idx) in enumerate(zip(got, want)):
        check_array(f"{name}: batch {k} inputs", x, a[idx], tol=1e-12)
        check_array(f"{name}: batch {k} labels", y, b[idx], tol=1e-12)


@weight(4)
@number("6.5")
def test_dataloader(student, ndl):
    builtins = student.module("builtins")
    n = 23
    a = np.random.default_rng(0).standard_normal((n, 2, 3))
    b = np.arange(n) * 3
    dataset = ndl.data.NDArrayDataset(a, b)

    loader = ndl.data.DataLoader(dataset, batch_size=5, shuffle=False)
    name = "DataLoader(batch_size=5, shuffle=False) over 23 examples"
    _check_batches(name, _epoch(builtins, loader, name), a, b, None, 5)
    _check_batches(name + ", second epoch", _epoch(builtins, loader, name), a, b, None, 5)

    loader = ndl.data.DataLoader(dataset, batch_size=4, shuffle=True)
    name = "DataLoader(batch_size=4, shuffle=True) after np.random.seed(77)"
    student.seed(77)
    rs = np.random.RandomState(77)
    for e in range(3):
        _check_batches(f"{name}, epoch {e + 1} (a new permutation each epoch)",
                       _epoch(builtins, loader, name), a, b, rs.permutation(n), 4)
