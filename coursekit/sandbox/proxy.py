"""The grader's side of the sandbox: start the student process and talk to it.

`Sandbox` owns one student process (restarted on demand after a crash or timeout);
`Student` is the per-test view graders use (`student.module(...)`, ...), carrying the
test's deadline; `Remote` is a handle to an object that lives in the student process.
"""

from __future__ import annotations

import errno
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from coursekit.sandbox import codec, identity, reaper, workspace
from coursekit.sandbox.errors import (
    MissingCell,
    SandboxFailure,
    StudentCrashed,
    StudentError,
    StudentProtocolError,
    StudentTimeout,
)

RUNTIME_FILES = ("codec.py", "child.py", "definition_cells.py", "errors.py", "jail.py")


IMPORT_HANG_SECONDS = 10


def is_root() -> bool:
    return os.geteuid() == 0


@dataclass
class Limits:
    memory_mb: int = 2048        # address space of the student process
    cpu_seconds: int = 900       # CPU time over the whole process lifetime (a backstop)
    file_size_mb: int = 64       # largest file it may write
    max_processes: int = 256     # processes and threads of the student user (root mode)
    output_kb: int = 64          # stdout/stderr kept per test; the rest is counted, not kept
    # Largest reply the grader accepts. The grader holds a reply once; 512 MB is far
    # more than any question returns (predictions, weights) and leaves the grader
    # room on a machine sized for the student process (Gradescope's default is 768 MB).
    max_reply_mb: int = 512


class Remote(codec.Handle):
    """A handle to an object in the student process.

    Attribute reads, calls and item access go to the student process; plain data comes
    back decoded, anything else as another `Remote`.
    """

    __slots__ = ("_owner", "_label", "_generation")

    def _child_label(self, name: str) -> str:
        if self._label.endswith(".ipynb"):
            return f"{name} (in {self._label})"
        return f"{self._label}.{name}"

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._owner._request({"op": "getattr", "h": self, "name": name}, self._child_label(name))

    def __setattr__(self, name, value):
        if name in Remote.__slots__ or name in codec.Handle.__slots__:
            object.__setattr__(self, name, value)
        else:
            self._owner._request({"op": "setattr", "h": self, "name": name, "value": value},
                                 f"setting {self._child_label(name)}")

    def __call__(self, *args, **kwargs):
        return self._owner._request({"op": "call", "h": self, "args": list(args), "kwargs": kwargs},
                                    self._label)

    def __getitem__(self, key):
        return self._owner._request({"op": "getitem", "h": self, "key": key}, f"{self._label}[{key!r}]")

    def __setitem__(self, key, value):
        self._owner._request({"op": "setitem", "h": self, "key": key, "value": value},
                             f"setting {self._label}[{key!r}]")

    def ref(self, name: str) -> "Remote":
        """A handle to attribute `name` itself, not a decoded copy of it."""
        return self._owner._request({"op": "getattr", "h": self, "name": name, "ref": True},
                                    self._child_label(name))

    def __repr__(self):
        return f"<student object {self._type} ({self._label})>"


def _widen_pipe(fd: int) -> None:
    """Ask for a 1 MiB pipe buffer (Linux), so large arrays move in fewer system calls."""
    try:
        import fcntl
        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except OSError:
        pass


