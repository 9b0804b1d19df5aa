"""The Gradescope zip: layout, scripts, determinism, and a results file whatever happens."""

import json
import re
import shlex
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from harness_support import assert_valid_results

from coursekit.gradescope.lock import entry_name, split_entries
from coursekit.gradescope.package import PackageError, build_autograder_zip, torch_choice
from coursekit.manifest import load_assignment

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "tests" / "fixtures" / "demo"


def _pins(text: str) -> dict[str, str]:
    found = {}
    for line in text.splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if match:
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def _conf(zf) -> dict[str, str]:
    return {k: (shlex.split(v) or [""])[0] for k, v in
            re.findall(r"^([A-Z_]+)=(.*)$", zf.read("setup.conf").decode(), re.M)}


def test_zip_layout_and_scripts(build):
    with zipfile.ZipFile(build.autograder_zip("demo")) as zf:
        names = set(zf.namelist())
        for required in ("setup.sh", "run_autograder", "setup.conf", "uv-requirement.txt",
                         "grader-requirements.txt", "grader-constraints.txt",
                         "torch-requirement.txt", "tests_manifest.json", "assignment.toml",
                         "coursekit/sandbox/child.py", "tests/test_ops.py", "starter/calc/ops.py"):
            assert required in names, required
        # The developer set (Jupyter, nbgrader, ...) stays out of the image.
        assert "requirements.txt" not in names and "constraints.txt" not in names
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


def test_grader_set_is_lean_fully_pinned_and_hashed(build):
    with zipfile.ZipFile(build.autograder_zip("demo")) as zf:
        entries = split_entries(zf.read("grader-requirements.txt").decode())
        constraints = _pins(zf.read("grader-constraints.txt").decode())
    names = {entry_name(e) for e in entries}
    for entry in entries:
        assert re.match(r"[a-z0-9_.\-]+==\S+ (--hash=sha256:[0-9a-f]{64} ?)+$", entry), entry
    assert "torch" not in names                       # installed on its own, from the CPU index
    assert not names & {"jupyter", "jupyterlab", "nbgrader", "sqlalchemy", "notebook", "matplotlib"}
    # Every dependency of every pinned package is itself pinned (here, in the developer
    # venv, which holds the same versions): nothing is left for the resolver to pick.
    tested = _pins((REPO / "constraints.txt").read_text())
    torch_deps = subprocess.run([sys.executable, "-m", "pip", "show", "torch"], capture_output=True,
                                text=True, check=True).stdout
    requires = re.search(r"^Requires: (.*)$", torch_deps, re.M).group(1)
    for dep in filter(None, (d.strip().lower().replace("_", "-") for d in requires.split(","))):
        assert dep in names, f"torch needs {dep}, which the grader set does not pin"
    for name, version in constraints.items():
        if name in tested:
            assert tested[name] == version, f"{name}: image {version}, tested {tested[name]}"


def test_default_torch_is_the_locked_cpu_build(build):
    with zipfile.ZipFile(build.autograder_zip("demo")) as zf:
        conf = _conf(zf)
        (torch,) = split_entries(zf.read("torch-requirement.txt").decode())
    assert conf["TORCH_LOCKED"] == "1"
    assert conf["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert re.match(r"torch==[0-9.]+\+cpu --hash=sha256:[0-9a-f]{64}$", torch), torch


def test_python_version_is_the_tested_one(build):
    with zipfile.ZipFile(build.autograder_zip("demo")) as zf:
        conf = _conf(zf)
    assert conf["PYTHON_VERSION"] == "%d.%d" % sys.version_info[:2]
    floor = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    assert floor == ">=" + conf["PYTHON_VERSION"]


def test_torch_spec_at_release_reaches_the_zip(tmp_path, monkeypatch, build):
    spec = "torch==2.13.0 --index-url https://example.org/whl/cu128 --extra-index-url https://example.org/x"
    monkeypatch.setenv("COURSEKIT_TORCH_SPEC", spec)
    a = load_assignment(DEMO / "source" / "demo")
    path = build_autograder_zip(a, build.release("demo"), DEMO / "autograder" / "demo", tmp_path / "c.zip")
    with zipfile.ZipFile(path) as zf:
        conf = _conf(zf)
        reqs = [line for line in zf.read("torch-requirement.txt").decode().splitlines()
                if line and not line.startswith("#")]
    assert conf["TORCH_LOCKED"] == "0" and conf["TORCH_SPEC"] == spec
    assert conf["TORCH_INDEX_URL"] == "https://example.org/whl/cu128"
    assert conf["TORCH_EXTRA_INDEX_URL"] == "https://example.org/x"
    assert reqs == ["torch==2.13.0"]
    # The Makefile hands a TORCH_SPEC given to `make release` to the build.
    dry = subprocess.run(["make", "-n", "release", f"TORCH_SPEC={spec}"], cwd=REPO, capture_output=True,
                         text=True, check=True).stdout
    assert f"COURSEKIT_TORCH_SPEC='{spec}'" in dry
    assert "COURSEKIT_TORCH_SPEC" not in subprocess.run(["make", "-n", "release"], cwd=REPO, capture_output=True,
                                                        text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout


@pytest.mark.parametrize("spec, message", [
    ("numpy==2.4.6", "names no torch requirement"),
    ("torch==2.13.0 --pre", "--pre is not supported"),
    ("torch==2.13.0 --index-url", "--index-url needs a URL"),
])
def test_bad_torch_spec_is_refused_with_the_reason(spec, message):
    with pytest.raises(PackageError, match=re.escape(message)):
        torch_choice(spec)


def test_setup_script_parses_and_leaves_the_image_python_alone(build):
    with zipfile.ZipFile(build.autograder_zip("demo")) as zf:
        script = zf.read("setup.sh").decode()
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)
    # Gradescope's harness runs on the image's python3: nothing may be installed into it.
    commands = script.replace("\\\n", " ").splitlines()
    pip_installs = [c for c in commands if "python3 -m pip install" in c]
    assert pip_installs
    for command in pip_installs:
        assert "--target" in command and "--require-hashes" in command, command
    installs = [c for c in commands if re.search(r"uv\S* pip install", c, re.I)]
    assert len(installs) == 3
    assert sum("--require-hashes" in c for c in installs) == 2   # the lock and the locked torch
