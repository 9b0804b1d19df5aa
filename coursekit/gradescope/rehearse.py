"""Run an autograder zip the way Gradescope does, on this machine, offline.

Gradescope builds an image by unpacking the zip into /autograder/source and running
setup.sh as root, then, per submission, puts the upload in /autograder/submission and
runs /autograder/run_autograder, which must leave /autograder/results/results.json.
Here each step runs in a private mount namespace (so /autograder is a scratch folder
bind-mounted there, invisible to the rest of the machine) without a network:

- the image's python3 is a stand-in (e.g. pyenv's 3.10 for Ubuntu 22.04, 3.12 for 24.04);
- PyPI, PyTorch's CPU wheel index and python-build-standalone are stand-ins too: local
  folders, filled beforehand with the very files the lock names (hashes checked), which
  setup.sh reaches through the same options it uses on Gradescope (COURSEKIT_INDEX_URL,
  COURSEKIT_TORCH_INDEX_URL, uv's UV_PYTHON_DOWNLOADS_JSON_URL);
- Gradescope's default resources (0.5 CPU, 768 MB) are applied with one CPU's affinity
  plus a cgroup v1 CPU quota and memory limit where the machine lets root create
  cgroups; `Limits.active` says which held.

Needs root, util-linux's `unshare` and `setpriv`, and `unzip`. Used by the kit's end-to-end test and by
`make bench`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.gradescope.lock import split_entries

CACHE = Path(os.environ.get("COURSEKIT_WHEEL_CACHE", Path.home() / ".cache" / "coursekit-wheels"))
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
# Gradescope's default autograder resources (its troubleshooting page).
GRADESCOPE_CPU = 0.5
GRADESCOPE_MEMORY_MB = 768
GRADESCOPE_TIMEOUT_S = 600
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Root's capabilities in a Docker container with default settings (Docker's documented
# default set): no CAP_SYS_ADMIN, so no mounts or namespaces of its own.
DOCKER_CAPS = ("chown", "dac_override", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
               "net_bind_service", "net_raw", "sys_chroot", "mknod", "audit_write", "setfcap")


class RehearsalError(RuntimeError):
    """The machine cannot rehearse (not root, no unshare, a stand-in missing)."""


def cannot_rehearse() -> str | None:
    """Why this machine cannot run a rehearsal, or None when it can."""
    if os.geteuid() != 0:
        return "needs root (mount namespaces, bind mounts, cgroups)"
    for tool in ("unshare", "setpriv", "unzip"):
        if not shutil.which(tool):
            return f"needs `{tool}` on PATH"
    probe = subprocess.run(["unshare", "--mount", "--net", "--propagation", "private", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create mount and network namespaces: {probe.stderr.strip()}"
    return None


def pyenv_python(version: str) -> Path:
    """The newest pyenv build of `version` (e.g. "3.10")."""
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"),
                   key=lambda p: [int(x) for x in re.findall(r"\d+", p.parts[-3])])
    if not found:
        raise RehearsalError(f"no Python {version} under {PYENV} to stand in for the image's python3")
    return found[-1]


# ---- stand-ins for PyPI, PyTorch's CPU index and python-build-standalone --------------

def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_simple_index(files: Path, index: Path) -> None:
    """A PEP 503 index over the wheels in `files` (what pip and uv read from file:// URLs)."""
    shutil.rmtree(index, ignore_errors=True)
    projects: dict[str, list[Path]] = {}
    for wheel in sorted(files.glob("*.whl")):
        name = re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()
        projects.setdefault(name, []).append(wheel)
    for name, wheels in projects.items():
        folder = index / name
        folder.mkdir(parents=True)
        links = "".join(f'<a href="{w.as_uri()}#sha256={_sha256(w)}">{w.name}</a>\n' for w in wheels)
        (folder / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")


def _download(requirements: Path, dest: Path, platform_args: list[str]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
           "--only-binary=:all:", "-d", str(dest), "-r", str(requirements)] + platform_args
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RehearsalError(f"could not fill the wheel cache from {requirements.name}:\n"
                             f"{proc.stderr.strip()[-2000:]}")


def _pins(path: Path) -> list[str]:
    return [e.split()[0] for e in split_entries(path.read_text())]


@dataclass
class Sources:
    """Local stand-ins for what setup.sh downloads on Gradescope."""

    pypi_index: Path
    torch_index: Path
    python_downloads: Path   # uv's downloads JSON, pointing at the stand-in CPython archive
    python_version: str      # the CPython version the stand-in archive holds

    def env(self) -> dict:
        return {"COURSEKIT_INDEX_URL": self.pypi_index.as_uri(),
                "COURSEKIT_TORCH_INDEX_URL": self.torch_index.as_uri(),
                "UV_PYTHON_DOWNLOADS_JSON_URL": str(self.python_downloads)}


def _standin_python(cache: Path, minor: str) -> tuple[Path, str]:
    """A python-build-standalone-shaped archive of pyenv's `minor`, and uv's JSON for it."""
    python = pyenv_python(minor)
    prefix = python.parents[1]
    version = prefix.name
    archive = cache / f"cpython-{version}-standin.tar.gz"
    if not archive.is_file():
        skip = re.compile(r"(^|/)(__pycache__|test|idlelib|site-packages/.+)(/|$)|\.a$")
        tmp = archive.with_suffix(".tmp")
        with tarfile.open(tmp, "w:gz") as tar:
            tar.add(prefix, arcname="python",
                    filter=lambda info: None if skip.search(info.name.partition("/")[2]) else info)
        tmp.rename(archive)
    major, minor_n, patch = (int(x) for x in version.split("."))
    key = f"cpython-{version}-linux-x86_64-gnu"
    doc = {key: {"name": "cpython", "arch": {"family": "x86_64", "variant": None}, "os": "linux",
                 "libc": "gnu", "major": major, "minor": minor_n, "patch": patch, "prerelease": "",
                 "url": archive.as_uri(), "sha256": _sha256(archive), "variant": None,
                 "build": "standin"}}
    downloads = cache / f"python-downloads-{version}.json"
    downloads.write_text(json.dumps(doc, indent=1))
    return downloads, version


def prepare_sources(zip_path: Path, cache: Path = CACHE) -> Sources:
    """Fill `cache` (reused across runs) with every file the zip's setup.sh will fetch."""
    cache.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path) as zf:
        conf = zf.read("setup.conf").decode()
        reqs = {n: zf.read(n) for n in ("grader-requirements.txt", "torch-requirement.txt",
                                         "uv-requirement.txt")}
    locked = re.search(r"^TORCH_LOCKED=1$", conf, re.M)
    if not locked:
        raise RehearsalError("the zip's torch is not hash-locked (TORCH_SPEC was set at release); "
                             "rehearsals use the locked CPU build")
    minor = re.search(r"^PYTHON_VERSION=(\S+)$", conf, re.M).group(1)
    stage = cache / "requirements"
    stage.mkdir(exist_ok=True)
    cp = ["--python-version", minor, "--implementation", "cp", "--platform", "manylinux_2_28_x86_64"]
    for name, data in reqs.items():
        (stage / name).write_bytes(data)
    groups = {"pypi": ["grader-requirements.txt", "uv-requirement.txt"], "torch": ["torch-requirement.txt"]}
    for group, names in groups.items():
        files = cache / f"{group}-files"
        have = {re.sub(r"[-_.]+", "-", w.name.split("-")[0]).lower() + "==" + w.name.split("-")[1]
                for w in files.glob("*.whl")} if files.is_dir() else set()
        for name in names:
            wanted = {re.sub(r"[-_.]+", "-", p.split("==")[0]).lower() + "==" + p.split("==")[1]
                      for p in _pins(stage / name)}
            if not wanted <= have:
                _download(stage / name, files, cp if name != "uv-requirement.txt" else
                          ["--platform", "manylinux_2_17_x86_64", "--python-version", minor])
        _write_simple_index(files, cache / f"{group}-simple")
    downloads, version = _standin_python(cache, minor)
    return Sources(cache / "pypi-simple", cache / "torch-simple", downloads, version)


# ---- resource limits -------------------------------------------------------------------

@dataclass
class Limits:
    """Gradescope's default resources, as closely as this machine allows."""

    cpu: float = GRADESCOPE_CPU
    memory_mb: int = GRADESCOPE_MEMORY_MB
    active: dict = field(default_factory=dict)   # what held: {"cpu": "...", "memory": "..."}
    _groups: list = field(default_factory=list)

    def open(self, name: str) -> "Limits":
        self.active = {"cpu": f"one CPU (taskset -c {min(os.sched_getaffinity(0))})",
                       "memory": "not limited"}
        try:
            group = self._group("cpu", name)
            (group / "cpu.cfs_period_us").write_text("100000")
            (group / "cpu.cfs_quota_us").write_text(str(int(100000 * self.cpu)))
            self.active["cpu"] += f" + cgroup v1 quota {self.cpu:g} CPU"
        except OSError as exc:
            self.active["cpu"] += f" (no CPU quota: {exc.strerror})"
        try:
            group = self._group("memory", name)
            (group / "memory.limit_in_bytes").write_text(str(self.memory_mb << 20))
            swap = group / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(self.memory_mb << 20))
            self.active["memory"] = f"cgroup v1 memory limit {self.memory_mb} MB"
        except OSError as exc:
            # An address-space limit is no stand-in: torch reserves far more than it uses.
            self.active["memory"] = f"not limited (no memory cgroup: {exc.strerror})"
        return self

    def _group(self, controller: str, name: str) -> Path:
        """A fresh cgroup (one left over from an earlier run would keep its old limits)."""
        group = Path("/sys/fs/cgroup") / controller / name
        if group.is_dir():
            group.rmdir()
        group.mkdir()
        self._groups.append(group)
        return group

    def prefix(self) -> list[str]:
        """A command prefix that enters the cgroups and pins one CPU, then execs the rest."""
        cpu = min(os.sched_getaffinity(0))
        enter = "".join(f"echo $$ > {g}/cgroup.procs; " for g in self._groups)
        return ["sh", "-c", enter + f'exec taskset -c {cpu} "$@"', "limits"]

    def _memory_group(self) -> Path | None:
        return next((g for g in self._groups if (g / "memory.stat").exists()), None)

    def start_sampling(self, every: float = 0.05) -> None:
        """Follow the container's anonymous memory (what cannot be reclaimed) while it runs.

        The cgroup's own peak counts page cache, which fills any limit and is given back
        under pressure, so it says nothing about whether grading fits.
        """
        self._peak_anon = 0
        self._stop = threading.Event()
        group = self._memory_group()
        if group is None:
            return

        def sample():
            while not self._stop.is_set():
                try:
                    stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines())
                    anon = int(stat.get("total_rss", 0)) + int(stat.get("total_shmem", 0))
                    self._peak_anon = max(self._peak_anon, anon)
                except (OSError, ValueError):
                    pass
                self._stop.wait(every)

        self._sampler = threading.Thread(target=sample, daemon=True)
        self._sampler.start()

    def stop_sampling(self) -> None:
        if getattr(self, "_stop", None) is not None:
            self._stop.set()
        if getattr(self, "_sampler", None) is not None:
            self._sampler.join()
            self._sampler = None

    def peak_memory_mb(self) -> float | None:
        """The container's peak anonymous memory (sampled), None without a memory cgroup."""
        if self._memory_group() is None:
            return None
        return getattr(self, "_peak_anon", 0) / (1 << 20)

    def oom_kills(self) -> int | None:
        """Processes the kernel killed for exceeding the memory limit (None when unknown)."""
        group = self._memory_group()
        if group is None or not (group / "memory.oom_control").exists():
            return None
        found = re.search(r"^oom_kill (\d+)$", (group / "memory.oom_control").read_text(), re.M)
        return int(found.group(1)) if found else None

    def close(self) -> None:
        for group in reversed(self._groups):
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
        self._groups.clear()


