"""Parse and validate the official MNIST (idx) and CIFAR-10 (pickle) file formats.

Standard library only, so the same checks run in `fetch.py` (which must work on a bare
Python, e.g. Colab before anything is installed) and under `loaders.py`, which turns the
validated bytes into numpy arrays.

Every problem is reported as a `FormatError` whose message starts with the file's name
and says what is wrong, e.g.
"train-images-idx3-ubyte.gz: truncated: expected 47040016 bytes, got 1000".

CIFAR-10 ships as pickles, and `pickle.load` on a hostile file runs arbitrary code. The
unpickler here resolves no global at all except the few names a numpy array pickle
uses, and even those are mapped to inert stand-ins defined below: no numpy code, and
no other code, runs while a file is read.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import sys
import zlib
from pathlib import Path

__all__ = [
    "FormatError",
    "IdxHeader",
    "RawArray",
    "read_payload",
    "parse_idx",
    "load_pickle",
    "loads_pickle",
    "check_cifar_batch",
    "check_cifar_meta",
]


class FormatError(ValueError):
    """A data file is missing pieces, corrupt, or not in the expected format."""


# ---------------------------------------------------------------------------
# idx (MNIST)
# ---------------------------------------------------------------------------

# Type codes of the idx format: code -> (numpy dtype name, item size in bytes).
# Multi-byte values are big-endian.
IDX_TYPES = {
    0x08: ("uint8", 1),
    0x09: ("int8", 1),
    0x0B: ("int16", 2),
    0x0C: ("int32", 4),
    0x0D: ("float32", 4),
    0x0E: ("float64", 8),
}


class IdxHeader:
    """What the header of an idx file says.

    Attributes:
        dtype: numpy dtype name of the items ("uint8", ...), stored big-endian.
        shape: tuple of ints, the array's dimensions.
        offset: int, where the items start in the payload (4 + 4 * ndim).
    """

    def __init__(self, dtype: str, shape: tuple, offset: int):
        self.dtype = dtype
        self.shape = shape
        self.offset = offset

    def __repr__(self) -> str:
        return f"IdxHeader(dtype={self.dtype!r}, shape={self.shape}, offset={self.offset})"


def _read_bytes(path: Path, name: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FormatError(f"{name}: missing (looked for {path})") from None
    except OSError as e:
        raise FormatError(f"{name}: cannot read ({e.strerror or e})") from None


def read_payload(path, name: str | None = None) -> bytes:
    """Return the bytes of `path`, decompressed when `name` ends in ".gz".

    Inputs:
        path: the file.
        name: the name to judge and report it by (default: the file's own name; a
            temporary download passes the name it will get).

    Raises FormatError (naming the file) for a missing file, a ".gz" file that is not
    gzip data, or a gzip stream that is cut short or fails its CRC.
    """
    name = name or Path(path).name
    raw = _read_bytes(Path(path), name)
    if not name.endswith(".gz"):
        return raw
    if raw[:2] != b"\x1f\x8b":
        raise FormatError(f"{name}: not a gzip file (starts with {raw[:4].hex() or 'nothing'})")
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise FormatError(f"{name}: corrupt gzip data: the compressed stream is cut short "
                          f"({len(raw)} bytes on disk)") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        raise FormatError(f"{name}: corrupt gzip data ({e})") from None


def _shape_text(shape) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def parse_idx(payload: bytes, name: str, shape=None, dtype: str | None = None) -> IdxHeader:
    """Validate an idx payload and return its header.

    Inputs:
        payload: the decompressed bytes of the file.
        name: the file's name, used in error messages.
        shape: optional expected shape, a tuple whose entries are ints or None (any
            size), e.g. (None, 28, 28); its length fixes the number of dimensions.
        dtype: optional expected item type, e.g. "uint8".

    Returns an IdxHeader. Raises FormatError when the magic number, type code,
    dimensions or total size are not what the header and the expectation say.
    """
    if len(payload) < 4:
        raise FormatError(f"{name}: truncated: expected at least a 4-byte header, got {len(payload)} bytes")
    zero, code, ndim = struct.unpack(">HBB", payload[:4])
    if zero != 0:
        raise FormatError(f"{name}: not an idx file: magic number 0x{payload[:4].hex()} "
                          "should start with two zero bytes")
    if code not in IDX_TYPES:
        raise FormatError(f"{name}: not an idx file: unknown type code 0x{code:02x} in magic number 0x{payload[:4].hex()}")
    item_dtype, item_size = IDX_TYPES[code]
    offset = 4 + 4 * ndim
    if len(payload) < offset:
        raise FormatError(f"{name}: truncated: expected a {offset}-byte header for {ndim} dimensions, got {len(payload)} bytes")
    dims = struct.unpack(f">{ndim}I", payload[4:offset])
    if dtype is not None and item_dtype != dtype:
        raise FormatError(f"{name}: items are {item_dtype}, expected {dtype}")
    if shape is not None:
        if len(shape) != ndim:
            raise FormatError(f"{name}: has {ndim} dimension(s) {dims}, expected {len(shape)}: {_shape_text(shape)}")
        for got, want in zip(dims, shape):
            if want is not None and got != want:
                raise FormatError(f"{name}: has shape {dims}, expected {_shape_text(shape)}")
    count = 1
    for d in dims:
        count *= d
    expected = offset + count * item_size
    if len(payload) < expected:
        raise FormatError(f"{name}: truncated: expected {expected} bytes, got {len(payload)}")
    if len(payload) > expected:
        raise FormatError(f"{name}: {len(payload) - expected} bytes of trailing data: "
                          f"expected {expected} bytes, got {len(payload)}")
    return IdxHeader(item_dtype, tuple(dims), offset)


# ---------------------------------------------------------------------------
# Restricted unpickling (CIFAR-10)
# ---------------------------------------------------------------------------

class _Refused(pickle.UnpicklingError):
    """The pickle tried something a data file has no business doing."""


# Item types a numpy array in a data file may have (numpy's short codes).
_ARRAY_CODES = {"b1", "i1", "u1", "i2", "u2", "i4", "u4", "i8", "u8", "f2", "f4", "f8"}


class _Inert:
    """Base of the stand-ins a pickle may name: their state cannot be changed.

    Without this, a pickle's BUILD opcode could set attributes on the objects that
    find_class hands out (for instance the defaults of a function) and so change how
    later files are read.
    """

    __slots__ = ()

    def __setstate__(self, state):
        raise _Refused("a data file may not modify the loader's objects")

    def __setattr__(self, key, value):
        raise _Refused("a data file may not modify the loader's objects")


class _NdarrayToken(_Inert):
    """Stands in for `numpy.ndarray` in a pickle: only _reconstruct may use it."""

    __slots__ = ()

    def __call__(self, *args):
        raise _Refused("numpy.ndarray is not callable from a data file")

    def __repr__(self) -> str:
        return "<ndarray token>"


_NDARRAY = _NdarrayToken()


class _Callable(_Inert):
    """One of the few functions a data pickle may call, wrapped so it stays inert."""

    __slots__ = ("_fn",)

    def __init__(self, fn):
        object.__setattr__(self, "_fn", fn)

    def __call__(self, *args):
        return self._fn(*args)

    def __repr__(self) -> str:
        return f"<allowed {self._fn.__name__}>"


class RawDtype:
    """A numpy dtype as a pickle describes it: a short code ("u1") and a byte order."""

    def __init__(self, code: str):
        self.code = code
        self.byteorder = "|"

    def __setstate__(self, state):
        # numpy's dtype state: (version, byteorder, subarray, names, fields, elsize, alignment, flags)
        if not isinstance(state, tuple) or len(state) < 5 or state[1] not in ("<", ">", "|", "="):
            raise pickle.UnpicklingError(f"unexpected dtype state {state!r:.80}")
        if state[2] is not None or state[3] is not None or state[4] is not None:
            raise _Refused("structured or sub-array dtypes are not allowed in a data file")
        self.byteorder = state[1]

    @property
    def itemsize(self) -> int:
        return int(self.code[1:])

    @property
    def numpy_str(self) -> str:
        """A string numpy.dtype() accepts, with the byte order made explicit."""
        if self.itemsize == 1:
            return "|" + self.code
        order = self.byteorder
        if order in ("=", "|"):
            order = "<" if sys.byteorder == "little" else ">"
        return order + self.code


class RawArray:
    """A numpy array read from a pickle without numpy: shape, dtype and raw bytes.

    Attributes:
        shape: tuple of ints.
        dtype: RawDtype.
        fortran: bool, True when `data` is in column-major order.
        data: bytes, exactly prod(shape) * dtype.itemsize of them.
    """

    def __init__(self):
        self.shape = None
        self.dtype = None
        self.fortran = False
        self.data = None

    def __setstate__(self, state):
        # numpy's ndarray state: (version, shape, dtype, is_fortran, rawdata); very old
        # pickles leave out the version.
        if isinstance(state, tuple) and len(state) == 4:
            state = (0,) + state
        if not isinstance(state, tuple) or len(state) != 5:
            raise pickle.UnpicklingError("unexpected array state")
        _, shape, dtype, fortran, raw = state
        if not isinstance(dtype, RawDtype):
            raise pickle.UnpicklingError("array without a plain numeric dtype")
        if not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise pickle.UnpicklingError(f"bad array shape {shape!r:.80}")
        if isinstance(raw, str):  # a Python 2 string read with encoding="latin1"
            raw = raw.encode("latin1")
        if not isinstance(raw, (bytes, bytearray)):
            raise _Refused("array data is not a byte string (object arrays are not allowed)")
        count = 1
        for d in shape:
            count *= d
        if len(raw) != count * dtype.itemsize:
            raise pickle.UnpicklingError(f"array of shape {shape} and type {dtype.code} needs "
                                         f"{count * dtype.itemsize} bytes, the file holds {len(raw)}")
        self.shape, self.dtype, self.fortran, self.data = shape, dtype, bool(fortran), bytes(raw)

    def __repr__(self) -> str:
        return f"RawArray(shape={self.shape}, dtype={self.dtype.code if self.dtype else None})"


def _reconstruct(subtype, shape, dtype_code):
    # numpy pickles every array as _reconstruct(ndarray, (0,), b'b') followed by a
    # BUILD with the real state; anything else is not an array pickle.
    if subtype is not _NDARRAY:
        raise _Refused("_reconstruct may only build a plain ndarray")
    return RawArray()


def _frombuffer(buf, dtype, shape, order="C"):
    # numpy's protocol-5 form of an array: _frombuffer(bytes, dtype, shape, order).
    if order not in ("C", "F"):
        raise pickle.UnpicklingError(f"bad array order {order!r:.10}")
    arr = RawArray()
    arr.__setstate__((1, shape, dtype, order == "F", buf))
    return arr


def _dtype(code, align=False, copy=False):
    if not isinstance(code, str) or code not in _ARRAY_CODES:
        raise _Refused(f"dtype {code!r:.40} is not allowed in a data file (numeric types only)")
    return RawDtype(code)


def _codecs_encode(text, encoding="utf-8"):
    # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1").
    if not isinstance(text, str) or encoding != "latin1":
        raise _Refused("_codecs.encode is only allowed as latin1 bytes")
    return text.encode("latin1")


_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _Callable(_reconstruct),
    ("numpy._core.multiarray", "_reconstruct"): _Callable(_reconstruct),
    ("numpy.core.numeric", "_frombuffer"): _Callable(_frombuffer),
    ("numpy._core.numeric", "_frombuffer"): _Callable(_frombuffer),
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _Callable(_dtype),
    ("_codecs", "encode"): _Callable(_codecs_encode),
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, filename: str):
        # latin1 turns Python 2 strings into str and keeps array bytes intact.
        super().__init__(file, encoding="latin1")
        self._filename = filename

    def find_class(self, module, name):
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except (KeyError, TypeError):
            raise FormatError(
                f"{self._filename}: refused to load: the pickle asks for {module}.{name}; a data file may "
                "only hold numpy arrays, lists, dicts, strings and numbers") from None

    def persistent_load(self, pid):
        raise FormatError(f"{self._filename}: refused to load: the pickle uses persistent ids")


def load_pickle(path, name: str | None = None):
    """Read a pickled data file with the restricted unpickler.

    Inputs:
        path: the file.
        name: the name to report it by (default: the file's own name).

    Returns the unpickled object; numpy arrays come back as RawArray and Python 2
    strings as str. Raises FormatError (naming the file) for a file that is not a
    pickle or that asks for anything beyond plain data and numeric numpy arrays; in
    that case nothing from the file has been executed.
    """
    name = name or Path(path).name
    raw = _read_bytes(Path(path), name)
    return loads_pickle(raw, name)


def loads_pickle(raw: bytes, name: str):
    """Like load_pickle, for bytes already read; `name` is used in messages."""
    stream = io.BytesIO(raw)
    try:
        obj = _RestrictedUnpickler(stream, name).load()
    except FormatError:
        raise
    except _Refused as e:
        raise FormatError(f"{name}: refused to load: {e}") from None
    except Exception as e:  # any malformed stream: report it, never let it escape as a crash
        raise FormatError(f"{name}: not a valid data pickle ({type(e).__name__}: {e})") from None
    if stream.tell() != len(raw):
        raise FormatError(f"{name}: {len(raw) - stream.tell()} bytes of trailing data after the pickle")
    return obj


def _plain_keys(obj, name: str, required) -> dict:
    if not isinstance(obj, dict):
        raise FormatError(f"{name}: expected a dict with keys {', '.join(map(repr, required))}, "
                          f"got {type(obj).__name__}")
    # Files written by Python 3 may use bytes keys; the official ones use str.
    out = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    missing = [k for k in required if k not in out]
    if missing:
        raise FormatError(f"{name}: missing key(s) {', '.join(map(repr, missing))}; found {sorted(map(str, out))}")
    return out


CIFAR_ROW = 3 * 32 * 32
CIFAR_CLASSES = 10


def check_cifar_batch(obj, name: str, count: int | None = None):
    """Validate one unpickled CIFAR-10 batch.

    Inputs:
        obj: what load_pickle returned for the file.
        name: the file's name, for messages.
        count: optional expected number of images (10000 for the official batches).

    Returns (data, labels): data a RawArray of shape (N, 3072), type uint8, each row
    the red, green and blue 32x32 planes in turn; labels a list of N ints in 0..9.
    """
    d = _plain_keys(obj, name, ("data", "labels"))
    data, labels = d["data"], d["labels"]
    if not isinstance(data, RawArray):
        raise FormatError(f"{name}: 'data' is a {type(data).__name__}, expected a numpy array")
    if data.dtype.code != "u1":
        raise FormatError(f"{name}: 'data' has type {data.dtype.code}, expected u1 (uint8)")
    if len(data.shape) != 2 or data.shape[1] != CIFAR_ROW:
        raise FormatError(f"{name}: 'data' has shape {data.shape}, expected (N, {CIFAR_ROW})")
    n = data.shape[0]
    if count is not None and n != count:
        raise FormatError(f"{name}: holds {n} images, expected {count}")
    if isinstance(labels, RawArray):
        raise FormatError(f"{name}: 'labels' is a numpy array, expected a list of ints as in the official files")
    if not isinstance(labels, list):
        raise FormatError(f"{name}: 'labels' is a {type(labels).__name__}, expected a list of ints")
    if len(labels) != n:
        raise FormatError(f"{name}: 'labels' has {len(labels)} entries for {n} images")
    for i, y in enumerate(labels):
        if type(y) is not int or not 0 <= y < CIFAR_CLASSES:
            raise FormatError(f"{name}: 'labels'[{i}] is {y!r:.20}, expected a class in 0..{CIFAR_CLASSES - 1}")
    return data, labels


def check_cifar_meta(obj, name: str) -> list:
    """Validate unpickled `batches.meta`; return its ten class names (list of str)."""
    d = _plain_keys(obj, name, ("label_names",))
    names = d["label_names"]
    if not isinstance(names, list) or len(names) != CIFAR_CLASSES or not all(isinstance(s, (str, bytes)) for s in names):
        raise FormatError(f"{name}: 'label_names' should be a list of {CIFAR_CLASSES} strings")
    return [s.decode("latin1") if isinstance(s, bytes) else s for s in names]
