"""Build the student kit `release/<a>/` and `release/<a>.zip`.

The kit holds the files `[release] include` selects (minus `exclude`), `.py`
files stripped, notebooks through nbgrader's preprocessors, other files as they
are; plus `collect_submission.py` filled in with this assignment's submission
list, and the `kitdata/` package when the manifest lists data sets. The leak
check runs on the written tree; a leaking kit is deleted, not shipped.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.manifest import Assignment
from coursekit.manifest import display_path as display
from coursekit.release import ReleaseError
from coursekit.release.archive import write_zip
from coursekit.release.leakcheck import LeakChecker
from coursekit.release.markers import mentions_marker
from coursekit.release.nbgrader_steps import NotebookReleaser, notebook_bytes, read_notebook
from coursekit.release.strip import strip_solutions

COLLECT_SCRIPT = "collect_submission.py"
# What students run (collection, environment and self checks): shipped into every kit.
KITFILES = Path(__file__).resolve().parents[1] / "student_kit"
SETUP_GRADE_ID = "setup"
REPO = Path(__file__).resolve().parents[2]
# The Python the kit is built and tested with, which is also the graders' (setup.sh).
try:
    from coursekit.gradescope.package import PYTHON_VERSION as GRADER_PYTHON
except ImportError:   # packaging without a pinned version: the Python the kit is built with
    GRADER_PYTHON = "%d.%d" % sys.version_info[:2]
# What a student's environment needs besides torch, and the notebook interface.
STUDENT_PACKAGES = ("numpy", "matplotlib", "tqdm")
NOTEBOOK_PACKAGES = ("jupyter",)
SELF_CHECK_CELL = (
    "# Self-check: runs every public check of this assignment from the saved notebooks and\n"
    "# .py files and prints a table: done / failing (with the message) / not started.\n"
    "# Save your notebooks first. The same from a terminal: python self_check.py\n"
    "import subprocess\n"
    "import sys\n"
    "\n"
    "subprocess.run([sys.executable, \"self_check.py\"], check=False)")
# Never shipped, whatever the globs say: caches and editor/Jupyter debris.
ALWAYS_EXCLUDED = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store")
_STUB = re.compile(r'^\s*raise NotImplementedError\("([^"]+)"\)\s*$', re.M)


@dataclass
class KitBuild:
    name: str
    release_dir: Path
    zip_path: Path
    files: list[str]                      # relative paths in the kit, sorted
    stubs: dict[str, list[str]] = field(default_factory=dict)   # .py file -> stubbed names
    notebooks: list[str] = field(default_factory=list)


def _ignored(rel: str) -> bool:
    parts = rel.split("/")
    return any(p in ALWAYS_EXCLUDED for p in parts) or rel.endswith((".pyc", ".pyo"))


def select_files(a: Assignment) -> list[str]:
    """Source files of the kit: include globs, minus exclude globs, sorted."""
    chosen: set[str] = set()
    for i, pattern in enumerate(a.release_include):
        hits = {p.relative_to(a.root).as_posix() for p in a.root.glob(pattern) if p.is_file()}
        hits = {h for h in hits if not _ignored(h)}
        if not hits:
            raise ReleaseError(f"{display(a.manifest_path)}: release.include[{i}]: "
                               f"{pattern!r} matches no file")
        chosen |= hits
    for pattern in a.release_exclude:
        chosen -= {p.relative_to(a.root).as_posix() for p in a.root.glob(pattern)}
    if "assignment.toml" not in a.release_include:
        chosen.discard("assignment.toml")  # only when named outright, never via a wildcard
    checkpoint_files = {c.file for c in a.checkpoints}
    for f in a.submission_files:
        if f not in chosen and f not in checkpoint_files:
            raise ReleaseError(f"{display(a.manifest_path)}: submission file {f!r} is not in "
                               "the kit (check release.include / release.exclude)")
    return sorted(chosen)


def stub_names(source: str, student: str) -> list[str]:
    """Names whose `raise NotImplementedError("name")` stub the stripper added."""
    before = _STUB.findall(source)
    names = []
    for name in _STUB.findall(student):
        if name in before:
            before.remove(name)
        elif name not in names:
            names.append(name)
    return names


def render_collect_script(a: Assignment, stubs: dict[str, list[str]]) -> bytes:
    """collect_submission.py with this assignment's submission list filled in."""
    template = (KITFILES / COLLECT_SCRIPT).read_text(encoding="utf-8")
    spec = {"assignment": a.name, "files": list(a.submission_files),
            "stubs": {k: v for k, v in sorted(stubs.items()) if k in a.submission_files},
            "max_file_mb": a.max_file_mb}
    line = "SUBMISSION = " + json.dumps(spec, sort_keys=True)
    pattern = re.compile(r"^SUBMISSION = \{.*\}$", re.M)
    if len(pattern.findall(template)) != 1:
        raise ReleaseError(f"{COLLECT_SCRIPT} template: expected one 'SUBMISSION = {{...}}' line")
    return pattern.sub(lambda _m: line, template).encode("utf-8")


