"""Hostile CIFAR-10 pickles are refused before any of their code runs.

Each payload is first shown to be live: plain `pickle.loads` runs it and it leaves a
marker file. The kit's loader must refuse the same bytes and leave no marker.
"""

from __future__ import annotations

import builtins
import os
import pickle

import numpy as np
import pytest

from coursekit.data import fetch, formats, loaders
from coursekit.data.formats import FormatError


class _Exec:
    """Runs `code` through builtins.exec when unpickled."""

    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return (builtins.exec, (self.code,))


class _System:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def _touch_code(marker):
    return f"open({str(marker)!r}, 'w').write('ran')"


def _payloads(marker):
    """(label, bytes) of pickles that create `marker` when loaded with pickle.loads."""
    touch = _touch_code(marker)
    batch = lambda evil: {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1], b"extra": evil}
    return [
        ("exec at the top, protocol 0", pickle.dumps(_Exec(touch), protocol=0)),
        ("exec inside a batch dict, protocol 2", pickle.dumps(batch(_Exec(touch)), protocol=2)),
        ("exec inside a batch dict, protocol 4 (STACK_GLOBAL)", pickle.dumps(batch(_Exec(touch)), protocol=4)),
        ("os.system inside a batch dict", pickle.dumps(batch(_System(f"touch {marker}")), protocol=2)),
        # numpy pickles object arrays element by element, so the payload rides inside an array.
        ("exec inside an object array", pickle.dumps(
            {b"data": np.array([_Exec(touch), 1], dtype=object), b"labels": [0]}, protocol=2)),
    ]


@pytest.mark.parametrize("index", range(5))
def test_hostile_pickle_is_refused_without_running(tmp_path, index):
    marker = tmp_path / "marker"
    label, payload = _payloads(marker)[index]

    # The control: this payload really does run code under pickle.loads.
    pickle.loads(payload)
    assert marker.exists(), f"payload {label!r} is not live"
    marker.unlink()

    path = tmp_path / "data_batch_1"
    path.write_bytes(payload)
    with pytest.raises(FormatError) as e:
        loaders.load_cifar10_batch(path)
    assert str(e.value).startswith("data_batch_1: refused to load: ")
    assert not marker.exists(), f"{label}: code ran inside the kit's loader"

    # fetch's verification takes the same path and reports the file as wrong.
    spec = {"format": {"type": "cifar_batch"}, "payload": {"md5": "0" * 32}}
    status = fetch.check_file("cifar10", tmp_path, "data_batch_1", spec)
    assert status.state == "bad" and "refused to load" in status.detail
    assert not marker.exists()


def test_refusal_names_the_global(tmp_path):
    path = tmp_path / "test_batch"
    path.write_bytes(pickle.dumps(_System("true"), protocol=2))
    expected = f"test_batch: refused to load: the pickle asks for {os.system.__module__}.system;"
    with pytest.raises(FormatError, match="^" + expected.replace(".", r"\.")):
        loaders.load_cifar10_batch(path)


def test_allowed_names_cannot_be_misused(tmp_path):
    # The names a numpy pickle may use stand for inert objects: calling the ndarray
    # token, or setting state on the dtype stand-in, is refused.
    ndarray_call = b"\x80\x02cnumpy\nndarray\nK\x05\x85R."                  # numpy.ndarray(5)
    build_on_dtype = b"\x80\x02cnumpy\ndtype\nN}U\x01xK\x01s\x86b."          # BUILD (None, {"x": 1}) on the stand-in
    object_dtype = b"\x80\x02cnumpy\ndtype\nU\x02O8\x85R."                  # numpy.dtype('O8')
    for raw, why in ((ndarray_call, "numpy.ndarray is not callable"), (build_on_dtype, "may not modify"),
                     (object_dtype, "not allowed in a data file")):
        with pytest.raises(FormatError, match=why):
            formats.loads_pickle(raw, "x")
    # The stand-ins still work after the attempts (nothing was changed).
    arr = formats.loads_pickle(pickle.dumps(np.arange(3, dtype=np.uint8), protocol=2), "y")
    assert arr.shape == (3,) and arr.data == b"\x00\x01\x02"


def test_persistent_ids_refused():
    raw = b"\x80\x02U\x03abcQ."  # BINPERSID
    with pytest.raises(FormatError, match="persistent ids"):
        formats.loads_pickle(raw, "x")
