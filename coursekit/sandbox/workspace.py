"""The folders a grading keeps, and who may write what.

    <base>/                 root-owned, 0711: the grading's own folder
      pristine/             the prepared submission (starter kit + uploaded files), root-owned;
                            never handed to a student process
      work-<n>/             the workspace of the n-th student process, a fresh copy of
                            pristine/ owned by the grading's uid, made before that process
                            exists and emptied by the uid itself when it has ended
      shared/               folders graders create for the student to read; root-owned,
                            read-only to the student
      view/                 mount point of the student process's own root (namespaces)

Root copies into a new `work-<n>` only while no process of the grading's uid exists, so
nothing can race the copy, and afterwards root never opens, chowns or deletes anything
under it: files the student produced reach the grader as bytes through the pipe, and
submitted files are read from `pristine/`, which the student cannot write.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path, PurePosixPath


class TooLarge(ValueError):
    """A submitted file is larger than the grader reads."""


def make_base() -> Path:
    base = Path(tempfile.mkdtemp(prefix="coursekit-sandbox-"))
    os.chmod(base, 0o711)
    for name in ("shared", "view"):
        (base / name).mkdir(mode=0o755)
    return base


def fresh_copy(pristine: Path, dest: Path, ids: tuple[int, int] | None) -> None:
    """Copy `pristine` to a new folder `dest`, owned by `ids` (uid, gid) when given.

    `pristine` holds only regular files and folders (links are never copied).
    """
    os.mkdir(dest, 0o700)
    for dirpath, dirnames, filenames in os.walk(pristine, followlinks=False):
        rel = os.path.relpath(dirpath, pristine)
        target_dir = dest if rel == "." else dest / rel
        for name in dirnames:
            if os.path.islink(os.path.join(dirpath, name)):
                continue
            os.mkdir(target_dir / name, 0o755)
        for name in filenames:
            src = os.path.join(dirpath, name)
            if not stat.S_ISREG(os.lstat(src).st_mode):
                continue
            shutil.copyfile(src, target_dir / name, follow_symlinks=False)
            os.chmod(target_dir / name, 0o644)
    if ids is not None:
        uid, gid = ids
        for dirpath, dirnames, filenames in os.walk(dest, followlinks=False):
            os.lchown(dirpath, uid, gid)
            for name in filenames:
                os.lchown(os.path.join(dirpath, name), uid, gid)


def clean_relpath(relative: str) -> PurePosixPath:
    """A submission-relative path, refused when it could leave the folder."""
    path = PurePosixPath(str(relative).replace("\\", "/"))
    if path.is_absolute() or not path.parts or any(p in ("..", "", ".") for p in path.parts):
        raise ValueError(f"{relative!r} is not a path inside the submission")
    return path


def read_pristine(pristine: Path, relative: str, max_bytes: int) -> bytes | None:
    """Bytes of a submitted file from the root-owned copy; None when it is absent.

    Opened component by component without following links, size checked before reading.
    Raises TooLarge when the file is larger than `max_bytes`, ValueError for a path that
    could leave the folder.
    """
    parts = clean_relpath(relative).parts
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(pristine, flags | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            try:
                nxt = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            except (FileNotFoundError, NotADirectoryError):
                return None
            os.close(fd)
            fd = nxt
        try:
            file_fd = os.open(parts[-1], flags, dir_fd=fd)
        except (FileNotFoundError, IsADirectoryError):
            return None
    finally:
        os.close(fd)
    with os.fdopen(file_fd, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > max_bytes:
            raise TooLarge(f"{relative} is {info.st_size / 2**20:.1f} MB, over the "
                             f"{max_bytes / 2**20:.1f} MB this question reads")
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise TooLarge(f"{relative} is over the {max_bytes / 2**20:.1f} MB this question reads")
    return data


def new_shared_folder(base: Path) -> Path:
    """A fresh root-owned folder the student process can read but not write."""
    folder = Path(tempfile.mkdtemp(prefix="grader-", dir=base / "shared"))
    os.chmod(folder, 0o755)
    return folder
