"""The wire format between the grader (parent) and the student process (child).

A message is a JSON document plus raw array buffers:

    u64 json_length | json bytes | u32 buffer_count | (u64 length | bytes) * count

JSON carries the structure; tagged objects stand for what JSON lacks:

    {"$t": [...]}                                  tuple
    {"$d": [[key, value], ...]}                    dict (keys may be any plain value)
    {"$a": i, "dtype": "<f8", "shape": [2, 3]}     numpy array whose bytes are buffer i
    {"$h": id, "type": "Net", "repr": "..."}       handle to an object that stays in the child
    {"$f": "nan" | "inf" | "-inf"}                 non-finite float

The parent reads replies from an untrusted child, so reading and decoding are bounded
in memory and in work, each limit checked before the memory or time it guards is
spent (`read_message`, `decode`): the header's size and structure before it is parsed,
each buffer's declared size before it is allocated, dict keys (plain types only, few
sharing a hash value) before the dict is built. Only the tags above are understood,
only whitelisted dtypes, sizes checked against the buffers; each buffer becomes one
plain, writable `np.ndarray` without a copy. Strings come out with lone surrogates
replaced, so they can be printed and written as UTF-8. No pickle anywhere: a child
that sends anything else gets a `ProtocolError`, never code execution.

This module is imported by both sides, so it depends on numpy and the standard
library only.
"""

from __future__ import annotations

import json
import math
import re
import struct
import time

import numpy as np

# Little-endian numeric and bool dtypes only: no object, string, void or datetime.
ALLOWED_DTYPES = frozenset(
    ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"]
)
MAX_NDIM = 32

# Default limits on one message, each far above what a correct submission sends and
# each bounding what a hostile one can make the reader spend.
MAX_HEADER_BYTES = 32 << 20  # the JSON part
MAX_ITEMS = 2_000_000        # JSON values and object keys in the header (see read_message)
MAX_DEPTH = 64               # nesting of lists, tuples and dicts
MAX_KEYS = 100_000           # dict entries, all dicts of the message together
MAX_BUFFERS = 100_000        # array buffers
MAX_SHARED_HASH = 8          # keys of one dict with the same hash value


class ProtocolError(Exception):
    """The other side sent something that is not a valid message."""


class Handle:
    """A reference to an object that lives in the child process.

    The codec only records the id; `coursekit.sandbox.proxy` gives handles their
    behaviour (attribute access, calls) by subclassing.
    """

    __slots__ = ("_id", "_type", "_repr")

    def __init__(self, id_: int, type_name: str, text: str):
        self._id = id_
        self._type = type_name
        self._repr = text

    def __repr__(self) -> str:
        return f"<student object {self._type}: {self._repr}>"


# --------------------------------------------------------------------------- encode


