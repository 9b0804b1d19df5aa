"""Helpers for testing graders: make wrong ("mutant") and alternative submissions.

    sub = copy of a correct submission
    mutate(sub, "scratch/layers.py", '''
    def relu_backward(dout, cache):
        return dout * (cache >= 0)
    ''')
    mutate_cell(sub, "PyTorch.ipynb", "flatten", "def flatten(x):\\n    return x.reshape(-1)\\n")
"""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path


def _find(tree: ast.Module, dotted: str):
    parts = dotted.split(".")
    body = tree.body
    node = None
    for part in parts:
        matches = [n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                   and n.name == part]
        if not matches:
            return None
        node = matches[-1]
        body = node.body
    return node


def mutate(submission: str | Path, relpath: str, new_source: str, name: str | None = None) -> None:
    """Replace a top-level function, class or `Class.method` in a submitted .py file.

    The name is read from `new_source`'s first definition unless `name` is given
    (use "Class.method" for methods). The new definition is re-indented to where the
    old one stood.
    """
    path = Path(submission, relpath)
    text = path.read_text()
    new_source = textwrap.dedent(new_source).strip("\n") + "\n"
    if name is None:
        first = ast.parse(new_source).body[0]
        name = first.name
    node = _find(ast.parse(text), name)
    if node is None:
        raise KeyError(f"{relpath}: no definition named {name!r}")
    lines = text.splitlines(keepends=True)
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]) - 1
    indent = " " * node.col_offset
    replacement = textwrap.indent(new_source, indent)
    lines[start:node.end_lineno] = [replacement]
    path.write_text("".join(lines))


def mutate_cell(submission: str | Path, notebook: str, grade_id: str, new_source: str) -> None:
    """Replace the source of the notebook cell whose nbgrader grade_id is `grade_id`."""
    path = Path(submission, notebook)
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell["source"] = textwrap.dedent(new_source).strip("\n") + "\n"
            path.write_text(json.dumps(nb, indent=1))
            return
    raise KeyError(f"{notebook}: no cell with grade_id {grade_id!r}")
