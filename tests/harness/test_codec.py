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


# --------------------------------------------------------------------------- limits

P61 = 2**61 - 1  # CPython's int hash is the value modulo this prime


def frame(header: bytes, buffers=(), sizes=None) -> bytes:
    """A message with this exact header; `sizes` declares buffer lengths (default: true ones)."""
    sizes = [len(b) for b in buffers] if sizes is None else sizes
    out = [struct.pack("<Q", len(header)), header, struct.pack("<I", len(sizes))]
    for i, size in enumerate(sizes):
        out += [struct.pack("<Q", size), bytes(buffers[i]) if i < len(buffers) else b""]
    return b"".join(out)


def jdump(doc) -> bytes:
    return json.dumps(doc, separators=(",", ":")).encode()


def read(data: bytes, max_bytes=1 << 30, **limits):
    return codec.read_message(io.BytesIO(data), max_bytes, **limits)


def decode_bytes(data: bytes, read_limits=None, **limits):
    doc, buffers = read(data, **(read_limits or {}))
    return codec.decode(doc, buffers, make_handle=lambda tag: ("handle", tag["$h"]), **limits)


def test_header_size_limit_is_checked_before_reading_it():
    header = jdump("x" * 90)
    assert read(frame(header), max_header_bytes=len(header))[0] == "x" * 90
    with pytest.raises(codec.ProtocolError, match="header"):
        read(frame(header), max_header_bytes=len(header) - 1)
    # Only the length prefix exists: refused from the declaration, nothing read.
    with pytest.raises(codec.ProtocolError, match="header"):
        read(struct.pack("<Q", 64 << 20))


def test_total_size_limit_counts_header_and_buffers():
    header = jdump([{"$a": 0, "dtype": "|u1", "shape": [100]}, {"$a": 1, "dtype": "|u1", "shape": [50]}])
    data = frame(header, [b"\1" * 100, b"\2" * 50])
    exact = len(header) + 150
    out = decode_bytes(data, read_limits={"max_bytes": exact})
    assert out[0].sum() == 100 and out[1].sum() == 100
    with pytest.raises(codec.ProtocolError, match="exceeds the limit"):
        read(data, max_bytes=exact - 1)


def test_a_huge_declared_buffer_is_refused_before_it_is_allocated():
    header = jdump({"$a": 0, "dtype": "|u1", "shape": [3 << 29]})
    # 1.5 GB declared, no byte of it sent: a reader that allocated or waited would fail
    # differently (MemoryError, EOFError).
    with pytest.raises(codec.ProtocolError, match="exceeds the limit"):
        read(frame(header, sizes=[3 << 29]), max_bytes=512 << 20)
    # Within the cap, a declared buffer that never arrives is an end of stream, not a hang.
    with pytest.raises(EOFError):
        read(frame(header, sizes=[1 << 20]), max_bytes=512 << 20)


def test_buffer_count_limit():
    header = jdump([{"$a": i, "dtype": "|u1", "shape": [1]} for i in range(5)])
    data = frame(header, [b"\7"] * 5)
    assert len(decode_bytes(data, read_limits={"max_buffers": 5})) == 5
    with pytest.raises(codec.ProtocolError, match="buffers"):
        read(data, max_buffers=4)
    # Declared count alone is enough to refuse: no buffer follows it here.
    with pytest.raises(codec.ProtocolError, match="buffers"):
        read(frame(jdump(0), sizes=[0] * 200_000))


def test_item_limit_counts_values_and_keys_before_parsing():
    numbers = list(range(1000))
    data = frame(jdump(numbers))  # the list and its 1000 numbers: 1001 items
    assert read(data, max_items=1001)[0] == numbers
    with pytest.raises(codec.ProtocolError, match="items"):
        read(data, max_items=1000)
    # Empty containers and objects: [[], {}, {"a": []}] holds 5 values and 1 key.
    nested = frame(b'[[ ], {}, {"a" : []}]')
    assert read(nested, max_items=6)[0] == [[], {}, {"a": []}]
    with pytest.raises(codec.ProtocolError, match="items"):
        read(nested, max_items=5)


def test_separators_inside_strings_are_not_items():
    text_values = ['a,b:[c{d' * 50, 'quote \\" and, comma', "back\\\\", "]}"]
    data = frame(jdump(text_values))  # 5 items, hundreds of separator characters
    assert read(data, max_items=5)[0] == text_values
    with pytest.raises(codec.ProtocolError, match="items"):
        read(data, max_items=4)


def test_a_header_of_empty_lists_is_refused_before_parsing():
    # 3 bytes per empty list: about 64 bytes each once parsed.
    header = b"[" + b",".join([b"[]"] * 200_000) + b"]"
    with pytest.raises(codec.ProtocolError, match="items"):
        read(frame(header), max_items=200_000)
    assert len(read(frame(header), max_items=200_001)[0]) == 200_000


