"""Build `autograder/dist/<a>-gradescope.zip`, the file course staff upload to Gradescope.

Layout of the zip (Gradescope unpacks it into /autograder/source):

    setup.sh, run_autograder          at the root, LF endings, mode 0755
    setup.conf                        the Python version and torch choice setup.sh reads
    uv-requirement.txt                the uv release setup.sh bootstraps with (hashed)
    grader-requirements.txt           the graders' packages, all pinned and hashed, torch aside
    grader-constraints.txt            the same pins without hashes (for a course-chosen torch)
    torch-requirement.txt             torch: the locked CPU build, or `TORCH_SPEC` at release
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
import shlex
import subprocess
import sys
from dataclasses import dataclass
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


# The one Python version the kit is tested with; setup.sh provisions it on any image.
PYTHON_VERSION = "3.11"
REQUIREMENTS = REPO / "requirements"
TORCH_SPEC_ENV = "COURSEKIT_TORCH_SPEC"
_INDEX_OPTIONS = {"--index-url": "index_url", "-i": "index_url", "--extra-index-url": "extra_index_url"}


@dataclass(frozen=True)
class TorchChoice:
    """How the image gets torch: requirement lines, where from, and whether hash-locked."""

    requirements: str
    index_url: str
    extra_index_url: str
    locked: bool
    spec: str


def _lock_index_url() -> str:
    match = re.search(r"^# Installed from (\S+) ", (REQUIREMENTS / "grader-torch.txt").read_text(), re.M)
    if not match:
        raise PackageError("requirements/grader-torch.txt does not say which index it is from; "
                           "run `make grader-lock`")
    return match.group(1)


def torch_choice(spec: str | None = None) -> TorchChoice:
    """The locked CPU build by default; a course's `make release TORCH_SPEC=...` otherwise.

    A spec is what pip takes on its command line: requirements, optionally with
    `--index-url URL` / `--extra-index-url URL` (e.g.
    "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu").
    """
    spec = os.environ.get(TORCH_SPEC_ENV, "") if spec is None else spec
    if not spec.strip():
        return TorchChoice((REQUIREMENTS / "grader-torch.txt").read_text(), _lock_index_url(), "", True, "")
    found = {"index_url": "", "extra_index_url": ""}
    reqs: list[str] = []
    words = shlex.split(spec)
    while words:
        word = words.pop(0)
        option, _, value = word.partition("=")
        if option in _INDEX_OPTIONS:
            if not value:
                if not words:
                    raise PackageError(f"TORCH_SPEC {spec!r}: {option} needs a URL")
                value = words.pop(0)
            found[_INDEX_OPTIONS[option]] = value
        elif word.startswith("-"):
            raise PackageError(f"TORCH_SPEC {spec!r}: {word} is not supported in the Gradescope "
                               "image (only requirements, --index-url and --extra-index-url)")
        else:
            reqs.append(word)
    if not any(re.match(r"torch\b", r) for r in reqs):
        raise PackageError(f"TORCH_SPEC {spec!r} names no torch requirement")
    text = "# From TORCH_SPEC at release time (not hash-locked).\n" + "".join(r + "\n" for r in reqs)
    return TorchChoice(text, found["index_url"], found["extra_index_url"], False, spec)


def setup_conf(choice: TorchChoice) -> bytes:
    """The settings setup.sh sources: shell assignments, every value quoted."""
    values = {"PYTHON_VERSION": PYTHON_VERSION, "TORCH_LOCKED": "1" if choice.locked else "0",
              "TORCH_INDEX_URL": choice.index_url, "TORCH_EXTRA_INDEX_URL": choice.extra_index_url,
              "TORCH_SPEC": choice.spec}
    lines = ["# Written by `coursekit release`; setup.sh reads it."]
    lines += [f"{key}={shlex.quote(value)}" for key, value in values.items()]
    return ("\n".join(lines) + "\n").encode()


def plain_pins(hashed: str) -> str:
    """name==version lines of a hashed requirements file (constraints for a chosen torch)."""
    pins = re.findall(r"^([A-Za-z0-9_.\-]+==[^\s\\]+)", hashed, re.M)
    return "".join(p + "\n" for p in pins)


def expected_tests(assignment, graders: Path) -> list[dict]:
    """The graders' manifest, collected in a process of its own (it imports the graders)."""
    graders = Path(graders).resolve()
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, "-m", "coursekit.grading.expected_tests", str(graders),
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
    choice = torch_choice()
    grader = (REQUIREMENTS / "grader.txt").read_text()
    files["setup.conf"] = setup_conf(choice)
    files["uv-requirement.txt"] = REQUIREMENTS / "uv.txt"
    files["grader-requirements.txt"] = grader.encode()
    files["grader-constraints.txt"] = plain_pins(grader).encode()
    files["torch-requirement.txt"] = choice.requirements.encode()
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