class _DeadlinePipe:
    """A file-like reader of a pipe that gives up at a deadline."""

    def __init__(self, fd: int, deadline: float):
        self.fd, self.deadline = fd, deadline

    def read(self, n: int) -> bytes:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            raise TimeoutError
        return os.read(self.fd, n)

    def readinto(self, buf) -> int:
        """Read into `buf` (a writable buffer) in place; the number of bytes read."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
            raise TimeoutError
        return os.readv(self.fd, [buf])


def namespaces_enabled() -> bool:
    """Namespaces are used unless COURSEKIT_SANDBOX_NAMESPACES=0 (kept for testing the
    fallback and for machines where they misbehave)."""
    return os.environ.get("COURSEKIT_SANDBOX_NAMESPACES", "1") != "0"


def _interpreter_paths(python: str) -> list[str]:
    """Folders the student process needs to see to run `python` (prefixes, real binary)."""
    probe = subprocess.run(
        [python, "-I", "-c", "import json, sys, sysconfig; print(json.dumps("
         "[sys.prefix, sys.base_prefix, sys.executable, sysconfig.get_path('stdlib')]))"],
        capture_output=True, text=True, timeout=60, check=True)
    prefix, base_prefix, executable, stdlib = json.loads(probe.stdout)
    paths = {prefix, base_prefix, os.path.dirname(os.path.realpath(executable)),
             os.path.realpath(stdlib), os.path.realpath(python)}
    paths.add(os.path.dirname(os.path.realpath(python)))
    return sorted(p for p in paths if p and p != "/")


class Sandbox:
    """One student process at a time, started lazily and restarted after it dies.

    `pristine` holds the prepared submission (the starter kit with the submitted files
    laid over it), owned by root. Each student process gets a fresh copy of it
    (`coursekit.sandbox.workspace`) and starts there with `python_path` entries
    (relative to it) importable. As root, the grading leases its own uid
    (`coursekit.sandbox.identity`) and the launcher (`coursekit.sandbox.jail`) adds
    namespaces; `layers` says which protections were active.
    """

    def __init__(self, pristine: Path, python_path=(".",), limits: Limits | None = None,
                 python: str | None = None, env: dict | None = None, device: str = "cpu"):
        self.pristine = Path(pristine)
        self.python_path = list(python_path)
        self.limits = limits or Limits()
        self.python = python or sys.executable
        self.extra_env = dict(env or {})
        self.device = device
        self.base = workspace.make_base()
        self.identity = identity.lease() if is_root() else None
        self.namespaces = namespaces_enabled() and self.identity is not None
        self.layers: dict[str, object] = {}
        self.generation = 0
        self.workdir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self._runtime: str | None = None
        self._interpreter: list[str] | None = None
        self._output = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        self._drainer: threading.Thread | None = None
        self._req = self._rep = -1
        self.failed_imports: dict[tuple[str, str], SandboxFailure] = {}
        # Orphans of the student re-parent to the grader, which reaps (or, without a uid
        # of the grading's own, kills) them.
        reaper.become_subreaper()

    # ------------------------------------------------------------------ lifecycle

    def _prepare_runtime(self) -> str:
        if self._runtime is None:
            root = tempfile.mkdtemp(prefix="coursekit-runtime-")
            os.chmod(root, 0o755)
            pkg = Path(root, "coursekit", "sandbox")
            pkg.mkdir(parents=True)
            here = Path(__file__).parent
            # Empty package files: the child must not import the grader-side modules.
            Path(root, "coursekit", "__init__.py").write_text("")
            Path(pkg, "__init__.py").write_text("")
            for name in RUNTIME_FILES:
                shutil.copyfile(here / name, pkg / name)
            for path in Path(root).rglob("*"):
                os.chmod(path, 0o755 if path.is_dir() else 0o644)
            self._runtime = root
        return self._runtime

    def shared_folder(self) -> Path:
        """A fresh root-owned folder the student process can read but not write."""
        return workspace.new_shared_folder(self.base)

    def start(self) -> None:
        self.stop()
        self.generation += 1
        runtime = self._prepare_runtime()
        # No process of this grading exists now (stop() made sure): the copy cannot be raced.
        self.workdir = self.base / f"work-{self.generation}"
        ids = (self.identity.uid, self.identity.gid) if self.identity else None
        workspace.fresh_copy(self.pristine, self.workdir, ids)
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        status_r, status_w = os.pipe()
        out_r, out_w = os.pipe()
        for fd in (req_w, rep_w):
            _widen_pipe(fd)
        limits = asdict(self.limits)
        if self.identity is None:
            # Without a uid of its own the process limit would count the grader's
            # processes too; rely on the process group and subreaper instead.
            limits["max_processes"] = 0
        child_config = {"runtime": runtime, "python_path": self.python_path, "limits": limits,
                        "request_fd": req_r, "reply_fd": rep_w, "id_base": self.generation * 10**9}
        tmp = "/tmp" if self.namespaces else str(self.workdir / ".tmp")
        if not self.namespaces:
            os.mkdir(self.workdir / ".tmp", 0o700)
            if ids:
                os.lchown(self.workdir / ".tmp", *ids)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.workdir),
            "USER": "student",
            "LOGNAME": "student",
            "TMPDIR": tmp,
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(self.workdir / ".matplotlib"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONUNBUFFERED": "1",
        }
        for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
                    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(self.extra_env)
        if self._interpreter is None:
            self._interpreter = _interpreter_paths(self.python) if self.namespaces else []
        devices = []
        if self.device == "cuda":
            devices = [n for n in os.listdir("/dev") if n.startswith("nvidia")]
        config = {
            "status_fd": status_w, "request_fd": req_r, "reply_fd": rep_w,
            "namespaces": self.namespaces, "ids": list(ids) if ids else None,
            "view_root": str(self.base / "view"), "workdir": str(self.workdir),
            "readonly": self._interpreter + [runtime, str(self.base / "shared")],
            "writable": [str(self.workdir)], "devices": devices,
            "python": self.python, "child": str(Path(runtime, "coursekit", "sandbox", "child.py")),
            "child_config": json.dumps(child_config), "env": env,
        }
        self.proc = subprocess.Popen(
            [sys.executable, "-I", str(Path(runtime, "coursekit", "sandbox", "jail.py")),
             json.dumps(config)],
            cwd=str(self.base), env={"PATH": env["PATH"], "LANG": "C.UTF-8"},
            stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w,
            pass_fds=(req_r, rep_w, status_w), start_new_session=True,
        )
        for fd in (req_r, rep_w, status_w, out_w):
            os.close(fd)
        os.set_blocking(req_w, False)
        self._req, self._rep = req_w, rep_r
        self._drainer = threading.Thread(target=self._drain, args=(out_r,), daemon=True)
        self._drainer.start()
        status = self._read_status(status_r)
        self.layers = dict(status.get("layers") or {})
        self.layers["cgroup"] = "not used: the kit relies on rlimits and a uid per grading"
        if status.get("problem"):
            problem = status["problem"]
            self.stop()
            said = self.take_output().strip()
            if said:
                problem += f"; it said:\n{said[-2000:]}"
            raise StudentCrashed(f"the student process could not be started: {problem}")

    @staticmethod
    def _read_status(fd: int, timeout: float = 60) -> dict:
        """The launcher's report (trusted: written before any student code runs)."""
        data = bytearray()
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                    break
                chunk = os.read(fd, 65536)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(fd)
        try:
            return json.loads(data.decode())
        except ValueError:
            return {"problem": "the launcher ended before reporting"}

    def _drain(self, fd: int) -> None:
        """Keep the student's output (up to the cap) until every writer is gone.

        This thread owns `fd` and closes it: were stop() to close it while a read is in
        flight, the number could be reused by the next process's pipes and read here.
        """
        cap = self.limits.output_kb * 1024
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                os.close(fd)
                return
            with self._lock:
                room = cap - len(self._output)
                if room > 0:
                    self._output += chunk[:room]
                self._dropped += max(0, len(chunk) - max(room, 0))

    def take_output(self) -> str:
        """The student's printed output since the last call (truncated), then cleared."""
        with self._lock:
            text = self._output.decode("utf-8", "replace")
            if self._dropped:
                text += f"\n... ({self._dropped} more bytes of output not shown)"
            self._output.clear()
            self._dropped = 0
        return text

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """End the student process and everything it started; close the pipes."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        workdir, self.workdir = self.workdir, None
        if self.identity is not None:
            # Every process of the uid, wherever it went; then the uid empties its own folder.
            identity.end_all(self.identity, empty=[workdir] if workdir else [],
                             clean_shared_temp=True)
        else:
            reaper.kill_descendants(proc.pid)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        # Nothing holds the output pipe any more, so the drain thread meets its end.
        if self._drainer is not None:
            self._drainer.join(timeout=5)
            self._drainer = None
        for fd in (self._req, self._rep):
            if fd >= 0:
                os.close(fd)
        self._req = self._rep = -1
        if workdir is not None:
            self._discard(workdir)

    def _discard(self, workdir: Path) -> None:
        if self.identity is None:
            shutil.rmtree(workdir, ignore_errors=True)
            return
        try:
            os.rmdir(workdir)   # emptied by the uid itself; base/ is root's, so no swap
        except OSError:
            pass

    def close(self) -> None:
        self.stop()
        if self._runtime:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None
        if self.identity is not None:
            identity.end_all(self.identity, empty=[p for p in self.base.glob("work-*")])
            self.identity.release()
            self.identity = None
        shutil.rmtree(self.base, ignore_errors=True)

    # ------------------------------------------------------------------ requests

    def _death(self, label: str) -> StudentCrashed:
        proc = self.proc
        code = None
        if proc is not None:
            try:
                code = proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                code = None
        self.stop()
        if code is None:
            how = "stopped answering"
        elif code < 0:
            sig = signal.Signals(-code).name if -code in signal.valid_signals() else str(-code)
            hint = {"SIGKILL": " (killed: out of memory or CPU time?)",
                    "SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)",
                    "SIGSEGV": " (segmentation fault)"}.get(sig, "")
            how = f"died with {sig}{hint}"
        else:
            how = f"exited with status {code}"
        return StudentCrashed(f"the student process {how} during {label}")

    def request(self, request: dict, label: str, deadline: float, owner=None):
        """Send one request and return the decoded reply (raising Student* errors).

        Handles in the reply are bound to `owner` (a `Student`), whose deadline their
        own requests then share.
        """
        if not self.alive:
            self.start()
        # After a restart, handles from the old process point at nothing.
        value = request.get("h")
        if isinstance(value, Remote) and value._generation != self.generation:
            raise StudentCrashed(
                f"{value._label} belongs to a student process that has since been restarted")
        started = time.monotonic()
        try:
            self._send(codec.encode(request), deadline)
            doc, buffers = codec.read_message(_DeadlinePipe(self._rep, deadline),
                                              self.limits.max_reply_mb << 20)
            reply = codec.decode(doc, buffers, make_handle=lambda tag: self._remote(tag, label, owner),
                                 deadline=deadline)
        except TimeoutError:
            self.stop()
            raise StudentTimeout(
                f"timed out after {time.monotonic() - started:.0f} s in {label}") from None
        except (EOFError, BrokenPipeError):
            raise self._death(label) from None
        except codec.ProtocolError as exc:
            self.stop()
            raise StudentProtocolError(
                f"{label} sent a reply the grader cannot read ({exc})") from None
        if type(reply) is dict and set(reply) == {"ok"}:
            return reply["ok"]
        if type(reply) is dict and set(reply) == {"error"} and type(reply["error"]) is dict:
            err = reply["error"]
            try:
                trace = [[codec.text(f, 300), int(n), codec.text(fn, 100), codec.text(c, 200)]
                         for f, n, fn, c in err.get("trace", [])]
                raise StudentError(label, codec.text(err["type"], 80),
                                   codec.text(err["message"], 2000), trace)
            except (KeyError, TypeError, ValueError, codec.ProtocolError):
                self.stop()
                raise StudentProtocolError(f"{label} sent a malformed error report") from None
        self.stop()
        raise StudentProtocolError(f"{label} sent a reply the grader cannot read")

    def _send(self, chunks, deadline: float) -> None:
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [self._req], [], remaining)[1]:
                    raise TimeoutError
                try:
                    written = os.write(self._req, view)
                except BlockingIOError:
                    continue
                except OSError as exc:
                    if exc.errno == errno.EPIPE:
                        raise BrokenPipeError from None
                    raise
                view = view[written:]

    def _remote(self, tag: dict, label: str, owner) -> Remote:
        remote = Remote(tag["$h"], codec.text(tag.get("type", "?"), 80), codec.text(tag.get("repr", ""), 200))
        remote._owner = owner
        remote._label = label
        remote._generation = self.generation
        return remote


class Student:
    """What a grader's `student` fixture is: the sandbox seen through one test's deadline."""

    def __init__(self, sandbox: Sandbox, timeout: float, device: str = "cpu"):
        self._sandbox = sandbox
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.device = device

    def _request(self, request: dict, label: str):
        return self._sandbox.request(request, label, self.deadline, owner=self)

    def _once(self, key: tuple[str, str], request: dict, label: str):
        """Run an import-like request; a failure is charged once and then repeated at once.

        A module that raises, hangs or crashes while loading does so every time: later
        tests that need it fail immediately with the first reason instead of each
        waiting out its own time limit.
        """
        failed = self._sandbox.failed_imports.get(key)
        if failed is not None:
            again = type(failed).__new__(type(failed))   # no __init__: any subclass
            again.__dict__.update(failed.__dict__)
            again.args = (f"{failed}\n(not retried: it already failed earlier in this grading)",)
            raise again
        try:
            return self._request(request, label)
        except StudentTimeout as exc:
            # A short limit may just have been too short on a busy machine: only a
            # generous one that ran out is taken as a hang.
            if self.timeout >= IMPORT_HANG_SECONDS:
                self._sandbox.failed_imports[key] = exc
            raise
        except (StudentError, StudentCrashed) as exc:
            self._sandbox.failed_imports[key] = exc
            raise

    def module(self, name: str) -> Remote:
        """Import `name` (e.g. "scratch.layers") in the student process; a handle to it."""
        return self._once(("import", name), {"op": "import", "name": name}, name)

    def notebook(self, path: str, require=()) -> Remote:
        """A module made of the notebook's `definitions` cells (run once per process).

        `require` lists grade_ids the grader needs: a missing cell, or one that raised
        while loading, fails with a message naming the notebook and the cell.
        """
        module = self._once(("notebook", path), {"op": "notebook", "path": path}, path)
        if require:
            cells = self._request({"op": "getattr", "h": module, "name": "__coursekit_cells__"}, path)
            errors = self._request({"op": "getattr", "h": module, "name": "__coursekit_cell_errors__"},
                                   path)
            if type(cells) is not list or type(errors) is not dict:
                raise MissingCell(f"{path}: the notebook module was tampered with")
            for grade_id in require:
                if grade_id not in cells:
                    raise MissingCell(
                        f"{path}: cell '{grade_id}' is missing (was it deleted, or its metadata "
                        f"changed? Copy it back from the starter notebook)")
                if grade_id in errors:
                    raise MissingCell(f"{path}, cell '{grade_id}': {errors[grade_id]}")
        return module

    def tensor(self, array, requires_grad: bool = False, dtype: str | None = None,
               device: str | None = None) -> Remote:
        """A torch tensor made in the student process from a numpy array (a handle)."""
        import numpy as np
        return self._request({"op": "tensor", "array": np.asarray(array), "dtype": dtype,
                              "device": device, "requires_grad": requires_grad, "ref": True},
                             "creating a tensor")

    def seed(self, n: int) -> None:
        """Seed `random`, numpy's global RNG and (once imported) torch in the student process."""
        self._request({"op": "seed", "n": int(n)}, "seeding")

    def submitted_bytes(self, relative: str, max_bytes: int) -> bytes | None:
        """The bytes of a submitted file, as uploaded; None when the submission lacks it.

        Read from the grader's own root-owned copy of the submission, never from a folder
        the student process can write. A file over `max_bytes` fails the test with a
        message for the student.
        """
        try:
            return workspace.read_pristine(self._sandbox.pristine, relative, max_bytes)
        except workspace.TooLarge as exc:
            raise AssertionError(str(exc)) from None

    def read_bytes(self, relative: str, max_bytes: int) -> bytes:
        """The bytes of a file the student process wrote (e.g. a retrained checkpoint).

        Read by the student process and sent through the pipe, so the grader never opens
        a path the student controls. Fails the test when the file is missing or larger
        than `max_bytes`.
        """
        import numpy as np
        path = workspace.clean_relpath(relative).as_posix()
        data = self._request({"op": "read_file", "path": path, "max_bytes": int(max_bytes)},
                             f"reading {path}")
        if data is None:
            raise AssertionError(f"{path} was not written by your code")
        if type(data) is not np.ndarray or data.dtype != np.uint8 or data.ndim != 1:
            raise StudentProtocolError(f"reading {path} returned something other than bytes")
        if data.size > max_bytes:
            raise AssertionError(f"{path} is over the {max_bytes / 2**20:.1f} MB this question reads")
        return data.tobytes()

    def shared_folder(self) -> Path:
        """A fresh folder the grader writes and the student process can only read
        (same path on both sides). Use the `grader_folder` fixture in graders."""
        return self._sandbox.shared_folder()
