"""The autograder zips, run the way Gradescope runs them (coursekit/gradescope/rehearse.py).

In a private mount namespace without network, a scratch folder is /autograder; the zip
goes to /autograder/source and setup.sh builds the image with a stand-in for the base
image's python3; then run_autograder grades uploads in /autograder/submission.

- Ubuntu 22.04 (python3 3.10), Gradescope's default: built, then every assignment's
  reference (at Gradescope's default 0.5 CPU and 768 MB; a1 and a2 at the 1 GB the
  README asks for), released stubs and a malformed upload are graded, and one
  reference once more with only the capabilities Docker gives root.
- Ubuntu 24.04 (python3 3.12): built, then one assignment's reference is graded (the
  other assignments would exercise the same venv again).

What needs the internet on Gradescope comes from local stand-ins reached through the
same code path: CPython from a python-build-standalone-shaped archive through uv's
download step, torch from a local copy of the CPU wheel index, the rest from a local
PyPI. The checks below show each path was taken (the base python3 could not have given
3.11, and the PyPI stand-in holds no torch).
"""

from __future__ import annotations

import zipfile
from pathlib import PurePosixPath

import pytest
from gradescope_support import ASSIGNMENTS, GRADING_ENV, SCHEMA, SETUP_FILES, manifest, zip_folder

jsonschema = pytest.importorskip("jsonschema")

pytestmark = [pytest.mark.slow, pytest.mark.realdata("mnist", "cifar10")]


def _valid(doc: dict | None, step) -> dict:
    assert doc is not None, f"run_autograder wrote no results.json:\n{step.output[-4000:]}"
    jsonschema.validate(doc, SCHEMA)
    assert abs(doc["score"] - sum(t["score"] for t in doc["tests"])) < 1e-6
    return doc


def _question_files(name: str) -> dict[str, set[str]]:
    return {q.id: set(q.files) | {c[0] for c in q.cells} for q in manifest(name).questions}


def test_zips_share_one_image_recipe(gradescope_zips):
    """What setup.sh installs is the same for every assignment (so images can be shared)."""
    recipes = set()
    for path in gradescope_zips.values():
        with zipfile.ZipFile(path) as zf:
            recipes.add(tuple(zf.read(n) for n in SETUP_FILES))
    assert len(recipes) == 1


@pytest.mark.parametrize("minor", ["3.10", "3.12"])
def test_setup_builds_the_tested_python_and_cpu_torch(images, sources, minor):
    image = images.get(minor)
    assert image.build.returncode == 0, image.build.output[-4000:]
    built = image.describe_python()
    # The base python3 is {minor}; 3.11 can only have come through uv's download step,
    # here served from the stand-in archive, into /autograder/python.
    assert image.base_python.name == f"python{minor}"
    assert built["version"] == sources.python_version
    assert built["base_prefix"].startswith("/autograder/python/"), built
    # The PyPI stand-in has no torch: the CPU build came from the torch index path.
    assert not (sources.pypi_index / "torch").exists()
    assert built["torch"].endswith("+cpu"), built
    assert "All installed packages are compatible" in image.build.output


# Gradescope's default memory, except where README.md tells the course to raise it: a1
# and a2 peak at 630-760 and about 725 MB of the default 768 (too close to test without
# flaking), so they are tested at the 1 GB the README gives them.
RESOURCES = [
    ("a1_pytorch_basics", 1024),
    ("a2_neural_nets", 1024),
    ("a3_needle", 768),
]


