"""Which lines of an upload the student wrote: those that differ from the starter kit.

Every student starts from the same released files (`release/<a>/`), so the starter's
docstrings, hints and scaffolding are alike in every upload and say nothing about
copying. A line counts as the student's when a line-by-line diff against the starter's
version of the same unit (the same file, or the notebook cell with the same grade_id)
does not match it. Cells without a grade_id are compared with all of the starter
notebook's code; files the starter lacks are the student's throughout.
"""

from __future__ import annotations

import difflib

from coursekit.report.files import Unit


def _lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines()]


def _suffix_match(path: str, starter_paths: list[str]) -> str | None:
    """The starter file an uploaded path corresponds to, allowing an extra top folder."""
    best = None
    for s in starter_paths:
        if path == s or path.endswith("/" + s):
            if best is None or len(s) > len(best):
                best = s
    return best


def changed_lines(text: str, base: list[str]) -> set[int]:
    """1-based numbers of the lines of `text` that a diff against `base` does not match."""
    mine = _lines(text)
    matcher = difflib.SequenceMatcher(None, base, mine, autojunk=False)
    out: set[int] = set()
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            out.update(range(j1 + 1, j2 + 1))
    return out


def student_lines(units: list[Unit], starter: list[Unit] | None) -> list[set[int]]:
    """For each unit, the lines the student wrote (all lines when there is no starter)."""
    if not starter:
        return [set(range(1, len(_lines(u.text)) + 1)) for u in units]
    by_key = {(u.path, u.cell): _lines(u.text) for u in starter}
    notebook_code: dict[str, list[str]] = {}
    for u in starter:
        if u.cell:
            notebook_code.setdefault(u.path, []).extend(_lines(u.text))
    starter_paths = sorted({u.path for u in starter})
    out = []
    for u in units:
        path = _suffix_match(u.path, starter_paths)
        if path is None:
            base = []
        elif u.cell and not u.cell.startswith("#") and (path, u.cell) in by_key:
            base = by_key[(path, u.cell)]
        elif u.cell:
            base = notebook_code.get(path, [])
        else:
            base = by_key.get((path, ""), [])
        out.append(changed_lines(u.text, base))
    return out
