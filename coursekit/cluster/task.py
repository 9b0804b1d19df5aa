"""The part of a cluster run that executes on a node: one submission, graded locally there.

Inputs travel as bytes (Ray's object store), so nodes need no shared folder: the
autograder zip once per run, each submission as uploaded (a zip's own bytes) or packed
(a folder as a tar that keeps its symbolic links, so the submission checks see the
folder exactly as the local path would). On the node the task rebuilds both in a
private temporary folder and calls `grade_submission`, the function the local path
calls; the grading itself (the sandbox, the uid switch, the limits) is unchanged.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import tarfile
import tempfile
import time
from pathlib import Path

from coursekit.cluster.plan import Submission

# Passed from the command's environment to the grading on the node.
FORWARDED_ENV = ("COURSEKIT_BUDGET",)
# Used on a node whose own environment lacks them (e.g. the same shared path everywhere).
DEFAULT_ENV = ("COURSEKIT_DATA",)
LOG_TAIL = 200_000


def pack(sub: Submission) -> tuple[str, bytes]:
    """("zip", the file's bytes) or ("tar", the folder packed, links kept as links)."""
    if not sub.path.is_dir():
        return "zip", sub.path.read_bytes()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for p in sorted(sub.path.rglob("*")):
            tar.add(p, arcname=p.relative_to(sub.path).as_posix(), recursive=False)
    return "tar", buf.getvalue()


def unpack(kind: str, name: str, payload: bytes, dest: Path) -> Path:
    """The submission rebuilt under `dest`, named as in the folder it came from."""
    target = dest / name
    if kind == "zip":
        target.write_bytes(payload)
        return target
    target.mkdir()
    with tarfile.open(fileobj=io.BytesIO(payload), mode="r") as tar:
        # "tar" refuses names outside the folder and setuid bits but keeps links as
        # links: the grader's own checks reject those, with a message to the student.
        tar.extractall(target, filter="tar")
    return target


def grade_task(options: dict, name: str, kind: str, payload: bytes, autograder_zip: bytes,
               env: dict) -> dict:
    """Grade one submission on this node; the results document and where it ran."""
    from coursekit.local_grading.local import grade_submission

    started = time.time()
    node = {"hostname": socket.gethostname(), "pid": os.getpid(), "uid": os.geteuid()}
    try:
        import ray
        node["node_id"] = ray.get_runtime_context().get_node_id()
    except Exception:  # outside a Ray worker (tests of this function)
        pass
    # The node's worker log: what was graded where, attempts included.
    print(f"coursekit: grading {name} on {node['hostname']} (pid {node['pid']})", flush=True)
    for key, value in env.items():
        if key in FORWARDED_ENV or (key in DEFAULT_ENV and key not in os.environ):
            os.environ[key] = value
    work = Path(tempfile.mkdtemp(prefix="coursekit-cluster-"))
    try:
        os.chmod(work, 0o700)
        zip_path = work / f"{options['assignment']}-gradescope.zip"
        zip_path.write_bytes(autograder_zip)
        path = unpack(kind, name, payload, work)
        result = grade_submission(options["assignment"], path, device=options["device"],
                                  only=tuple(options["only"]), retrain=options["retrain"],
                                  autograder_zip=zip_path, timeout=options["timeout"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"results": result.results, "wall_seconds": result.wall_seconds,
            "log": result.log[-LOG_TAIL:], "node": node, "started": started,
            "finished": time.time()}
