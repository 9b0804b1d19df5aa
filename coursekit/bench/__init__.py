"""`coursekit bench` (`make bench`): how fast the kit and its reference code are.

    coursekit bench [--only SECTION,...] [--skip SECTION,...] [--quick] [--out bench.json]

Sections, in the order they run (release first: grading needs what it builds):
  release  wall time of `make release` (target < 60 s)
  grading  each assignment's reference submission through `coursekit grade`: wall, CPU, peak memory
  gradescope  the Gradescope image rehearsed offline: setup.sh build time, downloads, and grading
           each reference at 0.5 CPU / 768 MB (needs root)
  sandbox  one call into the student process (small arguments; a large array) against a bare pipe
  layers   a2's fast conv / max-pool layers against torch.nn.functional (<= 3x) and the naive loops (>= 100x)
  needle   one a3 MLP ResNet epoch on MNIST, needle against PyTorch (<= 2x)
  gpu      a2's challenge reference on CUDA: time per epoch and accuracy (only with a GPU)
  cluster  gradings per minute on a local Ray cluster with one and two workers (needs Ray)

Every ratio compares two measurements taken in the same run. A section whose code
does not exist yet reports "not available: <reason>"; a failing one reports "error".
Targets are shown as PASS / FAIL: nothing here fails the command except a crash.
--quick uses tiny sizes, to check the plumbing.
"""

from __future__ import annotations

import argparse
import importlib
import time
import traceback
from pathlib import Path

from coursekit.bench.measure import REPO
from coursekit.bench.report import Section, document, table, write_json

SECTIONS = ("release", "grading", "gradescope", "sandbox", "layers", "needle", "gpu", "cluster")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", default="", help=f"comma-separated sections to run (of {', '.join(SECTIONS)})")
    parser.add_argument("--skip", default="", help="comma-separated sections to leave out")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the plumbing, not the speed")
    parser.add_argument("--out", type=Path, default=REPO / "bench.json", help="where to write the results (default: %(default)s)")


def _names(text: str) -> list:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown:
        raise SystemExit(f"coursekit bench: unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return names


def run_section(key: str, quick: bool, log=print) -> Section:
    """Run one section; never raises (a failure becomes status "error")."""
    module = importlib.import_module(f"coursekit.bench.{key}")
    section = Section(key, module.TITLE)
    start = time.perf_counter()
    try:
        reason = module.unavailable()
        if reason:
            section.status, section.reason = "not available", reason
        else:
            log(f"bench: {module.TITLE} ...", flush=True)
            section.metrics = module.run(quick=quick)
    except Exception as e:  # one broken section must not hide the others' numbers
        section.status = "error"
        section.reason = f"{type(e).__name__}: {e}"
        section.metrics = []
        log(traceback.format_exc(limit=3), flush=True)
    section.seconds = round(time.perf_counter() - start, 2)
    return section


def run(args: argparse.Namespace) -> int:
    only, skip = _names(args.only), _names(args.skip)
    keys = [k for k in SECTIONS if (not only or k in only) and k not in skip]
    started = time.time()
    sections = [run_section(k, args.quick) for k in keys]
    print()
    print(table(sections))
    doc = document(sections, started, {"quick": args.quick, "sections": keys})
    write_json(doc, args.out)
    print(f"\n{len(sections)} section(s) in {doc['seconds']:.0f} s; results in {args.out}")
    return 0
