"""The Gradescope zip: layout, scripts, determinism, and a results file whatever happens."""

import json
import stat
import zipfile
from pathlib import Path

from harness_support import assert_valid_results

from coursekit.gradescope.package import build_autograder_zip
from coursekit.manifest import load_assignment

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"


def test_zip_layout_and_scripts(build):
    with zipfile.ZipFile(build.autograder_zip("demo")) as zf:
        names = set(zf.namelist())
        for required in ("setup.sh", "run_autograder", "requirements.txt", "constraints.txt",
                         "torch-requirement.txt", "tests_manifest.json", "assignment.toml",
                         "coursekit/sandbox/child.py", "tests/test_ops.py", "starter/calc/ops.py"):
            assert required in names, required
        for script in ("setup.sh", "run_autograder"):
            info = zf.getinfo(script)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o755
            assert b"\r\n" not in zf.read(script)
            assert zf.read(script).startswith(b"#!/usr/bin/env bash\n")
        # No solution code travels to Gradescope: the starter is the released stub.
        assert b"NotImplementedError" in zf.read("starter/calc/ops.py")
        manifest = json.loads(zf.read("tests_manifest.json"))
        assert {e["question"] for e in manifest} == {"add", "matmul", "model", "nb_square"}


def test_zip_is_deterministic(build, tmp_path):
    a = load_assignment(DEMO / "source" / "demo")
    zips = [build_autograder_zip(a, build.release("demo"), DEMO / "autograder" / "demo",
                                 tmp_path / name) for name in ("one.zip", "two.zip")]
    assert zips[0].read_bytes() == zips[1].read_bytes()


def test_results_written_even_when_the_manifest_is_broken(grade_demo, demo, build, tmp_path):
    """A staff error (graders broken in the zip) still yields a valid file listing every test."""
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(build.autograder_zip("demo")) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "assignment.toml":
                data = b"this is not toml ["
            dst.writestr(info, data)
    result = grade_demo(demo, autograder_zip=broken)
    assert_valid_results(result.results)
    assert result.score == 0
    assert "could not finish" in result.results["output"]
    assert all(t["output"].startswith("not run") for t in result.results["tests"])
