"""`coursekit release [ASSIGNMENT...]`: build the kits, solutions and autograder zips.

For each assignment under the source folder (or only those named) it writes
`<out>/release/<a>/`, `<out>/release/<a>.zip`, `<out>/solutions/<a>/`,
`<out>/solutions/<a>-submission.zip` and, through the Gradescope packager,
`<autograder>/dist/<a>-gradescope.zip`. Python callers use `release_all`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from coursekit.manifest import (MANIFEST_NAME, Assignment, ManifestError, discover_assignments,
                                load_assignment)
from coursekit.release import ReleaseError
from coursekit.release.kit import KitBuild, build_kit, display
from coursekit.release.solutions import SolutionsBuild, build_solutions

REPO = Path(__file__).resolve().parents[2]
FAILED_NOTE = "BUILD_FAILED.txt"


@dataclass
class BuildResult:
    assignment: Assignment
    kit: KitBuild
    solutions: SolutionsBuild
    autograder_zip: Path | None   # None when the assignment has no graders
    note: str = ""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help="assignment folder names under --source (default: all)")
    parser.add_argument("--source", type=Path, default=REPO / "source",
                        help="folder of assignment sources (default: %(default)s)")
    parser.add_argument("--autograder", type=Path, default=REPO / "autograder",
                        help="folder of hidden graders; zips go to its dist/ (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO,
                        help="where release/ and solutions/ are written (default: %(default)s)")


def load_selected(source: Path, names: list[str]) -> list[Assignment]:
    if not names:
        found = discover_assignments(source)
        if not found:
            raise ManifestError(f"{display(source)}: no */assignment.toml found")
        return found
    return [load_assignment(source / name) for name in names]


def package_autograder(a: Assignment, release_dir: Path, autograder: Path) -> tuple[Path | None, str]:
    """Build the Gradescope zip when the assignment has graders."""
    from coursekit.gradescope.package import build_autograder_zip

    graders = autograder / a.name
    if not graders.is_dir():
        return None, f"autograder zip skipped: no graders in {display(graders)}"
    out_zip = gradescope_zip(a.name, autograder)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    result = build_autograder_zip(a, release_dir, graders, out_zip)
    return Path(result) if result else out_zip, ""


def gradescope_zip(name: str, autograder: Path) -> Path:
    return autograder / "dist" / f"{name}-gradescope.zip"


def remove_outputs(name: str, out: Path, autograder: Path | None) -> list[Path]:
    """After a failed build of `name`: delete the kit, the zips and the Gradescope zip
    an earlier build left, so that nothing stale looks current, and mark
    solutions/<name>/ with BUILD_FAILED.txt (kept, not deleted: it may hold trained
    checkpoints, which take long to make; the next good build removes the note).
    Returns the paths removed or marked."""
    touched = []
    for path in (out / "release" / name, out / "release" / f"{name}.zip",
                 out / "solutions" / f"{name}-submission.zip",
                 *([gradescope_zip(name, autograder)] if autograder else [])):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            touched.append(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
            touched.append(path)
    solutions = out / "solutions" / name
    if solutions.is_dir():
        note = solutions / FAILED_NOTE
        note.write_text(f"The last `coursekit release {name}` failed, so the files here may not "
                        "match source/. Fix the error it printed and release again.\n")
        touched.append(note)
    return touched


def release_one(a: Assignment, out: Path, autograder: Path | None, releaser) -> BuildResult:
    kit = build_kit(a, out, releaser)
    sol = build_solutions(a, out, releaser)
    zip_path, note = (None, "autograder zip not requested") if autograder is None \
        else package_autograder(a, kit.release_dir, autograder)
    return BuildResult(a, kit, sol, zip_path, note)


def release_all(assignments: list[Assignment], out: str | Path,
                autograder: str | Path | None = None) -> dict[str, BuildResult]:
    """Build every assignment with one nbgrader set-up; raise on the first error."""
    from coursekit.release.nbgrader_steps import NotebookReleaser

    releaser = NotebookReleaser()
    return {a.name: release_one(a, Path(out), Path(autograder) if autograder else None, releaser)
            for a in assignments}


def summary(r: BuildResult) -> str:
    k, s = r.kit, r.solutions
    n_stubs = sum(len(v) for v in k.stubs.values())
    lines = [f"{r.assignment.name}: {r.assignment.title}",
             f"  kit        {display(k.release_dir)}/ ({len(k.files)} files, {n_stubs} stubbed "
             f"functions, {len(k.notebooks)} notebooks) -> {display(k.zip_path)}",
             f"  solutions  {display(s.solutions_dir)}/ -> {display(s.submission_zip)} "
             f"({len(s.submitted)} of {len(r.assignment.submission_files)} submission files)"]
    if s.missing_checkpoints:
        lines.append(f"  checkpoints not trained yet (run `coursekit checkpoints "
                     f"{r.assignment.name}`): {', '.join(s.missing_checkpoints)}")
    lines.append(f"  autograder {display(r.autograder_zip)}" if r.autograder_zip
                 else f"  autograder {r.note}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    names = args.assignments or sorted(p.parent.name for p in args.source.glob(f"*/{MANIFEST_NAME}"))
    if not names:
        print(f"error: {display(args.source)}: no */{MANIFEST_NAME} found", file=sys.stderr)
        return 1
    from coursekit.release.nbgrader_steps import NotebookReleaser

    releaser = NotebookReleaser()
    failed = []
    for name in names:
        try:
            result = release_one(load_assignment(args.source / name), args.out, args.autograder,
                                 releaser)
        except (ReleaseError, ManifestError) as exc:
            touched = remove_outputs(name, args.out, args.autograder)
            print(f"{name}: FAILED\n  {exc}", file=sys.stderr)
            if touched:
                print("  outputs of its previous build removed or marked as failed: "
                      f"{', '.join(display(p) for p in touched)}", file=sys.stderr)
            failed.append(name)
            continue
        print(summary(result))
    if failed:
        print(f"release failed for: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