# ---- the image -------------------------------------------------------------------------

@dataclass
class Step:
    """One command run in the image: what it printed and how long it took."""

    returncode: int
    output: str
    seconds: float


@dataclass
class Image:
    """A scratch folder that plays /autograder, built from one zip with one base python3."""

    scratch: Path
    base_python: Path
    sources: Sources
    build: Step | None = None

    @property
    def root(self) -> Path:
        return self.scratch / "autograder"

    def _run(self, script: str, env: dict, timeout: float, limits: Limits | None = None) -> Step:
        """`script` (bash) in a private mount namespace without network, /autograder bound."""
        bin_dir = self.scratch / "image-bin"
        mount = (f"mkdir -p /autograder && mount --bind {shlex.quote(str(self.root))} /autograder "
                 f"&& cd /autograder && ")
        clean_env = {"PATH": f"{bin_dir}:{PATH}", "HOME": str(self.scratch / "home"), "LANG": "C.UTF-8",
                     "PIP_CONFIG_FILE": "/dev/null", "PYTHONNOUSERSITE": "1", **env}
        cmd = ["unshare", "--mount", "--net", "--propagation", "private", "bash", "-c", mount + script]
        if limits is not None:
            cmd = limits.prefix() + cmd
        start = time.perf_counter()
        if limits is not None:
            limits.start_sampling()
        try:
            proc = subprocess.run(["env", "-i", *(f"{k}={v}" for k, v in clean_env.items()), *cmd],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  timeout=timeout)
            code, out = proc.returncode, proc.stdout
        except subprocess.TimeoutExpired as exc:
            code, out = 124, (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
                else (exc.stdout or "")
        finally:
            if limits is not None:
                limits.stop_sampling()
        return Step(code, out, time.perf_counter() - start)

    def build_image(self, zip_path: Path, timeout: float = 1800) -> Step:
        """Unpack the zip into source/ and run setup.sh, as Gradescope's image build does."""
        if self.root.exists():
            shutil.rmtree(self.root)
        (self.root / "source").mkdir(parents=True)
        (self.scratch / "home").mkdir(exist_ok=True)
        bin_dir = self.scratch / "image-bin"
        bin_dir.mkdir(exist_ok=True)
        link = bin_dir / "python3"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(self.base_python)
        script = (f"unzip -q {shlex.quote(str(Path(zip_path).resolve()))} -d /autograder/source "
                  "&& cp /autograder/source/run_autograder /autograder/run_autograder "
                  "&& bash /autograder/source/setup.sh")
        self.build = self._run(script, self.sources.env(), timeout)
        return self.build

    def use_zip(self, zip_path: Path) -> None:
        """Swap /autograder/source for another zip built from the same setup files, so
        one built environment serves several assignments."""
        with zipfile.ZipFile(zip_path) as zf:
            names = ("setup.sh", "setup.conf", "uv-requirement.txt", "grader-requirements.txt",
                     "torch-requirement.txt")
            if any(zf.read(n) != (self.root / "source" / n).read_bytes() for n in names):
                raise RehearsalError(f"{zip_path.name} sets up a different image; build it on its own")
            source = self.root / "source"
            shutil.rmtree(source)
            source.mkdir()
            zf.extractall(source)
        for script in ("setup.sh", "run_autograder"):
            os.chmod(source / script, 0o755)
        shutil.copy2(source / "run_autograder", self.root / "run_autograder")

    def grade(self, submission: Path, limits: Limits | None = None, env: dict | None = None,
              timeout: float = GRADESCOPE_TIMEOUT_S, docker_caps: bool = False) -> tuple[dict | None, Step]:
        """Put `submission` (a zip, as uploaded) in place and run /autograder/run_autograder.

        docker_caps: run it with only the capabilities Docker gives root by default.
        """
        for sub in ("submission", "results"):
            shutil.rmtree(self.root / sub, ignore_errors=True)
            (self.root / sub).mkdir()
        run = "/autograder/run_autograder"
        if docker_caps:
            caps = ",".join(f"+{c}" for c in DOCKER_CAPS)
            run = f"setpriv --bounding-set -all,{caps} --inh-caps -all {run}"
        script = (f"unzip -q {shlex.quote(str(Path(submission).resolve()))} -d /autograder/submission; "
                  + run)
        step = self._run(script, dict(env or {}), timeout, limits)
        results = self.root / "results" / "results.json"
        doc = json.loads(results.read_text()) if results.is_file() else None
        return doc, step

    def venv_python(self) -> Path:
        return self.root / "venv" / "bin" / "python"

    def describe_python(self) -> dict:
        """The built venv's interpreter: version and where its base installation lives."""
        code = ("import json, sys, torch; print(json.dumps({'version': sys.version.split()[0], "
                "'base_prefix': sys.base_prefix, 'torch': torch.__version__}))")
        step = self._run(f"/autograder/venv/bin/python -c {shlex.quote(code)}", {}, 300)
        if step.returncode != 0:
            raise RehearsalError(f"the built venv does not start:\n{step.output[-2000:]}")
        return json.loads(step.output.strip().splitlines()[-1])
