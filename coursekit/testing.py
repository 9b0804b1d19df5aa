"""Helpers for testing graders: make wrong ("mutant") and alternative submissions,
and the harness that proves graders against them (docs/authoring.md, section 6).

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
from dataclasses import dataclass
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


# --------------------------------------------------------------------------- #
# The mutant harness: declare known-wrong submissions and the graders that must
# reject them; check a grading run against that; check every grader meets one.

GRADER_FAILED = "the grader itself failed"
REGISTRY_GLOB = "*_mutants.py"


@dataclass(frozen=True)
class Edit:
    """Replace `target` in a submitted file with `source`: a top-level function,
    class or `Class.method` of a .py file, or the cell with grade_id `target` of a
    notebook."""
    file: str
    target: str
    source: str

    def apply(self, submission: Path, request=None) -> None:
        if self.file.endswith(".ipynb"):
            mutate_cell(submission, self.file, self.target, self.source)
        else:
            mutate(submission, self.file, self.source, name=self.target)


@dataclass(frozen=True)
class Mutant:
    """A known-wrong answer: how to make it from the reference submission, and the
    graders (function names) that must take points off it. `edits` are `Edit`s or
    callables `edit(submission_dir, request)` (request: the pytest request, for
    fixtures such as `build`). `says`: grader -> words its message must contain."""
    name: str
    rejected_by: frozenset
    edits: tuple = ()
    says: tuple = ()          # ((grader, words), ...)
    zero: frozenset = frozenset()   # graders that must give it no points at all

    def __post_init__(self):
        object.__setattr__(self, "rejected_by", frozenset(self.rejected_by))
        object.__setattr__(self, "zero", frozenset(self.zero))
        object.__setattr__(self, "says", tuple(dict(self.says).items()))


@dataclass(frozen=True)
class MutantRun:
    """Mutants graded together (only `questions` are graded). Mutants share a run only
    when none changes what another one's graders see, so each loss is its own
    mutant's; every grader of `questions` that no mutant targets must give full marks.
    `marks`: pytest marks for the run (e.g. `pytest.mark.realdata("mnist")`)."""
    name: str
    questions: tuple
    mutants: tuple
    marks: tuple = ()
    base: str = "reference"   # the submission it starts from (assignment-specific)

    def __post_init__(self):
        object.__setattr__(self, "questions", tuple(self.questions))
        object.__setattr__(self, "mutants", tuple(self.mutants))

    @property
    def rejected_by(self) -> frozenset:
        return frozenset().union(*(m.rejected_by for m in self.mutants))

    def apply(self, submission: Path, request=None) -> Path:
        for mutant in self.mutants:
            for edit in mutant.edits:
                if isinstance(edit, Edit):
                    edit.apply(submission, request)
                else:
                    edit(Path(submission), request)
        return Path(submission)

    def param(self):
        import pytest

        return pytest.param(self, id=self.name, marks=self.marks)


def _grader_name(test: dict) -> str:
    return test.get("extra_data", {}).get("id", test.get("name", "")).rsplit("::", 1)[-1]


def run_problems(results: dict, run: MutantRun) -> list[str]:
    """What is wrong with a grading run of `run`, given Gradescope's results.json:
    a targeted grader that gave full marks, failed without a message, or failed only
    because the grader itself broke (that rejects nothing); a grader no mutant
    targets that lost points. Empty when the graders behaved."""
    tests = {_grader_name(t): t for t in results.get("tests", [])
             if t.get("extra_data", {}).get("question") in run.questions}
    problems = []
    for mutant in run.mutants:
        says = dict(mutant.says)
        for name in sorted(mutant.rejected_by):
            t = tests.get(name)
            if t is None:
                problems.append(f"{mutant.name}: {name} was not graded in this run (graded: "
                                f"{', '.join(sorted(tests)) or 'nothing'}; questions {run.questions})")
                continue
            output = t.get("output", "") or ""
            if t["score"] >= t["max_score"]:
                problems.append(f"{mutant.name}: {name} gave full marks to a wrong answer")
            elif GRADER_FAILED in output:
                problems.append(f"{mutant.name}: {name} did not judge the answer, the grader "
                                f"itself failed: {output[:500]}")
            elif not output.strip():
                problems.append(f"{mutant.name}: {name} took points off without a message")
            elif name in mutant.zero and t["score"] > 0:
                problems.append(f"{mutant.name}: {name} gave {t['score']} points, expected none")
            if name in says and says[name] not in output:
                problems.append(f"{mutant.name}: {name}'s message lacks {says[name]!r}: {output[:500]}")
    for name, t in sorted(tests.items()):
        if name not in run.rejected_by and t["score"] < t["max_score"]:
            problems.append(f"{name} lost points to mutants it does not target "
                            f"({t['score']}/{t['max_score']}): {(t.get('output') or '')[:500]}")
    return problems


def full_marks_problems(results: dict, questions=None) -> list[str]:
    """Graders (of `questions`, default all) that did not give full marks."""
    return [f"{_grader_name(t)} ({t['score']}/{t['max_score']}): {(t.get('output') or '')[:500]}"
            for t in results.get("tests", [])
            if (questions is None or t.get("extra_data", {}).get("question") in questions)
            and t["score"] < t["max_score"]]


@dataclass(frozen=True)
class Grader:
    name: str
    question: str | None
    file: Path
    line: int

    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _question_mark(node) -> str | None:
    """The id in `question("id")` (a call node), else None."""
    if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "question":
        if node.args and isinstance(node.args[0], ast.Constant):
            return node.args[0].value
    return None


def graders_in(folder: str | Path) -> list[Grader]:
    """Every grader function (`test_*` in `test_*.py`) of a graders folder, with its
    question (from `@question(...)` or the module's `pytestmark`), read without
    importing the graders."""
    out = []
    for path in sorted(Path(folder).glob("test_*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        module_q = None
        for node in tree.body:
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "pytestmark"
                                                    for t in node.targets):
                values = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
                module_q = next((q for q in map(_question_mark, values) if q), module_q)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                q = next((q for q in map(_question_mark, node.decorator_list) if q), module_q)
                out.append(Grader(node.name, q, path, node.lineno))
    return out


def load_runs(folder: str | Path) -> list[MutantRun]:
    """The `RUNS` of every `*_mutants.py` module in a kit test folder (tests/<a>/).
    The folder goes on sys.path, as pytest puts it, so the modules may import their
    neighbours by name."""
    import importlib
    import sys

    folder = Path(folder).resolve()
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    runs = []
    for path in sorted(folder.glob(REGISTRY_GLOB)):
        if path.name.startswith("test_"):
            continue   # a test module, not a registry
        module = importlib.import_module(path.stem)
        if Path(module.__file__).resolve() != path:
            raise ImportError(f"{path}: another module named {path.stem} was imported "
                              f"({module.__file__}); give the mutant file a unique name")
        found = getattr(module, "RUNS", None)
        if not isinstance(found, list) or not all(isinstance(r, MutantRun) for r in found):
            raise TypeError(f"{path}: must define RUNS, a list of coursekit.testing.MutantRun")
        runs += found
    return runs


def load_elsewhere(folder: str | Path) -> dict[str, str]:
    """`PROVED_ELSEWHERE` of the *_mutants.py modules of a folder: grader ->
    "test_file.py::test_name", a test of that folder that grades wrong submissions the
    harness cannot make from the reference alone (e.g. retrained checkpoints) and
    asserts that grader takes points off them."""
    import importlib

    load_runs(folder)   # puts the folder on sys.path and checks the modules
    out: dict[str, str] = {}
    for path in sorted(Path(folder).resolve().glob(REGISTRY_GLOB)):
        if not path.name.startswith("test_"):
            out.update(getattr(importlib.import_module(path.stem), "PROVED_ELSEWHERE", {}))
    return out


def elsewhere_problems(folder: str | Path, elsewhere: dict[str, str]) -> list[str]:
    """Each PROVED_ELSEWHERE entry must name an existing test function of `folder`
    whose source names the grader."""
    problems = []
    for grader, where in sorted(elsewhere.items()):
        file, _, test = where.partition("::")
        path = Path(folder, file)
        if not path.is_file():
            problems.append(f"PROVED_ELSEWHERE[{grader!r}]: {path} does not exist")
            continue
        tree = ast.parse(path.read_text())
        funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == test]
        if not funcs:
            problems.append(f"PROVED_ELSEWHERE[{grader!r}]: {path} has no {test}")
            continue
        names = {n.value for n in ast.walk(funcs[0]) if isinstance(n, ast.Constant)}
        if grader not in names:
            problems.append(f"PROVED_ELSEWHERE[{grader!r}]: {path}::{test} never names {grader}")
    return problems


def coverage_problems(graders: list[Grader], runs: list[MutantRun], registry: str,
                      elsewhere: dict[str, str] | None = None) -> list[str]:
    """Graders no mutant targets, and targets that are no grader, each with where
    to act (`registry`: the folder of *_mutants.py files). `elsewhere`: graders
    proved by a named test instead (see load_elsewhere)."""
    names = {g.name for g in graders}
    problems = []
    targeted = frozenset().union(*(r.rejected_by for r in runs)) if runs else frozenset()
    targeted |= set(elsewhere or {})
    for g in graders:
        if g.name not in targeted:
            problems.append(f"{g.where()}: {g.name} (question {g.question}) meets no mutant: add a "
                            f"MutantRun with a Mutant it must reject to RUNS in a {REGISTRY_GLOB} "
                            f"file of {registry} (docs/authoring.md, section 6)")
    for run in runs:
        for mutant in run.mutants:
            for name in sorted(mutant.rejected_by - names):
                problems.append(f"{registry}: run {run.name}, mutant {mutant.name}: {name} is not a "
                                "grader of this assignment")
    names_seen: dict = {}
    for run in runs:
        if run.name in names_seen:
            problems.append(f"{registry}: two runs are named {run.name!r}")
        names_seen[run.name] = run
    return problems


def rejection_listing(graders: list[Grader], runs: list[MutantRun],
                      elsewhere: dict[str, str] | None = None) -> list[str]:
    """One line per grader: the mutants that must take points off it."""
    lines = []
    for g in graders:
        rejecting = [f"{r.name}/{m.name}" if m.name != r.name else r.name
                     for r in runs for m in r.mutants if g.name in m.rejected_by]
        if elsewhere and g.name in elsewhere:
            rejecting.append(f"[{elsewhere[g.name]}]")
        lines.append(f"{g.file.name}::{g.name} ({g.question}): {', '.join(rejecting) or 'NONE'}")
    return lines
