"""Graded through the real grader, the released stubs fail with a message that names the
function the student must write: one that the kit really leaves as a stub."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

NAMED = re.compile(r"([A-Za-z_][\w.]*) is not implemented yet")


def kit_stub_names(kit: Path) -> set[str]:
    """Every name a student must write in the released kit, found from the stubs themselves:
    `raise NotImplementedError("name")` in .py files; in notebooks, the functions, methods
    (Class.method and method) and top-level cells (grade_id) that raise a bare one."""
    names: set[str] = set()
    for py in kit.rglob("*.py"):
        names |= set(re.findall(r'raise NotImplementedError\("([^"]+)"\)', py.read_text()))
    for ipynb in kit.glob("*.ipynb"):
        for cell in json.loads(ipynb.read_text())["cells"]:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] != "code" or "raise NotImplementedError()" not in src:
                continue
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            tree = ast.parse("\n".join("pass" if ln.lstrip().startswith(("%", "!")) else ln
                                       for ln in src.split("\n")))
            for stmt in tree.body:
                if isinstance(stmt, ast.Raise) and grade_id:
                    names.add(grade_id)
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if isinstance(item, ast.FunctionDef) and _raises(item):
                            names |= {f"{node.name}.{item.name}", item.name}
                if isinstance(node, ast.FunctionDef) and _raises(node):
                    names.add(node.name)
    return names


def _raises(func: ast.FunctionDef) -> bool:
    return any(isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(func))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["a1_pytorch_basics", "a2_neural_nets", "a3_needle"])
def test_every_not_implemented_message_names_a_stub(name, build, grade, stub_submission):
    stubs = kit_stub_names(build.release(name))
    assert stubs, "the kit has no stubs?"
    result = grade(name, stub_submission(name))
    named, unnamed = [], []
    for t in result.results["tests"]:
        output = t.get("output") or ""
        if t["score"] >= t["max_score"] or "NotImplementedError" not in output and "not implemented" not in output:
            continue
        found = NAMED.findall(output)
        (named if found else unnamed).append((t["name"], found, output[:300]))
        for what in found:
            assert what in stubs, f"{t['name']}: names {what!r}, which is not a stub of the kit:\n{output[:600]}"
    assert not unnamed, f"NotImplementedError reported without the function's name: {unnamed}"
    assert len(named) >= 5, f"expected the stubs to fail with 'X is not implemented yet': {named}"
    everything = "\n".join(t.get("output") or "" for t in result.results["tests"])
    assert "collections.deque is not implemented" not in everything
    assert "raised NotImplementedError" not in everything
