"""Section: wall time of `make release` (target: under 60 s).

`make release` also checks the virtual environment's stamp and runs `make data` (which
only verifies files already in place). When the stamp is stale, make would reinstall
the pinned packages, which is not the build being measured: the section then times
`python -m coursekit release`, the command make's recipe runs, and says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

from coursekit.bench.measure import REPO
from coursekit.bench.report import Metric

TITLE = "make release"
TARGET_S = 60


def unavailable() -> str | None:
    try:
        import coursekit.release.command  # noqa: F401
    except ImportError as e:
        return f"coursekit.release cannot be imported ({e})"
    if not any((REPO / "source").glob("*/assignment.toml")):
        return "no assignments under source/"
    return None


def _make_is_usable() -> bool:
    if shutil.which("make") is None or not (REPO / "Makefile").is_file():
        return False
    # -q: exit 0 only when the stamp target is up to date (nothing would be installed).
    stamp = subprocess.run(["make", "-q", ".venv/.installed"], cwd=REPO, capture_output=True)
    return stamp.returncode == 0


def run(quick: bool = False) -> list:
    if _make_is_usable():
        command, label = ["make", "release"], "make release"
    else:
        command, label = [sys.executable, "-m", "coursekit", "release"], "coursekit release (make's stamp is stale)"
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{label} failed (exit {proc.returncode}): " + " | ".join(tail))
    built = sorted(p.name for p in (REPO / "autograder" / "dist").glob("*-gradescope.zip"))
    return [Metric(label, seconds, "s", "", None, f"< {TARGET_S} s", seconds < TARGET_S,
                   note=f"autograder zips: {', '.join(built) or 'none'}")]
