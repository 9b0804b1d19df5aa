"""A released kit, as a student gets it: unzipped into an empty folder, installed from its
own requirements.txt into a fresh environment (local wheels only), then the environment
check, the self-check on the stubs and on the reference, planted bugs, and
collect_submission.py with its PDF of written answers."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from coursekit.manifest import load_assignment
from tests.students.conftest import ASSIGNMENTS, DATA, REPO, run_in_kit

pytestmark = pytest.mark.slow

GENERATED = ["README.md", "requirements.txt", "check_env.py", "self_check.py", "kit.json",
             "collect_submission.py"]


def repo_pins() -> dict[str, str]:
    """The graders' versions as the repository pins them (lock files win over the dev set)."""
    pins = {}
    for name in ["constraints.txt", "requirements.txt", "requirements/grader.txt",
                 "requirements/grader-torch.txt"]:
        path = REPO / name
        if path.is_file():
            for m in re.finditer(r"^([A-Za-z0-9_.\-]+)==([^\s\\;]+)", path.read_text(), re.M):
                pins[m.group(1).lower()] = m.group(2)
    return pins


def self_check(python, kit, *args):
    out = kit / "self-check.json"
    proc = run_in_kit(python, kit, "self_check.py", "--json", str(out), *args,
                      env={"COURSEKIT_DATA": str(DATA)})
    assert out.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc, json.loads(out.read_text())


