"""Student and solution versions of a `.py` file with solution markers.

`strip_solutions` turns each `### BEGIN SOLUTION` ... `### END SOLUTION` region into
one `raise NotImplementedError("<func or Class.method>")` line at the marker's
indentation and drops `### BEGIN HIDDEN TESTS` regions whole. Every line outside a
region (hint comments just above a marker included) is kept byte for byte.
`strip_markers` gives the solution version: the same text minus the marker lines.
"""

from __future__ import annotations

import ast

from coursekit.release import ReleaseError
from coursekit.release.markers import HIDDEN_TESTS, SOLUTION, Region, find_regions, is_marker

PY_KINDS = (SOLUTION, HIDDEN_TESTS)


def _eol(line: str) -> str:
    return line[len(line.rstrip("\r\n")):] or "\n"


def _parse(text: str, path: str) -> ast.Module:
    try:
        return ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise ReleaseError(f"{path}:{exc.lineno}: not valid Python: {exc.msg}") from None


def _statements(tree: ast.Module) -> list[ast.stmt]:
    stmts = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
    stmts.sort(key=lambda n: (n.lineno, n.col_offset))
    return stmts


def enclosing_name(stmts: list[ast.stmt], line_no: int, indent_width: int) -> str | None:
    """Qualified name (`func`, `Class.method`, `outer.inner`) of the innermost
    function whose body holds a line at 1-based `line_no` indented `indent_width`.

    Walks back over statement starts: the nearest one indented less than the line
    is the header of the block holding it; repeat from that header outwards.
    """
    chain: list[ast.stmt] = []
    width = indent_width
    for node in reversed(stmts):
        if node.lineno >= line_no or node.col_offset >= width:
            continue
        chain.append(node)
        width = node.col_offset
        if width == 0:
            break
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    innermost = next((i for i, n in enumerate(chain) if isinstance(n, funcs)), None)
    if innermost is None:
        return None
    # Outermost first; block headers such as `if` or `for` are not part of the name.
    return ".".join(n.name for n in reversed(chain[innermost:])
                    if isinstance(n, funcs + (ast.ClassDef,)))


def _start(node: ast.stmt) -> int:
    decorators = getattr(node, "decorator_list", None) or []
    return min([node.lineno] + [d.lineno for d in decorators])


def check_whole_statements(tree: ast.Module, lines: list[str], r: Region, path: str) -> None:
    """A region must hold whole statements of one block (or nothing but comments).

    A region that swallows an `else:` or half a call would leave valid-looking
    but different code behind, so it is refused with the offending line.
    """
    lo, hi = r.begin + 2, r.end  # 1-based lines strictly between the markers
    inside = {}
    for parent in ast.walk(tree):
        for name, value in ast.iter_fields(parent):
            if not isinstance(value, list):
                continue
            for node in value:
                if isinstance(node, ast.stmt) and lo <= _start(node) and node.end_lineno <= hi:
                    inside[node] = (parent, name)
    top = {n: where for n, where in inside.items() if where[0] not in inside}
    blocks = {(id(p), name) for p, name in top.values()}
    covered = set()
    for n in top:
        covered.update(range(_start(n), n.end_lineno + 1))
    for line_no in range(lo, hi + 1):
        text = lines[line_no - 1].strip()
        if text and not text.startswith("#") and line_no not in covered:
            raise ReleaseError(f"{path}:{line_no}: the region opened at line {r.begin + 1} "
                               "must hold whole statements of one block; this line is not one")
    if len(blocks) > 1:
        first = min(_start(n) for n in top)
        raise ReleaseError(f"{path}:{first}: the region opened at line {r.begin + 1} spans "
                           "statements of different blocks")


def _regions(text: str, path: str) -> tuple[list[str], list[Region]]:
    lines = text.splitlines(keepends=True)
    return lines, find_regions(lines, path, kinds=PY_KINDS)


def strip_solutions(text: str, path: str = "<file>") -> str:
    """The student version of a Python source file (see the module docstring).

    Raises ReleaseError("path:line: ...") on malformed, nested or unbalanced
    markers, on a solution region outside any function (a `raise` there would make
    the whole module unimportable), and when the result is not valid Python.
    """
    lines, regions = _regions(text, path)
    if not regions:
        return text
    tree = _parse(text, path)
    stmts = _statements(tree)
    for r in regions:
        check_whole_statements(tree, lines, r, path)
    out: list[str] = []
    pos = 0
    for r in regions:
        out.extend(lines[pos:r.begin])
        pos = r.end + 1
        if r.kind == HIDDEN_TESTS:
            continue
        name = enclosing_name(stmts, r.begin + 1, len(r.indent))
        if name is None:
            raise ReleaseError(f"{path}:{r.begin + 1}: solution region outside any function "
                               "or method; put module-level answers inside a function")
        out.append(f'{r.indent}raise NotImplementedError("{name}"){_eol(lines[r.begin])}')
    out.extend(lines[pos:])
    result = "".join(out)
    try:
        ast.parse(result, filename=path)
    except SyntaxError as exc:
        raise ReleaseError(f"{path}:{_source_line(lines, regions, exc.lineno)}: the student "
                           f"version is not valid Python ({exc.msg}); check that each region "
                           "holds whole statements of one block") from None
    return result


def _source_line(lines: list[str], regions: list[Region], student_line: int | None) -> int:
    """Map a line number of the student version back to the source file."""
    if student_line is None:
        return 0
    src = 0   # 0-based source index
    stu = 0   # 1-based student line reached so far
    for r in regions:
        gap = r.begin - src
        if stu + gap >= student_line:
            break
        stu += gap
        src = r.end + 1
        if r.kind == SOLUTION:
            stu += 1
            if stu == student_line:
                return r.begin + 1
    return src + (student_line - stu)


def strip_markers(text: str, path: str = "<file>") -> str:
    """The solution version: `text` without its marker lines, all else unchanged."""
    lines, regions = _regions(text, path)
    if not regions:
        return text
    return "".join(line for line in lines if not is_marker(line))


def region_lines(text: str, path: str = "<file>") -> tuple[list[tuple[int, str]], list[str]]:
    """Split a source file into (secret, public) lines for the leak check.

    secret: (1-based line number, line) for each line inside a solution or hidden
    test region; public: every other line except the markers themselves.
    """
    lines, regions = _regions(text, path)
    inside: set[int] = set()
    for r in regions:
        inside.update(r.body())
    marker_lines = {i for r in regions for i in (r.begin, r.end)}
    secret = [(i + 1, lines[i].rstrip("\r\n")) for i in sorted(inside)]
    public = [ln.rstrip("\r\n") for i, ln in enumerate(lines)
              if i not in inside and i not in marker_lines]
    return secret, public
