"""Student and solution versions of notebooks, through nbgrader's own preprocessors.

The student version runs nbgrader's generate-assignment chain in-process (no
database, no nbgrader app): LockCells, ClearSolutions, ClearOutput,
CheckCellMetadata, ComputeChecksums, ClearHiddenTests, ClearMarkScheme,
ComputeChecksums, CheckCellMetadata, in nbgrader's order (checksums are taken
before and again after the hidden tests are removed, as nbgrader does). The
solution version keeps every line except the marker lines. Both have their
outputs cleared and keep nbgrader metadata and cell tags (`definitions`,
`parameters`). `NotebookReleaser` builds the preprocessors once for all notebooks.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import nbformat

from coursekit.release import ReleaseError
from coursekit.release.markers import HIDDEN_TESTS, MARK_SCHEME, SOLUTION, find_regions, is_marker

# Cell metadata that records a particular run, not the notebook's content.
_VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "ExecuteTime")
_VOLATILE_NB_METADATA = ("widgets", "celltoolbar")


def _nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def describe_cell(name: str, index: int, cell) -> str:
    gid = _nbgrader(cell).get("grade_id")
    return f"{name}[cell {index}" + (f", grade_id {gid!r}]" if gid else "]")


def read_notebook(path: str | Path, name: str | None = None) -> nbformat.NotebookNode:
    """Read a v4 notebook without letting nbformat invent random cell ids.

    Cells of a v4.5+ notebook that lack an id get one derived from their position
    and source, so two builds of the same file give the same bytes.
    """
    path = Path(path)
    name = name or path.name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReleaseError(f"{name}: cannot read notebook: {exc}") from None
    if data.get("nbformat") != 4:
        raise ReleaseError(f"{name}: only nbformat 4 notebooks are supported")
    cells = data.get("cells", [])
    if data.get("nbformat_minor", 0) >= 5:
        seen: set[str] = set()
        for i, cell in enumerate(cells):
            cid = cell.get("id")
            if not cid or cid in seen:
                src = cell.get("source", "")
                src = "".join(src) if isinstance(src, list) else src
                cid = hashlib.sha1(f"{i}\0{src}".encode()).hexdigest()[:8]
                cell["id"] = cid
            seen.add(cid)
    try:
        # Through reads() so list-of-lines sources are joined the usual way.
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except nbformat.ValidationError as exc:
        raise ReleaseError(f"{name}: not a valid notebook: {exc.message}") from None
    return nb


def check_markers(nb: nbformat.NotebookNode, name: str) -> None:
    """Marker errors with the cell and line, before nbgrader reports them without."""
    first_seen: dict[str, int] = {}
    for i, cell in enumerate(nb.cells):
        where = describe_cell(name, i, cell)
        gid = _nbgrader(cell).get("grade_id")
        if gid in first_seen:
            raise ReleaseError(f"{where}: grade_id {gid!r} is used twice (first in cell "
                               f"{first_seen[gid]}); grade_ids must be unique per notebook")
        if gid:
            first_seen[gid] = i
        regions = find_regions(cell.source.split("\n"), where)
        meta = _nbgrader(cell)
        for r in regions:
            if r.kind == SOLUTION and not meta.get("solution"):
                raise ReleaseError(f"{where}:{r.begin + 1}: solution region in a cell without "
                                   "nbgrader 'solution: true' metadata")
            if r.kind == HIDDEN_TESTS and not meta.get("grade"):
                raise ReleaseError(f"{where}:{r.begin + 1}: hidden tests in a cell without "
                                   "nbgrader 'grade: true' metadata")
            if r.kind == MARK_SCHEME and not meta.get("task"):
                raise ReleaseError(f"{where}:{r.begin + 1}: mark scheme in a cell without "
                                   "nbgrader 'task: true' metadata")


def check_metadata(nb: nbformat.NotebookNode, name: str) -> None:
    """nbgrader's metadata rules, reported with the cell they fail on."""
    from nbgrader.nbgraderformat import MetadataValidator, ValidationError

    validator = MetadataValidator()
    for i, cell in enumerate(nb.cells):
        try:
            validator.validate_cell(cell)
        except ValidationError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ReleaseError(f"{describe_cell(name, i, cell)}: invalid nbgrader metadata: "
                               f"{first}") from None
    try:
        validator.validate_nb(nb)
    except ValidationError as exc:
        raise ReleaseError(f"{name}: invalid nbgrader metadata: {exc}") from None


def _clean(nb: nbformat.NotebookNode) -> None:
    for key in _VOLATILE_NB_METADATA:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None


class NotebookReleaser:
    """nbgrader's preprocessors, set up once and applied to every notebook."""

    def __init__(self):
        from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests,
                                            ClearMarkScheme, ClearOutput, ClearSolutions,
                                            ComputeChecksums, LockCells)
        self._chain = [LockCells(), ClearSolutions(), ClearOutput(), CheckCellMetadata(),
                       ComputeChecksums(), ClearHiddenTests(), ClearMarkScheme(),
                       ComputeChecksums(), CheckCellMetadata()]

    def student(self, nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
        """The released notebook: solutions stubbed, hidden tests gone, no outputs."""
        check_markers(nb, name)
        check_metadata(nb, name)
        out = copy.deepcopy(nb)
        resources: dict = {}
        for pre in self._chain:
            try:
                out, resources = pre.preprocess(out, resources)
            except Exception as exc:  # nbgrader raises RuntimeError/ValidationError
                raise ReleaseError(f"{name}: nbgrader {type(pre).__name__} failed: {exc}") from None
        _clean(out)
        return out

    def solution(self, nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
        """The solution notebook: marker lines removed, no outputs, metadata kept."""
        check_markers(nb, name)
        check_metadata(nb, name)
        out = copy.deepcopy(nb)
        for cell in out.cells:
            lines = cell.source.split("\n")
            if any(is_marker(ln) for ln in lines):
                cell.source = "\n".join(ln for ln in lines if not is_marker(ln))
        _clean(out)
        return out


def notebook_bytes(nb: nbformat.NotebookNode) -> bytes:
    """Stable serialisation: sorted keys, one-space indent, trailing newline."""
    text = nbformat.writes(nb, version=4)
    if not text.endswith("\n"):
        text += "\n"
    return text.encode("utf-8")


def region_lines(nb: nbformat.NotebookNode, name: str) -> tuple[list[tuple[str, str]], list[str]]:
    """(secret, public) lines of a source notebook for the leak check.

    secret: (location, line) for lines inside solution, hidden-test or mark-scheme
    regions, and every line of a solution cell without markers (nbgrader replaces
    such a cell whole); public: all other lines, markers excluded.
    """
    secret: list[tuple[str, str]] = []
    public: list[str] = []
    for i, cell in enumerate(nb.cells):
        where = describe_cell(name, i, cell)
        lines = cell.source.split("\n")
        regions = find_regions(lines, where)
        inside = {j for r in regions for j in r.body()}
        markers = {j for r in regions for j in (r.begin, r.end)}
        whole = _nbgrader(cell).get("solution") and not any(r.kind == SOLUTION for r in regions)
        for j, line in enumerate(lines):
            if j in markers:
                continue
            if whole or j in inside:
                secret.append((f"{where}:{j + 1}", line))
            else:
                public.append(line)
    return secret, public
