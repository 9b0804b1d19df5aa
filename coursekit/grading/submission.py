"""Turn what a student uploaded into the folder the student process runs in.

The workspace is the released starter kit with the submitted files laid over it, so
provided modules are always the course's own and a missing answer file grades as the
unanswered stub. Everything odd about the upload becomes a note for the student, and
the rest of the submission is still graded:

- a zip inside the upload is unpacked safely (no absolute paths, no `..`, no links,
  size caps);
- links and oversized files are ignored;
- a file found under another folder or with other letter case is used, with a note;
- a notebook that is not valid JSON is reported.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_ZIP_ENTRIES = 10_000
MAX_UNPACKED_MB = 1024


@dataclass
class Prepared:
    notes: list[str] = field(default_factory=list)           # shown at the top of the results
    file_notes: dict[str, str] = field(default_factory=dict)  # manifest file -> note, for its tests


def _safe_name(name: str) -> PurePosixPath | None:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or not path.parts:
        return None
    return path


def unpack_zip(zip_path: Path, dest: Path, max_file_mb: float, notes: list[str]) -> None:
    """Extract `zip_path` into `dest`, skipping (with a note) anything unsafe."""
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        notes.append(f"{zip_path.name} is not a valid zip file ({exc}); nothing in it was graded.")
        return
    total = 0
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            notes.append(f"{zip_path.name} has {len(infos)} entries; only the first "
                         f"{MAX_ZIP_ENTRIES} were looked at.")
        for info in infos[:MAX_ZIP_ENTRIES]:
            if info.is_dir():
                continue
            name = _safe_name(info.filename)
            if name is None:
                notes.append(f"skipped zip entry {info.filename!r}: it points outside the submission folder.")
                continue
            if stat.S_ISLNK(info.external_attr >> 16):
                notes.append(f"skipped zip entry {info.filename!r}: links are not accepted.")
                continue
            if info.file_size > max_file_mb * (1 << 20):
                notes.append(f"skipped {info.filename}: {info.file_size / (1 << 20):.0f} MB is over "
                             f"the {max_file_mb:g} MB limit per file.")
                continue
            total += info.file_size
            if total > MAX_UNPACKED_MB << 20:
                notes.append(f"stopped unpacking {zip_path.name}: over {MAX_UNPACKED_MB} MB in total.")
                break
            target = dest.joinpath(*name.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(target, "wb") as out:
                # Read with a cap: the declared size in a zip header can lie.
                remaining = int(max_file_mb * (1 << 20)) + 1
                while remaining > 0:
                    chunk = src.read(min(1 << 20, remaining))
                    if not chunk:
                        break
                    out.write(chunk)
                    remaining -= len(chunk)
            if remaining <= 0:
                target.unlink()
                notes.append(f"skipped {info.filename}: larger than the {max_file_mb:g} MB limit.")


def _regular_files(root: Path, max_file_mb: float, notes: list[str]) -> list[PurePosixPath]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if d not in ("__pycache__", "__MACOSX", ".ipynb_checkpoints")]
        for fname in filenames:
            path = Path(dirpath, fname)
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if path.is_symlink():
                notes.append(f"ignored {rel}: links are not accepted.")
                continue
            if not path.is_file():
                continue
            if path.stat().st_size > max_file_mb * (1 << 20):
                notes.append(f"ignored {rel}: larger than the {max_file_mb:g} MB limit per file.")
                continue
            found.append(rel)
    return found


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


def prepare_workspace(submission: Path, starter: Path, assignment, workspace: Path) -> Prepared:
    """Build `workspace` from the starter kit and the submitted files; collect notes."""
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
    if upload.is_dir() and not any(Path(upload, f).exists() for f in assignment.submission_files):
        for z in zips:
            unpack_zip(z, unpacked, assignment.max_file_mb, notes)
    present_root = unpacked if any(unpacked.iterdir()) else upload
    present = _regular_files(present_root, assignment.max_file_mb, notes) if present_root.is_dir() else []

    for wanted in assignment.submission_files:
        found, note = _match(wanted, present)
        if found is None:
            note = note or f"{wanted} is missing from your submission; the starter version was graded."
            result.file_notes[wanted] = note
            notes.append(note)
            continue
        if note:
            notes.append(note)
        target = workspace / wanted
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            target.unlink()
        shutil.copyfile(present_root / found, target)
        if wanted.endswith(".ipynb"):
            problem = _notebook_problem(target)
            if problem:
                msg = f"{wanted} {problem}"
                result.file_notes[wanted] = msg
                notes.append(msg)
    shutil.rmtree(unpacked, ignore_errors=True)
    return result


def _notebook_problem(path: Path) -> str:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"is not a valid notebook (JSON error: {exc}); re-download it from Jupyter/Colab."
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        return "is not a valid notebook (no list of cells)."
    return ""
