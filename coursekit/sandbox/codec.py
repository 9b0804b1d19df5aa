"""The wire format between the grader (parent) and the student process (child).

A message is a JSON document plus raw array buffers:

    u64 json_length | json bytes | u32 buffer_count | (u64 length | bytes) * count

JSON carries the structure; tagged objects stand for what JSON lacks:

    {"$t": [...]}                                  tuple
    {"$d": [[key, value], ...]}                    dict (keys may be any plain value)
    {"$a": i, "dtype": "<f8", "shape": [2, 3]}     numpy array whose bytes are buffer i
    {"$h": id, "type": "Net", "repr": "..."}       handle to an object that stays in the child
    {"$f": "nan" | "inf" | "-inf"}                 non-finite float

The parent decodes with `decode(..., trusted=False)`: only the tags above, only
whitelisted dtypes, sizes checked against the buffers, every array copied into a fresh
plain `np.ndarray`. No pickle anywhere: a child that sends anything else gets a
`ProtocolError`, never code execution.

This module is imported by both sides, so it depends on numpy and the standard
library only.
"""

from __future__ import annotations

import json
import math
import struct

import numpy as np

# Little-endian numeric and bool dtypes only: no object, string, void or datetime.
ALLOWED_DTYPES = frozenset(
    ["|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"]
)
MAX_DEPTH = 64
MAX_NDIM = 32
MAX_HEADER_BYTES = 64 << 20


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


def _encode_value(value, buffers, make_handle, depth):
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply to send")
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
        return _encode_value(scalar, buffers, make_handle, depth)
    if isinstance(value, Handle):
        return {"$h": value._id}
    if type(value) is AsHandle:
        if make_handle is None:
            raise ProtocolError("cannot send a handle from this side")
        return make_handle(value.obj)
    if type(value) is tuple:
        return {"$t": [_encode_value(v, buffers, make_handle, depth + 1) for v in value]}
    if type(value) is list:
        return [_encode_value(v, buffers, make_handle, depth + 1) for v in value]
    if isinstance(value, dict) and type(value).__name__ in ("dict", "OrderedDict"):
        return {
            "$d": [
                [_encode_value(k, buffers, make_handle, depth + 1),
                 _encode_value(v, buffers, make_handle, depth + 1)]
                for k, v in value.items()
            ]
        }
    # Subclasses travel as their plain data: their methods never reach the parent.
    array = value.view(np.ndarray) if isinstance(value, np.ndarray) else _tensor_to_numpy(value)
    if type(array) is np.ndarray:
        dt = array.dtype.newbyteorder("<") if array.dtype.byteorder == ">" else array.dtype
        if dt.str in ALLOWED_DTYPES:
            array = np.ascontiguousarray(array, dtype=dt)
            buffers.append(array.data.cast("B") if array.size else b"")
            return {"$a": len(buffers) - 1, "dtype": dt.str, "shape": list(array.shape)}
    if make_handle is None:
        raise ProtocolError(f"cannot send a value of type {type(value).__name__}")
    return make_handle(value)


def encode(value, make_handle=None) -> list:
    """Serialise `value` into a list of byte chunks ready to write.

    `make_handle(obj) -> dict` turns objects that are not plain data into handle tags
    (the child passes its handle table's registrar; the parent passes None, since it
    only ever sends plain data and handles).
    """
    buffers: list = []
    doc = _encode_value(value, buffers, make_handle, 0)
    header = json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()
    chunks = [struct.pack("<Q", len(header)), header, struct.pack("<I", len(buffers))]
    for buf in buffers:
        chunks.append(struct.pack("<Q", len(buf) if isinstance(buf, bytes) else buf.nbytes))
        chunks.append(buf)
    return chunks


# --------------------------------------------------------------------------- decode


