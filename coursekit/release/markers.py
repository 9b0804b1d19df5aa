"""Find nbgrader-style marker regions in a list of lines.

A marker line holds nothing but the marker, e.g. `    ### BEGIN SOLUTION`.
Any other line mentioning a marker phrase (`## BEGIN SOLUTION`, `### BEGIN
SOLUTION  # todo`) is rejected: nbgrader matches the phrase anywhere in a line,
so a near-miss would be treated differently by the two strippers, and a silent
mismatch is how solutions leak.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coursekit.release import ReleaseError

SOLUTION = "SOLUTION"
HIDDEN_TESTS = "HIDDEN TESTS"
MARK_SCHEME = "MARK SCHEME"
KINDS = (SOLUTION, HIDDEN_TESTS, MARK_SCHEME)

_PHRASE = re.compile(r"\b(BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)\b")
_MARKER = re.compile(r"^([ \t]*)### (BEGIN|END) (SOLUTION|HIDDEN TESTS|MARK SCHEME)[ \t]*$")


@dataclass(frozen=True)
class Region:
    kind: str          # SOLUTION, HIDDEN_TESTS or MARK_SCHEME
    begin: int         # 0-based index of the BEGIN marker line
    end: int           # 0-based index of the END marker line
    indent: str        # whitespace before the BEGIN marker

    def body(self) -> range:
        """Indices of the lines strictly between the markers."""
        return range(self.begin + 1, self.end)


def mentions_marker(line: str) -> bool:
    """True for any line holding a marker phrase, well-formed or not."""
    return _PHRASE.search(line) is not None


def is_marker(line: str) -> bool:
    return _MARKER.match(line.rstrip("\r\n")) is not None


def find_regions(lines: list[str], where: str, kinds: tuple[str, ...] = KINDS,
                 line_offset: int = 1) -> list[Region]:
    """Regions of `lines` (with or without line endings), in order.

    `where` prefixes error messages (a file name); reported line numbers are
    `index + line_offset`. Raises ReleaseError on malformed, nested or
    unbalanced markers and on marker kinds not in `kinds`.
    """
    regions: list[Region] = []
    open_kind = open_at = None
    open_indent = ""
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r\n")
        if not _PHRASE.search(line):
            continue
        here = f"{where}:{i + line_offset}"
        m = _MARKER.match(line)
        if m is None:
            raise ReleaseError(f"{here}: malformed marker {line.strip()!r}; a marker line "
                               "must hold only '### BEGIN ...' or '### END ...'")
        indent, verb, kind = m.groups()
        if kind not in kinds:
            raise ReleaseError(f"{here}: '### {verb} {kind}' is not allowed in this kind of file")
        if verb == "BEGIN":
            if open_kind is not None:
                raise ReleaseError(f"{here}: nested marker '### BEGIN {kind}' inside the "
                                   f"{open_kind} region opened at line {open_at + line_offset}")
            open_kind, open_at, open_indent = kind, i, indent
        else:
            if open_kind is None:
                raise ReleaseError(f"{here}: '### END {kind}' without a matching BEGIN")
            if kind != open_kind:
                raise ReleaseError(f"{here}: '### END {kind}' closes the {open_kind} region "
                                   f"opened at line {open_at + line_offset}")
            regions.append(Region(kind, open_at, i, open_indent))
            open_kind = open_at = None
    if open_kind is not None:
        raise ReleaseError(f"{where}:{open_at + line_offset}: '### BEGIN {open_kind}' "
                           "is never closed")
    return regions