def data_files(a: Assignment) -> dict[str, bytes]:
    """The kitdata/ package for the data sets the manifest lists (empty if none)."""
    if not a.datasets:
        return {}
    if importlib.util.find_spec("coursekit.data") is None:
        raise ReleaseError(f"{a.name}: lists datasets {a.datasets} but coursekit.data is missing")
    import coursekit.data as data
    if not hasattr(data, "kit_files"):
        raise ReleaseError(f"{a.name}: lists datasets {a.datasets} but coursekit.data has no "
                           "kit_files(dataset_names) yet")
    try:
        return dict(data.kit_files(a.datasets))
    except ValueError as exc:
        raise ReleaseError(f"{display(a.manifest_path)}: assignment.datasets: {exc}") from None


def setup_cell_source(a: Assignment) -> str:
    """The one set-up cell of every notebook, for this kit."""
    return (KITFILES / "setup_cell.py").read_text(encoding="utf-8").replace("@@KIT@@", a.name).rstrip("\n")


def _with_kit_cells(nb, a: Assignment, label: str, version: str):
    """The notebook with the shared set-up cell (and, for students, the self-check cell)."""
    import nbformat

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))   # a copy
    setup = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == SETUP_GRADE_ID]
    if len(setup) != 1 or setup[0].cell_type != "code":
        raise ReleaseError(f"{label}: needs exactly one code cell with grade_id '{SETUP_GRADE_ID}' "
                           "(the shared set-up cell; the release fills in its text)")
    setup[0].source = setup_cell_source(a)
    if version == "student":
        added = [nbformat.v4.new_markdown_cell(
            "## Self-check\n\nRun the cell below to see, for every public check of this "
            "assignment, whether it passes. Save your notebooks first: it reads the saved files."),
            nbformat.v4.new_code_cell(SELF_CHECK_CELL)]
        for cell in added:
            if (nb.nbformat, nb.nbformat_minor) < (4, 5):
                cell.pop("id", None)   # cell ids are not allowed before nbformat 4.5
            else:   # fixed ids keep two builds byte-identical
                cell["id"] = f"coursekit-self-check-{len(nb.cells)}"
            nb.cells.append(cell)
    return nb


def pinned_versions() -> dict[str, str]:
    """{lower-case name: version} the graders install, read from the repository's pins at
    build time so the kit never drifts from them: the grader lock (requirements/grader*.txt,
    torch included) first, then requirements.txt and constraints.txt (the development set,
    for packages only students need, such as matplotlib and jupyter)."""
    pins: dict[str, str] = {}
    sources = ["constraints.txt", "requirements.txt", "requirements/grader.txt",
               "requirements/grader-torch.txt"]
    for name in sources:           # later files win
        path = REPO / name
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#\\]+)", line)
            if m:
                pins[m.group(1).lower()] = m.group(2)
    return pins


def uses_torch(a: Assignment) -> bool:
    pattern = re.compile(r"^\s*(import torch|from torch[ .])", re.M)
    for rel in select_files(a):
        if rel.endswith(".py"):
            if pattern.search((a.root / rel).read_text(encoding="utf-8", errors="replace")):
                return True
        elif rel.endswith(".ipynb"):
            cells = read_notebook(a.root / rel, rel).cells
            if any(c.cell_type == "code" and pattern.search(c.source) for c in cells):
                return True
    return False


def requirements_text(a: Assignment) -> str:
    """The kit's requirements.txt: the graders' versions, CPU torch by default."""
    pins = pinned_versions()

    def pin(name):
        if name.lower() not in pins:
            raise ReleaseError(f"{a.name}: no pinned version of {name} in requirements.txt, "
                               "constraints.txt or the Makefile's TORCH_SPEC")
        return f"{name}=={pins[name.lower()]}"

    lines = ["# The packages the notebooks and your code need, at the versions the",
             f"# graders use. Install them into a fresh environment with Python {GRADER_PYTHON}:",
             "#   python -m pip install -r requirements.txt",
             "# (README.md, 'Local set-up'; `python check_env.py` checks the result)."]
    if uses_torch(a):
        version = pins["torch"].split("+")[0] if "torch" in pins else None
        if version is None:
            raise ReleaseError(f"{a.name}: uses torch but no torch version is pinned")
        lines += ["",
                  "# PyTorch, CPU build (every question runs on a CPU). For an NVIDIA GPU, delete",
                  "# the --extra-index-url line and the two torch lines below it, and use instead",
                  "# (cu126: pick the CUDA version your driver supports, see pytorch.org):",
                  f"#   torch=={version}  --index-url https://download.pytorch.org/whl/cu126",
                  "--extra-index-url https://download.pytorch.org/whl/cpu",
                  f'torch=={version}+cpu ; sys_platform == "linux" or sys_platform == "win32"',
                  f'torch=={version} ; sys_platform == "darwin"']
    lines += ["", "# Arrays, plots and progress bars."] + [pin(n) for n in STUDENT_PACKAGES]
    lines += ["", "# Jupyter, to run the notebooks on your computer (not needed on Colab)."]
    lines += [pin(n) for n in NOTEBOOK_PACKAGES]
    return "\n".join(lines) + "\n"


