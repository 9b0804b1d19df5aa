"""Student-side fixtures: released kits unzipped into empty folders, and fresh virtual
environments made from a kit's own requirements.txt with local wheels only.

The wheels are downloaded once into a cache outside the repository
(COURSEKIT_WHEELS, default ~/.cache/coursekit-wheels); installs never reach an index.
Kits with identical requirements share one environment.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "datasets" / "cache"
ASSIGNMENTS = ["a1_pytorch_basics", "a2_neural_nets", "a3_needle"]


def wheel_cache() -> Path:
    return Path(os.environ.get("COURSEKIT_WHEELS", Path.home() / ".cache" / "coursekit-wheels"))


def _run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


class Venvs:
    def __init__(self, root: Path):
        self.root = root
        self.made: dict[str, Path] = {}

    def python_for(self, requirements: Path) -> Path:
        text = requirements.read_text()
        key = hashlib.sha256(text.encode()).hexdigest()[:12]
        if key in self.made:
            return self.made[key]
        venv = self.root / f"venv-{key}"
        _run([sys.executable, "-m", "venv", str(venv)])
        python = venv / "bin" / "python"
        cache = wheel_cache()
        cache.mkdir(parents=True, exist_ok=True)
        install = [str(python), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(cache),
                   "-r", str(requirements)]
        env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
        env.pop("PIP_FIND_LINKS", None)
        env["PIP_CONFIG_FILE"] = os.devnull      # local wheels only: no configured index
        first = subprocess.run(install, capture_output=True, text=True, env=env)
        if first.returncode != 0:
            # Fill the cache once. Index options in the file are for students; the wheels
            # come from whatever this machine's pip is set up to use.
            plain = self.root / f"requirements-{key}.txt"
            plain.write_text("".join(ln + "\n" for ln in text.splitlines() if not ln.lstrip().startswith("-")))
            _run([sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:",
                  "-d", str(cache), "-r", str(plain)])
            _run(install, env=env)
        self.made[key] = python
        return python


@pytest.fixture(scope="session")
def venvs(tmp_path_factory) -> Venvs:
    return Venvs(tmp_path_factory.mktemp("venvs"))


@pytest.fixture
def unzip_kit(build, tmp_path):
    """unzip_kit(a) -> the kit folder, unzipped from release/<a>.zip into an empty folder."""

    def unzip(name: str) -> Path:
        dest = tmp_path / f"unzipped-{name}"
        dest.mkdir()
        with zipfile.ZipFile(build.release(name).parent / f"{name}.zip") as zf:
            zf.extractall(dest)
        return dest / name

    return unzip


def run_in_kit(python: Path, kit: Path, *args, env=None, timeout=900):
    full = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", **(env or {}))
    full.pop("PYTHONPATH", None)
    return subprocess.run([str(python), *args], cwd=kit, capture_output=True, text=True,
                          env=full, timeout=timeout)
