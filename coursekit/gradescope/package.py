"""Build `autograder/dist/<a>-gradescope.zip`, the file course staff upload to Gradescope.

Layout of the zip (Gradescope unpacks it into /autograder/source):

    setup.sh, run_autograder          at the root, LF endings, mode 0755
    requirements.txt, constraints.txt, torch-requirement.txt   pinned dependencies
    coursekit/                        the kit's runtime (sandbox, grading, data loaders)
    tests/                            the hidden graders
    tests_manifest.json               every expected test, so results list tests that never ran
    starter/                          the released student kit, laid under each submission
    assignment.toml                   the manifest
    data/                             the hidden data the graders need
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from coursekit.data.fetch import data_root
from coursekit.release import ReleaseError
from coursekit.release.archive import tree_files, write_zip

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).parent / "templates"
SKIP = re.compile(r"(^|/)(__pycache__|\.pytest_cache|\.ipynb_checkpoints)(/|$)|\.pyc$")
MARKER = "@@COURSEKIT-MANIFEST@@"


class PackageError(ReleaseError):
    """The autograder cannot be packaged (graders disagree with the manifest, ...)."""


def torch_requirement() -> str:
    """The torch pin from the Makefile (TORCH_SPEC), so one edit changes both."""
    text = (REPO / "Makefile").read_text()
    match = re.search(r"^TORCH_SPEC \?= (.+)$", text, re.M)
    return (match.group(1).strip() if match else "torch") + "\n"


def expected_tests(assignment, graders: Path) -> list[dict]:
    """The graders' manifest, collected in a process of its own (it imports the graders)."""
    graders = Path(graders).resolve()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "coursekit.grading.collect", str(graders),
         str(Path(assignment.manifest_path).resolve())],
        capture_output=True, text=True, env=env, cwd=graders)
    if proc.returncode != 0 or MARKER not in proc.stdout:
        detail = (proc.stderr.strip() or proc.stdout.strip())[-3000:]
        raise PackageError(f"{graders}: cannot list the graders:\n{detail}")
    return json.loads(proc.stdout.split(MARKER, 1)[1])


def build_autograder_zip(assignment, release_dir: Path, graders: Path, out_zip: Path) -> Path:
    """Write the Gradescope zip for `assignment`; returns its path."""
    files: dict[str, bytes | Path] = {}
    for name in ("setup.sh", "run_autograder"):
        files[name] = (TEMPLATES / name).read_bytes().replace(b"\r\n", b"\n")
    files["requirements.txt"] = REPO / "requirements.txt"
    files["constraints.txt"] = REPO / "constraints.txt"
    files["torch-requirement.txt"] = torch_requirement().encode()
    for rel, path in tree_files(REPO / "coursekit").items():
        if not SKIP.search(rel):
            files[f"coursekit/{rel}"] = path
    for rel, path in tree_files(graders).items():
        if not SKIP.search(rel):
            files[f"tests/{rel}"] = path
    for rel, path in tree_files(release_dir).items():
        if not SKIP.search(rel):
            files[f"starter/{rel}"] = path
    files["assignment.toml"] = assignment.manifest_path
    manifest = expected_tests(assignment, graders)
    files["tests_manifest.json"] = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    missing = []
    root = data_root()
    for entry in assignment.autograder_data:
        src = root / entry
        if src.is_file():
            files[f"data/{entry}"] = src
        elif src.is_dir():
            for rel, path in tree_files(src).items():
                files[f"data/{entry}/{rel}"] = path
        else:
            missing.append(entry)
    if missing:
        print(f"warning: {assignment.name}: hidden data not found under {root}: "
              f"{', '.join(missing)}; run `make data` and release again, or the graders "
              "that need it will fail", file=sys.stderr)
    return write_zip(out_zip, files, executable={"setup.sh", "run_autograder"})
