"""Run a notebook top to bottom in a fresh kernel, with parameter overrides.

Tests and `coursekit checkpoints` use `run_notebook`: it executes every code cell
in order (nbclient), after inserting a cell that overrides the knobs of the cell
tagged `parameters`, and raises `NotebookError` naming the notebook, the cell and
its nbgrader grade_id when a cell fails.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path
from typing import Any, Mapping

import nbformat

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class NotebookError(RuntimeError):
    """A notebook could not be prepared or one of its cells failed."""

    def __init__(self, message: str, *, notebook: str = "", cell_index: int | None = None,
                 grade_id: str | None = None, ename: str | None = None,
                 evalue: str | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.cell_index = cell_index
        self.grade_id = grade_id
        self.ename = ename
        self.evalue = evalue


def cell_tags(cell: Mapping) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []) or [])


def grade_id(cell: Mapping) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _assigned_names(source: str) -> set[str] | None:
    """Names bound at top level by a cell; None when the cell is not plain Python."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return None
    names: set[str] = set()
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Name):
                    names.add(sub.id)
    return names


def inject_parameters(nb: nbformat.NotebookNode, parameters: Mapping[str, Any],
                      name: str = "notebook") -> int:
    """Insert, after the cell tagged `parameters`, a cell assigning `parameters`.

    Each value is written as its `repr`, so it must be a literal (numbers, strings,
    booleans, None, lists/tuples/dicts of them). Returns the inserted cell's index.
    Overriding a name the parameters cell does not assign is an error: it is
    almost always a typo that would otherwise silently change nothing.
    """
    where = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and PARAMETERS_TAG in cell_tags(c)]
    if not where:
        raise NotebookError(f"{name}: no code cell is tagged {PARAMETERS_TAG!r}, "
                            f"cannot override {sorted(parameters)}", notebook=name)
    if len(where) > 1:
        raise NotebookError(f"{name}: cells {where} are all tagged {PARAMETERS_TAG!r}; "
                            "tag exactly one", notebook=name)
    index = where[0]
    known = _assigned_names(nb.cells[index].source)
    lines = ["# Parameters injected by coursekit.notebook_runner.run_notebook"]
    for key, value in parameters.items():
        if not str(key).isidentifier():
            raise NotebookError(f"{name}: parameter name {key!r} is not an identifier",
                                notebook=name)
        if known is not None and key not in known:
            raise NotebookError(f"{name}: parameter {key!r} is not assigned in the "
                                f"{PARAMETERS_TAG!r} cell (it assigns {sorted(known)})",
                                notebook=name)
        text = repr(value)
        try:
            ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise NotebookError(f"{name}: parameter {key}={text} is not a literal value",
                                notebook=name) from None
        lines.append(f"{key} = {text}")
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = [INJECTED_TAG]
    cell.pop("id", None)
    nb.cells.insert(index + 1, cell)
    return index + 1


def run_notebook(path: str | os.PathLike, parameters: Mapping[str, Any] | None = None,
                 cwd: str | os.PathLike | None = None, timeout: float | None = 600,
                 env: Mapping[str, str] | None = None, progress: bool | None = None,
                 kernel_name: str = "python3") -> nbformat.NotebookNode:
    """Execute the notebook at `path` in a fresh kernel and return it with outputs.

    Inputs:
    - path: the .ipynb file; it is not modified.
    - parameters: overrides for the cell tagged `parameters` (see `inject_parameters`).
    - cwd: the kernel's working directory (default: the notebook's folder).
    - timeout: seconds allowed per cell (None: no limit).
    - env: extra environment variables for the kernel, on top of os.environ.
    - progress: show a tqdm bar over cells (default: when stderr is a terminal).

    Returns the executed notebook (nbformat v4 node), the injected cell included.
    Raises NotebookError naming the notebook, the failing cell's index in the file
    (0-based, not counting the injected cell), its grade_id and the exception.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    name = _short(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise NotebookError(f"{name}: cannot read notebook: {exc}", notebook=name) from None
    injected = inject_parameters(nb, parameters, name) if parameters else None

    workdir = Path(cwd) if cwd is not None else path.parent
    kernel_env = dict(os.environ)
    kernel_env.setdefault("MPLBACKEND", "Agg")  # no GUI windows from a headless run
    if env:
        kernel_env.update({str(k): str(v) for k, v in env.items()})

    client = NotebookClient(nb, timeout=timeout, kernel_name=kernel_name,
                            allow_errors=False, record_timing=False,
                            resources={"metadata": {"path": str(workdir)}})
    if progress is None:
        progress = sys.stderr.isatty()
    from tqdm.auto import tqdm

    cells = list(enumerate(nb.cells))
    with client.setup_kernel(env=kernel_env, cwd=str(workdir)):
        bar = tqdm(cells, desc=path.name, unit="cell", disable=not progress, leave=False)
        for index, cell in bar:
            if cell.cell_type != "code":
                continue
            source_index = index if injected is None or index < injected else index - 1
            where = _where(name, source_index, cell, injected is not None and index == injected)
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                raise NotebookError(
                    f"{where} raised {exc.ename}: {exc.evalue}\n{_clean(str(exc))}",
                    notebook=name, cell_index=source_index, grade_id=grade_id(cell),
                    ename=exc.ename, evalue=exc.evalue) from None
            except CellTimeoutError:
                raise NotebookError(f"{where} timed out after {timeout} s",
                                    notebook=name, cell_index=source_index,
                                    grade_id=grade_id(cell), ename="TimeoutError") from None
            except DeadKernelError as exc:
                raise NotebookError(f"{where}: the kernel died ({exc})", notebook=name,
                                    cell_index=source_index, grade_id=grade_id(cell),
                                    ename="DeadKernelError") from None
        bar.close()
    return nb


def _where(name: str, index: int, cell: Mapping, is_injected: bool) -> str:
    if is_injected:
        return f"{name}: the injected parameters cell"
    gid = grade_id(cell)
    label = f" (grade_id {gid!r})" if gid else ""
    first = next((ln.strip() for ln in cell.get("source", "").splitlines() if ln.strip()), "")
    if len(first) > 60:
        first = first[:57] + "..."
    return f"{name}: cell {index}{label} [{first}]"


def _clean(text: str) -> str:
    return _ANSI.sub("", text).strip()


def _short(path: Path) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return rel if not rel.startswith("..") else str(path)