def kit_info(a: Assignment) -> dict:
    notebooks = [f for f in a.submission_files if f.endswith(".ipynb")]
    notebooks += sorted(f for f in select_files(a) if f.endswith(".ipynb") and f not in notebooks)
    return {"assignment": a.name, "title": a.title, "python": GRADER_PYTHON,
            "python_path": list(a.python_path), "datasets": list(a.datasets),
            "notebooks": notebooks}


def readme_text(a: Assignment) -> str:
    from coursekit.release.readme import render_readme
    return render_readme(a, kit_info(a), uses_torch(a))


def kit_support_files(a: Assignment) -> dict[str, bytes]:
    """Files every kit (and the solutions folder) carries besides the assignment's own."""
    return {
        "kit.json": (json.dumps(kit_info(a), indent=1, sort_keys=True) + "\n").encode(),
        "requirements.txt": requirements_text(a).encode(),
        "check_env.py": (KITFILES / "check_env.py").read_bytes(),
        "self_check.py": (KITFILES / "self_check.py").read_bytes(),
        "README.md": readme_text(a).encode(),
    }


def transform_files(a: Assignment, releaser: NotebookReleaser, version: str,
                    leaks: LeakChecker | None = None,
                    stubs: dict[str, list[str]] | None = None) -> dict[str, tuple[bytes, bool]]:
    """{rel: (bytes, executable)} of the selected files in `version` ("student" or
    "solution"). Feeds `leaks` with each source's regions and records stubs."""
    from coursekit.release.strip import strip_markers

    out: dict[str, tuple[bytes, bool]] = {}
    for rel in select_files(a):
        src = a.root / rel
        label = display(src)
        executable = bool(src.stat().st_mode & 0o100)
        if rel.endswith(".ipynb"):
            nb = _with_kit_cells(read_notebook(src, label), a, label, version)
            if leaks is not None:
                leaks.add_notebook(rel, nb)
            new = releaser.student(nb, label) if version == "student" else releaser.solution(nb, label)
            out[rel] = (notebook_bytes(new), False)
            continue
        raw = src.read_bytes()
        if rel.endswith(".py"):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ReleaseError(f"{label}: not UTF-8") from None
            if version == "student":
                new_text = strip_solutions(text, label)
                if stubs is not None:
                    found = stub_names(text, new_text)
                    if found:
                        stubs[rel] = found
            else:
                new_text = strip_markers(text, label)
            if leaks is not None:
                leaks.add_python(rel, text)
            out[rel] = (new_text.encode("utf-8"), executable)
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            for n, line in enumerate(text.splitlines(), 1):
                if mentions_marker(line):
                    raise ReleaseError(f"{label}:{n}: solution markers are only understood in "
                                       ".py files and notebooks")
        out[rel] = (raw, executable)
    clash = sorted(set(out) & set(kit_support_files(a)))
    if clash:
        raise ReleaseError(f"{a.name}: the kit generates {clash}; remove them from the source "
                           "or from release.include")
    out.update({rel: (data, False) for rel, data in kit_support_files(a).items()})
    return out


def write_tree(root: Path, files: dict[str, tuple[bytes, bool]], keep: set[str] = frozenset()) -> None:
    """Replace `root` with exactly `files`, keeping the relative paths in `keep`."""
    if root.exists():
        for path in sorted(root.rglob("*"), reverse=True):
            rel = path.relative_to(root).as_posix()
            if path.is_dir() and not path.is_symlink():
                if not any(path.iterdir()):
                    path.rmdir()
            elif rel not in keep:
                path.unlink()
    for rel, (data, executable) in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.chmod(path, 0o755 if executable else 0o644)


def build_kit(a: Assignment, out: str | os.PathLike, releaser: NotebookReleaser) -> KitBuild:
    """Write `<out>/release/<a>/` and `<out>/release/<a>.zip`; return what was built."""
    out = Path(out)
    release_dir = out / "release" / a.name
    zip_path = out / "release" / f"{a.name}.zip"
    leaks = LeakChecker()
    stubs: dict[str, list[str]] = {}
    files = transform_files(a, releaser, "student", leaks=leaks, stubs=stubs)
    extra = {rel: (data, False) for rel, data in data_files(a).items()}
    extra[COLLECT_SCRIPT] = (render_collect_script(a, stubs), False)
    clash = sorted(set(files) & set(extra))
    if clash:
        raise ReleaseError(f"{a.name}: the kit generates {clash}; remove them from the source "
                           "or from release.include")
    files.update(extra)

    if zip_path.exists():
        zip_path.unlink()
    write_tree(release_dir, files)
    try:
        leaks.check_tree(release_dir, label=display(release_dir))
    except ReleaseError:
        shutil.rmtree(release_dir)
        raise
    write_zip(zip_path, {f"{a.name}/{rel}": data for rel, (data, _x) in files.items()},
              executable={f"{a.name}/{rel}" for rel, (_d, x) in files.items() if x})
    return KitBuild(name=a.name, release_dir=release_dir, zip_path=zip_path,
                    files=sorted(files), stubs=stubs,
                    notebooks=sorted(r for r in files if r.endswith(".ipynb")))
