"""The idx and CIFAR-10 loaders: correct arrays from good files, clear errors on bad ones."""

from __future__ import annotations

import gzip
import pickle
import struct

import numpy as np
import pytest

from coursekit.data import formats, loaders
from coursekit.data.formats import FormatError


# ---------------------------------------------------------------------------
# MNIST / idx: good files
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("flat", [False, True])
def test_load_mnist_reads_generated_files(tmp_path, gen, flat):
    arrays = gen.write_mnist(tmp_path if flat else tmp_path / "mnist", n_train=9, n_test=4)
    for kind in ("train", "t10k"):
        images, labels = loaders.load_mnist(tmp_path, kind)
        assert images.dtype == np.uint8 and labels.dtype == np.uint8
        np.testing.assert_array_equal(images, arrays[f"{kind}-images-idx3-ubyte.gz"])
        np.testing.assert_array_equal(labels, arrays[f"{kind}-labels-idx1-ubyte.gz"])
        assert images.flags.writeable


def test_load_mnist_accepts_decompressed_files(tmp_path, gen):
    arrays = gen.write_mnist(tmp_path / "mnist", n_train=3, n_test=2)
    for name in gen.MNIST_FILES:
        gz = tmp_path / "mnist" / name
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    images, labels = loaders.load_mnist(tmp_path, "t10k")
    np.testing.assert_array_equal(images, arrays["t10k-images-idx3-ubyte.gz"])


@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32", "float32", "float64"])
def test_read_idx_decodes_big_endian_items(tmp_path, gen, dtype):
    # Values chosen so a wrong byte order changes every multi-byte item.
    arr = (np.arange(2 * 3 * 5).reshape(2, 3, 5) * 3 - 7).astype(dtype)
    path = gen.write_gz(tmp_path / "x-idx3-ubyte.gz", gen.idx_bytes(arr))
    out = loaders.read_idx(path)
    assert out.dtype == np.dtype(dtype) and out.shape == (2, 3, 5)
    np.testing.assert_array_equal(out, arr)
    # Written by hand as a cross-check of idx_bytes: the first item, big-endian, right after the header.
    raw = gzip.decompress(path.read_bytes())
    assert raw[:4] == bytes([0, 0, {"uint8": 8, "int8": 9, "int16": 11, "int32": 12, "float32": 13, "float64": 14}[dtype], 3])
    assert struct.unpack(">3I", raw[4:16]) == (2, 3, 5)


def test_load_mnist_rejects_unknown_kind(tmp_path):
    with pytest.raises(ValueError, match="'train' or 't10k'"):
        loaders.load_mnist(tmp_path, "test")


def test_load_mnist_names_missing_file(tmp_path):
    with pytest.raises(FormatError, match=r"train-images-idx3-ubyte.gz: missing.*kitdata.fetch mnist"):
        loaders.load_mnist(tmp_path, "train")


# ---------------------------------------------------------------------------
# MNIST / idx: bad files, each with a message that names the file and the fault
# ---------------------------------------------------------------------------

