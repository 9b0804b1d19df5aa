"""`coursekit new-question A ID`: scaffold a question end to end (docs/authoring.md, 7).

It writes, from one template that already agrees with itself:

- the stub: a function with a solution region, appended to a submitted `.py` file
  (`--file`) or as a `definitions` answer cell of a notebook (no `--file`);
- the public check cell under it, in `--notebook`;
- the manifest entry, appended to `source/<a>/assignment.toml`;
- a grader, `autograder/<a>/test_<id>.py`, numbered after the last question;
- a mutant file, `tests/<a>/<a-prefix>_<id>_mutants.py`, with one wrong answer the
  grader must reject.

The template answer is the identity function; the author replaces the reference
answer, the grader's expected values, the check and the mutant together. Nothing is
written unless everything can be; the manifest is checked after writing, and all
files are restored if it does not load.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from coursekit.manifest import ID_PATTERN, ManifestError, display_path, load_assignment

REPO = Path(__file__).resolve().parents[1]


class ScaffoldError(ValueError):
    """The question cannot be scaffolded as asked; the message says why and where."""


@dataclass(frozen=True)
class Plan:
    """What new-question writes: path -> new full text, plus a summary per file."""
    files: dict
    notes: list


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment folder name under --source")
    parser.add_argument("id", help="question id ([a-z0-9_]+), also the function's name")
    parser.add_argument("--title", help="the question's title (default: from the id)")
    parser.add_argument("--points", type=int, default=2, help="points, the grader's @weight (default: 2)")
    parser.add_argument("--file", help="a submitted .py file to append the function to; "
                        "without it the function goes in a notebook answer cell")
    parser.add_argument("--notebook", required=True,
                        help="the submitted notebook that gets the public check (and the answer cell)")
    parser.add_argument("--source", type=Path, default=REPO / "source")
    parser.add_argument("--autograder", type=Path, default=REPO / "autograder")
    parser.add_argument("--tests", type=Path, default=REPO / "tests")


def run(args: argparse.Namespace) -> int:
    try:
        plan = new_question(args.assignment, args.id, title=args.title, points=args.points,
                            file=args.file, notebook=args.notebook, source=args.source,
                            autograder=args.autograder, tests=args.tests)
    except (ScaffoldError, ManifestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for note in plan.notes:
        print(note)
    return 0


def module_name(relpath: str, python_path: list[str]) -> str:
    """The import name of a submitted .py file, seen from the assignment's python_path."""
    p = PurePosixPath(relpath).with_suffix("")
    best = None
    for entry in python_path:
        base = PurePosixPath(entry)
        if entry in (".", ""):
            rel = p
        elif p.parts[:len(base.parts)] == base.parts:
            rel = PurePosixPath(*p.parts[len(base.parts):])
        else:
            continue
        if best is None or len(rel.parts) < len(best.parts):
            best = rel
    if best is None:
        raise ScaffoldError(f"{relpath} is not under any python_path entry {python_path}")
    return ".".join(best.parts)


