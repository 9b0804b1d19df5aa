"""Decompression bombs shaped like model files: a few MB that inflate to gigabytes.

Also runnable as a script, to load one in a fresh process and print how much memory that
took:  python tests/model_file_bombs.py npz|torch FILE
"""

import io
import json
import resource
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np

GIB = 1 << 30
BOMB_SIZE = 5 * GIB // 4        # what each bomb inflates to
_BLOCK = 1 << 22


def _deflated(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def _deflated_zeros(head: bytes, n: int):
    """(raw deflate stream, crc32) of `head` followed by n zero bytes (n a multiple of 4 MiB).

    After a full flush the compressor starts afresh, so every 4 MiB block of zeros
    compresses to the same bytes: the stream is built by repetition, in milliseconds."""
    assert n % _BLOCK == 0
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(_BLOCK)) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(bytes(_BLOCK)) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again
    crc = zlib.crc32(head)
    zeros = bytes(_BLOCK)
    for _ in range(n // _BLOCK):
        crc = zlib.crc32(zeros, crc)
    return first + block * (n // _BLOCK - 1) + again + c.flush(), crc


def _write_zip(path: Path, entries) -> Path:
    """A zip of deflated entries given as (name, raw deflate stream, crc32, inflated size),
    each size under 4 GiB (no zip64 needed)."""
    out, central = bytearray(), bytearray()
    for name, raw, crc, size in entries:
        encoded = name.encode()
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(raw), size,
                           len(encoded), 0) + encoded + raw
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(raw),
                               size, len(encoded), 0, 0, 0, 0, 0, offset) + encoded
    out += central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries),
                                 len(central), len(out), 0)
    path.write_bytes(bytes(out))
    return path


def npz_bomb(path: Path, inflated: int = BOMB_SIZE) -> Path:
    """An .npz whose one float64 array of zeros is `inflated` bytes, stored deflated."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (inflated // 8,)})
    raw, crc = _deflated_zeros(header.getvalue(), inflated)
    return _write_zip(path, [("param_W1.npy", raw, crc, len(header.getvalue()) + inflated)])


def npz_lying_header(path: Path) -> Path:
    """A small .npz whose .npy header declares an array of 2**40 float64s."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (1 << 40,)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("param_W1.npy", header.getvalue() + bytes(800))
    return path


def torch_bomb(path: Path, inflated: int = BOMB_SIZE) -> Path:
    """A torch.save file of a small state dict whose tensor storage entry is replaced by
    `inflated` bytes of zeros, stored deflated (torch's reader inflates deflated entries)."""
    import torch
    buffer = io.BytesIO()
    torch.save({"config": {}, "state_dict": {"w": torch.zeros(4)}}, buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    entries = []
    for info in source.infolist():
        if info.filename.endswith("/data/0"):
            raw, crc = _deflated_zeros(b"", inflated)
            entries.append((info.filename, raw, crc, inflated))
        else:
            data = source.read(info)
            entries.append((info.filename, _deflated(data), zlib.crc32(data), len(data)))
    return _write_zip(path, entries)


def inflated_size(path: Path) -> int:
    """Bytes the archive's deflated entries really inflate to, counted without keeping
    them (and without the CRC, which is slow on a gigabyte)."""
    data = path.read_bytes()
    total = 0
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
            start = info.header_offset + 30 + name_len + extra_len
            raw = data[start:start + info.compress_size]
            if info.compress_type != zipfile.ZIP_DEFLATED:
                total += len(raw)
                continue
            inflate = zlib.decompressobj(-15)
            total += len(inflate.decompress(raw, _BLOCK))
            while inflate.unconsumed_tail:
                total += len(inflate.decompress(inflate.unconsumed_tail, _BLOCK))
            total += len(inflate.flush())
    return total


if __name__ == "__main__":
    kind, file = sys.argv[1], Path(sys.argv[2])
    from coursekit.grading import safe_load
    import torch  # noqa: F401  (its import is part of the baseline, not of the load)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    loader = safe_load.load_npz if kind == "npz" else safe_load.load_torch
    try:
        loader(file.read_bytes(), file.name, 256 << 20)
        outcome = "loaded"
    except AssertionError as exc:
        outcome = str(exc)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "peak_kb_before": before, "peak_kb_after": after}))