def _header(code, dims):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def test_truncated_payload_message(tmp_path, gen):
    payload = _header(0x08, (60000, 28, 28)) + bytes(1000 - 16)
    path = gen.write_gz(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", payload)
    with pytest.raises(FormatError) as e:
        loaders.read_idx(path, (None, 28, 28), "uint8")
    assert str(e.value) == "train-images-idx3-ubyte.gz: truncated: expected 47040016 bytes, got 1000"


def test_trailing_data_message(tmp_path, gen):
    payload = gen.idx_bytes(np.zeros((2, 28, 28), np.uint8)) + b"extra"
    path = gen.write_gz(tmp_path / "t10k-images-idx3-ubyte.gz", payload)
    with pytest.raises(FormatError, match=r"^t10k-images-idx3-ubyte.gz: 5 bytes of trailing data: expected 1584 bytes, got 1589$"):
        loaders.read_idx(path)


@pytest.mark.parametrize("payload, message", [
    (b"\x89PNG\r\n\x1a\n" + bytes(100), r"not an idx file: magic number 0x89504e47 should start with two zero bytes"),
    (bytes([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), r"not an idx file: unknown type code 0x07"),
    (b"\x00\x00", r"truncated: expected at least a 4-byte header, got 2 bytes"),
    (bytes([0, 0, 8, 3, 0, 0]), r"truncated: expected a 16-byte header for 3 dimensions, got 6 bytes"),
])
def test_malformed_headers(tmp_path, gen, payload, message):
    path = gen.write_gz(tmp_path / "train-images-idx3-ubyte.gz", payload)
    with pytest.raises(FormatError, match="^train-images-idx3-ubyte.gz: " + message):
        loaders.read_idx(path)


def test_labels_file_in_place_of_images(tmp_path, gen):
    gen.write_mnist(tmp_path / "mnist", n_train=3, n_test=3)
    images = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    images.write_bytes((tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes())
    with pytest.raises(FormatError, match=r"^train-images-idx3-ubyte.gz: has 1 dimension\(s\) \(3,\), expected 3: \(N, 28, 28\)$"):
        loaders.load_mnist(tmp_path, "train")


def test_wrong_image_size_and_type(tmp_path, gen):
    path = gen.write_gz(tmp_path / "a.gz", gen.idx_bytes(np.zeros((2, 28, 27), np.uint8)))
    with pytest.raises(FormatError, match=r"a.gz: has shape \(2, 28, 27\), expected \(N, 28, 28\)"):
        loaders.read_idx(path, (None, 28, 28))
    path = gen.write_gz(tmp_path / "b.gz", gen.idx_bytes(np.zeros((2, 28, 28), np.float32)))
    with pytest.raises(FormatError, match=r"b.gz: items are float32, expected uint8"):
        loaders.read_idx(path, (None, 28, 28), "uint8")


def test_gzip_faults(tmp_path, gen):
    good = gzip.compress(gen.idx_bytes(np.arange(200, dtype=np.uint8).reshape(2, 10, 10)), mtime=0)
    cut = tmp_path / "cut.gz"
    cut.write_bytes(good[: len(good) // 2])
    with pytest.raises(FormatError, match=r"^cut.gz: corrupt gzip data: the compressed stream is cut short"):
        loaders.read_idx(cut)
    crc = tmp_path / "crc.gz"
    crc.write_bytes(good[:-8] + bytes([good[-8] ^ 0xFF]) + good[-7:])  # the CRC32 sits in the trailer
    with pytest.raises(FormatError, match=r"^crc.gz: corrupt gzip data \(CRC check failed"):
        loaders.read_idx(crc)
    plain = tmp_path / "plain.gz"
    plain.write_bytes(gzip.decompress(good))
    with pytest.raises(FormatError, match=r"^plain.gz: not a gzip file \(starts with 00000803\)"):
        loaders.read_idx(plain)


def test_label_count_and_range(tmp_path, gen):
    images, labels = gen.mnist_arrays(5, 1)
    folder = tmp_path / "mnist"
    gen.write_gz(folder / "t10k-images-idx3-ubyte.gz", gen.idx_bytes(images))
    gen.write_gz(folder / "t10k-labels-idx1-ubyte.gz", gen.idx_bytes(labels[:4]))
    with pytest.raises(FormatError, match=r"t10k-labels-idx1-ubyte.gz: holds 4 labels for the 5 images"):
        loaders.load_mnist(tmp_path, "t10k")
    bad = labels.copy()
    bad[2] = 11
    gen.write_gz(folder / "t10k-labels-idx1-ubyte.gz", gen.idx_bytes(bad))
    with pytest.raises(FormatError, match=r"t10k-labels-idx1-ubyte.gz: label 11 is not a digit"):
        loaders.load_mnist(tmp_path, "t10k")


# ---------------------------------------------------------------------------
# CIFAR-10: good files in every pickle dialect a batch may come in
# ---------------------------------------------------------------------------

def _expected_images(data: np.ndarray) -> np.ndarray:
    """Channels-last images from the official row layout, one pixel at a time (a second method)."""
    n = data.shape[0]
    out = np.empty((n, 32, 32, 3), np.uint8)
    for i in range(n):
        for ch in range(3):
            for r in range(32):
                for c in range(32):
                    out[i, r, c, ch] = data[i, ch * 1024 + r * 32 + c]
    return out


@pytest.mark.parametrize("dialect", ["py2-strings", "protocol-2", "protocol-4", "protocol-5", "str-keys"])
def test_load_cifar10_batch_dialects(tmp_path, gen, dialect):
    batch = gen.cifar_batch_dict(6, seed=3, key_type=str if dialect == "str-keys" else bytes)
    path = tmp_path / "data_batch_1"
    if dialect == "py2-strings":
        gen.dump_py2(batch, path)
    else:
        proto = {"protocol-2": 2, "protocol-4": 4, "protocol-5": 5, "str-keys": 2}[dialect]
        path.write_bytes(pickle.dumps(batch, protocol=proto))
    X, y = loaders.load_cifar10_batch(path)
    data = batch[b"data" if dialect != "str-keys" else "data"]
    labels = batch[b"labels" if dialect != "str-keys" else "labels"]
    assert X.dtype == np.uint8 and X.shape == (6, 32, 32, 3) and X.flags.c_contiguous
    assert y.dtype == np.int64
    np.testing.assert_array_equal(X, _expected_images(data))
    np.testing.assert_array_equal(y, labels)


def test_load_cifar10_whole_set(tmp_path, gen):
    batches = gen.write_cifar(tmp_path / "cifar-10-batches-py", n=4)
    Xtr, ytr, Xte, yte = loaders.load_cifar10(tmp_path)
    assert Xtr.shape == (20, 32, 32, 3) and Xte.shape == (4, 32, 32, 3)
    expected_train = np.concatenate([batches[f"data_batch_{k}"][b"data"] for k in range(1, 6)])
    np.testing.assert_array_equal(Xtr, _expected_images(expected_train))
    np.testing.assert_array_equal(yte, batches["test_batch"][b"labels"])
    assert loaders.cifar10_class_names(tmp_path) == gen.CLASSES
    # The batches folder itself works as a root too.
    np.testing.assert_array_equal(loaders.load_cifar10(tmp_path / "cifar-10-batches-py")[3], yte)


# ---------------------------------------------------------------------------
# CIFAR-10: wrong files
# ---------------------------------------------------------------------------

def _batch_with(gen, **changes):
    batch = gen.cifar_batch_dict(5, seed=1)
    for k, v in changes.items():
        if v is None:
            del batch[k.encode()]
        else:
            batch[k.encode()] = v
    return batch


@pytest.mark.parametrize("changes, message", [
    ({"data": np.zeros((5, 3071), np.uint8)}, r"'data' has shape \(5, 3071\), expected \(N, 3072\)"),
    ({"data": np.zeros((5, 3072), np.float32)}, r"'data' has type f4, expected u1 \(uint8\)"),
    ({"data": [[0] * 3072] * 5}, r"'data' is a list, expected a numpy array"),
    ({"labels": [1, 2, 3]}, r"'labels' has 3 entries for 5 images"),
    ({"labels": [1, 2, 10, 3, 4]}, r"'labels'\[2\] is 10, expected a class in 0..9"),
    ({"labels": [1, 2, -1, 3, 4]}, r"'labels'\[2\] is -1, expected a class in 0..9"),
    ({"labels": None}, r"missing key\(s\) 'labels'"),
])
def test_bad_cifar_batches(tmp_path, gen, changes, message):
    path = gen.dump_py2(_batch_with(gen, **changes), tmp_path / "data_batch_2")
    with pytest.raises(FormatError, match="^data_batch_2: " + message):
        loaders.load_cifar10_batch(path)


def test_cifar_count_checked_when_given(tmp_path, gen):
    path = gen.dump_py2(gen.cifar_batch_dict(5, seed=0), tmp_path / "test_batch")
    with pytest.raises(FormatError, match=r"^test_batch: holds 5 images, expected 10000$"):
        formats.check_cifar_batch(formats.load_pickle(path), "test_batch", 10000)


def test_not_a_pickle_and_truncated_pickle(tmp_path, gen):
    junk = tmp_path / "data_batch_3"
    junk.write_bytes(b"this is not a pickle at all")
    with pytest.raises(FormatError, match=r"^data_batch_3: not a valid data pickle"):
        loaders.load_cifar10_batch(junk)
    good = gen.dump_py2(gen.cifar_batch_dict(5, seed=2), tmp_path / "good")
    cut = tmp_path / "data_batch_4"
    cut.write_bytes(good.read_bytes()[:9000])
    with pytest.raises(FormatError, match=r"^data_batch_4: not a valid data pickle"):
        loaders.load_cifar10_batch(cut)
    extra = tmp_path / "data_batch_5"
    extra.write_bytes(good.read_bytes() + b"junk")
    with pytest.raises(FormatError, match=r"^data_batch_5: 4 bytes of trailing data after the pickle$"):
        loaders.load_cifar10_batch(extra)


class _ShortArray:
    """Pickles like a (4, 3072) uint8 array whose state carries only 100 bytes of data."""

    def __reduce__(self):
        reconstruct = np.zeros(1).__reduce__()[0]
        return (reconstruct, (np.ndarray, (0,), b"b"), (1, (4, 3072), np.dtype("u1"), False, b"\x00" * 100))


def test_array_state_must_match_its_bytes(tmp_path):
    path = tmp_path / "data_batch_1"
    path.write_bytes(pickle.dumps({"data": _ShortArray(), "labels": [0] * 4}, protocol=2))
    with pytest.raises(FormatError, match=r"^data_batch_1: not a valid data pickle .*needs 12288 bytes, the file holds 100"):
        loaders.load_cifar10_batch(path)


def test_bad_meta(tmp_path, gen):
    path = gen.dump_py2({b"label_names": [b"cat", b"dog"]}, tmp_path / "batches.meta")
    with pytest.raises(FormatError, match=r"^batches.meta: 'label_names' should be a list of 10 strings$"):
        loaders.cifar10_class_names(tmp_path)
