"""`coursekit grade ASSIGNMENT SUBMISSION`: grade one submission, or a folder of them.

One submission (a folder or a .zip): prints the score per question, the total and the
time, and writes results.json with --results. A folder holding several .zip files (or
sub-folders, one per student): grades them with --jobs workers and writes one CSV.
"""

from __future__ import annotations

import argparse
import csv
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from coursekit.local_grading.local import GradeResult, default_zip, grade_submission


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignment", help="assignment name, e.g. a2_neural_nets")
    parser.add_argument("submission", type=Path,
                        help="a submission (.zip or folder), or a folder of submissions")
    parser.add_argument("--results", type=Path, help="where to write results.json (one submission)")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"],
                        help="device graders give student code (default: cpu)")
    parser.add_argument("--only", default="", help="comma-separated question ids to grade")
    parser.add_argument("--retrain", action="store_true",
                        help="re-run each student's training under the epoch budget (GPU runner)")
    parser.add_argument("--zip", type=Path, help="the autograder zip (default: autograder/dist/<a>-gradescope.zip)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once (batch mode)")
    parser.add_argument("--csv", type=Path, default=Path("scores.csv"), help="batch mode: the scores file")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per submission")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="grade the folder on a Ray cluster (HOST:PORT, ray://HOST:10001 or auto); "
                             "--results names the folder of results.json files (docs/cluster.md)")
    parser.add_argument("--retries", type=int, default=3, help="--cluster: reruns of a task whose node died")


def is_batch(path: Path, submitted: tuple[str, ...] = ()) -> bool:
    """A folder of submissions rather than one: it holds zips or folders, not the answers.
    `submitted`: the assignment's submission files; a folder holding the first folder
    of any of them (a3's `python/`, a2's `scratch/`) is one submission, even when a
    notebook is missing from it."""
    if not path.is_dir():
        return False
    entries = [p for p in path.iterdir() if not p.name.startswith(".")]
    tops = {PurePosixPath(f).parts[0] for f in submitted}
    return bool(entries) and all(p.suffix.lower() == ".zip" or p.is_dir() for p in entries) \
        and len(entries) > 1 and not any(p.suffix in (".py", ".ipynb") for p in entries) \
        and not any(p.name in tops for p in entries)


def submission_files(zip_path: Path) -> tuple[str, ...]:
    """The submission files assignment.toml names (read from the autograder zip)."""
    import tomllib
    import zipfile
    try:
        with zipfile.ZipFile(zip_path) as zf:
            doc = tomllib.loads(zf.read("assignment.toml").decode("utf-8"))
        return tuple(f for f in doc["submission"]["files"] if isinstance(f, str) and f)
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile):
        return ()


def question_order(zip_path: Path) -> list[str]:
    """Question ids in the order assignment.toml lists them (read from the autograder zip)."""
    import tomllib
    import zipfile
    try:
        with zipfile.ZipFile(zip_path) as zf:
            doc = tomllib.loads(zf.read("assignment.toml").decode("utf-8"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    return [q.get("id") for q in doc.get("questions", []) if isinstance(q, dict)]


def lost_reason(output: str, width: int = 110) -> list[str]:
    """One or two lines saying why points were lost: the message before any traceback,
    wrapped at word boundaries and shortened with an ellipsis, never cut mid-word."""
    import textwrap
    head = []
    for line in (output or "").strip().splitlines():
        if not line.strip():
            if head:
                break
            continue
        if line.startswith((" ", "\t", "Traceback")) and head:
            break   # the traceback (or the next detail block) starts here
        head.append(line.strip())
    text = " ".join(head)
    if not text:
        return []
    lines = textwrap.wrap(text, width=width, break_long_words=False, break_on_hyphens=False)
    if len(lines) > 2:
        rest = " ".join(lines[1:])
        lines = [lines[0], textwrap.shorten(rest, width=width, placeholder=" ...")]
    return lines


def print_summary(name: str, result: GradeResult, out=sys.stdout, order: list[str] | None = None) -> None:
    """Score per question in the assignment's order; under each, every lost point and why."""
    print(f"{name}: {result.score:g} / {result.max_score:g} points in {result.wall_seconds:.1f} s", file=out)
    by_question = result.by_question()
    known = [q for q in (order or []) if q in by_question]
    qids = known + [q for q in by_question if q not in known]
    for qid in qids:
        score, top = by_question[qid]
        print(f"  {qid:<28} {score:g} / {top:g}", file=out)
        for t in result.results["tests"]:
            if t.get("extra_data", {}).get("question", "?") != qid or t["score"] >= t["max_score"]:
                continue
            print(f"    lost {t['max_score'] - t['score']:g}: {t['name']}", file=out)
            for line in lost_reason(t.get("output") or ""):
                print(f"      {line}", file=out)
    if result.results.get("output"):
        print("  notes: " + result.results["output"].replace("\n", "\n         "), file=out)


def run(args: argparse.Namespace) -> int:
    only = tuple(q for q in args.only.split(",") if q)
    common = dict(device=args.device, only=only, retrain=args.retrain, autograder_zip=args.zip,
                  timeout=args.timeout)
    if args.cluster:
        from coursekit.cluster.driver import run_from_args
        return run_from_args(args)
    if not is_batch(args.submission, submission_files(args.zip or default_zip(args.assignment))):
        try:
            result = grade_submission(args.assignment, args.submission, results=args.results, **common)
        except (FileNotFoundError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print_summary(args.submission.name, result,
                      order=question_order(args.zip or default_zip(args.assignment)))
        return 0
    subs = sorted(p for p in args.submission.iterdir() if not p.name.startswith("."))

    def one(path: Path):
        try:
            # One results.json per upload beside the CSV, in the cluster run's layout
            # (<csv stem>-results/<upload without .zip>/): what `coursekit report` reads.
            slug = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
            results = Path(args.csv).with_name(Path(args.csv).stem + "-results") / slug / "results.json"
            return path, grade_submission(args.assignment, path, results=results, **common), ""
        except Exception as exc:  # one broken submission must not stop the batch
            return path, None, f"{type(exc).__name__}: {exc}"

    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        def tqdm(it, **_):
            return it
    rows = []
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        for path, result, error in tqdm(pool.map(one, subs), total=len(subs), desc="grading"):
            row = {"submission": path.name, "score": result.score if result else "",
                   "max_score": result.max_score if result else "", "error": error}
            if result:
                for qid, (score, _) in result.by_question().items():
                    row[qid] = score
            rows.append(row)
    fields = ["submission", "score", "max_score"] + sorted(
        {k for r in rows for k in r} - {"submission", "score", "max_score", "error"}) + ["error"]
    with open(args.csv, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    print(f"graded {len(rows)} submissions -> {args.csv}")
    return 0 if all(not r["error"] for r in rows) else 1
