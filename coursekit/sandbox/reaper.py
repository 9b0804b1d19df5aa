"""Ending a student process's descendants when the grader is not root.

Without root there is no uid of the grading's own to kill whole, and no namespaces. The
grader then makes itself a "child subreaper", so processes the submission forks and
orphans (daemons, `setsid` chains) are re-parented to the grader, which kills them until
none is left. As root, `coursekit.sandbox.identity` ends everything by uid instead.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Make orphaned descendants re-parent to this process (Linux only)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children(keep: set[int]) -> list[int]:
    """Our live children: as a subreaper, every orphan of the student process ends up here."""
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in keep or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == me:
            found.append(int(name))
    return found


def kill_descendants(pgid: int | None, keep: set[int] = frozenset(), rounds: int = 2000) -> bool:
    """SIGKILL the process group, then every child re-parented to us, until none is left.

    `keep` names our own legitimate children (other gradings' launchers). Reaps what it
    kills. Returns False if children were still appearing after `rounds` rounds.
    """
    if pgid is not None:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for _ in range(rounds):
        strays = _children(set(keep))
        if not strays:
            return True
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for pid in strays:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        time.sleep(0.001)
    return False