def next_number(graders: Path) -> str:
    """`N.1` where N is one more than the largest leading part of any @number."""
    top = 0
    for path in sorted(graders.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "number" \
                    and node.args and isinstance(node.args[0], ast.Constant):
                head = str(node.args[0].value).split(".")[0]
                if head.isdigit():
                    top = max(top, int(head))
    return f"{top + 1}.1"


def _stub(fn: str, indent: str = "") -> str:
    body = f'''def {fn}(x):
    """TODO (author): what {fn} computes.

    Inputs:
    - x: numpy array of any shape.

    Returns:
    - out: numpy array of the same shape as x.
    """
    ### BEGIN SOLUTION
    out = np.array(x, dtype=np.float64, copy=True)
    ### END SOLUTION
    return out
'''
    return "".join(indent + line if line.strip() else line for line in body.splitlines(True))


def _grader(a: str, qid: str, title: str, points: int, number: str, reach: str) -> str:
    return f'''"""Question {qid}: {title}."""

import numpy as np

from coursekit.grading import number, question, weight
from coursekit.grading.checks import check_array

pytestmark = question("{qid}")


def _expected(x):
    """The right answer, computed here in the grader (TODO author: the real formula)."""
    return np.array(x, dtype=np.float64, copy=True)


@weight({points})
@number("{number}")
def test_{qid}(student):
    """{qid} on inputs of several shapes"""
    fn = {reach}
    rng = np.random.default_rng(20240)
    for shape in ((5,), (3, 4), (2, 3, 2)):
        x = rng.standard_normal(shape)
        check_array(f"{qid}(x) for x of shape {{shape}}", fn(x), _expected(x), tol=1e-8)
'''


def _mutants(a: str, qid: str, where: str, target: str, cell_prefix: str) -> str:
    prefix = a.split("_")[0]
    return f'''"""Known-wrong answers of question {qid}, for the kit's mutant harness
(coursekit.testing, docs/authoring.md section 6): each must lose the points of the
graders it names, and only those. Add one per mistake a student is likely to make."""

from coursekit.testing import Edit, Mutant, MutantRun

ZEROS = Edit("{where}", "{target}", \'\'\'
{cell_prefix}def {qid}(x):
    # Mutant: zeros of the right shape.
    return np.zeros(np.shape(x))
\'\'\')

RUNS = [
    MutantRun("{prefix}_{qid}", ("{qid}",), (
        Mutant("{qid}_zeros", {{"test_{qid}"}}, (ZEROS,)),
    )),
]
'''


def _add_import(text: str, line: str) -> str:
    """`text` with `line` added after its module docstring (or at the top)."""
    tree = ast.parse(text)
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        lines = text.splitlines(True)
        return "".join(lines[:first.end_lineno]) + "\n" + line + "\n" + "".join(lines[first.end_lineno:])
    return line + "\n\n" + text


def _cell(source: str, cell_type: str = "code", nbgrader: dict | None = None, tags=()) -> dict:
    cell = {"cell_type": cell_type, "metadata": {}, "source": source}
    if cell_type == "code":
        cell.update(execution_count=None, outputs=[])
    if nbgrader is not None:
        cell["metadata"]["nbgrader"] = dict(nbgrader, schema_version=3)
    if tags:
        cell["metadata"]["tags"] = list(tags)
    return cell


def new_question(assignment: str, qid: str, *, title: str | None, points: int, file: str | None,
                 notebook: str, source: Path, autograder: Path, tests: Path) -> Plan:
    """Plan and write the question's five pieces; returns what was written."""
    root = Path(source) / assignment
    a = load_assignment(root)
    title = title or qid.replace("_", " ").capitalize()
    if not ID_PATTERN.match(qid) or not qid.isidentifier():
        raise ScaffoldError(f"question id {qid!r} must match [a-z0-9_]+ and be a Python name "
                            "(it is also the function's name)")
    if any(q.id == qid for q in a.questions):
        raise ScaffoldError(f"{display_path(a.manifest_path)}: question {qid!r} exists already")
    if points <= 0:
        raise ScaffoldError(f"--points must be > 0, got {points}")
    if notebook not in a.notebooks:
        raise ScaffoldError(f"--notebook {notebook!r} is not one of {display_path(a.manifest_path)}'s "
                            f"submission notebooks {a.notebooks}")
    graders = Path(autograder) / assignment
    grader_path = graders / f"test_{qid}.py"
    mutants_path = Path(tests) / assignment / f"{assignment.split('_')[0]}_{qid}_mutants.py"
    for path in (grader_path, mutants_path):
        if path.exists():
            raise ScaffoldError(f"{display_path(path)} exists already")
    nb_path = root / notebook
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    ids = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id") for c in nb["cells"]}
    check_id = f"{qid}_check"
    for gid in (qid, check_id):
        if gid in ids:
            raise ScaffoldError(f"{display_path(nb_path)} has a cell with grade_id {gid!r} already")

    files: dict[Path, str] = {}
    cells = [_cell(f"## {title}\n\nImplement `{qid}` below.", "markdown")]
    if file:
        if file not in a.submission_files or not file.endswith(".py"):
            raise ScaffoldError(f"--file {file!r} must be a .py file listed in "
                                f"{display_path(a.manifest_path)} submission.files")
        py = root / file
        text = py.read_text(encoding="utf-8")
        if re.search(rf"^def {qid}\(", text, re.M):
            raise ScaffoldError(f"{display_path(py)} defines {qid} already")
        if not re.search(r"^import numpy as np$", text, re.M):
            text = _add_import(text, "import numpy as np")
        files[py] = text.rstrip("\n") + "\n\n\n" + _stub(qid)
        module = module_name(file, a.python_path)
        reach = f'student.module("{module}").{qid}'
        entry_where = f'files = ["{file}"]'
        mutant = _mutants(assignment, qid, file, qid, "")
        check_intro = f"from {module} import {qid}\n"
    else:
        cells.append(_cell("import numpy as np\n\n" + _stub(qid),
                           nbgrader={"grade": False, "grade_id": qid, "locked": False,
                                     "solution": True, "task": False}, tags=["definitions"]))
        reach = f'student.notebook("{notebook}", require=["{qid}"]).{qid}'
        entry_where = f'cells = ["{notebook}:{qid}"]'
        mutant = _mutants(assignment, qid, notebook, qid, "import numpy as np\n\n\n")
        check_intro = ""
    cells.append(_cell(
        f"# Public check: run this cell after implementing {qid}.\n{check_intro}"
        f"x = np.array([[0.5, -1.0], [2.0, 0.0]])\n"
        f"np.testing.assert_allclose({qid}(x), x)   # TODO (author): the expected values\n"
        f"print(\"{qid} looks right\")",
        nbgrader={"grade": True, "grade_id": check_id, "locked": True, "points": 0,
                  "solution": False, "task": False}))
    nb["cells"].extend(cells)
    files[nb_path] = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"

    manifest = a.manifest_path
    entry = (f'\n[[questions]]\nid = "{qid}"\ntitle = {json.dumps(title)}\npoints = {points}\n'
             f'{entry_where}\n[questions.resources]\ncpu_seconds = 30\n')
    files[manifest] = manifest.read_text(encoding="utf-8").rstrip("\n") + "\n" + entry
    number = next_number(graders)
    files[grader_path] = _grader(assignment, qid, title, points, number, reach)
    files[mutants_path] = mutant
    _write_all(files, lambda: load_assignment(root))
    notes = [f"question {qid} ({points} points, grader number {number}):"]
    notes += [f"  wrote {display_path(p)}" for p in files]
    notes.append("next: write the reference answer, the grader's _expected, the public check and "
                 "the mutants (they all start from the identity function), then `coursekit release "
                 f"{assignment}` and the kit's tests (docs/authoring.md, section 7)")
    return Plan(files={str(p): t for p, t in files.items()}, notes=notes)


def _write_all(files: dict, check) -> None:
    """Write every file, then run `check`; on any failure put every file back."""
    before = {p: (p.read_bytes() if p.exists() else None) for p in files}
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        check()
    except BaseException:
        for path, old in before.items():
            if old is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(old)
        raise
