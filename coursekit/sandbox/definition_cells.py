"""Turn a submitted notebook's definition cells into an importable module.

Runs in the student process. Only cells tagged `definitions` run; training, plotting
and check cells never do. Each cell is compiled under a file name that names the
notebook and the cell's `grade_id`, so tracebacks point students at the right cell.
A cell that raises does not stop the others: its error is recorded by `grade_id` and
the graders of the questions that need it report it.
"""

from __future__ import annotations

import json
import linecache
import re
import sys
import traceback
import types

from coursekit.sandbox.errors import not_implemented, stub_name

DEFINITIONS_TAG = "definitions"
_MAGIC = re.compile(r"^(\s*)([%!].*)$")


def cell_source(cell) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(source)
    if not isinstance(source, str):
        raise ValueError("cell source is not text")
    # IPython magics and shell escapes are not Python; keep line numbers stable. Plain
    # Python stays as it is: a continuation line may start with `%` ("..." \n % args).
    try:
        compile(source, "<cell>", "exec")
        return source
    except (SyntaxError, ValueError):
        pass
    return "\n".join(_MAGIC.sub(r"\1pass  # \2", line) for line in source.split("\n"))


def cell_grade_id(cell, index: int) -> str:
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) and grade_id else f"cell {index + 1}"


def module_name_for(path: str) -> str:
    stem = path.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return "notebook_" + re.sub(r"\W", "_", stem)


def load_notebook(path: str) -> types.ModuleType:
    """Execute the definition cells of the notebook at `path` into a new module.

    The module gets two extra attributes the grader reads:
    `__coursekit_cells__` (every grade_id in the notebook, in order) and
    `__coursekit_cell_errors__` ({grade_id: "ErrorType: message (line N)"}).
    Raises ValueError with a readable message when the file is not a notebook.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            nb = json.load(fh)
    except FileNotFoundError:
        raise ValueError(f"{path} is missing from the submission") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not a valid notebook file (JSON error: {exc})") from None
    cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(cells, list):
        raise ValueError(f"{path} is not a valid notebook file (it has no list of cells)")

    name = module_name_for(path)
    module = types.ModuleType(name)
    module.__file__ = path
    sys.modules[name] = module
    all_ids, errors = [], {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        grade_id = cell_grade_id(cell, index)
        all_ids.append(grade_id)
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.get("cell_type") != "code" or not isinstance(tags, list) or DEFINITIONS_TAG not in tags:
            continue
        filename = f"{path}, cell '{grade_id}'"
        try:
            source = cell_source(cell)
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            exec(compile(source, filename, "exec"), module.__dict__)
        except BaseException as exc:  # a cell's sys.exit() must not end the process
            if isinstance(exc, KeyboardInterrupt):
                raise
            line = ""
            for frame in reversed(traceback.extract_tb(exc.__traceback__)):
                if frame.filename == filename:
                    line = f" (line {frame.lineno})"
                    break
            if isinstance(exc, SyntaxError) and exc.lineno:
                line = f" (line {exc.lineno})"
            if isinstance(exc, NotImplementedError):
                # Same wording as a stub reached through a grader's call; a stub at the
                # cell's top level is named by the cell.
                frames = [(f.filename, f.lineno, f.name, f.line)
                          for f in traceback.extract_tb(exc.__traceback__) if f.filename == filename]
                errors[grade_id] = not_implemented(stub_name(str(exc), frames, grade_id)) + line
            else:
                errors[grade_id] = f"{type(exc).__name__}: {exc}{line}"
    module.__coursekit_cells__ = all_ids
    module.__coursekit_cell_errors__ = errors
    return module