@pytest.mark.parametrize("name, memory_mb", RESOURCES)
def test_reference_full_marks_within_gradescope_resources(images, uploads, rehearsal, name, memory_mb):
    """Half a CPU, as Gradescope's default, and the memory the README gives for it."""
    image = images.for_assignment("3.10", name)
    limits = rehearsal.Limits(memory_mb=memory_mb).open(f"coursekit-e2e-{name}")
    try:
        doc, step = image.grade(uploads[name]["reference"], limits=limits, env=GRADING_ENV.get(name))
        peak, killed = limits.peak_memory_mb(), limits.oom_kills()
    finally:
        limits.close()
    doc = _valid(doc, step)
    by_process = doc.get("extra_data", {}).get("peak_memory_mb_by_process")
    print(f"{name}: {step.seconds:.0f} s, peak anonymous memory {peak} MB (by process: {by_process}), "
          f"limits {limits.active}")
    if "cgroup" in limits.active["memory"]:
        assert killed == 0, (f"{killed} process(es) killed for exceeding {limits.memory_mb} MB "
                             f"(peak {peak:.0f} MB; by process {by_process})")
        assert 0 < peak < memory_mb
    lost = [(t["name"], t["score"], t["max_score"], t["output"][-300:]) for t in doc["tests"]
            if t["score"] < t["max_score"]]
    assert not lost, lost
    assert doc["score"] == sum(q.points for q in manifest(name).questions) > 0
    assert step.returncode == 0, step.output[-3000:]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_stubs_score_zero_with_reasons(images, uploads, name):
    image = images.for_assignment("3.10", name)
    doc, step = image.grade(uploads[name]["stubs"])
    doc = _valid(doc, step)
    assert doc["score"] == 0
    for t in doc["tests"]:
        assert t["score"] == 0 and t["output"].strip(), t


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_malformed_upload_gets_a_message_per_file(images, uploads, tmp_path, name):
    """One file broken (a notebook cut short, else a module that does not parse), one left
    out: each is named where it costs points, and the other questions keep their marks."""
    a = manifest(name)
    used = _question_files(name)
    candidates = [f for f in a.submission_files
                  if not f.startswith("checkpoints/") and any(f in u for u in used.values())]
    notebooks = [f for f in candidates if f.endswith(".ipynb")]
    # A module others import would take every question down with it: break the last one.
    broken = notebooks[0] if notebooks else candidates[-1]
    others = [f for f in candidates if f != broken]
    dropped = others[-1] if len(others) > 1 else None
    original = (uploads[name]["solutions"] / broken).read_bytes()
    replace = {broken: original[:500] if broken.endswith(".ipynb") else b"def broken(:\n" + original}
    if dropped:
        replace[dropped] = None
    upload = zip_folder(uploads[name]["solutions"], a.submission_files, tmp_path / "malformed.zip", replace)
    doc, step = images.for_assignment("3.10", name).grade(upload, env=GRADING_ENV.get(name))
    doc = _valid(doc, step)
    by_question: dict[str, list] = {}
    for t in doc["tests"]:
        by_question.setdefault(t["extra_data"]["question"], []).append(t)
    # Files that cannot be used at all are listed at the top as well.
    for noted in filter(None, (dropped, broken if broken.endswith(".ipynb") else None)):
        assert noted in doc["output"], (noted, doc["output"])
    bad_files = {f for f in (broken, dropped) if f}
    hit = {q for q, files in used.items() if files & bad_files}
    for bad in bad_files:
        # A question may not need the file for its points (a2's training questions are
        # scored from the checkpoint alone), but some question must lose points to it.
        assert any(t["score"] < t["max_score"] for q in hit if bad in used[q] for t in by_question[q]), bad
    for q in hit:
        for t in by_question[q]:
            if t["score"] < t["max_score"]:
                # Named by path in notes, by file name in tracebacks.
                names = {PurePosixPath(f).name for f in used[q] & bad_files}
                assert any(n in t["output"] for n in names), (t["name"], t["output"][-500:])
    untouched = [q for q in used if q not in hit and used[q]]
    assert untouched, "the malformed upload should leave some questions intact"
    for q in untouched:
        for t in by_question[q]:
            assert t["score"] == t["max_score"], (q, t["name"], t["output"][-500:])


def test_reference_grades_on_the_ubuntu_2404_image(images, uploads):
    """The 3.12 base image, through the grading path once (a3: no checkpoints to train)."""
    name = "a3_needle"
    doc, step = images.for_assignment("3.12", name).grade(uploads[name]["reference"])
    doc = _valid(doc, step)
    assert doc["score"] == sum(q.points for q in manifest(name).questions) > 0, \
        [(t["name"], t["output"][-300:]) for t in doc["tests"] if t["score"] < t["max_score"]]


def test_results_schema_matches_gradescope_documentation():
    """The schema's field names and enumerations are the ones Gradescope documents
    (docs/specs.md of gradescope/autograder_samples)."""
    top = {"score", "execution_time", "output", "output_format", "test_output_format",
           "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
    test = {"score", "max_score", "status", "name", "name_format", "number", "output",
            "output_format", "tags", "visibility", "extra_data"}
    assert set(SCHEMA["properties"]) == top
    assert set(SCHEMA["properties"]["tests"]["items"]["properties"]) == test
    assert set(SCHEMA["$defs"]["visibility"]["enum"]) == {"hidden", "after_due_date", "after_published", "visible"}
    assert set(SCHEMA["$defs"]["format"]["enum"]) == {"text", "html", "simple_format", "md", "ansi"}
    assert SCHEMA["properties"]["tests"]["items"]["properties"]["status"]["enum"] == ["passed", "failed"]


def test_image_files_stay_readable_for_the_student_process(images):
    """The student process runs the venv's interpreter under another uid."""
    image = images.get("3.10")
    for path in (image.root / "venv", image.root / "python"):
        assert path.stat().st_mode & 0o005 == 0o005, path


def test_reference_grades_with_dockers_default_capabilities(images, uploads):
    """Gradescope runs the image in a container: root without CAP_SYS_ADMIN, so the
    sandbox cannot make namespaces. Grading still works, and says so."""
    name = "a3_needle"
    doc, step = images.for_assignment("3.10", name).grade(uploads[name]["reference"], docker_caps=True)
    doc = _valid(doc, step)
    assert doc["score"] == sum(q.points for q in manifest(name).questions) > 0, \
        [(t["name"], t["output"][-300:]) for t in doc["tests"] if t["score"] < t["max_score"]]
    sandbox = doc["extra_data"]["sandbox"]
    print("sandbox layers without CAP_SYS_ADMIN:", sandbox)
    assert sandbox["mount_namespace"] is not True
