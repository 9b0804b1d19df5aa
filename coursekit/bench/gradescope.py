"""Section: the Gradescope image, rehearsed offline (coursekit/gradescope/rehearse.py).

Builds the image from `autograder/dist/<a>-gradescope.zip` with a stand-in for Ubuntu
22.04's python3 (3.10), Gradescope's default base image, then grades each
`solutions/<a>-submission.zip` under Gradescope's default resources (0.5 CPU, 768 MB;
as closely as this machine allows, see the note). Reported: the build's time and what
it downloads, and per assignment the grading time and the container's peak memory.

The build time here has no network transfer in it: on Gradescope, add the download
of the listed megabytes. The reference zip scores full marks only when it carries
trained checkpoints (`make checkpoints`, then `make release`); the score is shown.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from coursekit.bench.measure import REPO
from coursekit.bench.report import Metric

TITLE = "Gradescope image (offline rehearsal, default resources)"


def _assignments() -> list:
    names = sorted(p.parent.name for p in (REPO / "source").glob("*/assignment.toml"))
    return [n for n in names if (REPO / "autograder" / "dist" / f"{n}-gradescope.zip").is_file()
            and (REPO / "solutions" / f"{n}-submission.zip").is_file()]


def unavailable() -> str | None:
    from coursekit.gradescope.rehearse import cannot_rehearse

    reason = cannot_rehearse()
    if reason:
        return reason
    if not _assignments():
        return "no assignment has both its Gradescope zip and its submission zip (run `make release`)"
    return None


def _mb(paths) -> float:
    return sum(p.stat().st_size for p in paths) / (1 << 20)


def run(quick: bool = False) -> list:
    from coursekit.gradescope import rehearse

    names = _assignments()
    if quick:
        names = names[-1:]
    zips = {n: REPO / "autograder" / "dist" / f"{n}-gradescope.zip" for n in names}
    sources = rehearse.prepare_sources(zips[names[0]])
    cache = sources.pypi_index.parent
    downloads = _mb(list((cache / "pypi-files").glob("*.whl")) + list((cache / "torch-files").glob("*.whl")))
    metrics = []
    scratch = Path(tempfile.mkdtemp(prefix="coursekit-bench-gradescope-"))
    try:
        image = rehearse.Image(scratch, rehearse.pyenv_python("3.10"), sources)
        build = image.build_image(zips[names[0]])
        if build.returncode != 0:
            raise RuntimeError(f"setup.sh failed:\n{build.output[-2000:]}")
        venv_mb = sum(f.stat().st_size for f in (image.root / "venv").rglob("*") if f.is_file()) / (1 << 20)
        metrics += [
            Metric("image build (setup.sh), python3 3.10 base", round(build.seconds, 1), "s",
                   note=f"CPython {sources.python_version} via uv + venv + packages, from local stand-ins"),
            Metric("packages setup.sh downloads", round(downloads, 1), "MB",
                   note="wheels incl. CPU torch, plus one CPython archive from python-build-standalone"),
            Metric("grader venv on disk", round(venv_mb, 1), "MB"),
        ]
        for name in names:
            image.use_zip(zips[name])
            limits = rehearse.Limits().open(f"coursekit-bench-{name}")
            try:
                doc, step = image.grade(REPO / "solutions" / f"{name}-submission.zip", limits=limits)
                peak, killed = limits.peak_memory_mb(), limits.oom_kills()
            finally:
                limits.close()
            if doc is None:
                metrics.append(Metric(f"{name}: grading", None, "", note=f"no results.json: {step.output[-300:]}"))
                continue
            top = sum(t.get("max_score", 0) for t in doc.get("tests", []))
            score = f"score {doc['score']:g} / {top:g}" + ("" if doc["score"] >= top else
                                                            " (checkpoints missing? `make checkpoints`)")
            within = step.seconds <= rehearse.GRADESCOPE_TIMEOUT_S
            metrics.append(Metric(f"{name}: grading at 0.5 CPU", round(step.seconds, 1), "s",
                                  target=f"<= {rehearse.GRADESCOPE_TIMEOUT_S} s", passed=within,
                                  note=f"{score}; {limits.active.get('cpu', '')}"))
            if peak is not None:
                metrics.append(Metric(f"{name}: peak memory (container, not reclaimable)", round(peak, 1), "MB",
                                      target=f"< {rehearse.GRADESCOPE_MEMORY_MB} MB",
                                      passed=peak < rehearse.GRADESCOPE_MEMORY_MB and not killed,
                                      note=limits.active.get("memory", "") +
                                      (f"; {killed} process(es) KILLED for memory" if killed else "")))
            grader_peak = (doc.get("extra_data") or {}).get("peak_memory_mb")
            if grader_peak is not None:
                metrics.append(Metric(f"{name}: peak memory (largest process)", round(grader_peak, 1), "MB",
                                      note="from results.json extra_data"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return metrics
