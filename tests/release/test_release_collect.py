"""collect_submission.py as students run it: refusals with a clear list, then the exact zip."""

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from coursekit.manifest import load_assignment
from coursekit.release.command import release_all

SUBMISSION = ["Demo.ipynb", "calc/models.py", "calc/ops.py"]


@pytest.fixture(scope="module")
def built(tmp_path_factory, demo_dir):
    out = tmp_path_factory.mktemp("built")
    release_all([load_assignment(demo_dir)], out)
    return out


@pytest.fixture
def kit(built, tmp_path):
    dest = tmp_path / "demo"
    shutil.copytree(built / "release" / "demo", dest)
    return dest


def collect(kit, *args, bare=False):
    # bare: no site-packages at all (-I -S), as on a machine without nbconvert or numpy.
    flags = ["-I", "-S"] if bare else []
    return subprocess.run([sys.executable, *flags, "collect_submission.py", *args], cwd=kit,
                          capture_output=True, text=True, timeout=120)


def answer_everything(kit, built):
    """What a finished student has: solution modules, a notebook run and saved."""
    for rel in ("calc/ops.py", "calc/models.py"):
        shutil.copy(built / "solutions" / "demo" / rel, kit / rel)
    nb = json.loads((built / "solutions" / "demo" / "Demo.ipynb").read_text())
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            count += 1
            cell["execution_count"] = count
    nb["cells"][7]["outputs"] = [{"name": "stdout", "output_type": "stream",
                                  "text": ["mean of 1000 squared normals: 1.010\n"]}]
    (kit / "Demo.ipynb").write_text(json.dumps(nb))


def test_fresh_kit_is_refused_with_every_unfinished_answer(kit):
    result = collect(kit)
    assert result.returncode == 1
    assert result.stderr.splitlines()[:8] == [
        "Not ready:",
        "  - calc/ops.py: add is not implemented yet",
        "  - calc/ops.py: matmul is not implemented yet",
        "  - calc/ops.py: clip_all is not implemented yet",
        "  - calc/models.py: Linear.forward is not implemented yet",
        "  - Demo.ipynb: cell 6 (square) is not answered yet",
        "  - Demo.ipynb: cell 10 (why_square) is not answered yet",
        "  - Demo.ipynb: no cell has been run; run all cells, then save the notebook",
    ]
    assert not (kit / "demo_submission.zip").exists()


def test_missing_files_are_listed(kit, built):
    answer_everything(kit, built)
    (kit / "calc" / "models.py").unlink()
    (kit / "Demo.ipynb").unlink()
    result = collect(kit)
    assert result.returncode == 1
    assert "Missing files:\n  - calc/models.py\n  - Demo.ipynb\n" in result.stderr
    assert "Not ready" not in result.stderr
    assert not (kit / "demo_submission.zip").exists()


def test_one_remaining_stub_is_named(kit, built):
    answer_everything(kit, built)
    ops = kit / "calc" / "ops.py"
    ops.write_text(ops.read_text().replace("    return a + b\n", '    raise NotImplementedError("add")\n'))
    result = collect(kit)
    assert result.returncode == 1
    assert result.stderr.startswith("Not ready:\n  - calc/ops.py: add is not implemented yet\n\n")


def test_newer_checkpoint_copy_means_unsaved(kit, built):
    answer_everything(kit, built)
    (kit / ".ipynb_checkpoints").mkdir()
    copy = kit / ".ipynb_checkpoints" / "Demo-checkpoint.ipynb"
    shutil.copy(kit / "Demo.ipynb", copy)
    later = time.time() + 60
    os.utime(copy, (later, later))
    result = collect(kit)
    assert result.returncode == 1
    assert "Demo.ipynb: the checkpoint copy in .ipynb_checkpoints/ is newer" in result.stderr


@pytest.mark.parametrize("bare", [False, True], ids=["nbconvert", "stdlib_only"])
def test_complete_kit_zips_exactly_the_submission_files(kit, built, bare):
    answer_everything(kit, built)
    (kit / "scratch_notes.txt").write_text("not part of the submission")
    result = collect(kit, bare=bare)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(kit / "demo_submission.zip") as zf:
        assert sorted(zf.namelist()) == SUBMISSION
        for name in SUBMISSION:
            assert zf.read(name) == (kit / name).read_bytes()
    page = (kit / "Demo.html").read_text()
    assert "mean of 1000 squared normals: 1.010" in page and "the sample mean converges to it" in page
    assert ("(plain export)" if bare else "(nbconvert export)") in result.stdout


def test_allow_incomplete_zips_what_is_there(kit):
    (kit / "calc" / "models.py").unlink()
    result = collect(kit, "--allow-incomplete", "--no-html")
    assert result.returncode == 0
    assert "Missing files:\n  - calc/models.py" in result.stdout
    with zipfile.ZipFile(kit / "demo_submission.zip") as zf:
        assert sorted(zf.namelist()) == ["Demo.ipynb", "calc/ops.py"]
    assert not (kit / "Demo.html").exists()