class AsHandle:
    """Wraps a value the sender wants to pass as a handle even if it is plain data."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


def _plain_scalar(value):
    """numpy / torch scalars as Python numbers; None when `value` is not one."""
    if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_, np.void)):
        if value.dtype.kind in "biuf":
            return value.item()
    return None


def _tensor_to_numpy(value):
    """A torch tensor as a numpy array, without importing torch when it is absent."""
    module = type(value).__module__
    if module.startswith("torch") and hasattr(value, "detach") and hasattr(value, "numpy"):
        try:
            return value.detach().cpu().resolve_conj().resolve_neg().numpy()
        except Exception:
            return None
    return None


class _Sending:
    """What one message being encoded has collected so far."""

    __slots__ = ("buffers", "keys", "make_handle")

    def __init__(self, make_handle):
        self.buffers: list = []
        self.keys = 0
        self.make_handle = make_handle


def _plain_encoded(doc) -> bool:
    """Whether an encoded dict key decodes to a key the reader accepts (see `_plain_key`)."""
    if doc is None or type(doc) in (str, int, float, bool):
        return True
    if type(doc) is dict and len(doc) == 1 and "$f" in doc:
        return True
    return type(doc) is dict and len(doc) == 1 and type(doc.get("$t")) is list \
        and all(_plain_encoded(d) for d in doc["$t"])


def _encode_value(value, out: _Sending, depth):
    if depth > MAX_DEPTH:
        raise ProtocolError(f"value nested more than {MAX_DEPTH} levels deep: cannot send it")
    if value is None or isinstance(value, (bool, str)):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        if math.isfinite(value):
            return value
        return {"$f": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    scalar = _plain_scalar(value)
    if scalar is not None:
        return _encode_value(scalar, out, depth)
    if isinstance(value, Handle):
        return {"$h": value._id}
    if type(value) is AsHandle:
        if out.make_handle is None:
            raise ProtocolError("cannot send a handle from this side")
        return out.make_handle(value.obj)
    if type(value) is tuple:
        return {"$t": [_encode_value(v, out, depth + 1) for v in value]}
    if type(value) is list:
        return [_encode_value(v, out, depth + 1) for v in value]
    if isinstance(value, dict) and type(value).__name__ in ("dict", "OrderedDict"):
        out.keys += len(value)
        if out.keys > MAX_KEYS:
            raise ProtocolError(f"more than {MAX_KEYS} dict keys in one value: cannot send it")
        entries = []
        for k, v in value.items():
            key = _encode_value(k, out, depth + 1)
            if not _plain_encoded(key):
                raise ProtocolError(f"a dict key of type {type(k).__name__} cannot be sent "
                                    "(keys must be str, int, float, bool, None or tuples of those)")
            entries.append([key, _encode_value(v, out, depth + 1)])
        return {"$d": entries}
    # Subclasses travel as their plain data: their methods never reach the parent.
    array = value.view(np.ndarray) if isinstance(value, np.ndarray) else _tensor_to_numpy(value)
    if type(array) is np.ndarray:
        dt = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dt.str in ALLOWED_DTYPES:
            array = np.ascontiguousarray(array, dtype=dt)
            out.buffers.append(array.data.cast("B") if array.size else b"")
            return {"$a": len(out.buffers) - 1, "dtype": dt.str, "shape": list(array.shape)}
    if out.make_handle is None:
        raise ProtocolError(f"cannot send a value of type {type(value).__name__}")
    return out.make_handle(value)


def encode(value, make_handle=None) -> list:
    """Serialise `value` into a list of byte chunks ready to write.

    `make_handle(obj) -> dict` turns objects that are not plain data into handle tags
    (the child passes its handle table's registrar; the parent passes None, since it
    only ever sends plain data and handles).
    """
    out = _Sending(make_handle)
    doc = _encode_value(value, out, 0)
    header = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    buffers = out.buffers
    # The reader's limits, checked here too, so the sender gets a clear error instead
    # of a message the other side refuses.
    if len(header) > MAX_HEADER_BYTES:
        raise ProtocolError(f"value takes more than {MAX_HEADER_BYTES >> 20} MB as text "
                            "(long lists of numbers travel better as numpy arrays): cannot send it")
    try:
        _check_items(header, MAX_ITEMS)
    except ProtocolError:
        raise ProtocolError(f"value holds more than {MAX_ITEMS} items (long lists of numbers "
                            "travel better as numpy arrays): cannot send it") from None
    if len(buffers) > MAX_BUFFERS:
        raise ProtocolError(f"value holds more than {MAX_BUFFERS} arrays: cannot send it")
    chunks = [struct.pack("<Q", len(header)), header, struct.pack("<I", len(buffers))]
    for buf in buffers:
        chunks.append(struct.pack("<Q", len(buf) if isinstance(buf, bytes) else buf.nbytes))
        chunks.append(buf)
    return chunks


# --------------------------------------------------------------------------- decode

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` with every surrogate code point replaced by U+FFFD.

    Python strings may hold lone surrogates (a JSON `\\ud800` escape decodes to one);
    they cannot be encoded as UTF-8, so printing them or writing them to a file fails.
    """
    if value.isascii():  # constant time: the common case costs nothing
        return value
    return _LONE_SURROGATE.sub("\ufffd", value)


def _fill(stream, view: memoryview) -> None:
    """Fill `view` from `stream` (straight into it where the stream has `readinto`)."""
    readinto = getattr(stream, "readinto", None)
    while view:
        if readinto is not None:
            got = readinto(view[: 1 << 24])
        else:
            chunk = stream.read(min(len(view), 1 << 24))
            got = len(chunk)
            view[:got] = chunk
        if not got:
            raise EOFError("stream closed")
        view = view[got:]


def _read_exact(stream, n: int):
    """`n` bytes: small ones in one read where the stream allows, large ones in place."""
    first = stream.read(n) if 0 < n <= 1 << 16 else b""
    if len(first) == n:
        return first
    out = bytearray(n)
    out[: len(first)] = first
    _fill(stream, memoryview(out)[len(first):])
    return out


# Characters that open a JSON value or key: every value but the first follows one of them.
_SEPARATORS = (b",", b":", b"[", b"{")
_STRING = re.compile(rb'"[^"]*"')


def _count_separators(data) -> int:
    return sum(data.count(c) for c in _SEPARATORS)


