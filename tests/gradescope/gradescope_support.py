"""Constants and helpers shared by the Gradescope end-to-end tests and their fixtures."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from coursekit.manifest import load_assignment

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = ("a1_pytorch_basics", "a2_neural_nets", "a3_needle")
SETUP_FILES = ("setup.sh", "setup.conf", "uv-requirement.txt", "grader-requirements.txt",
               "grader-constraints.txt", "torch-requirement.txt")
# The CI-sized training runs (each [[checkpoints]] entry's ci_parameters) reach about 40%
# on a2's challenge, below the course target; docs/retrain.md has the measurements, and
# a2's own notebook tests lower the target the same way.
GRADING_ENV = {"a2_neural_nets": {"COURSEKIT_PYTORCH_GRADING":
                                  json.dumps({"targets": {"challenge": 0.35}})}}


def manifest(name: str):
    return load_assignment(REPO / "source" / name)


def zip_folder(folder: Path, files, out: Path, replace: dict | None = None) -> Path:
    """A submission zip of `files` from `folder`; `replace` maps a file to new bytes (None drops it)."""
    replace = replace or {}
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in files:
            if rel in replace:
                if replace[rel] is not None:
                    zf.writestr(rel, replace[rel])
            elif (folder / rel).is_file():
                zf.write(folder / rel, rel)
    return out


SCHEMA = json.loads((REPO / "tests" / "harness" / "gradescope_results.schema.json").read_text())
