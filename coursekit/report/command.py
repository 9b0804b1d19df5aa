"""`coursekit report RESULTS -o report.html`: the class report, one self-contained HTML page.

RESULTS is what `coursekit grade ... --csv DIR/scores.csv` left (the CSV, or the folder of
results.json files), a cluster run's output in the same layout, or an unzipped Gradescope
"Export Submissions" download.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="scores CSV, folder of results.json files, or Gradescope export")
    parser.add_argument("-o", "--output", type=Path, default=Path("report.html"), help="the HTML file to write")
    parser.add_argument("--assignment", help="assignment name (question titles from source/<a>/assignment.toml, "
                        "starter code from release/<a>/) or the path of an assignment.toml")
    parser.add_argument("--submissions", type=Path,
                        help="the folder of uploads that was graded (for the similarity check)")
    parser.add_argument("--starter", type=Path, help="the released starter kit (default: release/<assignment>/)")
    parser.add_argument("--retrain-results", type=Path,
                        help="results of `coursekit grade --retrain` on the same uploads, compared per question")
    parser.add_argument("--title", help="the page's title")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def _assignment_paths(value: str | None) -> tuple[Path | None, Path | None]:
    """(assignment.toml, starter folder) for --assignment's value."""
    if not value:
        return None, None
    given = Path(value)
    if given.suffix == ".toml":
        return given, None
    if (given / "assignment.toml").is_file():
        return given / "assignment.toml", None
    manifest = REPO / "source" / value / "assignment.toml"
    starter = REPO / "release" / value
    return (manifest if manifest.is_file() else None), (starter if starter.is_dir() else None)


def run(args: argparse.Namespace) -> int:
    from coursekit.report.build import build_report
    from coursekit.report.load import ReportInputError

    manifest, starter = _assignment_paths(args.assignment)
    if args.assignment and manifest is None:
        print(f"error: --assignment {args.assignment}: no assignment.toml found "
              f"(looked for source/{args.assignment}/assignment.toml)", file=sys.stderr)
        return 2
    starter = args.starter or starter
    if starter is not None and not starter.is_dir():
        print(f"error: --starter {starter}: no such folder", file=sys.stderr)
        return 2
    try:
        page = build_report(args.results, args.output, submissions=args.submissions, starter=starter,
                            manifest=manifest, retrain=args.retrain_results, title=args.title,
                            progress=not args.no_progress)
    except ReportInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pairs = len(page.pairs) if page.pairs is not None else "not checked"
    print(f"{len(page.results.submissions)} submissions, {len(page.concerns)} need a look, "
          f"similar pairs: {pairs} -> {args.output}")
    return 0