def test_depth_limit_just_inside_and_over():
    def nest(make, levels):
        value = 0
        for _ in range(levels):
            value = make(value)
        return value

    for make in (lambda v: [v], lambda v: (v,), lambda v: {"k": v}):
        value = nest(make, 10)
        data = b"".join(bytes(c) for c in codec.encode(value))
        assert decode_bytes(data, max_depth=10) == value
        with pytest.raises(codec.ProtocolError, match="nested too deeply"):
            decode_bytes(data, max_depth=9)


def test_a_very_deep_header_is_refused_while_parsing():
    header = b"[" * 1_000_000 + b"]" * 1_000_000
    with pytest.raises(codec.ProtocolError, match="nested too deeply"):
        read(frame(header))


def test_key_limit_counts_every_dict_of_the_message():
    value = [{i: i for i in range(300)}, {"x": {(i, "k"): None for i in range(200)}}]
    data = b"".join(bytes(c) for c in codec.encode(value))
    assert decode_bytes(data, max_keys=501) == value
    with pytest.raises(codec.ProtocolError, match="dict keys"):
        decode_bytes(data, max_keys=500)


@pytest.mark.parametrize("key", [
    [1, 2],                                         # list: unhashable
    {"$h": 3, "type": "Net", "repr": "n"},          # a handle: hashed by identity, not plain
    {"$t": [1, {"$h": 3, "type": "Net", "repr": "n"}]},
    {"$a": 0, "dtype": "<f8", "shape": [1]},
])
def test_only_plain_dict_keys_are_accepted(key):
    buffers = [b"\0" * 8] if "$a" in str(key) else []
    doc, bufs = read(frame(jdump({"$d": [[key, 1]]}), buffers))
    with pytest.raises(codec.ProtocolError, match="key"):
        # As in the parent: a handle tag becomes a stand-in object.
        codec.decode(doc, bufs, make_handle=lambda tag: codec.Handle(tag["$h"], "Net", "n"))


def test_plain_keys_of_every_kind_are_accepted():
    value = {"s": 1, 2: 2, 2.5: 3, True: 4, None: 5, (1, ("a", None), 2.0): 6, -1: 7, -2: 8}
    assert roundtrip(value) == value


def colliding_ints(n: int) -> list:
    return [k * P61 + 5 for k in range(1, n + 1)]


def test_keys_sharing_a_hash_value_are_refused():
    assert len({hash(k) for k in colliding_ints(20)}) == 1
    limit = codec.MAX_SHARED_HASH
    ok = {k: 0 for k in colliding_ints(limit)}
    ok.update({i: i for i in range(100, 1100)})  # other hash values
    assert roundtrip(ok) == ok
    bad = {k: 0 for k in colliding_ints(limit + 1)}
    with pytest.raises(codec.ProtocolError, match="share a hash"):
        roundtrip(bad)


def test_100k_colliding_int_keys_are_refused():
    # 99,999 keys plus the reply's own: exactly the key limit, so only the hash check stops it.
    entries = [[k, 0] for k in colliding_ints(codec.MAX_KEYS - 1)]
    data = frame(jdump({"$d": [["ok", {"$d": entries}]]}))
    with pytest.raises(codec.ProtocolError, match="share a hash"):
        decode_bytes(data)


_M64 = (1 << 64) - 1
_X1, _X2, _X5 = 11400714785074694791, 14029467366897019727, 2870177450012600261


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _M64


def colliding_pairs(n: int, target: int = 12345) -> list:
    """n tuples (a, b) of ints below 2**61 whose hashes all equal `target`.

    CPython hashes a tuple with xxHash-style rounds over its items' hashes
    (acc = rotl(acc + lane * X2, 31) * X1, then acc += len ^ (X5 ^ 3527539)); each
    round can be undone, so for any `a` the lane that `b` must supply is computable.
    Small ints hash to themselves, so keeping ints small does not prevent collisions.
    """
    tail = 2 ^ (_X5 ^ 3527539)
    goal = (target - tail) & _M64
    after_b = _rotl(goal * pow(_X1, -1, 1 << 64) & _M64, 64 - 31)   # undo "* X1", then rotl
    out, a = [], 0
    while len(out) < n:
        a += 1
        acc = _rotl((_X5 + a * _X2) & _M64, 31) * _X1 & _M64
        lane = (after_b - acc) * pow(_X2, -1, 1 << 64) & _M64
        if lane < P61 - 1:  # an int equal to its own hash
            out.append((a, lane))
    return out


def test_crafted_colliding_tuple_keys_are_refused():
    pairs = colliding_pairs(50)
    assert {hash(p) for p in pairs} == {12345}
    assert all(abs(b) < 2**61 for _, b in pairs)
    with pytest.raises(codec.ProtocolError, match="share a hash"):
        roundtrip({p: 0 for p in pairs})


def test_a_large_honest_dict_decodes():
    value = {f"key{i}": i for i in range(50_000)}
    value.update({(i, i + 1): float(i) for i in range(40_000)})
    assert roundtrip(value) == value


