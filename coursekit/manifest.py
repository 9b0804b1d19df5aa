"""Read and validate `source/<a>/assignment.toml` (docs/authoring.md, section 2).

`load_assignment(path)` returns a frozen `Assignment`; anything invalid raises
`ManifestError` whose message starts with the manifest's path, the line where the
offending key is written (or the closest enclosing table when the key is missing)
and the key path, e.g.
``source/a2/assignment.toml:46: questions[3].points: must be > 0, got 0``.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from coursekit.manifest_lines import line_of

MANIFEST_NAME = "assignment.toml"
ID_PATTERN = re.compile(r"^[a-z0-9_]+$")
DEVICES = ("cpu", "any")


class ManifestError(ValueError):
    """An assignment.toml that does not follow docs/authoring.md, section 2."""


@dataclass(frozen=True)
class Resources:
    cpu_seconds: float = 60
    memory_mb: int = 2048
    device: str = "cpu"


@dataclass(frozen=True)
class Question:
    id: str
    title: str
    points: float
    files: list[str] = field(default_factory=list)
    # (notebook path, grade_id) pairs
    cells: list[tuple[str, str]] = field(default_factory=list)
    resources: Resources = field(default_factory=Resources)


@dataclass(frozen=True)
class Checkpoint:
    file: str
    notebook: str
    ci_parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    root: Path
    python_path: list[str]
    datasets: list[str]
    release_include: list[str]
    release_exclude: list[str]
    submission_files: list[str]
    max_file_mb: float
    autograder_data: list[str]
    checkpoints: list[Checkpoint]
    questions: list[Question]

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST_NAME

    @property
    def total_points(self) -> float:
        return sum(q.points for q in self.questions)

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(f"{self.name}: no question {qid!r}")

    @property
    def notebooks(self) -> list[str]:
        """Submission notebooks, in manifest order."""
        return [f for f in self.submission_files if f.endswith(".ipynb")]


# --------------------------------------------------------------------------- #
# Schema: for each table, its allowed keys and a converter per key.


class _Reader:
    """Validates one manifest; every error names the file and the key path."""

    def __init__(self, manifest: Path):
        self.manifest = manifest
        self.display = display_path(manifest)
        self.text = ""

    def fail(self, keypath: str, message: str, line: int | None = None) -> ManifestError:
        line = line or (line_of(self.text, keypath) if keypath else None)
        where = f"{self.display}:{line}" if line else self.display
        return ManifestError(f"{where}: {keypath}: {message}" if keypath else f"{where}: {message}")

    def table(self, data: Any, keypath: str, allowed: dict[str, bool]) -> dict:
        """Check `data` is a table holding only `allowed` keys (value: required)."""
        if not isinstance(data, dict):
            raise self.fail(keypath, f"must be a table, got {_type(data)}")
        for key in data:
            if key not in allowed:
                raise self.fail(_join(keypath, key),
                                f"unknown key (allowed: {', '.join(sorted(allowed))})")
        for key, required in allowed.items():
            if required and key not in data:
                raise self.fail(_join(keypath, key), "missing required key")
        return data

    def string(self, value: Any, keypath: str, nonempty: bool = True) -> str:
        if not isinstance(value, str):
            raise self.fail(keypath, f"must be a string, got {_type(value)}")
        if nonempty and not value.strip():
            raise self.fail(keypath, "must not be empty")
        return value

    def strings(self, value: Any, keypath: str) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(keypath, f"must be an array of strings, got {_type(value)}")
        return [self.string(v, f"{keypath}[{i}]") for i, v in enumerate(value)]

    def relpath(self, value: Any, keypath: str, glob: bool = False) -> str:
        """A forward-slash path relative to the assignment folder, inside it."""
        text = self.string(value, keypath)
        if "\\" in text:
            raise self.fail(keypath, f"use forward slashes in paths, got {text!r}")
        p = PurePosixPath(text)
        if p.is_absolute() or ".." in p.parts:
            raise self.fail(keypath, f"must be a path inside the assignment folder, got {text!r}")
        if not glob and any(ch in text for ch in "*?["):
            raise self.fail(keypath, f"must be a plain path, not a glob, got {text!r}")
        if str(p) != text:
            raise self.fail(keypath, f"must be a normalised path ({str(p)!r}), got {text!r}")
        return text

    def relpaths(self, value: Any, keypath: str, glob: bool = False) -> list[str]:
        if not isinstance(value, list):
            raise self.fail(keypath, f"must be an array of paths, got {_type(value)}")
        out = [self.relpath(v, f"{keypath}[{i}]", glob=glob) for i, v in enumerate(value)]
        seen: set[str] = set()
        for i, v in enumerate(out):
            if v in seen:
                raise self.fail(f"{keypath}[{i}]", f"{v!r} is listed twice")
            seen.add(v)
        return out

    def number(self, value: Any, keypath: str, integer: bool = False) -> float:
        ok = isinstance(value, int) if integer else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            kind = "an integer" if integer else "a number"
            raise self.fail(keypath, f"must be {kind}, got {_type(value)}")
        if not value > 0:
            raise self.fail(keypath, f"must be > 0, got {value!r}")
        return value


def _join(keypath: str, key: str) -> str:
    return f"{keypath}.{key}" if keypath else key


def _type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number",
             list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def display_path(path: Path) -> str:
    """`path` relative to the working folder when inside it (short, clickable),
    else as given."""
    try:
        rel = os.path.relpath(path)  # relative to the cwd: short, clickable
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _resolve_manifest(path: str | os.PathLike) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / MANIFEST_NAME
    if not p.is_file():
        raise ManifestError(f"{display_path(p)}: no such manifest")
    return p.resolve()


# --------------------------------------------------------------------------- #


def load_assignment(path: str | os.PathLike, check_sources: bool | None = None) -> Assignment:
    """Load `assignment.toml` (or the folder holding it) and validate it.

    check_sources: validate the manifest against its source folder: the folder is
    named after the assignment, the notebooks named in `cells` and `checkpoints`
    exist there and hold the listed `grade_id`s, the questions' files exist. None
    (default) checks whenever the manifest sits in a source folder, i.e. one that
    holds at least one of the submission files; a bare copy of the manifest (as in
    an autograder zip, e.g. /autograder/source/assignment.toml) is only checked for
    what it says itself.
    """
    manifest = _resolve_manifest(path)
    r = _Reader(manifest)
    try:
        r.text = manifest.read_text(encoding="utf-8")
        data = tomllib.loads(r.text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        raise r.fail("", f"invalid TOML: {exc}", line=int(at.group(1)) if at else None) from None
    except UnicodeDecodeError as exc:
        raise r.fail("", f"not UTF-8: {exc}") from None

    r.table(data, "", {"assignment": True, "release": True, "submission": True,
                       "autograder": False, "checkpoints": False, "questions": True})

    a = r.table(data["assignment"], "assignment",
                {"name": True, "title": True, "python_path": False, "datasets": False})
    name = r.string(a["name"], "assignment.name")
    if not ID_PATTERN.match(name):
        raise r.fail("assignment.name", f"must match [a-z0-9_]+, got {name!r}")
    title = r.string(a["title"], "assignment.title")
    python_path = r.relpaths(a.get("python_path", ["."]), "assignment.python_path")
    datasets = r.strings(a.get("datasets", []), "assignment.datasets")
    if len(set(datasets)) != len(datasets):
        raise r.fail("assignment.datasets", "lists a data set twice")

    rel = r.table(data["release"], "release", {"include": True, "exclude": False})
    include = r.relpaths(rel["include"], "release.include", glob=True)
    if not include:
        raise r.fail("release.include", "must list at least one glob")
    exclude = r.relpaths(rel.get("exclude", []), "release.exclude", glob=True)

    sub = r.table(data["submission"], "submission", {"files": True, "max_file_mb": False})
    files = r.relpaths(sub["files"], "submission.files")
    if not files:
        raise r.fail("submission.files", "must list at least one file")
    max_file_mb = r.number(sub.get("max_file_mb", 50), "submission.max_file_mb")

    ag = r.table(data.get("autograder", {}), "autograder", {"data": False})
    ag_data = r.relpaths(ag.get("data", []), "autograder.data")

    checkpoints = _checkpoints(r, data.get("checkpoints", []), files)
    questions = _questions(r, data["questions"], files)

    assignment = Assignment(
        name=name, title=title, root=manifest.parent, python_path=python_path,
        datasets=datasets, release_include=include, release_exclude=exclude,
        submission_files=files, max_file_mb=max_file_mb, autograder_data=ag_data,
        checkpoints=checkpoints, questions=questions,
    )
    if check_sources is None:
        # A manifest copied into an autograder zip sits alone, in a folder of another name.
        check_sources = any((manifest.parent / f).exists() for f in files)
    if check_sources:
        if name != manifest.parent.name:
            raise r.fail("assignment.name",
                         f"{name!r} must equal the folder name {manifest.parent.name!r}")
        _check_sources(r, assignment)
    return assignment


def _checkpoints(r: _Reader, raw: Any, files: list[str]) -> list[Checkpoint]:
    if not isinstance(raw, list):
        raise r.fail("checkpoints", f"must be an array of tables ([[checkpoints]]), got {_type(raw)}")
    out = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        kp = f"checkpoints[{i}]"
        c = r.table(item, kp, {"file": True, "notebook": True, "ci_parameters": False})
        file = r.relpath(c["file"], f"{kp}.file")
        if file not in files:
            raise r.fail(f"{kp}.file", f"{file!r} is not one of submission.files")
        if file in seen:
            raise r.fail(f"{kp}.file", f"{file!r} has two [[checkpoints]] entries")
        seen.add(file)
        notebook = r.relpath(c["notebook"], f"{kp}.notebook")
        if not notebook.endswith(".ipynb"):
            raise r.fail(f"{kp}.notebook", f"must name a .ipynb file, got {notebook!r}")
        params = c.get("ci_parameters", {})
        if not isinstance(params, dict):
            raise r.fail(f"{kp}.ci_parameters", f"must be a table, got {_type(params)}")
        for key in params:
            if not key.isidentifier():
                raise r.fail(f"{kp}.ci_parameters.{key}", "must be a Python identifier")
        out.append(Checkpoint(file=file, notebook=notebook, ci_parameters=dict(params)))
    return out


def _questions(r: _Reader, raw: Any, files: list[str]) -> list[Question]:
    if not isinstance(raw, list) or not raw:
        raise r.fail("questions", "must be a non-empty array of tables ([[questions]])")
    out = []
    ids: set[str] = set()
    for i, item in enumerate(raw):
        kp = f"questions[{i}]"
        q = r.table(item, kp, {"id": True, "title": True, "points": True, "files": False,
                               "cells": False, "resources": False})
        qid = r.string(q["id"], f"{kp}.id")
        if not ID_PATTERN.match(qid):
            raise r.fail(f"{kp}.id", f"must match [a-z0-9_]+, got {qid!r}")
        if qid in ids:
            raise r.fail(f"{kp}.id", f"duplicate question id {qid!r}")
        ids.add(qid)
        title = r.string(q["title"], f"{kp}.title")
        points = r.number(q["points"], f"{kp}.points")
        qfiles = r.relpaths(q.get("files", []), f"{kp}.files")
        for j, f in enumerate(qfiles):
            if f not in files:
                raise r.fail(f"{kp}.files[{j}]", f"{f!r} is not one of submission.files")
        cells = []
        raw_cells = r.strings(q.get("cells", []), f"{kp}.cells")
        for j, spec in enumerate(raw_cells):
            ckp = f"{kp}.cells[{j}]"
            nb, sep, gid = spec.rpartition(":")
            if not sep or not nb or not gid or not nb.endswith(".ipynb"):
                raise r.fail(ckp, f"must read 'Notebook.ipynb:grade_id', got {spec!r}")
            r.relpath(nb, ckp)
            if nb not in files:
                raise r.fail(ckp, f"notebook {nb!r} is not one of submission.files")
            if (nb, gid) in cells:
                raise r.fail(ckp, f"{spec!r} is listed twice")
            cells.append((nb, gid))
        if not qfiles and not cells:
            raise r.fail(kp, "must list the files or cells that hold its answers")
        res = r.table(q.get("resources", {}), f"{kp}.resources",
                      {"cpu_seconds": False, "memory_mb": False, "device": False})
        defaults = Resources()
        cpu = r.number(res.get("cpu_seconds", defaults.cpu_seconds), f"{kp}.resources.cpu_seconds")
        mem = r.number(res.get("memory_mb", defaults.memory_mb), f"{kp}.resources.memory_mb",
                       integer=True)
        device = r.string(res.get("device", defaults.device), f"{kp}.resources.device")
        if device not in DEVICES:
            raise r.fail(f"{kp}.resources.device",
                         f"must be one of {', '.join(map(repr, DEVICES))}, got {device!r}")
        out.append(Question(id=qid, title=title, points=points, files=qfiles, cells=cells,
                            resources=Resources(cpu_seconds=cpu, memory_mb=mem, device=device)))
    return out


def _check_sources(r: _Reader, a: Assignment) -> None:
    grade_ids: dict[str, set[str] | None] = {}

    def ids_of(nb: str, keypath: str) -> set[str]:
        if nb not in grade_ids:
            path = a.root / nb
            if not path.is_file():
                raise r.fail(keypath, f"notebook {nb!r} does not exist in {display_path(a.root)}")
            grade_ids[nb] = notebook_grade_ids(path)
        return grade_ids[nb]

    for i, q in enumerate(a.questions):
        for j, (nb, gid) in enumerate(q.cells):
            if gid not in ids_of(nb, f"questions[{i}].cells[{j}]"):
                raise r.fail(f"questions[{i}].cells[{j}]",
                             f"{nb} has no cell with grade_id {gid!r}")
        for j, f in enumerate(q.files):
            if not (a.root / f).exists() and not any(c.file == f for c in a.checkpoints):
                raise r.fail(f"questions[{i}].files[{j}]",
                             f"{f!r} does not exist in {display_path(a.root)}")
    for i, c in enumerate(a.checkpoints):
        ids_of(c.notebook, f"checkpoints[{i}].notebook")


def locate(manifest: str | os.PathLike, keypath: str) -> str:
    """`path:line` of a key of a manifest (`path` alone when the key is not written
    there), for messages about what a manifest says."""
    path = Path(manifest)
    try:
        line = line_of(path.read_text(encoding="utf-8"), keypath)
    except (OSError, UnicodeDecodeError):
        line = None
    return f"{display_path(path)}:{line}" if line else display_path(path)


def notebook_grade_ids(path: Path) -> set[str]:
    """The nbgrader grade_ids of a notebook's cells (read as plain JSON: fast)."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{display_path(Path(path))}: cannot read notebook: {exc}") from None
    out = set()
    for cell in nb.get("cells", []):
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid:
            out.add(gid)
    return out


def discover_assignments(source_root: str | os.PathLike, check_sources: bool | None = None
                         ) -> list[Assignment]:
    """Every `<source_root>/<a>/assignment.toml`, loaded, sorted by folder name."""
    root = Path(source_root)
    if not root.is_dir():
        raise ManifestError(f"{display_path(root)}: no such source folder")
    return [load_assignment(p, check_sources=check_sources)
            for p in sorted(root.glob(f"*/{MANIFEST_NAME}"))]
