"""`coursekit checkpoints [ASSIGNMENT...] [--ci]`: train the reference checkpoints.

For every `[[checkpoints]]` entry, runs the solution notebook in
`solutions/<a>/` top to bottom (with the entry's `ci_parameters` under `--ci`)
and checks that the run wrote the checkpoint file. `coursekit release` then puts
the files into `solutions/<a>-submission.zip`. Run `coursekit release` first.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from coursekit.manifest import Assignment, ManifestError
from coursekit.notebook_runner import NotebookError, run_notebook
from coursekit.release import ReleaseError
from coursekit.release.command import REPO, load_selected
from coursekit.release.kit import display


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                        help="assignment folder names under --source (default: all)")
    parser.add_argument("--ci", action="store_true",
                        help="use each entry's ci_parameters (small, fast runs)")
    parser.add_argument("--source", type=Path, default=REPO / "source",
                        help="folder of assignment sources (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=REPO,
                        help="folder holding solutions/ (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds allowed per notebook cell (default: %(default)s)")


def plan(a: Assignment, ci: bool) -> dict[str, tuple[dict, list[str]]]:
    """{notebook: (parameters, checkpoint files)}: each notebook runs once."""
    runs: dict[str, tuple[dict, list[str]]] = {}
    for c in a.checkpoints:
        params = dict(c.ci_parameters) if ci else {}
        if c.notebook in runs:
            if runs[c.notebook][0] != params:
                raise ReleaseError(f"{display(a.manifest_path)}: checkpoints for {c.notebook} "
                                   "give different ci_parameters; one run must write them all")
            runs[c.notebook][1].append(c.file)
        else:
            runs[c.notebook] = (params, [c.file])
    return runs


def train(a: Assignment, out: Path, ci: bool = False, timeout: float | None = 3600,
          env: dict | None = None) -> list[Path]:
    """Run the notebooks that write `a`'s checkpoints; return the checkpoint paths."""
    sol_dir = out / "solutions" / a.name
    if not sol_dir.is_dir():
        raise ReleaseError(f"{display(sol_dir)} does not exist; run `coursekit release {a.name}` first")
    kernel_env = dict(env or {})
    cache = REPO / "datasets" / "cache"
    if "COURSEKIT_DATA" not in os.environ and "COURSEKIT_DATA" not in kernel_env and cache.is_dir():
        kernel_env["COURSEKIT_DATA"] = str(cache)
    written = []
    for notebook, (params, files) in plan(a, ci).items():
        started = time.time()
        print(f"{a.name}: running {notebook}" + (f" with {params}" if params else ""), flush=True)
        try:
            run_notebook(sol_dir / notebook, parameters=params or None, cwd=sol_dir,
                         timeout=timeout, env=kernel_env)
        except NotebookError as exc:
            raise ReleaseError(f"{a.name}: {exc}") from None
        for rel in files:
            path = sol_dir / rel
            # 1 s slack: some file systems store whole-second modification times.
            if not path.is_file() or path.stat().st_mtime < started - 1:
                raise ReleaseError(f"{a.name}: {notebook} ran but did not write {rel} "
                                   f"(expected at {display(path)})")
            written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    try:
        assignments = load_selected(args.source, args.assignments)
    except ManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    failed = []
    for a in assignments:
        if not a.checkpoints:
            print(f"{a.name}: no [[checkpoints]]")
            continue
        try:
            paths = train(a, args.out, ci=args.ci, timeout=args.timeout)
        except (ReleaseError, ManifestError) as exc:
            print(f"{a.name}: FAILED\n  {exc}", file=sys.stderr)
            failed.append(a.name)
            continue
        for p in paths:
            print(f"{a.name}: wrote {display(p)} ({p.stat().st_size} bytes)")
        print(f"{a.name}: run `coursekit release {a.name}` to put them in the submission zip")
    return 1 if failed else 0
