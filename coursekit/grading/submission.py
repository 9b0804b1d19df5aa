"""Turn what a student uploaded into the folder the student process runs in.

The workspace is the released starter kit with the submitted files laid over it, so
provided modules are always the course's own and a missing answer file grades as the
unanswered stub. The workspace holds only regular files and folders. Everything odd
about the upload becomes one note naming the file, and the rest of the submission is
still graded:

- a zip inside the upload is unpacked safely: no absolute paths, no `..`, no links,
  size and depth caps; an entry that is damaged (bad CRC, unreadable data), clashes
  with another (`x` and `x/y`), repeats, or has a name that is not valid UTF-8 is
  skipped or noted on its own;
- links, special files, oversized files and folders nested too deeply are ignored;
- a file found under another folder or with other letter case is used, with a note;
- a folder where a file is expected, and a notebook that is not a readable notebook
  (invalid, too deeply nested or too large as JSON), leave the starter version in place.

Nothing here follows a link or writes outside the grading's scratch folder.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_ZIP_ENTRIES = 10_000
MAX_UNPACKED_MB = 1024
MAX_DEPTH = 24                  # folder levels below the upload's top
MAX_FILES_SEEN = 20_000         # files looked at in an upload folder
MAX_JSON_CONTAINERS = 1_000_000  # objects and lists a notebook may hold
MAX_JSON_ITEMS = 5_000_000      # values (commas) a notebook may hold
MAX_NAME_SHOWN = 200

# Reading a damaged zip entry can fail in any of these ways (CRC, inflate, truncation,
# encryption, an unknown compression method).
_ENTRY_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
                 ValueError, OSError)


@dataclass
class Prepared:
    notes: list[str] = field(default_factory=list)           # shown at the top of the results
    file_notes: dict[str, str] = field(default_factory=dict)  # manifest file -> note, for its tests


def shown(name: str) -> str:
    """A file name as it can safely appear in a message: undecodable bytes and control
    characters escaped, long names shortened."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    if len(text) > MAX_NAME_SHOWN:
        text = text[:MAX_NAME_SHOWN] + "..."
    return text


