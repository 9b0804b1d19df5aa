"""Reading submitted model files in the grader process without trusting them.

A submitted `.npz` or `.pt` file is a zip archive whose members may be compressed, so a
few megabytes can claim (or really inflate to) gigabytes. Both loaders here refuse such a
file before anything large is allocated:

- the number of members and the sum of their declared sizes are checked against the
  caps first;
- every member is then read through a streaming decompressor that stops as soon as it
  produces more than its declared size or the total passes the cap;
- nothing is ever unpickled: `.npy` members must hold plain (non-object) dtypes, and
  torch files are read with `weights_only=True`.

Every refusal is an AssertionError whose message names the file, so a grader can let it
reach the student as the test's failure message.
"""

from __future__ import annotations

import io
import math
import re
import zipfile

import numpy as np

MAX_MEMBERS = 1024
_CHUNK = 1 << 20


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _open_zip(data: bytes, what: str, max_bytes: int, refusal: str) -> zipfile.ZipFile:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("data must be bytes")
    if len(data) > max_bytes:
        raise AssertionError(f"{what} is {_mb(len(data))}, more than the {_mb(max_bytes)} allowed")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as exc:
        raise AssertionError(f"{what} {refusal}: it is not a zip archive ({exc})") from None
    if len(infos) > MAX_MEMBERS:
        raise AssertionError(f"{what} holds {len(infos)} entries, more than the {MAX_MEMBERS} allowed")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise AssertionError(f"{what} holds two entries with the same name")
    declared = sum(i.file_size for i in infos)
    if declared > max_bytes:
        raise AssertionError(
            f"{what} would take {_mb(declared)} once decompressed, more than the {_mb(max_bytes)} "
            "allowed: it is not a model file as the assignment's save function writes it")
    return archive


class _Budget:
    """Bytes decompressed so far, against the per-member declared size and the total cap."""

    def __init__(self, what: str, max_bytes: int):
        self.what, self.max_bytes, self.total = what, max_bytes, 0

    def take(self, n: int, member: str, seen: int, declared: int) -> None:
        self.total += n
        if seen > declared or self.total > self.max_bytes:
            raise AssertionError(
                f"{self.what}: entry {member} decompresses to more than it declares, or the "
                f"file to more than {_mb(self.max_bytes)}: refused")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, keep: bool):
    """The member's bytes (or None when keep is False), decompressed under the budget."""
    parts, seen = [], 0
    try:
        with archive.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                seen += len(chunk)
                budget.take(len(chunk), info.filename, seen, info.file_size)
                if keep:
                    parts.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise AssertionError(f"{budget.what}: entry {info.filename} cannot be read ({exc})") from None
    if seen != info.file_size:
        raise AssertionError(f"{budget.what}: entry {info.filename} is damaged (its size does not "
                             "match the archive's directory)")
    return b"".join(parts) if keep else None


def _check_npy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> None:
    """The .npy header is sane and its shape accounts for exactly the bytes that follow it.

    np.load allocates the array the header declares before reading any data, so a
    header that promises more than the member holds is refused here.
    """
    what, name = budget.what, info.filename
    if not name.endswith(".npy"):
        raise AssertionError(f"{what}: entry {name} is not a .npy array; save the file with np.savez")
    try:
        with archive.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
            header = fh.tell()
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, SyntaxError, TypeError) as exc:
        raise AssertionError(f"{what}: entry {name} is not a valid .npy array ({exc})") from None
    if dtype.hasobject:
        raise AssertionError(f"{what}: entry {name} holds Python objects (pickled data), which the "
                             "grader never loads; save plain numeric arrays")
    expected = math.prod(shape) * dtype.itemsize
    if header + expected != info.file_size:
        raise AssertionError(f"{what}: entry {name} declares an array of shape {shape} ({dtype}) "
                             "that does not match the data it holds")
    _read_member(archive, info, budget, keep=False)


def load_npz(data: bytes, what: str, max_bytes: int) -> dict[str, np.ndarray]:
    """The arrays of an .npz file (as np.savez writes it) held in `data`.

    `what` names the file in messages (e.g. "checkpoints/best_fc.npz"); `max_bytes` caps
    the file and the total size of its arrays once decompressed. Raises AssertionError
    with a message for the student when the file is not a plain .npz within the caps.
    Returns {name: array}, names without the ".npy" suffix.
    """
    archive = _open_zip(data, what, max_bytes, "is not a valid .npz file")
    budget = _Budget(what, max_bytes)
    with archive:
        for info in archive.infolist():
            _check_npy_member(archive, info, budget)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise AssertionError(f"{what} cannot be read as a plain .npz file ({exc})") from None


def load_torch(data: bytes, what: str, max_bytes: int):
    """What torch.save wrote into `data`, read with torch.load(weights_only=True) on the CPU.

    The archive's declared and actual sizes are checked against `max_bytes` first; its
    verified entries are then copied into a fresh uncompressed archive, so torch's own
    zip reader sees exactly the bytes checked here. Raises AssertionError with a message
    for the student when the file is refused.
    """
    import torch

    archive = _open_zip(data, what, max_bytes, "cannot be read with torch.load(..., weights_only=True)")
    budget = _Budget(what, max_bytes)
    canonical = io.BytesIO()
    with archive, zipfile.ZipFile(canonical, "w", zipfile.ZIP_STORED) as out:
        for info in archive.infolist():
            if info.is_dir():
                continue
            out.writestr(info.filename, _read_member(archive, info, budget, keep=True))
    canonical.seek(0)
    try:
        return torch.load(canonical, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for damaged or forbidden content
        raise AssertionError(f"{what} cannot be read with torch.load(..., weights_only=True): "
                             f"{_torch_problem(exc)}") from None


def _torch_problem(exc: Exception) -> str:
    """A short reason why torch.load(weights_only=True) refused a file."""
    message = str(exc)
    found = re.search(r"Unsupported global: GLOBAL ([\w.]+)", message)
    if found:
        return f"it holds a pickled {found.group(1)} object, not only tensors"
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__