def _check_items(raw, max_items: int) -> None:
    """Refuse a header holding more than `max_items` JSON values and object keys,
    before it is parsed (parsing is what costs memory: some 60 bytes per item)."""
    if len(raw) < max_items or _count_separators(raw) + 1 <= max_items:
        return  # even counting characters inside strings, it is within the limit
    # Blank the strings: drop escaped backslashes and quotes, then each string's body.
    bare = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    bare = _STRING.sub(b"0", bare).translate(None, b" \t\r\n")
    # In valid JSON, values + keys = separators + 1 - empty containers.
    items = _count_separators(bare) + 1 - bare.count(b"[]") - bare.count(b"{}")
    if items > max_items:
        raise ProtocolError(f"message has more than {max_items} items (values and keys)")


def read_message(stream, max_bytes: int, *, max_header_bytes: int = MAX_HEADER_BYTES,
                 max_items: int = MAX_ITEMS, max_buffers: int = MAX_BUFFERS):
    """Read one raw message: (JSON document, list of buffers).

    Limits, each checked before what it guards is read, allocated or parsed:
    `max_bytes` on the header plus all buffers (a declared size is checked before its
    buffer is allocated); `max_header_bytes` on the header; `max_items` on the
    header's JSON values plus object keys (a list of n numbers is n + 1 items, a dict
    entry 3, an array about 9); and `max_buffers`. Nesting and dict keys are
    `decode`'s to check.

    Each buffer is a uint8 `np.ndarray` read in place: its bytes exist once, and
    `decode` makes the arrays as views of it.
    """
    (n,) = struct.unpack("<Q", _read_exact(stream, 8))
    if n > min(max_header_bytes, max_bytes):
        raise ProtocolError(f"message header of {n} bytes exceeds the limit")
    raw = _read_exact(stream, n)
    # The encoder writes ASCII only (json.dumps escapes the rest), so one byte per character.
    if not raw.isascii():
        raise ProtocolError("malformed message: header is not ASCII")
    _check_items(raw, max_items)
    try:
        # Nesting is bounded while parsing by the interpreter's recursion limit (its
        # C parser counts levels), then exactly by `decode`.
        doc = json.loads(raw)
    except RecursionError:
        raise ProtocolError("value nested too deeply") from None
    except ValueError as exc:
        raise ProtocolError(f"malformed message: {exc.__class__.__name__}") from None
    del raw
    (count,) = struct.unpack("<I", _read_exact(stream, 4))
    if count > max_buffers:
        raise ProtocolError(f"message of {count} buffers exceeds the limit of {max_buffers}")
    total = n
    buffers = []
    for _ in range(count):
        (size,) = struct.unpack("<Q", _read_exact(stream, 8))
        total += size
        if total > max_bytes:
            raise ProtocolError(f"message of more than {max_bytes} bytes exceeds the limit")
        # np.empty touches no memory: a buffer declared but never sent costs nothing.
        buf = np.empty(size, dtype=np.uint8)
        _fill(stream, memoryview(buf))
        buffers.append(buf)
    return doc, buffers


def _plain_key(key) -> bool:
    """Keys the parent accepts: str, int, float, bool, None, and tuples of those."""
    kind = type(key)
    if key is None or kind in (str, int, float, bool):
        return True
    return kind is tuple and all(_plain_key(k) for k in key)


def _check_hash_spread(keys: list) -> None:
    """Refuse keys many of which share a hash value.

    Inserting n keys with one hash value into a dict costs n**2 / 2 comparisons (hours
    for 100,000 ints k * (2**61 - 1) + c, or crafted tuples), and which keys collide is
    public for ints, floats and tuples. Sorting the hash values finds such a group in
    n log n, before any dict is built; no correct dict holds more than a couple.
    """
    if len(keys) <= MAX_SHARED_HASH:
        return
    hashes = np.fromiter((hash(k) for k in keys), dtype=np.int64, count=len(keys))
    hashes.sort()
    if np.any(hashes[MAX_SHARED_HASH:] == hashes[:-MAX_SHARED_HASH]):
        raise ProtocolError(f"more than {MAX_SHARED_HASH} dict keys share a hash value")


_CLOCK_EVERY = 1 << 16  # values decoded between two looks at the clock


