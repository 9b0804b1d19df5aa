"""Run every public check of this assignment and print which questions are done.

    python self_check.py              all notebooks of the kit
    python self_check.py NOTEBOOK     one of them
    python self_check.py --set NAME=VALUE   override a knob of a notebook's parameters cell

The checks are the ones under each question in the notebooks; they run here from the
saved files (save your notebooks first), in a fresh Python process, without the
training or plotting cells. For each check the table says:

  done          the check passed
  failing       the check ran and found a problem (the message says what)
  not started   a function the check needs still raises NotImplementedError
  run notebook  the check needs results of training cells: run it in the notebook
  skipped       the check is switched off by a knob set with --set

Passing checks are a good sign, not a guarantee: the graders use other inputs.
Standard library only (plus whatever the checks themselves import).
"""

import argparse
import ast
import builtins
import contextlib
import io
import json
import os
import re
import sys
import textwrap
import traceback
from pathlib import Path

KIT = Path(__file__).resolve().parent
_MAGIC = re.compile(r"^(\s*)([%!].*)$")
TRAINING_CALLS = {"train", "fit"}
STUB = "raise NotImplementedError()"   # what the release leaves in an unanswered cell
BUILTINS = set(dir(builtins))


def not_implemented(what):
    return f"{what} is not implemented yet"


def cell_source(cell):
    """A cell's code as plain Python: IPython magics and shell escapes become calls of
    a do-nothing `get_ipython()` (IPython's own translation when it is installed)."""
    src = cell.get("source", "")
    src = "".join(src) if isinstance(src, list) else src
    if cell.get("cell_type") != "code":
        return src
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(src)
    except ImportError:
        return "\n".join(_MAGIC.sub(r"\1pass  # \2", line) for line in src.split("\n"))