def test_arrays_are_views_of_the_buffer_read_in_place():
    class Recording(io.BytesIO):
        def __init__(self, data):
            super().__init__(data)
            self.targets = []

        def readinto(self, view):
            self.targets.append(view)
            return super().readinto(view)

    a = np.arange(1000.0).reshape(10, 100)
    stream = Recording(b"".join(bytes(c) for c in codec.encode(a)))
    doc, buffers = codec.read_message(stream, 1 << 30)
    out = codec.decode(doc, buffers)
    np.testing.assert_array_equal(out, a)
    assert type(out) is np.ndarray and out.flags.writeable and out.flags.c_contiguous
    # No copy: the array's memory is the very memory the stream wrote into.
    assert np.shares_memory(out, buffers[0])
    assert any(np.shares_memory(np.frombuffer(t, dtype=np.uint8), out) for t in stream.targets)
    out[0, 0] = -1.0  # and it belongs to nobody else
    assert a[0, 0] == 0.0


def test_streams_without_readinto_still_work():
    class ReadOnly:
        def __init__(self, data):
            self._inner = io.BytesIO(data)

        def read(self, n):
            return self._inner.read(min(n, 7))  # short reads too

    value = {"a": np.arange(50, dtype="<i4"), "b": [1, "two", (3.0,)]}
    doc, buffers = codec.read_message(ReadOnly(b"".join(bytes(c) for c in codec.encode(value))), 1 << 20)
    out = codec.decode(doc, buffers)
    np.testing.assert_array_equal(out["a"], value["a"])
    assert out["b"] == value["b"]


def test_each_buffer_belongs_to_exactly_one_array():
    two_views = jdump([{"$a": 0, "dtype": "<f8", "shape": [1]}, {"$a": 0, "dtype": "<f8", "shape": [1]}])
    with pytest.raises(codec.ProtocolError, match="one buffer"):
        decode_bytes(frame(two_views, [b"\0" * 8]))
    with pytest.raises(codec.ProtocolError, match="no array uses"):
        decode_bytes(frame(jdump(1), [b"\0" * 8]))


# --------------------------------------------------------------------------- text


def test_lone_surrogates_in_strings_become_replacement_characters():
    doc = {"$d": [["ok\ud800", ["a\udcffb", {"$t": ["\ud83d"]}]], ["fine \u00e9\U0001f600", 1]]}
    out = decode_bytes(frame(jdump(doc)))
    assert out == {"ok\ufffd": ["a\ufffdb", ("\ufffd",)], "fine \u00e9\U0001f600": 1}
    for s in ["ok\ufffd", "a\ufffdb"]:
        s.encode("utf-8")
    assert codec.text("x\udc80" * 3, limit=5) == "x\ufffd..."
    assert codec.clean_text("plain") == "plain"


def test_a_header_that_is_not_ascii_is_refused():
    # The encoder escapes everything beyond ASCII; raw UTF-8 (here an encoded surrogate) is not ours.
    with pytest.raises(codec.ProtocolError, match="ASCII"):
        read(frame(b'"\xed\xa0\x80"'))


def test_decoding_stops_at_the_deadline():
    import time

    doc, buffers = read(frame(b"[" + b",".join([b"[]"] * 300_000) + b"]"))
    assert len(codec.decode(doc, buffers, deadline=time.monotonic() + 3600)) == 300_000
    with pytest.raises(TimeoutError):
        codec.decode(doc, buffers, deadline=time.monotonic() - 1)
    # A small message finishes whatever the clock says: it is checked every 65,536 values.
    assert codec.decode([1, [2]], [], deadline=time.monotonic() - 1) == [1, [2]]


# --------------------------------------------------------------------------- sending


def test_the_sender_checks_the_readers_limits_first(monkeypatch):
    # What the reader would refuse fails at the sender, with a message saying why.
    # (Smaller limits, same code: the sender reads them when it runs.)
    monkeypatch.setattr(codec, "MAX_KEYS", 300)
    monkeypatch.setattr(codec, "MAX_ITEMS", 1000)
    monkeypatch.setattr(codec, "MAX_BUFFERS", 20)
    at_limit = {i: None for i in range(300)}
    assert len(roundtrip(at_limit)) == 300
    with pytest.raises(codec.ProtocolError, match="more than 300 dict keys"):
        codec.encode([at_limit, {"one more": 1}])
    assert len(roundtrip([0] * 999)) == 999  # the list and its numbers: 1000 items
    with pytest.raises(codec.ProtocolError, match="more than 1000 items"):
        codec.encode([0] * 1000)
    assert len(roundtrip([np.zeros(1)] * 20)) == 20
    with pytest.raises(codec.ProtocolError, match="more than 20 arrays"):
        codec.encode([np.zeros(1)] * 21)
    with pytest.raises(codec.ProtocolError, match="nested more than"):
        value = 0
        for _ in range(codec.MAX_DEPTH + 1):
            value = [value]
        codec.encode(value)


def test_dict_keys_that_are_not_plain_are_not_sent():
    with pytest.raises(codec.ProtocolError, match="key of type object cannot be sent"):
        codec.encode({object(): 1}, make_handle=lambda obj: {"$h": 1, "type": "object", "repr": ""})
    assert roundtrip({np.int64(3): 1, (np.float32(0.5), "a"): 2, float("inf"): 3}) == \
        {3: 1, (0.5, "a"): 2, math.inf: 3}
