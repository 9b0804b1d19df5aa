"""A submission that "classifies" by looking its input up in the public test set.

CIFAR-10's test batch and MNIST's t10k are public with their labels. `prelude(kind)` is
Python source a submission can carry (in a module or a notebook cell): it holds a table
of an 8-byte hash of every public test image -> its label, and defines

    _lookup_scores(pixels) -> float32 (N, 10)

which, for images given as pixel values in [0, 255] laid out channels first, returns a
one-hot score of the public label when the image is found and noise otherwise. The
model code around it only has to undo the grader's published preprocessing.

`lookup_accuracy(kind, prelude_source, make_input)` runs the prelude here on the whole
public test set, to show the attack is real: the old graders, which asked the student's
forward pass for scores, gave such a submission full marks.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("COURSEKIT_DATA", REPO / "datasets" / "cache"))

_CORE = '''
import base64 as _lk_b64, hashlib as _lk_hash, zlib as _lk_zlib
import numpy as _lk_np
_lk_raw = _lk_np.frombuffer(_lk_zlib.decompress(_lk_b64.b64decode(_LOOKUP_DATA)), dtype=_lk_np.uint8)
_lk_n = len(_lk_raw) // 9
_LOOKUP = dict(zip(_lk_raw[:8 * _lk_n].view("<u8").tolist(), _lk_raw[8 * _lk_n:].tolist()))


def _lookup_scores(pixels):
    pixels = _lk_np.ascontiguousarray(_lk_np.clip(_lk_np.rint(pixels), 0, 255).astype(_lk_np.uint8))
    out = _lk_np.random.default_rng(0).random((len(pixels), 10)).astype(_lk_np.float32)
    for i, image in enumerate(pixels):
        key = int.from_bytes(_lk_hash.blake2b(image.tobytes(), digest_size=8).digest(), "little")
        if key in _LOOKUP:
            out[i] = 0.0
            out[i, _LOOKUP[key]] = 10.0
    return out
'''


def public_test_set(kind: str):
    """(uint8 images channels first, int labels) of the public test set."""
    if kind == "cifar10":
        from coursekit.data.loaders import load_cifar10_batch
        images, labels = load_cifar10_batch(DATA / "cifar-10-batches-py" / "test_batch")
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2)), np.asarray(labels)
    if kind == "mnist":
        from coursekit.data.loaders import load_mnist
        images, labels = load_mnist(DATA, "t10k")
        return np.ascontiguousarray(images.reshape(-1, 1, 28, 28)), np.asarray(labels)
    raise ValueError(kind)


def _key(image: np.ndarray) -> int:
    return int.from_bytes(hashlib.blake2b(image.tobytes(), digest_size=8).digest(), "little")


def prelude(kind: str) -> str:
    """Source defining _lookup_scores over the public test set `kind` ("cifar10" or "mnist")."""
    images, labels = public_test_set(kind)
    keys = np.array([_key(image) for image in images], dtype="<u8")
    raw = keys.tobytes() + labels.astype(np.uint8).tobytes()
    data = base64.b64encode(zlib.compress(raw, 9)).decode()
    return f'_LOOKUP_DATA = "{data}"\n' + _CORE


def lookup_accuracy(kind: str, source: str, scores_of) -> float:
    """Accuracy on the whole public test set of `scores_of(namespace, uint8 images)`, with
    `source` (a prelude and the model code) executed in `namespace`."""
    namespace: dict = {"__name__": "lookup_attack_check"}
    exec(compile(source, "<lookup attack>", "exec"), namespace)
    images, labels = public_test_set(kind)
    scores = scores_of(namespace, images)
    return float(np.mean(np.argmax(scores, axis=1) == labels))


def torch_prelude(kind: str) -> str:
    """prelude(kind) plus _lookup_torch(x): the lookup's scores for a batch x of model
    inputs (a tensor), with the grader's published preprocessing undone."""
    if kind == "cifar10":
        undo = ("_LK_MEAN = _lk_np.array((0.4914, 0.4822, 0.4465), dtype=_lk_np.float32).reshape(1, 3, 1, 1)\n"
                "_LK_STD = _lk_np.array((0.2470, 0.2435, 0.2616), dtype=_lk_np.float32).reshape(1, 3, 1, 1)\n"
                "def _lk_pixels(x):\n"
                "    return (x * _LK_STD + _LK_MEAN) * 255.0\n")
    else:
        undo = "def _lk_pixels(x):\n    return x * 255.0\n"
    return prelude(kind) + undo + '''

def _lookup_torch(x):
    import torch as _lk_torch
    scores = _lookup_scores(_lk_pixels(x.detach().cpu().numpy()))
    return _lk_torch.from_numpy(scores).to(x.device)
'''


def model_inputs(kind: str, images: np.ndarray) -> np.ndarray:
    """The graders' published preprocessing of uint8 channels-first images."""
    x = images.astype(np.float32) / np.float32(255.0)
    if kind == "cifar10":
        mean = np.array((0.4914, 0.4822, 0.4465), dtype=np.float32).reshape(1, 3, 1, 1)
        std = np.array((0.2470, 0.2435, 0.2616), dtype=np.float32).reshape(1, 3, 1, 1)
        x = (x - mean) / std
    return x
