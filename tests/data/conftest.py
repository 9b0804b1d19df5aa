"""Small data files in the official MNIST and CIFAR-10 formats, made on the fly.

Tests that need the real data sets are marked `realdata` and skipped when the data
root lacks them; everything else here runs on these generated files.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import io
import json
import pickle
import struct
import tarfile
import types
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
MNIST_FILES = [f"{k}-{p}-ubyte.gz" for k in ("train", "t10k") for p in ("images-idx3", "labels-idx1")]
CIFAR_FILES = [f"data_batch_{k}" for k in range(1, 6)] + ["test_batch", "batches.meta"]
CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


# ---------------------------------------------------------------------------
# idx
# ---------------------------------------------------------------------------

_IDX_CODES = {np.dtype("uint8"): 0x08, np.dtype("int8"): 0x09, np.dtype("int16"): 0x0B,
              np.dtype("int32"): 0x0C, np.dtype("float32"): 0x0D, np.dtype("float64"): 0x0E}


def idx_bytes(arr: np.ndarray) -> bytes:
    """An array in idx format: zero, zero, type code, ndim, big-endian dims, big-endian items."""
    arr = np.asarray(arr)
    header = bytes([0, 0, _IDX_CODES[arr.dtype], arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_gz(path: Path, payload: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0 keeps the bytes reproducible.
    path.write_bytes(gzip.compress(payload, mtime=0))
    return path


def mnist_arrays(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n, dtype=np.uint8)


def write_mnist(folder: Path, n_train: int = 12, n_test: int = 7, seed: int = 0) -> dict:
    """Write the four MNIST files (small) into `folder`; return {file name: array}."""
    arrays = {}
    for kind, n in (("train", n_train), ("t10k", n_test)):
        images, labels = mnist_arrays(n, seed + (kind == "t10k"))
        arrays[f"{kind}-images-idx3-ubyte.gz"] = images
        arrays[f"{kind}-labels-idx1-ubyte.gz"] = labels
    for name, arr in arrays.items():
        write_gz(folder / name, idx_bytes(arr))
    return arrays


# ---------------------------------------------------------------------------
# CIFAR-10 pickles
# ---------------------------------------------------------------------------

class Py2StringPickler(pickle._Pickler):
    """Pickles bytes as Python 2 strings (SHORT_BINSTRING / BINSTRING), as the official batches do."""

    dispatch = pickle._Pickler.dispatch.copy()

    def _save_bytes_as_py2_str(self, obj):
        if len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_bytes_as_py2_str


def cifar_batch_dict(n: int, seed: int, key_type=bytes) -> dict:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, n)]
    k = (lambda s: s.encode()) if key_type is bytes else (lambda s: s)
    return {k("batch_label"): k(f"generated batch {seed}"), k("labels"): labels, k("data"): data,
            k("filenames"): [k(f"img_{i}.png") for i in range(n)]}


def dump_py2(obj, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        Py2StringPickler(f, protocol=2).dump(obj)
    return path


def write_cifar(folder: Path, n: int = 20, seed: int = 0) -> dict:
    """Write all seven CIFAR-10 files (n images per batch) into `folder`; return {name: batch dict}."""
    batches = {}
    for i, name in enumerate(CIFAR_FILES[:-1]):
        batches[name] = cifar_batch_dict(n, seed + i)
        dump_py2(batches[name], folder / name)
    dump_py2({b"num_cases_per_batch": n, b"label_names": [c.encode() for c in CLASSES], b"num_vis": 3072},
             folder / "batches.meta")
    return batches


# ---------------------------------------------------------------------------
# A registry for the generated files
# ---------------------------------------------------------------------------

def _md5_payload(path: Path) -> dict:
    raw = path.read_bytes()
    payload = gzip.decompress(raw) if path.name.endswith(".gz") else raw
    return {"md5": hashlib.md5(payload).hexdigest(), "sha256": hashlib.sha256(payload).hexdigest(),
            "size": len(payload)}


def small_registry(official_mnist: Path | None = None, official_cifar: Path | None = None,
                   n_train: int = 12, n_test: int = 7, n_cifar: int = 20,
                   mnist_urls=None, archive=None) -> dict:
    """A registry shaped like datasets/registry.json for the small generated files.

    Checksums are taken from the files in `official_mnist` / `official_cifar` (the
    folders that play the role of the official release); without one, the checksums
    are of nothing real, so every copy counts as non-official.
    """
    real = json.loads((REPO / "datasets" / "registry.json").read_text())
    reg = copy.deepcopy(real)
    mnist = reg["datasets"]["mnist"]
    for name, fspec in mnist["files"].items():
        n = n_train if name.startswith("train") else n_test
        fspec["format"]["shape"] = [n, 28, 28] if "images" in name else [n]
        fspec["urls"] = list((mnist_urls or {}).get(name, ["http://127.0.0.1:9/" + name]))
        fspec["payload"] = _md5_payload(official_mnist / name) if official_mnist else {"md5": "0" * 32}
    cifar = reg["datasets"]["cifar10"]
    for name, fspec in cifar["files"].items():
        if fspec["format"]["type"] == "cifar_batch":
            fspec["format"]["count"] = n_cifar
        fspec["payload"] = _md5_payload(official_cifar / name) if official_cifar else {"md5": "0" * 32}
    if archive:
        cifar["archive"] = archive
    else:
        cifar["archive"]["urls"] = ["http://127.0.0.1:9/cifar-10-python.tar.gz"]
    return reg


def make_cifar_tarball(src: Path, dest: Path, extra_members=()) -> Path:
    """A tar.gz laid out like the official archive (cifar-10-batches-py/<file>)."""
    with tarfile.open(dest, "w:gz") as tf:
        for name in CIFAR_FILES:
            tf.add(src / name, arcname=f"cifar-10-batches-py/{name}")
        for arcname, data in extra_members:
            info = tarfile.TarInfo(arcname)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return dest


@pytest.fixture
def gen():
    """The generators above, for tests."""
    return types.SimpleNamespace(
        idx_bytes=idx_bytes, write_gz=write_gz, write_mnist=write_mnist, mnist_arrays=mnist_arrays,
        cifar_batch_dict=cifar_batch_dict, dump_py2=dump_py2, write_cifar=write_cifar,
        small_registry=small_registry, make_cifar_tarball=make_cifar_tarball, md5_payload=_md5_payload,
        MNIST_FILES=MNIST_FILES, CIFAR_FILES=CIFAR_FILES, CLASSES=CLASSES, REPO=REPO)
