"""Build `solutions/<a>/` and `solutions/<a>-submission.zip`.

`solutions/<a>/` is the kit with the answers in: the same selected files with
only the marker lines removed (notebooks with outputs cleared), plus `kitdata/`
when the assignment uses data sets, so the solution notebooks run as they are.
Checkpoint files already there (written by `coursekit checkpoints`) survive a
rebuild. The submission zip holds exactly the manifest's submission files, as a
perfect student would hand them in; checkpoints not trained yet are left out and
reported.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.manifest import Assignment
from coursekit.release import ReleaseError
from coursekit.release.archive import write_zip
from coursekit.release.kit import data_files, transform_files, write_tree
from coursekit.release.nbgrader_steps import NotebookReleaser


@dataclass
class SolutionsBuild:
    name: str
    solutions_dir: Path
    submission_zip: Path
    files: list[str]
    submitted: list[str]
    missing_checkpoints: list[str] = field(default_factory=list)


def build_solutions(a: Assignment, out: str | os.PathLike,
                    releaser: NotebookReleaser) -> SolutionsBuild:
    out = Path(out)
    sol_dir = out / "solutions" / a.name
    zip_path = out / "solutions" / f"{a.name}-submission.zip"
    files = transform_files(a, releaser, "solution")
    for rel, data in data_files(a).items():
        files.setdefault(rel, (data, False))
    checkpoints = {c.file for c in a.checkpoints}
    clash = sorted(checkpoints & set(files))
    if clash:
        raise ReleaseError(f"{a.name}: checkpoint files {clash} are also release files; "
                           "checkpoints are produced by training, not shipped")
    write_tree(sol_dir, files, keep=checkpoints)

    submitted: dict[str, Path] = {}
    missing = []
    for rel in a.submission_files:
        path = sol_dir / rel
        if path.is_file():
            submitted[rel] = path
        elif rel in checkpoints:
            missing.append(rel)
        else:
            raise ReleaseError(f"{a.name}: submission file {rel!r} is not in {sol_dir}")
    write_zip(zip_path, submitted)
    return SolutionsBuild(name=a.name, solutions_dir=sol_dir, submission_zip=zip_path,
                          files=sorted(files), submitted=sorted(submitted),
                          missing_checkpoints=missing)
