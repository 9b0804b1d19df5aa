"""The kitdata/ package that student kits get: same sources, stdlib-only fetch, working loaders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import coursekit.data as data_pkg
from coursekit.data import kit_files

# Runs kitdata.fetch with numpy and tqdm made unimportable, as on a bare Python.
_BARE_RUN = (
    "import sys, runpy\n"
    "sys.modules['numpy'] = None\n"
    "sys.modules['tqdm'] = None\n"
    "sys.argv = ['kitdata.fetch'] + sys.argv[1:]\n"
    "runpy.run_module('kitdata.fetch', run_name='__main__', alter_sys=True)\n"
)


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("COURSEKIT_DATA", "PYTHONPATH")}
    env.update(extra)
    return env


def _write_kit(root: Path, files: dict) -> None:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def test_kit_files_are_the_sources(gen):
    files = kit_files(["mnist"])
    here = Path(data_pkg.__file__).parent
    assert sorted(files) == ["kitdata/__init__.py", "kitdata/fetch.py", "kitdata/formats.py",
                             "kitdata/loaders.py", "kitdata/registry.json"]
    for m in ("__init__.py", "fetch.py", "formats.py", "loaders.py"):
        assert files[f"kitdata/{m}"] == (here / m).read_bytes()
    registry = json.loads(files["kitdata/registry.json"])
    real = json.loads((gen.REPO / "datasets" / "registry.json").read_text())
    assert registry["datasets"] == {"mnist": real["datasets"]["mnist"]}
    assert kit_files(["mnist"]) == files  # deterministic
    assert set(json.loads(kit_files(["cifar10", "mnist"])["kitdata/registry.json"])["datasets"]) == {"cifar10", "mnist"}


def test_kit_files_unknown_name():
    with pytest.raises(ValueError, match=r"unknown data set\(s\) svhn; the registry knows cifar10, mnist"):
        kit_files(["svhn"])


def test_kit_fetches_on_bare_python_and_loads(tmp_path, gen):
    kit = tmp_path / "kit"
    _write_kit(kit, kit_files(["mnist"]))
    mirror = tmp_path / "mirror"
    arrays = gen.write_mnist(mirror / "mnist")
    # The kit's registry, pointed at the small generated files.
    reg = gen.small_registry(official_mnist=mirror / "mnist")
    reg["datasets"] = {"mnist": reg["datasets"]["mnist"]}
    (kit / "kitdata" / "registry.json").write_text(json.dumps(reg))

    run = subprocess.run([sys.executable, "-c", _BARE_RUN, "mnist", "--mirror", str(mirror)],
                         cwd=kit, env=_env(), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr, run.stderr
    for f in gen.MNIST_FILES:
        assert (kit / "datasets" / "mnist" / f).read_bytes() == (mirror / "mnist" / f).read_bytes()

    check = subprocess.run([sys.executable, "-c", _BARE_RUN, "mnist", "--check", "--strict"],
                           cwd=kit, env=_env(), capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count("verified, official file") == 4

    # As a plain script too (python kitdata/fetch.py), e.g. from a notebook cell.
    script = subprocess.run([sys.executable, "kitdata/fetch.py", "mnist", "--check"],
                            cwd=kit, env=_env(), capture_output=True, text=True, timeout=60)
    assert script.returncode == 0, script.stderr

    load = subprocess.run(
        [sys.executable, "-c",
         "import kitdata, numpy as np\n"
         "X, y = kitdata.load_mnist(kitdata.data_root(), 't10k')\n"
         "print(kitdata.data_root()); np.save('y.npy', y); print(X.shape, X.dtype)"],
        cwd=kit, env=_env(), capture_output=True, text=True, timeout=60)
    assert load.returncode == 0, load.stderr
    assert load.stdout.splitlines() == [str(kit / "datasets"), "(7, 28, 28) uint8"]
    np.testing.assert_array_equal(np.load(kit / "y.npy"), arrays["t10k-labels-idx1-ubyte.gz"])


def test_kit_reports_missing_files(tmp_path):
    kit = tmp_path / "kit"
    _write_kit(kit, kit_files(["cifar10"]))
    run = subprocess.run([sys.executable, "-c", _BARE_RUN, "cifar10", "--check"],
                         cwd=kit, env=_env(), capture_output=True, text=True, timeout=60)
    assert run.returncode == 1
    assert "7 file(s) missing or wrong:" in run.stdout
    assert f"{kit / 'datasets' / 'cifar-10-batches-py' / 'data_batch_1'}: missing" in run.stdout


def test_kit_data_root_from_environment(tmp_path):
    kit = tmp_path / "kit"
    _write_kit(kit, kit_files(["mnist"]))
    run = subprocess.run([sys.executable, "-c", "import kitdata; print(kitdata.data_root())"],
                         cwd=kit, env=_env(COURSEKIT_DATA=str(tmp_path / "elsewhere")),
                         capture_output=True, text=True, timeout=60)
    assert run.stdout.strip() == str(tmp_path / "elsewhere")