def put_reference(build, name, kit):
    """The reference answers over the stubs: every submitted file of the solutions."""
    a = load_assignment(REPO / "source" / name)
    solutions = build.solutions(name)
    for rel in a.submission_files:
        if (solutions / rel).is_file():
            # Trained checkpoints, when other tests made them, go where the kit has no folder yet.
            (kit / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(solutions / rel, kit / rel)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_kit_carries_pinned_requirements_and_its_own_guide(name, unzip_kit):
    kit = unzip_kit(name)
    for f in GENERATED:
        assert (kit / f).is_file(), f"{name}: {f} missing from the kit"
    req = (kit / "requirements.txt").read_text()
    pins = repo_pins()
    for pkg in ("numpy", "matplotlib", "tqdm", "jupyter"):
        assert f"\n{pkg}=={pins[pkg]}\n" in req, f"{name}: {pkg} not pinned at {pins[pkg]}"
    if name != "a3_needle":
        torch = pins["torch"].split("+")[0]
        assert f'torch=={torch}+cpu ; sys_platform == "linux"' in req
        assert "--extra-index-url https://download.pytorch.org/whl/cpu" in req
        assert re.search(r"^#\s+torch==\S+\s+--index-url https://download.pytorch.org/whl/cu\d+", req, re.M)
    else:
        assert "torch" not in re.sub(r"#.*", "", req)
    readme = (kit / "README.md").read_text()
    for section in ("## Local set-up", "## Colab", "## Checking your work",
                    "## Collecting and uploading", "## What is graded and how"):
        assert section in readme
    a = load_assignment(REPO / "source" / name)
    for q in a.questions:
        assert f"(`{q.id}`) | {q.points:g} |" in readme


def test_one_setup_cell_in_every_notebook_of_every_kit(unzip_kit):
    texts = set()
    for name in ASSIGNMENTS:
        kit = unzip_kit(name)
        for nb_path in sorted(kit.glob("*.ipynb")):
            cells = json.loads(nb_path.read_text())["cells"]
            code = [c for c in cells if c["cell_type"] == "code"]
            first = code[0]
            assert first["metadata"]["nbgrader"]["grade_id"] == "setup", nb_path
            src = "".join(first["source"])
            assert f'KIT = "{name}"' in src
            texts.add(src.replace(name, "<kit>"))
    assert len(texts) == 1, "the set-up cells differ between notebooks"


def _setup_source(kit: Path) -> str:
    nb = json.loads(next(kit.glob("*.ipynb")).read_text())
    return "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])


def test_setup_cell_finds_the_kit_locally_and_says_what_to_set(unzip_kit, tmp_path):
    import subprocess
    import sys
    kit = unzip_kit("a3_needle")
    cell = tmp_path / "cell.py"
    cell.write_text(_setup_source(kit) + "\nprint('cwd', __import__('os').getcwd())\n"
                    "import needle; print('needle', needle.__file__)\n")
    # From a subfolder of the kit: it moves up into the kit and puts python_path on sys.path.
    ok = subprocess.run([sys.executable, str(cell)], cwd=kit / "apps", capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert f"cwd {kit.resolve()}" in ok.stdout
    assert f"needle {kit.resolve() / 'python' / 'needle'}" in ok.stdout
    assert "environment:" in ok.stdout
    # From outside any kit (a notebook copied on its own): it stays there and says how to
    # use the kit instead.
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "needle").mkdir()
    (outside / "needle" / "__init__.py").write_text("")
    alone = subprocess.run([sys.executable, str(cell)], cwd=outside, capture_output=True, text=True)
    assert alone.returncode == 0, alone.stderr
    assert "not inside the a3_needle kit folder" in alone.stdout and "KIT_PATH" in alone.stdout
    assert f"cwd {outside}" in alone.stdout
    # A wrong KIT_PATH names itself.
    cell.write_text(cell.read_text().replace('KIT_PATH = ""', f'KIT_PATH = "{outside}"'))
    wrong = subprocess.run([sys.executable, str(cell)], cwd=outside, capture_output=True, text=True)
    assert f"KIT_PATH = '{outside}' is not the a3_needle kit folder" in wrong.stderr


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_environment_check_in_a_fresh_environment(name, unzip_kit, venvs, tmp_path):
    kit = unzip_kit(name)
    python = venvs.python_for(kit / "requirements.txt")
    ok = run_in_kit(python, kit, "check_env.py", env={"COURSEKIT_DATA": str(DATA)})
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Ready: everything the assignment needs is here." in ok.stdout
    assert re.search(r"^\s+ok\s+numpy\s+" + re.escape(repo_pins()["numpy"]), ok.stdout, re.M)
    # No data where the kit looks: the check says which data set and the command.
    empty = tmp_path / "no-data"
    empty.mkdir()
    nodata = run_in_kit(python, kit, "check_env.py", env={"COURSEKIT_DATA": str(empty)})
    assert nodata.returncode == 1
    dataset = json.loads((kit / "kit.json").read_text())["datasets"][0]
    assert f"python -m kitdata.fetch {dataset}" in nodata.stdout
    # A package at another version than the graders': named, with the fix.
    req = kit / "requirements.txt"
    req.write_text(re.sub(r"^tqdm==\S+", "tqdm==0.0.1", req.read_text(), flags=re.M))
    drift = run_in_kit(python, kit, "check_env.py", "--no-data")
    assert drift.returncode == 1
    assert re.search(r"FAIL\s+tqdm\s+\S+ \(the graders use 0.0.1\)", drift.stdout), drift.stdout
    assert "pip install -r requirements.txt" in drift.stdout


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_self_check_on_stubs_and_on_the_reference(name, unzip_kit, venvs, build):
    kit = unzip_kit(name)
    python = venvs.python_for(kit / "requirements.txt")
    args = ["--set", "RUN_SLOW_CHECKS=False"] if name == "a3_needle" else []
    proc, rows = self_check(python, kit, *args)
    assert proc.returncode == 1
    statuses = {r["status"] for r in rows}
    assert statuses <= {"not started", "run notebook", "skipped"}, [r for r in rows if r["status"] not in
                                                                     ("not started", "run notebook", "skipped")]
    started = [r for r in rows if r["status"] == "not started"]
    assert len(started) >= len(rows) // 2
    assert all(r["message"].endswith("is not implemented yet") for r in started)
    notebooks = json.loads((kit / "kit.json").read_text())["notebooks"]
    assert {r["notebook"] for r in rows} == set(notebooks)
    assert "not started" in proc.stdout and "public checks:" in proc.stdout

    put_reference(build, name, kit)
    if name == "a3_needle":   # the notebook's own data cell does this; hw2 reads data/
        fetched = run_in_kit(python, kit, "-m", "kitdata.fetch", "mnist", "--dest", "data", "--flat",
                             "--mirror", str(DATA))
        assert fetched.returncode == 0, fetched.stderr
    proc, ref_rows = self_check(python, kit, *args)
    assert {r["status"] for r in ref_rows} <= {"done", "run notebook", "skipped"}, \
        [r for r in ref_rows if r["status"] not in ("done", "run notebook", "skipped")]
    assert sum(r["status"] == "done" for r in ref_rows) >= len(ref_rows) - 6
    # The checks left to the notebook are those behind a training run: on the stubs they
    # are left to the notebook too, or not started because that run's cell is unanswered.
    stub = {r["check"]: r for r in rows}
    for r in ref_rows:
        if r["status"] == "run notebook":
            before = stub[r["check"]]
            assert before["status"] == "run notebook" or re.fullmatch(
                r"cell '\w+' is not implemented yet", before["message"]), before


def test_planted_shape_and_value_bugs_read_as_such(unzip_kit, venvs, build):
    name = "a2_neural_nets"
    kit = unzip_kit(name)
    python = venvs.python_for(kit / "requirements.txt")
    put_reference(build, name, kit)
    layers = kit / "scratch" / "layers.py"
    text = layers.read_text()
    # Shape bug: dx left flat, (N, D) instead of the input's (N, d1, ..., dk).
    shape_bug = re.sub(r"^(\s*)dx = (.*)\.reshape\(x\.shape\)\s*$", r"\1dx = \2", text, count=1, flags=re.M)
    assert shape_bug != text, "the reference affine_backward changed: update the planted bug"
    # Value bug: ReLU that lets a little of the negative side through.
    value_bug = re.sub(r"np\.maximum\(0, x\)", "np.maximum(0.01 * x, x)", shape_bug, count=1)
    assert value_bug != shape_bug, "the reference relu_forward changed: update the planted bug"
    layers.write_text(value_bug)
    _, rows = self_check(python, kit, "FullyConnectedNets.ipynb")
    by_check = {r["check"]: r for r in rows}
    backward = by_check["check_affine_backward"]
    assert backward["status"] == "failing"
    assert backward["message"] == "affine_backward: dx has shape (10, 6), expected (10, 2, 3) (the shape of x)"
    relu = by_check["check_relu_forward"]
    assert relu["status"] == "failing"
    assert "relative error" in relu["message"] and "too large" in relu["message"]
    assert "broadcast" not in json.dumps(rows)


def _answer_cells(nb_path: Path) -> list[str]:
    cells = json.loads(nb_path.read_text())["cells"]
    return [c["metadata"]["nbgrader"]["grade_id"] for c in cells if c["cell_type"] == "markdown"
            and c["metadata"].get("nbgrader", {}).get("solution") and c["metadata"]["nbgrader"].get("grade")]


@pytest.mark.parametrize("name", ["a1_pytorch_basics", "a3_needle"])
def test_collect_submission_writes_zip_and_labelled_pdf(name, unzip_kit, venvs, build):
    from pypdf import PdfReader

    kit = unzip_kit(name)
    python = venvs.python_for(kit / "requirements.txt")
    put_reference(build, name, kit)
    proc = run_in_kit(python, kit, "collect_submission.py", "--allow-incomplete")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    a = load_assignment(REPO / "source" / name)
    with zipfile.ZipFile(kit / f"{name}_submission.zip") as zf:
        zipped = set(zf.namelist())
    assert zipped == {f for f in a.submission_files if (kit / f).is_file()}

    answers = [(nb, gid) for nb in json.loads((kit / "kit.json").read_text())["notebooks"]
               for gid in _answer_cells(kit / nb)]
    assert answers, "no written answers to put in the PDF"
    reader = PdfReader(kit / f"{name}_written.pdf")
    pages = [p.extract_text() for p in reader.pages]
    labelled = [p for p in pages if "(continued)" not in p.splitlines()[1]]
    assert len(labelled) == len(answers)            # one answer per page (plus continuations)
    for k, ((nb, gid), page) in enumerate(zip(answers, labelled), 1):
        assert f"Question {k}: {gid} ({nb})" in page
        cell = next(c for c in json.loads((kit / nb).read_text())["cells"]
                    if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)
        words = "".join(cell["source"]).split()
        assert " ".join(words[:3]).replace("**", "") in " ".join(page.split()), (gid, page[:500])
    assert f"{len(answers)} written answer(s)" in proc.stdout


def test_setup_cell_on_colab_finds_the_kit_in_drive_or_says_which_path(unzip_kit, tmp_path):
    import subprocess
    import sys
    kit = unzip_kit("a1_pytorch_basics")
    # A stand-in for Colab's google.colab.drive: mounting makes MyDrive appear.
    fake = tmp_path / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "drive.py").write_text(
        "import os\ndef mount(point):\n    os.makedirs(os.path.join(point, 'MyDrive'), exist_ok=True)\n"
        "    print('mounted', point)\n")
    drive = tmp_path / "drive"
    cell = tmp_path / "cell.py"
    cell.write_text(_setup_source(kit) + "\nprint('cwd', __import__('os').getcwd())\n")
    env = {"PYTHONPATH": str(fake), "COURSEKIT_DRIVE": str(drive), "PATH": "/usr/bin:/bin"}
    home = tmp_path / "content"
    home.mkdir()
    # Nothing in Drive yet: the message says where to upload and which variable to set.
    missing = subprocess.run([sys.executable, str(cell)], cwd=home, capture_output=True, text=True, env=env)
    assert f"mounted {drive}" in missing.stdout
    assert "The a1_pytorch_basics kit is not in your Google Drive" in missing.stderr
    assert str(drive / "MyDrive" / "a1_pytorch_basics" / "kit.json") in missing.stderr
    assert "set KIT_PATH" in missing.stderr
    # Uploaded two folders down under another name: found by its kit.json.
    target = drive / "MyDrive" / "courses" / "dl" / "hw1"
    shutil.copytree(kit, target)
    found = subprocess.run([sys.executable, str(cell)], cwd=home, capture_output=True, text=True, env=env)
    assert found.returncode == 0, found.stderr
    assert f"cwd {target.resolve()}" in found.stdout
    # Two copies: it names both and asks for KIT_PATH.
    shutil.copytree(kit, drive / "MyDrive" / "a1_pytorch_basics")
    two = subprocess.run([sys.executable, str(cell)], cwd=home, capture_output=True, text=True, env=env)
    assert "Several copies of the a1_pytorch_basics kit" in two.stderr and "KIT_PATH" in two.stderr
