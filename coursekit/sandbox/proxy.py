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

from coursekit.sandbox import codec, isolation
from coursekit.sandbox.errors import (
    MissingCell,
    StudentCrashed,
    StudentError,
    StudentProtocolError,
    StudentTimeout,
)

RUNTIME_FILES = ("codec.py", "child.py", "notebook_cells.py")


@dataclass
class Limits:
    memory_mb: int = 2048        # address space of the student process
    cpu_seconds: int = 900       # CPU time over the whole process lifetime (a backstop)
    file_size_mb: int = 64       # largest file it may write
    max_processes: int = 256     # processes and threads of the student user (root mode)
    output_kb: int = 64          # stdout/stderr kept per test; the rest is counted, not kept
    max_reply_mb: int = 4096     # largest reply the grader accepts


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


class Sandbox:
    """One student process, started lazily and restarted after it dies.

    `workdir` holds the submission (merged over the starter kit); the process starts
    there with `python_path` entries (relative to it) importable.
    """

    def __init__(self, workdir: Path, python_path=(".",), limits: Limits | None = None,
                 python: str | None = None, env: dict | None = None):
        self.workdir = Path(workdir)
        self.python_path = list(python_path)
        self.limits = limits or Limits()
        self.python = python or sys.executable
        self.extra_env = dict(env or {})
        self.ids = isolation.student_ids()
        if self.ids is not None:
            isolation.grant_interpreter_access(self.python)
        self.generation = 0
        self.proc: subprocess.Popen | None = None
        self._runtime: str | None = None
        self._output = bytearray()
        self._dropped = 0
        self._lock = threading.Lock()
        isolation.become_subreaper()

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

    def _prepare_workdir(self) -> None:
        Path(self.workdir, ".tmp").mkdir(exist_ok=True)
        if self.ids is not None:
            uid, gid = self.ids
            for path in [self.workdir, *self.workdir.rglob("*")]:
                if not path.is_symlink():
                    os.chown(path, uid, gid)

    def start(self) -> None:
        self.stop()
        self.generation += 1
        runtime = self._prepare_runtime()
        self._prepare_workdir()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        for fd in (req_w, rep_w):
            _widen_pipe(fd)
        limits = asdict(self.limits)
        if self.ids is None:
            # Without a user of its own the process limit would count the grader's
            # processes too; rely on the process group and subreaper instead.
            limits["max_processes"] = 0
        config = {"runtime": runtime, "python_path": self.python_path, "limits": limits,
                  "request_fd": req_r, "reply_fd": rep_w, "id_base": self.generation * 10**9}
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(self.workdir),
            "TMPDIR": str(self.workdir / ".tmp"),
            "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg",
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0",
            "PYTHONUNBUFFERED": "1",
        }
        for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES",
                    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(self.extra_env)
        kwargs = {}
        if self.ids is not None:
            kwargs = {"user": self.ids[0], "group": self.ids[1], "extra_groups": []}
        self.proc = subprocess.Popen(
            [self.python, "-I", str(Path(runtime, "coursekit", "sandbox", "child.py")), json.dumps(config)],
            cwd=self.workdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, pass_fds=(req_r, rep_w), start_new_session=True, **kwargs,
        )
        os.close(req_r)
        os.close(rep_w)
        os.set_blocking(req_w, False)
        self._req, self._rep = req_w, rep_r
        threading.Thread(target=self._drain, args=(self.proc.stdout,), daemon=True).start()

    def _drain(self, stream) -> None:
        cap = self.limits.output_kb * 1024
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
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
        """Kill the student process, everything it started, and close the pipes."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        isolation.kill_everything(proc.pid)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self._req, self._rep):
            try:
                os.close(fd)
            except OSError:
                pass
        if proc.stdout:
            proc.stdout.close()

    def close(self) -> None:
        self.stop()
        if self._runtime:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None

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
            reply = codec.decode(doc, buffers, make_handle=lambda tag: self._remote(tag, label, owner))
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

    def module(self, name: str) -> Remote:
        """Import `name` (e.g. "scratch.layers") in the student process; a handle to it."""
        return self._request({"op": "import", "name": name}, name)

    def notebook(self, path: str, require=()) -> Remote:
        """A module made of the notebook's `definitions` cells (run once per process).

        `require` lists grade_ids the grader needs: a missing cell, or one that raised
        while loading, fails with a message naming the notebook and the cell.
        """
        module = self._request({"op": "notebook", "path": path}, path)
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
                    raise MissingCell(f"{path}: cell '{grade_id}' raised {errors[grade_id]}")
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

    def path(self, relative: str) -> Path:
        """Path of a submitted file, for the grader to read with safe loaders only."""
        target = (self._sandbox.workdir / relative).resolve()
        if not target.is_relative_to(self._sandbox.workdir.resolve()):
            raise ValueError(f"{relative} is outside the submission")
        return target
