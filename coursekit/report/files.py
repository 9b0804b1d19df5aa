"""The code in an upload, read as text: `.py` files and the code cells of notebooks.

Uploads are untrusted. They are read, never run or unpacked to disk: zip members are
read in memory with a size cap (the header's size is not believed), members with
absolute or `..` paths are skipped, and links inside a folder are not followed.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 2 << 20
MAX_TOTAL_BYTES = 32 << 20
CODE_SUFFIXES = (".py", ".ipynb")


@dataclass
class Unit:
    """One piece of code compared as a whole: a .py file or one notebook code cell."""
    path: str             # the file, relative to the upload ("calc/ops.py", "Demo.ipynb")
    cell: str             # the notebook cell's grade_id, "#<index>" without one, "" for .py
    text: str

    @property
    def label(self) -> str:
        return f"{self.path}, cell {self.cell}" if self.cell else self.path


def _safe_name(name: str) -> str | None:
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or ".." in p.parts or not p.parts:
        return None
    if any(part.startswith(".") or part == "__MACOSX" for part in p.parts):
        return None
    return str(p)


def _from_zip(path: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                name = _safe_name(info.filename)
                if info.is_dir() or name is None or not name.endswith(CODE_SUFFIXES):
                    continue
                with zf.open(info) as fh:
                    data = fh.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    continue
                total += len(data)
                if total > MAX_TOTAL_BYTES:
                    break
                out[name] = data
    except (OSError, zipfile.BadZipFile, RuntimeError, NotImplementedError, ValueError):
        return out
    return out


def _from_folder(folder: Path) -> dict[str, bytes]:
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    zips = [p for p in entries if p.suffix.lower() == ".zip" and p.is_file() and not p.is_symlink()]
    has_code = any(p.suffix in CODE_SUFFIXES for p in entries)
    if len(zips) == 1 and not has_code:
        return _from_zip(zips[0])        # a folder holding the uploaded zip, as Gradescope keeps it
    out: dict[str, bytes] = {}
    total = 0
    for root, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for n in sorted(names):
            p = Path(root, n)
            if not n.endswith(CODE_SUFFIXES) or p.is_symlink() or not p.is_file():
                continue
            rel = _safe_name(p.relative_to(folder).as_posix())
            if rel is None or p.stat().st_size > MAX_FILE_BYTES:
                continue
            data = p.read_bytes()[:MAX_FILE_BYTES]
            total += len(data)
            if total > MAX_TOTAL_BYTES:
                return out
            out[rel] = data
    return out


def notebook_cells(path: str, data: bytes) -> list[Unit]:
    try:
        nb = json.loads(data)
        cells = nb.get("cells", []) if isinstance(nb, dict) else []
    except (ValueError, UnicodeDecodeError):
        return []
    out = []
    for i, cell in enumerate(cells if isinstance(cells, list) else []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(s for s in source if isinstance(s, str)) if isinstance(source, list) else str(source)
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        gid = nbg.get("grade_id")
        out.append(Unit(path, str(gid) if isinstance(gid, str) and gid else f"#{i}", text))
    return out


def to_units(files: dict[str, bytes]) -> list[Unit]:
    units = []
    for path in sorted(files):
        data = files[path]
        if path.endswith(".ipynb"):
            units.extend(notebook_cells(path, data))
        else:
            units.append(Unit(path, "", data.decode("utf-8", errors="replace")))
    return units


def read_code(upload: Path | None) -> list[Unit]:
    """The code units of an upload (a folder or a .zip); [] when there is none to read."""
    if upload is None or upload.is_symlink():
        return []
    if upload.is_dir():
        return to_units(_from_folder(upload))
    if upload.is_file() and upload.suffix.lower() == ".zip":
        return to_units(_from_zip(upload))
    return []