class _NoIPython:
    """Stands in for the kernel: magics (%matplotlib, %autoreload, !pip) do nothing here."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _meta(cell):
    md = cell.get("metadata", {})
    return md.get("nbgrader", {}) or {}, md.get("tags", []) or []


def _names(tree):
    """(names read, names bound anywhere, names bound at the cell's top level): a plain
    over-approximation, enough to find which earlier cells a check needs."""
    used, bound, top = set(), set(), set()

    def visit(node, nested):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store):
                bound.add(node.id)
                if not nested:
                    top.add(node.id)
            else:
                used.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    name = (alias.asname or alias.name).split(".")[0]
                    bound.add(name)
                    if not nested:
                        top.add(name)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            if not nested:
                top.add(node.name)
        inner = nested or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    visit(tree, False)
    return used, bound, top


def _trains(tree):
    """True when the cell's top level calls something named train/fit (a training run)."""
    for stmt in tree.body:
        for node in ast.walk(stmt):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                break
            if isinstance(node, ast.Call):
                f = node.func
                name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
                if name in TRAINING_CALLS:
                    return True
    return False


class Cell:
    def __init__(self, index, cell, notebook):
        nbgrader, tags = _meta(cell)
        self.index, self.notebook = index, notebook
        self.grade_id = nbgrader.get("grade_id") or f"cell {index + 1}"
        self.source = cell_source(cell)
        self.is_code = cell.get("cell_type") == "code"
        self.is_check = self.is_code and bool(nbgrader.get("grade")) and not nbgrader.get("solution")
        self.is_setup = nbgrader.get("grade_id") == "setup"
        self.definitions = "definitions" in tags
        self.filename = f"{notebook}, cell '{self.grade_id}'"
        try:
            self.tree = ast.parse(self.source) if self.is_code else None
            self.syntax_error = None
        except SyntaxError as exc:
            self.tree, self.syntax_error = None, exc
        self.used, self.assigned, self.provides = _names(self.tree) if self.tree else (set(), set(), set())
        self.star_import = self.tree is not None and any(
            isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(self.tree))
        # An answer cell that is not a definition (a training run with the student's
        # settings) or a helper cell that trains: the self-check never runs these.
        self.heavy = self.is_code and not self.definitions and not self.is_check and (
            bool(nbgrader.get("solution")) or (self.tree is not None and _trains(self.tree)))


def _guard(check, overrides):
    """The knob a check is wholly guarded by (`if RUN_SLOW_CHECKS:`), when it is set false."""
    body = check.tree.body if check.tree is not None else []
    if (len(body) == 1 and isinstance(body[0], ast.If)
            and all(isinstance(st, ast.Expr) for st in body[0].orelse)   # e.g. print("skipped")
            and isinstance(body[0].test, ast.Name) and body[0].test.id in overrides
            and not overrides[body[0].test.id]):
        return body[0].test.id
    return ""


def heading_before(cells, index):
    for raw in reversed(cells[:index]):
        if raw.get("cell_type") == "markdown":
            for line in cell_source(raw).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def plan(nb_cells, notebook):
    """[(check cell, [cells it needs, in order] or None when it needs a training run)]."""
    cells = [Cell(i, c, notebook) for i, c in enumerate(nb_cells)]
    checks = []
    for check in (c for c in cells if c.is_check):
        needed, todo, heavy = set(), [check], False
        while todo:
            cell = todo.pop()
            # A name a cell both reads and assigns is taken as its own (a loop variable,
            # a local): only names it reads without assigning point at earlier cells.
            for name in cell.used - cell.assigned - BUILTINS:
                earlier_cells = [e for e in reversed(cells[:cell.index]) if e.is_code and not e.is_setup]
                found = [e for e in earlier_cells if name in e.provides][:1]
                if not found:   # maybe from a `from module import *`
                    found = [e for e in earlier_cells if e.star_import]
                for earlier in found:
                    if earlier.index not in needed:
                        needed.add(earlier.index)
                        heavy = heavy or earlier.heavy
                        todo.append(earlier)
        # Parameters cells always run: checks read their knobs.
        needed |= {c.index for c in cells if c.is_code and "parameters" in _meta(nb_cells[c.index])[1]}
        checks.append((check, None if heavy else [cells[i] for i in sorted(needed)]))
    return cells, checks


def _student_frame(tb):
    """(file, line, function) of the innermost frame in the kit's files or cells."""
    best = None
    for frame in traceback.extract_tb(tb):
        if ", cell '" in frame.filename or frame.filename.startswith(str(KIT)):
            shown = frame.filename
            if shown.startswith(str(KIT)):
                shown = os.path.relpath(shown, KIT)
            best = (shown, frame.lineno, frame.name)
    return best


def explain(exc, cell):
    """(status, message) of an exception raised while running a check's cells."""
    if isinstance(exc, NotImplementedError):
        what = str(exc).strip()
        if not what:
            tb = exc.__traceback__
            while tb is not None and tb.tb_next is not None:
                tb = tb.tb_next
            code = tb.tb_frame.f_code if tb is not None else None
            func = getattr(code, "co_qualname", getattr(code, "co_name", "<module>"))
            what = cell.grade_id if func.startswith("<") else func
        return "not started", not_implemented(what)
    where = _student_frame(exc.__traceback__)
    text = str(exc).strip()
    if isinstance(exc, AssertionError):
        msg = text or "an assertion failed"
    else:
        msg = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if where and not isinstance(exc, AssertionError):
        msg += f" ({where[0]}, line {where[1]}, in {where[2]})"
    return "failing", msg


def run_notebook(path, overrides):
    """[(notebook, check grade_id, title, status, message)] for one notebook."""
    rel = path.relative_to(KIT).as_posix()
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells, checks = plan(nb.get("cells", []), rel)
    namespace = {"__name__": "__selfcheck__", "display": print, "get_ipython": _NoIPython}
    ran, errors, rows = {}, {}, []

    def run(cell):
        if cell.index in ran:
            return errors.get(cell.index)
        ran[cell.index] = True
        if cell.syntax_error is not None:
            errors[cell.index] = ("failing", f"{cell.filename} has a syntax error: "
                                  f"{cell.syntax_error.msg} (line {cell.syntax_error.lineno})")
            return errors[cell.index]
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                exec(compile(cell.source, cell.filename, "exec"), namespace)
                if "parameters" in _meta(nb["cells"][cell.index])[1]:
                    for name, value in overrides.items():
                        namespace[name] = value
        except Exception as exc:
            errors[cell.index] = explain(exc, cell)
        return errors.get(cell.index)

    for check, needed in checks:
        title = heading_before(nb["cells"], check.index)
        if needed is None:
            unanswered = [c for c in cells[:check.index] if c.heavy and STUB in c.source]
            if unanswered:
                rows.append((rel, check.grade_id, title, "not started",
                             not_implemented(f"cell '{unanswered[-1].grade_id}'")))
            else:
                rows.append((rel, check.grade_id, title, "run notebook",
                             "needs the training cells above it; run the notebook and look at its output"))
            continue
        problem = None
        for cell in needed:
            problem = run(cell)
            if problem:
                if problem[0] == "failing" and cell.index != check.index:
                    problem = ("failing", f"cell '{cell.grade_id}' (which this check needs): {problem[1]}")
                break
        switch = _guard(check, overrides)
        if not problem and switch:
            problem = ("skipped", f"skipped: {switch} is False (run without --set {switch}=False to run it)")
        if not problem:
            problem = run(check)
        rows.append((rel, check.grade_id, title) + (problem or ("done", "")))
    return rows


def print_table(rows, out=sys.stdout, width=100):
    counts = {}
    for row in rows:
        counts[row[3]] = counts.get(row[3], 0) + 1
    name_w = min(40, max(len(r[1]) for r in rows)) if rows else 10
    current = None
    print(f"  {'status':<12} {'public check':<{name_w}}  section of the notebook", file=out)
    for notebook, grade_id, title, status, message in rows:
        if notebook != current:
            current = notebook
            print(f"\n{notebook}", file=out)
        room = max(10, width - 17 - name_w)
        print(f"  {status:<12} {grade_id:<{name_w}}  "
              + textwrap.shorten(title, width=room, placeholder=" ..."), file=out)
        if message:
            for line in textwrap.wrap(message, width=width - 17, break_long_words=False)[:3]:
                print(" " * 17 + line, file=out)
    summary = ", ".join(f"{counts[s]} {s}" for s in ("done", "failing", "not started", "run notebook", "skipped")
                        if s in counts)
    print(f"\n{len(rows)} public checks: {summary}", file=out)


def parse_value(text):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv=None):
    parser = argparse.ArgumentParser(description="Run every public check of the assignment.")
    parser.add_argument("notebooks", nargs="*", help="notebooks to check (default: all)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a knob of the notebooks' parameters cells")
    parser.add_argument("--json", type=Path, help="also write the table as JSON to this file")
    args = parser.parse_args(argv)
    info = json.loads((KIT / "kit.json").read_text(encoding="utf-8"))
    os.chdir(KIT)
    for entry in info["python_path"]:
        entry = str((KIT / entry).resolve())
        if entry not in sys.path:
            sys.path.insert(0, entry)
    os.environ.setdefault("MPLBACKEND", "Agg")
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        overrides[name.strip()] = parse_value(value.strip())
    names = args.notebooks or info["notebooks"]
    rows = []
    for name in names:
        path = KIT / name
        if not path.is_file():
            rows.append((name, "-", "", "failing", f"{name} is not in the kit folder"))
            continue
        print(f"checking {name} ...", file=sys.stderr)
        rows.extend(run_notebook(path, overrides))
    print(f"Self-check of {info['assignment']}" + (f" (with {', '.join(args.set)})" if args.set else ""))
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps([dict(zip(("notebook", "check", "title", "status", "message"), r))
                                         for r in rows], indent=1))
    return 0 if all(r[3] == "done" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
