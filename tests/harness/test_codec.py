"""The wire codec: plain data round-trips; anything else is refused, never executed."""

import io
import json
import math
import pickle
import struct

import numpy as np
import pytest

from coursekit.sandbox import codec


def roundtrip(value, make_handle=None):
    stream = io.BytesIO(b"".join(bytes(c) for c in codec.encode(value, make_handle)))
    doc, buffers = codec.read_message(stream, max_bytes=1 << 30)
    return codec.decode(doc, buffers, make_handle=lambda tag: ("handle", tag["$h"]))


def raw_message(doc: dict, buffers=()) -> io.BytesIO:
    header = json.dumps(doc).encode()
    out = struct.pack("<Q", len(header)) + header + struct.pack("<I", len(buffers))
    for b in buffers:
        out += struct.pack("<Q", len(b)) + b
    return io.BytesIO(out)


def decode_raw(doc, buffers=()):
    d, b = codec.read_message(raw_message(doc, buffers), max_bytes=1 << 20)
    return codec.decode(d, b, make_handle=lambda tag: ("handle", tag["$h"]))


def test_plain_values_roundtrip():
    value = {"a": (1, 2.5, None, True), 3: [np.float32(2.0), "s"], (1, "k"): -math.inf}
    out = roundtrip(value)
    assert out == {"a": (1, 2.5, None, True), 3: [2.0, "s"], (1, "k"): -math.inf}
    assert math.isnan(roundtrip(float("nan")))


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint16", "int64", "float16", "float32", "float64"])
def test_arrays_roundtrip_as_plain_owned_arrays(dtype):
    a = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    out = roundtrip(a)
    assert type(out) is np.ndarray and out.dtype == a.dtype and out.flags.writeable
    np.testing.assert_array_equal(out, a)
    assert roundtrip(np.zeros((0, 3))).shape == (0, 3)
    big_endian = np.arange(4, dtype=">f8")
    np.testing.assert_array_equal(roundtrip(big_endian), big_endian)


def test_subclass_arrives_as_plain_ndarray():
    class Sub(np.ndarray):
        pass
    out = roundtrip(np.arange(3.0).view(Sub))
    assert type(out) is np.ndarray


def test_unsendable_values_become_handles_or_errors():
    assert roundtrip(object(), make_handle=lambda obj: {"$h": 7, "type": "object", "repr": ""}) == ("handle", 7)
    with pytest.raises(codec.ProtocolError):
        codec.encode(object())
    with pytest.raises(codec.ProtocolError):
        codec.encode(np.array([object()], dtype=object))


@pytest.mark.parametrize("doc, buffers", [
    ({"$a": 0, "dtype": "|O", "shape": [1]}, [b"\0" * 8]),          # object dtype
    ({"$a": 0, "dtype": "<U4", "shape": [1]}, [b"\0" * 16]),        # strings
    ({"$a": 0, "dtype": "<f8", "shape": [3]}, [b"\0" * 8]),         # size mismatch
    ({"$a": 1, "dtype": "<f8", "shape": [1]}, [b"\0" * 8]),         # missing buffer
    ({"$a": 0, "dtype": "<f8", "shape": [-1]}, [b"\0" * 8]),        # negative shape
    ({"$pickle": "gASV"}, []),                                       # unknown tag
    ({"$d": [[{"$t": []}, 1], [[1], 2]]}, []),                        # unhashable key
    ({"$f": "maybe"}, []),
])
def test_malformed_messages_are_refused(doc, buffers):
    with pytest.raises(codec.ProtocolError):
        decode_raw(doc, buffers)


def test_deep_nesting_and_huge_sizes_are_refused():
    doc = [0]
    for _ in range(200):
        doc = [doc]
    with pytest.raises(codec.ProtocolError):
        decode_raw(doc)
    with pytest.raises(codec.ProtocolError):
        codec.read_message(io.BytesIO(struct.pack("<Q", 1 << 40)), max_bytes=1 << 20)


def test_a_pickle_is_not_a_message():
    payload = pickle.dumps({"ok": 1})
    stream = io.BytesIO(struct.pack("<Q", len(payload)) + payload + struct.pack("<I", 0))
    with pytest.raises(codec.ProtocolError):
        codec.read_message(stream, max_bytes=1 << 20)
