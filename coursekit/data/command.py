"""`coursekit data`: fetch the data sets into the repository's data root, or check them.

    coursekit data fetch [NAME ...] [--dest DIR] [--mirror DIR] [--flat]
    coursekit data check [NAME ...] [--dest DIR] [--flat] [--strict]

The default --dest is data_root(): $COURSEKIT_DATA, else the repository's datasets/cache.
`check` prints one line per file and exits 1 with a list of what is missing or wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import fetch as fetching


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, help_text in (("fetch", "download (or copy from --mirror) and verify the data sets"),
                              ("check", "verify the data sets in place; exit 1 if anything is missing or wrong")):
        p = sub.add_parser(action, help=help_text, description=help_text)
        p.add_argument("names", nargs="*", metavar="NAME",
                       help="data sets (default: all in datasets/registry.json)")
        p.add_argument("--dest", type=Path, help=f"data root (default: {fetching.data_root()})")
        p.add_argument("--flat", action="store_true", help="files straight in --dest, not in a per-data-set folder")
        if action == "fetch":
            p.add_argument("--mirror", type=Path, metavar="DIR",
                           help="copy from this folder (official layout) instead of downloading")
            p.add_argument("--quiet", action="store_true", help="no progress bar")
        else:
            p.add_argument("--strict", action="store_true",
                           help="also fail on files whose checksum is not the official one (mirror copies)")


def run(args) -> int:
    names = args.names or None
    try:
        if args.action == "check":
            return fetching.report(fetching.check(names, args.dest, args.flat), args.strict)
        statuses = fetching.fetch(names, args.dest, args.mirror, args.flat, progress=not args.quiet)
    except fetching.FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    missing = [s for s in statuses if not s.ok()]
    if missing:
        return fetching.report(statuses)
    dest = args.dest or fetching.data_root()
    print(f"{len(statuses)} file(s) ready under {dest}")
    return 0
