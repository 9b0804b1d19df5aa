"""Deterministic zip files: the same inputs always give the same bytes.

Entries are sorted by name, stamped 1980-01-01 00:00:00 (the earliest time a zip
can hold), marked as made on Unix with mode 0644 (0755 for executables), and
compressed with a fixed level. Nothing depends on the file system's directory
order, the clock or the umask.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FILE = stat.S_IFREG


def _entry(arcname: str, executable: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=FIXED_DATE)
    info.create_system = 3  # Unix, so the mode bits below are honoured on extraction
    mode = 0o755 if executable else 0o644
    info.external_attr = (_FILE | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _check_arcname(arcname: str) -> str:
    p = PurePosixPath(arcname)
    if not arcname or "\\" in arcname or p.is_absolute() or ".." in p.parts or str(p) != arcname:
        raise ValueError(f"bad archive name {arcname!r}: use a normalised relative posix path")
    return arcname


def write_zip(zip_path: str | os.PathLike, files: Mapping[str, bytes | str | os.PathLike],
              executable: Iterable[str] = ()) -> Path:
    """Write `files` ({arcname: bytes, or a path (str or Path) to read}) to `zip_path`.

    `executable` names the arcnames stored with mode 0755. The zip is written to a
    temporary name and renamed, so a failed build never leaves a half zip behind.
    Returns the zip's path.
    """
    zip_path = Path(zip_path)
    executable = set(executable)
    unknown = executable - set(files)
    if unknown:
        raise ValueError(f"executable names not in files: {sorted(unknown)}")
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = zip_path.with_name(zip_path.name + ".tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for arcname in sorted(files):
                data = files[arcname]
                if not isinstance(data, (bytes, bytearray)):
                    data = Path(data).read_bytes()  # a str is a path, never file content
                zf.writestr(_entry(_check_arcname(arcname), arcname in executable), bytes(data),
                            compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        os.replace(tmp, zip_path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return zip_path


def tree_files(root: str | os.PathLike) -> dict[str, Path]:
    """{posix relative path: absolute path} of every file under `root`."""
    root = Path(root)
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = path
    return out