def _safe_name(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or not path.parts:
        return None
    return path


def _valid_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ---------------------------------------------------------------------- zip files


def _clear_bad_utf8_flags(data: bytes) -> tuple[bytes, set[str]] | None:
    """`data` with the UTF-8 flag cleared on central directory entries whose names are not
    UTF-8, and those entries' names as zipfile will then read them (cp437).

    Python's zipfile refuses a whole archive over one such name; this lets the other
    entries be graded. None when the archive's directory cannot be found (or is zip64).
    """
    tail_start = max(0, len(data) - (22 + 0xFFFF))
    end = data.rfind(b"PK\x05\x06", tail_start)
    if end < 0 or end + 22 > len(data):
        return None
    cd_size, cd_offset = struct.unpack_from("<II", data, end + 12)
    if cd_offset == 0xFFFFFFFF or cd_size > end:
        return None
    out = bytearray(data)
    bad: set[str] = set()
    pos, stop = end - cd_size, end
    while pos + 46 <= stop and out[pos:pos + 4] == b"PK\x01\x02":
        flags, = struct.unpack_from("<H", out, pos + 8)
        n, e, c = struct.unpack_from("<HHH", out, pos + 28)
        raw = bytes(out[pos + 46:pos + 46 + n])
        if flags & 0x800:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                struct.pack_into("<H", out, pos + 8, flags & ~0x800)
                bad.add(raw.decode("cp437"))
        pos += 46 + n + e + c
    return bytes(out), bad


def _open_zip(zip_path: Path, notes: list[str]) -> tuple[zipfile.ZipFile | None, set[str]]:
    label = shown(zip_path.name)
    try:
        return zipfile.ZipFile(zip_path), set()
    except UnicodeDecodeError:
        pass
    except Exception as exc:   # a hostile archive can fail in many ways; none stops grading
        notes.append(f"{label} is not a valid zip file ({type(exc).__name__}: {exc}); "
                     "nothing in it was graded.")
        return None, set()
    try:
        if zip_path.stat().st_size > MAX_UNPACKED_MB << 20:
            raise ValueError("too large")
        fixed = _clear_bad_utf8_flags(zip_path.read_bytes())
        if fixed is None:
            raise ValueError("its list of files cannot be read")
        return zipfile.ZipFile(io.BytesIO(fixed[0])), fixed[1]
    except Exception as exc:
        notes.append(f"{label} is not a valid zip file (file names that are not UTF-8, and {exc}); "
                     "nothing in it was graded.")
        return None, set()


def _make_parents(dest: Path, name: PurePosixPath) -> str:
    """Create the folders above `name` under `dest`; a problem as text, else ""."""
    folder = dest
    for i, part in enumerate(name.parts[:-1]):
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            os.mkdir(folder, 0o755)
            continue
        if not stat.S_ISDIR(mode):
            clash = PurePosixPath(*name.parts[:i + 1])
            return f"it clashes with the file {shown(str(clash))} in the same upload"
    return ""


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path, name: PurePosixPath,
             max_bytes: int) -> str:
    """Write one entry to dest/name, never through a link; a problem as text, else ""."""
    try:
        problem = _make_parents(dest, name)
        if problem:
            return problem
        target = dest.joinpath(*name.parts)
        if target.is_dir() and not target.is_symlink():
            return f"it clashes with the folder {shown(name.as_posix())} in the same upload"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except (OSError, ValueError) as exc:
        return f"it cannot be written ({getattr(exc, 'strerror', None) or exc})"
    written, too_big = 0, False
    try:
        with os.fdopen(fd, "wb") as out, archive.open(info) as src:
            # Read with a cap: the declared size in a zip header can lie.
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                written += len(chunk)
                if written > max_bytes:
                    too_big = True
                    break
                out.write(chunk)
    except _ENTRY_ERRORS as exc:
        target.unlink()
        return (f"the zip's copy of it is damaged ({type(exc).__name__}: {exc}); "
                "make the zip again")
    if too_big:
        target.unlink()
        return f"larger than the {max_bytes / (1 << 20):g} MB limit per file"
    return ""


def unpack_zip(zip_path: Path, dest: Path, max_file_mb: float, notes: list[str]) -> None:
    """Extract `zip_path` into `dest`, skipping (with a note each) anything unsafe or broken."""
    archive, bad_names = _open_zip(zip_path, notes)
    if archive is None:
        return
    max_bytes = int(max_file_mb * (1 << 20))
    total = 0
    counts: dict[PurePosixPath, int] = {}
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            notes.append(f"{shown(zip_path.name)} has {len(infos)} entries; only the first "
                         f"{MAX_ZIP_ENTRIES} were looked at.")
        for info in infos[:MAX_ZIP_ENTRIES]:
            label = shown(info.filename)
            if info.is_dir():
                continue
            if info.filename in bad_names:
                notes.append(f"skipped zip entry {label}: its name is not valid UTF-8.")
                continue
            name = _safe_name(info.filename)
            if name is None:
                notes.append(f"skipped zip entry {label!r}: it points outside the submission folder.")
                continue
            if len(name.parts) > MAX_DEPTH:
                notes.append(f"skipped zip entry {label}: more than {MAX_DEPTH} folders deep.")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"skipped zip entry {label!r}: links are not accepted.")
                continue
            if info.file_size > max_bytes:
                notes.append(f"skipped {label}: {info.file_size / (1 << 20):.0f} MB is over "
                             f"the {max_file_mb:g} MB limit per file.")
                continue
            counts[name] = counts.get(name, 0) + 1
            if counts[name] == 2:
                notes.append(f"{label} is in the zip more than once; the last copy was used.")
            total += info.file_size
            if total > MAX_UNPACKED_MB << 20:
                notes.append(f"stopped unpacking {shown(zip_path.name)}: over {MAX_UNPACKED_MB} MB in total.")
                break
            problem = _extract(archive, info, dest, name, max_bytes)
            if problem:
                notes.append(f"skipped {label}: {problem}.")