class _Decoder:
    def __init__(self, buffers, make_handle, max_keys: int, max_depth: int, deadline):
        self.buffers = buffers
        self.make_handle = make_handle
        self.keys_left = max_keys
        self.max_keys = max_keys
        self.max_depth = max_depth
        self.used = bytearray(len(buffers))
        self.deadline = deadline
        self.work = 0
        self.next_clock = _CLOCK_EVERY

    def spend(self, n: int) -> None:
        """Count a container of `n` values; past the deadline, stop."""
        self.work += n + 1
        if self.work >= self.next_clock:
            self.next_clock = self.work + _CLOCK_EVERY
            if self.deadline is not None and time.monotonic() > self.deadline:
                raise TimeoutError

    def value(self, doc, depth: int):
        if depth > self.max_depth:
            raise ProtocolError("value nested too deeply")
        kind = type(doc)
        if kind is str:
            return clean_text(doc)
        if doc is None or kind in (bool, int, float):
            return doc
        if kind is list:
            self.spend(len(doc))
            return [self.value(v, depth + 1) for v in doc]
        if kind is not dict or len(doc) == 0:
            raise ProtocolError("unexpected JSON value")
        if "$t" in doc and len(doc) == 1 and type(doc["$t"]) is list:
            self.spend(len(doc["$t"]))
            return tuple([self.value(v, depth + 1) for v in doc["$t"]])
        if "$d" in doc and len(doc) == 1 and type(doc["$d"]) is list:
            return self.dict(doc["$d"], depth)
        if "$a" in doc:
            return self.array(doc)
        if "$f" in doc and len(doc) == 1:
            special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
            if type(doc["$f"]) is not str or doc["$f"] not in special:
                raise ProtocolError("bad float tag")
            return special[doc["$f"]]
        if "$h" in doc and type(doc["$h"]) is int:
            if self.make_handle is None:
                raise ProtocolError("unexpected handle")
            return self.make_handle(doc)
        raise ProtocolError("unknown tag in message")

    def dict(self, entries: list, depth: int) -> dict:
        self.spend(len(entries))
        self.keys_left -= len(entries)
        if self.keys_left < 0:
            raise ProtocolError(f"message has more than {self.max_keys} dict keys")
        keys, values = [], []
        for pair in entries:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("bad dict entry")
            key = self.value(pair[0], depth + 1)
            if not _plain_key(key):
                raise ProtocolError(f"dict key of type {type(key).__name__} is not accepted")
            keys.append(key)
            values.append(self.value(pair[1], depth + 1))
        _check_hash_spread(keys)
        return dict(zip(keys, values))

    def array(self, tag: dict) -> np.ndarray:
        if set(tag) != {"$a", "dtype", "shape"}:
            raise ProtocolError("bad array tag")
        index, dtype, shape = tag["$a"], tag["dtype"], tag["shape"]
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise ProtocolError("array refers to a missing buffer")
        if self.used[index]:
            raise ProtocolError("two arrays refer to one buffer")
        self.used[index] = 1
        if type(dtype) is not str or dtype not in ALLOWED_DTYPES:
            raise ProtocolError(f"array dtype {str(dtype)[:20]!r} is not allowed")
        if (type(shape) is not list or len(shape) > MAX_NDIM
                or any(type(s) is not int or s < 0 for s in shape)):
            raise ProtocolError("bad array shape")
        dt = np.dtype(dtype)
        buf = self.buffers[index]
        if math.prod(shape) * dt.itemsize != len(buf):
            raise ProtocolError("array size does not match its buffer")
        if type(buf) is np.ndarray and buf.dtype == np.uint8 and buf.flags.writeable:
            # A buffer read_message allocated for this array alone: used in place.
            return np.frombuffer(buf, dtype=dt).reshape(shape)
        # Someone else's bytes (immutable, or shared): a private, writable copy.
        return np.frombuffer(buf, dtype=dt).reshape(shape).copy()


def decode(doc, buffers, make_handle=None, *, max_keys: int = MAX_KEYS, max_depth: int = MAX_DEPTH,
           deadline: float | None = None):
    """Rebuild a value from a document read by `read_message`.

    `make_handle(tag) -> object` builds the local stand-in for a `$h` tag (the parent
    makes proxies; the child looks the id up in its table). Limits: nesting deeper than
    `max_depth`, more than `max_keys` dict entries in all, a dict key that is not a
    plain value, more than MAX_SHARED_HASH keys of one dict sharing a hash value, and a
    buffer used by no array or by two are refused with `ProtocolError`. The work is
    linear in the items `read_message` let through; with a `deadline`
    (`time.monotonic()` seconds) it also stops there, raising `TimeoutError`.
    """
    decoder = _Decoder(buffers, make_handle, max_keys, max_depth, deadline)
    try:
        value = decoder.value(doc, 0)
    except ProtocolError:
        raise
    except RecursionError:
        raise ProtocolError("value nested too deeply") from None
    if not all(decoder.used):
        raise ProtocolError("message holds a buffer no array uses")
    return value


def text(value, limit: int = 200) -> str:
    """A string field from the child, checked, truncated and safe to print or write."""
    if not isinstance(value, str):
        raise ProtocolError("expected a string")
    value = clean_text(value)
    return value if len(value) <= limit else value[: limit - 3] + "..."
