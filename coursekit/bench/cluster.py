"""Section: `coursekit grade --cluster` throughput on a Ray cluster of local processes.

Copies of a reference submission are graded as Ray tasks by a head (no CPU) and one,
then two, worker nodes of one CPU each, all on this machine; reported: gradings per
minute for each, and two workers against one. The time counts from the command's start
to its CSV, the cluster being up already (starting one is not part of a grading run).
On a machine with two cores the two-worker figure also carries the head and the
command, so the ratio stays under 2 there; it shows the scheduling adds no serial step.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from coursekit.bench.measure import REPO, run_child
from coursekit.bench.report import Metric

TITLE = "cluster grading (Ray, local processes)"
PREFERRED = ("a1_pytorch_basics", "a3_needle", "a2_neural_nets")


def _inputs() -> tuple[str, Path, Path] | None:
    """(assignment, autograder zip, reference submission zip) of the quickest one built."""
    for name in PREFERRED:
        zip_path = REPO / "autograder" / "dist" / f"{name}-gradescope.zip"
        sub = REPO / "solutions" / f"{name}-submission.zip"
        if zip_path.is_file() and sub.is_file():
            return name, zip_path, sub
    return None


def unavailable() -> str | None:
    try:
        import ray  # noqa: F401
    except ImportError:
        return "Ray is not installed (pip install 'coursekit[cluster]')"
    if _inputs() is None:
        return "no autograder zip with its reference submission (run `make release`)"
    return None


def run(quick: bool = False) -> list:
    name, zip_path, sub = _inputs()
    count = 2 if quick else 8
    rates = {}
    for workers in (1, 2):
        raw = run_child("coursekit.bench.cluster", "probe",
                        {"assignment": name, "submission": str(sub), "zip_path": str(zip_path),
                         "workers": workers, "count": count}, timeout=3600)
        if raw["status"] != 0:
            raise RuntimeError(f"the cluster run with {workers} worker(s) exited {raw['status']}")
        rates[workers] = 60 * count / raw["wall"]
    return [
        Metric(f"{name} reference, 1 worker", round(rates[1], 2), "gradings/min",
               note=f"{count} submissions"),
        Metric(f"{name} reference, 2 workers", round(rates[2], 2), "gradings/min",
               reference=f"1 worker {rates[1]:.2f}/min", ratio=round(rates[2] / rates[1], 2),
               note=f"{count} submissions; one CPU per worker"),
    ]


def probe(assignment: str, submission: str, zip_path: str, workers: int, count: int) -> dict:
    """Run in a fresh process (see run): start a cluster, grade `count` copies, stop it."""
    from coursekit.cluster.driver import grade_on_cluster
    from coursekit.cluster.localcluster import start_local_cluster
    from coursekit.cluster.plan import Options, read_manifest, task_resources

    work = Path(tempfile.mkdtemp(prefix="coursekit-bench-cluster-"))
    cluster = None
    try:
        folder = work / "submissions"
        folder.mkdir()
        for i in range(count):
            shutil.copyfile(submission, folder / f"student{i:03d}.zip")
        # Ray's memory resource is a reservation, not a limit: each worker offers what
        # one task of this assignment asks for, so one task runs per worker.
        needed = task_resources(read_manifest(Path(zip_path)), "cpu").memory_mb
        cluster = start_local_cluster(workers=workers, memory_mb=needed + 256)
        start = time.perf_counter()
        status = grade_on_cluster(cluster.address, folder, Options(assignment), Path(zip_path),
                                  work / "scores.csv", results_dir=work / "results")
        wall = time.perf_counter() - start
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {"wall": wall, "status": status}
