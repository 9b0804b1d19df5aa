"""The results folder of a cluster run, and the CSV rebuilt from it.

Layout, one folder per submission (`alice.zip` -> `alice/`):

    <results>/alice/results.json        the document run_autograder wrote, as is
    <results>/alice/grading.json        key, node, times (staff-facing)
    <results>/alice/run_autograder.log  run_autograder's own output (staff-facing)
    <results>/gradings.jsonl            one line per grading that finished, in order

A submission counts as graded when its results.json exists and its grading.json holds
the key of the grading asked for now (same content, autograder zip and options).
Every file is written to a temporary name and renamed, so a run killed at any moment
leaves either the old file or the new one; grading.json goes last and is removed
first, which makes it the mark of a finished grading.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
import time
from pathlib import Path

from coursekit.cluster.plan import Submission
from coursekit.local_grading.local import GradeResult

RESULTS, RECORD, LOG, JOURNAL = "results.json", "grading.json", "run_autograder.log", "gradings.jsonl"


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class ResultsFolder:
    def __init__(self, root: Path):
        self.root = Path(root)

    def folder(self, sub: Submission) -> Path:
        return self.root / sub.slug

    def record(self, sub: Submission) -> dict | None:
        try:
            return json.loads((self.folder(sub) / RECORD).read_text())
        except (OSError, ValueError):
            return None

    def finished(self, sub: Submission, key: str) -> bool:
        rec = self.record(sub)
        return bool(rec) and rec.get("key") == key and (self.folder(sub) / RESULTS).is_file()

    def load(self, sub: Submission) -> GradeResult:
        doc = json.loads((self.folder(sub) / RESULTS).read_text())
        rec = self.record(sub) or {}
        return GradeResult(doc, float(rec.get("wall_seconds", 0.0)), "")

    def save(self, sub: Submission, key: str, results: dict, log: str, record: dict) -> None:
        folder = self.folder(sub)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            (folder / RECORD).unlink()
        except FileNotFoundError:
            pass
        write_atomic(folder / LOG, log.encode("utf-8", "replace"))
        write_atomic(folder / RESULTS, json.dumps(results, indent=2).encode())
        record = dict(record, submission=sub.name, key=key, saved=time.time())
        write_atomic(folder / RECORD, json.dumps(record, indent=2, sort_keys=True).encode())
        line = json.dumps({k: record.get(k) for k in ("submission", "key", "node", "started",
                                                      "finished", "wall_seconds")}) + "\n"
        # One write on an O_APPEND descriptor: lines never interleave.
        fd = os.open(self.root / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def csv_row(name: str, result: GradeResult | None, error: str) -> dict:
    """One row of the scores CSV, as the local batch path writes it."""
    row = {"submission": name, "score": result.score if result else "",
           "max_score": result.max_score if result else "", "error": error}
    if result:
        for qid, (score, _) in result.by_question().items():
            row[qid] = score
    return row


def write_csv(rows: list[dict], path: Path) -> None:
    fields = ["submission", "score", "max_score"] + sorted(
        {k for r in rows for k in r} - {"submission", "score", "max_score", "error"}) + ["error"]
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    write_atomic(Path(path), buf.getvalue().encode())
