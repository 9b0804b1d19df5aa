"""Who the student process runs as, and how every process it started is ended.

As root (Gradescope runs autograders as root), the student process runs as a
dedicated unprivileged user, so it cannot read the graders, the hidden data or the
results folder, all of which stay owned by root with mode 0700. In every mode the
grader makes itself a "child subreaper", so processes the submission forks and
orphans (daemons included) are re-parented to the grader, which kills them all.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import shutil
import signal
import subprocess
import time

STUDENT_USER = "coursekit-student"
PR_SET_CHILD_SUBREAPER = 36


def is_root() -> bool:
    return os.geteuid() == 0


def student_ids(create: bool = True) -> tuple[int, int] | None:
    """(uid, gid) of the unprivileged student user, created when missing (root only)."""
    if not is_root():
        return None
    try:
        entry = pwd.getpwnam(STUDENT_USER)
    except KeyError:
        if not create:
            return None
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        subprocess.run(
            [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", STUDENT_USER],
            check=True, capture_output=True,
        )
        entry = pwd.getpwnam(STUDENT_USER)
    return entry.pw_uid, entry.pw_gid


def grant_interpreter_access(python: str) -> list[str]:
    """Let the student user reach the interpreter and its libraries (root mode only).

    A Python installed under root's private home (pyenv, a virtual environment in
    /root) is unreachable for other users. Adds search permission (o+x, never read)
    on the directories leading to it; returns the directories changed.
    """
    import sys
    import sysconfig

    changed = []
    targets = {os.path.realpath(python), os.path.realpath(sys.prefix),
               os.path.realpath(sys.base_prefix), os.path.realpath(sysconfig.get_path("stdlib"))}
    for target in targets:
        path = os.path.dirname(target) if os.path.isfile(target) else target
        while True:
            try:
                mode = os.stat(path).st_mode
            except OSError:
                break
            if not mode & 0o001:
                os.chmod(path, mode | 0o001)
                changed.append(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return changed


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _status_fields(pid: int) -> dict[str, str]:
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        pass
    return fields


def _processes():
    for name in os.listdir("/proc"):
        if name.isdigit():
            yield int(name)


def stray_processes(keep: set[int]) -> list[int]:
    """Our children and re-parented orphans: as a subreaper, every process the student
    process started ends up here once its parent is gone.

    (Not "every process of the student user": other gradings may run beside this one.)
    """
    me = os.getpid()
    found = []
    for pid in _processes():
        if pid == me or pid in keep:
            continue
        fields = _status_fields(pid)
        if not fields:
            continue
        ppid = int(fields.get("PPid", "0") or 0)
        if fields.get("State", "").startswith("Z") and ppid != me:
            continue  # already dead; its parent reaps it
        if ppid == me:
            found.append(pid)
    return found


def kill_everything(pgid: int | None, keep: set[int] = frozenset()) -> None:
    """SIGKILL the student's process group, then every descendant re-parented to us.

    Repeats until nothing is left, since a process may fork while we look.
    `keep` names our own legitimate children (none, normally).
    """
    if pgid is not None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for _ in range(50):
        strays = stray_processes(set(keep))
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        time.sleep(0.02)
