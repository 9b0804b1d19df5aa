"""What a cluster run needs before any task starts.

- the submissions of a folder, each with a key computed from its content, so a
  resumed run can tell "graded already" from "changed since" (`Submission.key`);
- the resources one task asks Ray for, from the questions' manifest read out of the
  autograder zip (`task_resources`);
- the run's own key: the autograder zip and the options that change a score.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from coursekit.manifest import Assignment, ManifestError, load_assignment

# Beside the student process (capped by the manifest's memory_mb), a grading runs
# run_autograder, pytest and the grader process; this is what they take at most.
HARNESS_MB = 768


@dataclass(frozen=True)
class Options:
    """What changes a score: the same options and inputs give the same results."""

    assignment: str
    device: str = "cpu"
    only: tuple[str, ...] = ()
    retrain: bool = False
    timeout: float = 3600

    def as_dict(self) -> dict:
        d = asdict(self)
        d["only"] = list(self.only)
        return d


@dataclass(frozen=True)
class TaskResources:
    """One task's request to Ray's scheduler."""

    num_cpus: float
    num_gpus: float
    memory_mb: int

    def ray_options(self) -> dict:
        return {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus,
                "memory": self.memory_mb * 1024 * 1024}


@dataclass(frozen=True)
class Submission:
    name: str      # the entry's name in the folder: "alice.zip" or "alice"
    path: Path
    key: str       # sha256 of the content (see content_key)

    @property
    def slug(self) -> str:
        """Its folder's name in the results folder."""
        return self.name[:-4] if self.name.lower().endswith(".zip") else self.name


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def content_key(path: Path) -> str:
    """sha256 of a zip's bytes, or of a folder's relative names, link targets and file bytes."""
    if not path.is_dir():
        return sha256_file(path)
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        if p.is_symlink():
            h.update(f"L {rel} -> {os.readlink(p)}\n".encode())
        elif p.is_file():
            h.update(f"F {rel} {sha256_file(p)}\n".encode())
        elif p.is_dir():
            h.update(f"D {rel}\n".encode())
    return h.hexdigest()


def list_submissions(folder: Path) -> list[Submission]:
    """The folder's entries (zips or folders, hidden ones skipped), sorted by name."""
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    subs = [Submission(p.name, p, content_key(p)) for p in entries]
    seen: dict[str, str] = {}
    for s in subs:
        if s.slug in seen:
            raise ValueError(f"{folder}: {seen[s.slug]!r} and {s.name!r} would share the results "
                             f"folder {s.slug!r}; rename one of them")
        seen[s.slug] = s.name
    return subs


def read_manifest(autograder_zip: Path) -> Assignment:
    """The assignment.toml an autograder zip carries, loaded and validated."""
    try:
        with zipfile.ZipFile(autograder_zip) as zf:
            text = zf.read("assignment.toml")
    except (OSError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{autograder_zip}: cannot read the autograder zip: {exc}") from None
    except KeyError:
        raise ValueError(f"{autograder_zip}: holds no assignment.toml") from None
    with tempfile.TemporaryDirectory(prefix="coursekit-manifest-") as tmp:
        manifest = Path(tmp) / "assignment.toml"
        manifest.write_bytes(text)
        try:
            return load_assignment(manifest, check_sources=False)
        except ManifestError as exc:
            raise ValueError(f"{autograder_zip}: {exc}") from None


def task_resources(assignment: Assignment, device: str, only: tuple[str, ...] = (),
                   cluster_has_gpu: bool = False, cpus: float = 1) -> TaskResources:
    """One GPU when the run gives student code a GPU and a graded question may use one
    (`resources.device` other than "cpu"); memory for the largest question plus the harness."""
    questions = assignment.questions
    if only:
        known = {q.id for q in questions}
        unknown = [q for q in only if q not in known]
        if unknown:
            raise ValueError(f"{assignment.name}: no question {', '.join(map(repr, unknown))} "
                             f"(questions: {', '.join(sorted(known))})")
        questions = [q for q in questions if q.id in only]
    wants_gpu = any(q.resources.device != "cpu" for q in questions)
    gpu = wants_gpu and (device == "cuda" or (device == "auto" and cluster_has_gpu))
    memory = max(q.resources.memory_mb for q in questions) + HARNESS_MB
    return TaskResources(num_cpus=cpus, num_gpus=1 if gpu else 0, memory_mb=int(memory))


def run_key(submission: Submission, zip_sha256: str, options: Options) -> str:
    """Identifies one grading: same submission, same autograder, same options."""
    doc = {"submission": submission.key, "autograder": zip_sha256, "options": options.as_dict()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