# ---------------------------------------------------------------------- folders


def _regular_files(root: Path, max_file_mb: float, notes: list[str]) -> list[PurePosixPath]:
    """The regular files under `root` (never through a link), with notes on the rest."""
    found: list[PurePosixPath] = []
    stack = [(root, PurePosixPath(), 0)]
    seen = 0
    while stack:
        folder, rel_folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            notes.append(f"ignored {shown(rel_folder.as_posix())}: it cannot be read ({exc.strerror}).")
            continue
        for entry in entries:
            rel = rel_folder / entry.name
            if entry.name in ("__pycache__", "__MACOSX", ".ipynb_checkpoints"):
                continue
            seen += 1
            if seen > MAX_FILES_SEEN:
                notes.append(f"looked at the first {MAX_FILES_SEEN} files of the upload only.")
                return found
            if not _valid_text(entry.name):
                notes.append(f"ignored {shown(rel.as_posix())}: its name is not valid UTF-8.")
                continue
            if entry.is_symlink():
                notes.append(f"ignored {shown(rel.as_posix())}: links are not accepted.")
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 >= MAX_DEPTH:
                    notes.append(f"ignored {shown(rel.as_posix())}: more than {MAX_DEPTH} folders deep.")
                else:
                    stack.append((Path(entry.path), rel, depth + 1))
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            if entry.stat(follow_symlinks=False).st_size > max_file_mb * (1 << 20):
                notes.append(f"ignored {shown(rel.as_posix())}: larger than the {max_file_mb:g} MB "
                             "limit per file.")
                continue
            found.append(rel)
    return found


