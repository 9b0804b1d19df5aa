"""The launcher: put the student process in its own namespaces, drop root, exec the child.

Started by the grader (as root) as

    python -I jail.py CONFIG_JSON

with the request, reply and status pipes on the descriptors CONFIG_JSON names. It is
trusted code that runs before any student code exists, in the manner of IOI's isolate
and nsjail, written here with the standard library only because the kit has to run on
images where neither is installed:

1. It asks for new mount, network, PID, IPC and UTS namespaces, each on its own, so a
   machine that refuses one still gets the others.
2. With a PID namespace it forks: the child is PID 1 there, and when it exits the kernel
   kills everything else in the namespace. The launcher waits and passes the exit status
   on; if the launcher itself is killed, PID 1 gets SIGKILL (parent-death signal).
3. With a mount namespace it builds a new root on a tmpfs holding only what the child
   needs, each at its usual path: the system folders and the interpreter (read-only),
   the runtime and the graders' shared folder (read-only), the workspace (read-write),
   a fresh /proc of the new PID namespace, a minimal /dev, and empty private /tmp,
   /var/tmp and /dev/shm. Home folders, the kit's repository, /autograder and other
   gradings' files are simply not there.
4. It drops to the grading's own uid and gid (no supplementary groups), sets
   no-new-privileges, writes which layers are active to the status pipe, and execs the
   child runtime.

A layer the machine refuses is reported as such, never silently assumed.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18

PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38

SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    _check(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _unshare(flag: int) -> None:
    _check(_libc.unshare(flag), "unshare")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, value, 0, 0, 0), "prctl")


def _inside(root: str, path: str) -> str:
    return os.path.join(root, os.path.abspath(path).lstrip("/"))


def _bind(root: str, path: str, writable: bool) -> None:
    """Mount `path` at the same path under `root`, read-only unless `writable`."""
    target = _inside(root, path)
    if os.path.isdir(path):
        os.makedirs(target, mode=0o755, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    _mount(path, target, None, MS_BIND | MS_REC)
    flags = MS_BIND | MS_REMOUNT | MS_NOSUID
    if not writable:
        flags |= MS_RDONLY
    if not path.startswith("/dev/"):
        flags |= MS_NODEV
    _mount(None, target, None, flags)


def _tmpfs(root: str, path: str, size_mb: int, mode: str = "1777") -> None:
    target = _inside(root, path)
    os.makedirs(target, mode=0o755, exist_ok=True)
    _mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size_mb}m,mode={mode}")


def build_view(config: dict, with_proc: bool) -> str:
    """Make the new root and chroot into it; returns what /proc is ("own" or why not)."""
    root = config["view_root"]
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=755")
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            os.symlink(os.readlink(path), _inside(root, path))
        elif os.path.isdir(path):
            _bind(root, path, writable=False)
    # Private temporary folders first: binds below may live under /tmp.
    tmp_mb = config.get("tmp_mb", 512)
    _tmpfs(root, "/tmp", tmp_mb)
    _tmpfs(root, "/var/tmp", tmp_mb)
    for path in config["readonly"]:
        if os.path.exists(path):
            _bind(root, path, writable=False)
    for path in config["writable"]:
        _bind(root, path, writable=True)
    dev = _inside(root, "/dev")
    os.makedirs(dev, mode=0o755, exist_ok=True)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID, "size=1m,mode=755")
    for name in DEVICES:
        _bind(root, f"/dev/{name}", writable=True)
    for name in config.get("devices", []):
        if os.path.exists(f"/dev/{name}"):
            _bind(root, f"/dev/{name}", writable=True)
    _tmpfs(root, "/dev/shm", config.get("tmp_mb", 512))
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, os.path.join(dev, name))
    proc_state = "not mounted: no PID namespace of its own"
    if with_proc:
        target = _inside(root, "/proc")
        os.makedirs(target, mode=0o555, exist_ok=True)
        try:
            _mount("proc", target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            proc_state = "own"
        except OSError as exc:
            proc_state = f"not mounted ({exc.strerror})"
    if config.get("sys", True) and os.path.isdir("/sys"):
        _bind(root, "/sys", writable=False)
    # Nothing more is added: the new root itself becomes read-only.
    _mount(None, root, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    return proc_state


def _report(fd: int, doc: dict) -> None:
    data = json.dumps(doc).encode()
    while data:
        data = data[os.write(fd, data):]
    os.close(fd)


def _wait_and_pass_on(pid: int) -> None:
    """The launcher outside the PID namespace: wait for PID 1, exit as it did."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def main() -> None:
    config = json.loads(sys.argv[1])
    status_fd = config["status_fd"]
    layers: dict[str, object] = {}
    namespaces = config.get("namespaces", True)
    ids = config.get("ids")
    wanted = [("mount", CLONE_NEWNS), ("network", CLONE_NEWNET), ("pid", CLONE_NEWPID),
              ("ipc", CLONE_NEWIPC), ("uts", CLONE_NEWUTS)]
    for name, flag in wanted:
        if not namespaces:
            layers[f"{name}_namespace"] = "turned off"
            continue
        try:
            _unshare(flag)
            layers[f"{name}_namespace"] = True
        except OSError as exc:
            layers[f"{name}_namespace"] = f"refused by the machine ({exc.strerror})"

    if layers.get("pid_namespace") is True:
        pid = os.fork()
        if pid:
            for fd in (config["request_fd"], config["reply_fd"], status_fd, 0, 1, 2):
                try:
                    os.close(fd)
                except OSError:
                    pass
            _wait_and_pass_on(pid)
        # PID 1 of the new namespace: die with the launcher. (Its parent lies outside
        # the namespace, so getppid() says 0 and cannot tell whether the launcher lives.)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    if layers.get("uts_namespace") is True:
        try:
            _libc.sethostname(b"sandbox", 7)
        except Exception:
            pass
    if layers.get("mount_namespace") is True:
        try:
            layers["proc"] = build_view(config, with_proc=layers.get("pid_namespace") is True)
            layers["filesystem_view"] = True
        except OSError as exc:
            layers["filesystem_view"] = f"could not be built ({exc})"
    else:
        layers["filesystem_view"] = "needs a mount namespace"
    os.chdir(config["workdir"])

    if ids is not None:
        uid, gid = ids
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        layers["own_uid"] = uid
    else:
        layers["own_uid"] = "not separated: the grader does not run as root"
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        layers["no_new_privileges"] = True
    except OSError as exc:
        layers["no_new_privileges"] = f"refused ({exc.strerror})"
    if layers.get("pid_namespace") is True:
        # Changing credentials clears the parent-death signal: set it again. (Should the
        # launcher die in between, the grader's kill of the whole uid still ends us.)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    python, child = config["python"], config["child"]
    problem = None
    if not os.access(python, os.X_OK):
        problem = (f"the interpreter {python} cannot be reached by the unprivileged student "
                   "user (a folder on its path is closed to other users); install the kit's "
                   "Python where other users can read it (e.g. under /opt or /usr/local), or "
                   "grade where mount namespaces are allowed")
    elif not os.access(child, os.R_OK):
        problem = f"the child runtime {child} cannot be read by the student user"
    _report(status_fd, {"layers": layers, "problem": problem})
    if problem:
        os._exit(70)
    os.execve(python, [python, "-I", child, config["child_config"]], config["env"])


if __name__ == "__main__":
    main()