def _read_exact(stream, n: int) -> bytes:
    chunks = []
    remaining = n
    while remaining:
        chunk = stream.read(min(remaining, 1 << 24))
        if not chunk:
            raise EOFError("stream closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(stream, max_bytes: int):
    """Read one raw message: (json document, list of buffers). Sizes are capped."""
    (n,) = struct.unpack("<Q", _read_exact(stream, 8))
    if n > min(MAX_HEADER_BYTES, max_bytes):
        raise ProtocolError(f"message header of {n} bytes exceeds the limit")
    raw = _read_exact(stream, n)
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProtocolError(f"malformed message: {exc.__class__.__name__}") from None
    (count,) = struct.unpack("<I", _read_exact(stream, 4))
    total = n
    buffers = []
    for _ in range(count):
        (size,) = struct.unpack("<Q", _read_exact(stream, 8))
        total += size
        if total > max_bytes:
            raise ProtocolError(f"message of more than {max_bytes} bytes exceeds the limit")
        buffers.append(_read_exact(stream, size))
    return doc, buffers


def _decode_array(tag, buffers):
    if set(tag) != {"$a", "dtype", "shape"}:
        raise ProtocolError("bad array tag")
    index, dtype, shape = tag["$a"], tag["dtype"], tag["shape"]
    if type(index) is not int or not 0 <= index < len(buffers):
        raise ProtocolError("array refers to a missing buffer")
    if dtype not in ALLOWED_DTYPES:
        raise ProtocolError(f"array dtype {dtype!r} is not allowed")
    if (type(shape) is not list or len(shape) > MAX_NDIM
            or any(type(s) is not int or s < 0 for s in shape)):
        raise ProtocolError("bad array shape")
    dt = np.dtype(dtype)
    buf = buffers[index]
    if math.prod(shape) * dt.itemsize != len(buf):
        raise ProtocolError("array size does not match its buffer")
    # frombuffer + copy gives a plain, writable, owned ndarray of exactly this dtype.
    return np.frombuffer(buf, dtype=dt).reshape(shape).copy()


def _decode_value(doc, buffers, make_handle, depth):
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    kind = type(doc)
    if doc is None or kind in (bool, int, float, str):
        return doc
    if kind is list:
        return [_decode_value(v, buffers, make_handle, depth + 1) for v in doc]
    if kind is not dict or len(doc) == 0:
        raise ProtocolError("unexpected JSON value")
    if "$t" in doc and len(doc) == 1 and type(doc["$t"]) is list:
        return tuple(_decode_value(v, buffers, make_handle, depth + 1) for v in doc["$t"])
    if "$d" in doc and len(doc) == 1 and type(doc["$d"]) is list:
        out = {}
        for pair in doc["$d"]:
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("bad dict entry")
            key = _decode_value(pair[0], buffers, make_handle, depth + 1)
            try:
                hash(key)
            except TypeError:
                raise ProtocolError("unhashable dict key") from None
            out[key] = _decode_value(pair[1], buffers, make_handle, depth + 1)
        return out
    if "$a" in doc:
        return _decode_array(doc, buffers)
    if "$f" in doc and len(doc) == 1:
        special = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
        if doc["$f"] not in special:
            raise ProtocolError("bad float tag")
        return special[doc["$f"]]
    if "$h" in doc and type(doc["$h"]) is int:
        if make_handle is None:
            raise ProtocolError("unexpected handle")
        return make_handle(doc)
    raise ProtocolError("unknown tag in message")


def decode(doc, buffers, make_handle=None):
    """Rebuild a value from a document read by `read_message`.

    `make_handle(tag) -> object` builds the local stand-in for a `$h` tag (the parent
    makes proxies; the child looks the id up in its table).
    """
    try:
        return _decode_value(doc, buffers, make_handle, 0)
    except ProtocolError:
        raise
    except RecursionError:
        raise ProtocolError("value nested too deeply") from None


def text(value, limit: int = 200) -> str:
    """A string field from the child, checked and truncated."""
    if not isinstance(value, str):
        raise ProtocolError("expected a string")
    return value if len(value) <= limit else value[: limit - 3] + "..."