def _copy_regular(src: Path, dst: Path, max_bytes: int) -> str:
    """Copy a regular file without following a link; a problem as text, else ""."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            return "it is not a regular file"
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        return f"larger than the {max_bytes / (1 << 20):g} MB limit per file"
    if dst.exists() or dst.is_symlink():
        dst.unlink()
    dst.write_bytes(data)
    return ""


def _match(wanted: str, present: list[PurePosixPath]) -> tuple[PurePosixPath | None, str]:
    exact = [p for p in present if p.as_posix() == wanted]
    if exact:
        return exact[0], ""
    lower = [p for p in present if p.as_posix().lower() == wanted.lower()]
    if len(lower) == 1:
        return lower[0], f"{wanted}: graded your file {lower[0]} (the name's letter case differs)."
    # The file inside an extra folder (a zipped folder, say): match the path's tail.
    tail = [p for p in present if p.as_posix().lower().endswith("/" + wanted.lower())]
    if len(tail) == 1:
        return tail[0], f"{wanted}: graded {tail[0]} (it was inside an extra folder)."
    if len(tail) > 1:
        return None, f"{wanted}: found several candidates ({', '.join(map(str, tail))}); graded none."
    return None, ""


def _is_folder(root: Path, wanted: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(root / wanted).st_mode)
    except OSError:
        return False


def needed_files(assignment, only: tuple[str, ...]) -> list[str]:
    """The submission files the selected questions use (all of them without `only`)."""
    if not only:
        return list(assignment.submission_files)
    used = set()
    for q in assignment.questions:
        if q.id in only:
            used.update(q.files)
            used.update(c[0] for c in q.cells)
    return [f for f in assignment.submission_files if f in used]


def prepare_workspace(submission: Path, starter: Path, assignment, workspace: Path,
                      only: tuple[str, ...] = ()) -> Prepared:
    """Build `workspace` from the starter kit and the submitted files; collect notes.

    With `only` (question ids), notes are kept only for the files those questions use.
    """
    result = Prepared()
    notes = result.notes
    upload = Path(submission)
    shutil.copytree(starter, workspace, dirs_exist_ok=True, symlinks=False)
    unpacked = workspace.parent / (workspace.name + "-upload")
    if unpacked.exists():
        shutil.rmtree(unpacked)
    unpacked.mkdir()
    zips = [p for p in upload.iterdir() if p.suffix.lower() == ".zip" and p.is_file()
            and not p.is_symlink()] if upload.is_dir() else []
    if upload.is_dir() and not any(os.path.lexists(upload / f) for f in assignment.submission_files):
        for z in zips:
            unpack_zip(z, unpacked, assignment.max_file_mb, notes)
    present_root = unpacked if any(unpacked.iterdir()) else upload
    present = _regular_files(present_root, assignment.max_file_mb, notes) if present_root.is_dir() else []
    max_bytes = int(assignment.max_file_mb * (1 << 20))

    # Every submitted file is laid over the kit, since a question's code may import
    # another question's file (a3's nn_basic calls init); with `only`, the notes are
    # those of the selected questions' files.
    needed = set(needed_files(assignment, only))
    for wanted in assignment.submission_files:
        notes = result.notes if wanted in needed else []
        found, note = _match(wanted, present)
        if found is None:
            note = note or _missing_note(wanted, starter, assignment)
            if _is_folder(present_root, wanted):
                note = f"{wanted} in your submission is a folder, not a file. {note}"
            result.file_notes[wanted] = note
            notes.append(note)
            continue
        if note:
            notes.append(note)
        target = workspace / wanted
        target.parent.mkdir(parents=True, exist_ok=True)
        if wanted.endswith(".ipynb"):
            problem = _notebook_problem(present_root / found, max_bytes)
            if problem:
                # The starter notebook stays: the student process never reads a file the
                # grader could not.
                msg = f"{wanted} {problem}"
                result.file_notes[wanted] = msg
                notes.append(msg)
                continue
        problem = _copy_regular(present_root / found, target, max_bytes)
        if problem:
            msg = f"{wanted}: your file was not used ({problem}); the starter version was graded."
            result.file_notes[wanted] = msg
            notes.append(msg)
    shutil.rmtree(unpacked, ignore_errors=True)
    return result


def _missing_note(wanted: str, starter: Path, assignment) -> str:
    """What a missing file costs and what to do about it."""
    redo = "run `python collect_submission.py` in your kit folder and upload the zip it writes"
    if (Path(starter) / wanted).is_file():
        return (f"{wanted} is missing from your submission, so the starter version (still "
                f"unanswered) was graded: {redo}.")
    makers = [c.notebook for c in getattr(assignment, "checkpoints", []) if c.file == wanted]
    how = f"run {makers[0]} to the end (it saves this file), then " if makers else "add it, then "
    return f"{wanted} is missing from your submission, so its questions score 0: {how}{redo}."


def _notebook_problem(path: Path, max_bytes: int) -> str:
    """Why the file at `path` cannot be graded as a notebook ("" when it can).

    Checked before parsing, from byte counts alone, so that a file built to exhaust
    the grader's memory (millions of tiny objects) is refused without being built.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})."
    redo = "re-download it from Jupyter/Colab."
    if len(data) > max_bytes:
        return f"is larger than the {max_bytes / (1 << 20):g} MB limit per file."
    containers = data.count(b"{") + data.count(b"[")
    if containers > MAX_JSON_CONTAINERS or data.count(b",") > MAX_JSON_ITEMS:
        return f"is not a valid notebook (far more JSON objects and values than a notebook holds); {redo}"
    try:
        doc = json.loads(data.decode("utf-8"))
    except RecursionError:
        return f"is not a valid notebook (its JSON is nested too deeply); {redo}"
    except UnicodeDecodeError as exc:
        return f"is not a valid notebook (not UTF-8 text: {exc.reason} at byte {exc.start}); {redo}"
    except ValueError as exc:
        return f"is not a valid notebook (JSON error: {exc}); {redo}"
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        return "is not a valid notebook (no list of cells)."
    return ""
