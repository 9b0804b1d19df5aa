"""A uid and gid of its own for each grading, and ending every process that holds it.

As root, every grading leases a fresh unprivileged uid/gid from a reserved range (no
passwd entry is needed). The lease is an exclusive `flock` on a root-owned file, held for
the grading's lifetime and released by the kernel if the grader dies, so two gradings
never share an identity, even with `--jobs` or beside another grading tool.

Because nothing else runs as that uid, ending a grading can kill *every* process of the
uid, however it was started (deep fork chains, `setsid`, daemons): a small helper
running as the uid calls `kill(-1, SIGKILL)`, which reaches exactly the processes that
uid may signal, until none is left. The same helper empties the grading's workspace and
removes the uid's files from the machine's shared temporary folders, so root never
deletes, opens or follows anything the student could have written.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

RANGE_SIZE = 10_000
DEFAULT_BASE = 1_900_000_000   # far above any distribution's own users
SHARED_TEMP = ("/tmp", "/var/tmp", "/dev/shm")



class IdentityError(RuntimeError):
    """No identity could be leased, or a grading's processes could not be ended."""


@dataclass
class Identity:
    uid: int
    gid: int
    _lock_fd: int = field(default=-1, repr=False)

    def release(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1


def _id_range() -> range:
    """The reserved range, inside the ids this machine maps (containers may map fewer)."""
    base = int(os.environ.get("COURSEKIT_UID_BASE", DEFAULT_BASE))
    wanted = range(base, base + RANGE_SIZE)
    try:
        extents = [tuple(map(int, line.split())) for line in open("/proc/self/uid_map")]
    except OSError:
        return wanted
    for inside, _, count in extents:
        if inside <= wanted.start and wanted.stop <= inside + count:
            return wanted
    inside, _, count = max(extents, key=lambda e: e[2])
    if count < 2 * RANGE_SIZE:
        raise IdentityError("this machine maps too few user ids for per-grading identities")
    top = inside + count - 2   # the last id is often the overflow id
    return range(top - RANGE_SIZE, top)


def _lock_folder() -> Path:
    """A folder only root can write, for the lease files."""
    for parent in ("/run", "/tmp"):
        folder = Path(parent, "coursekit-ids")
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError:
            continue
        info = os.lstat(folder)
        if stat.S_ISDIR(info.st_mode) and info.st_uid == 0 and not info.st_mode & 0o022:
            return folder
    raise IdentityError("no root-only folder for identity leases (/run/coursekit-ids, "
                        "/tmp/coursekit-ids)")


def lease() -> Identity:
    """Lease an unused uid/gid (root only). Whatever a previous holder left running is ended."""
    folder = _lock_folder()
    ids = _id_range()
    start = (os.getpid() * 7919 + time.monotonic_ns()) % len(ids)
    for k in range(len(ids)):
        uid = ids[(start + k) % len(ids)]
        fd = os.open(folder / str(uid), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        identity = Identity(uid, uid, fd)
        # A grader that died may have left processes of this uid behind.
        end_all(identity)
        return identity
    raise IdentityError(f"all {len(ids)} grading identities are in use")


def processes_of(uid: int) -> list[int]:
    """Live (not zombie) processes whose real, effective or saved uid is `uid`."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        uids = fields.get("Uid", "").split()
        if str(uid) in uids[:3] and not fields.get("State", "").strip().startswith("Z"):
            found.append(int(name))
    return found


def _as_identity(identity: Identity, empty, temp) -> None:
    """In a forked child: become the identity, kill all of its processes, clean up."""
    try:
        os.setgroups([])
        os.setresgid(identity.gid, identity.gid, identity.gid)
        os.setresuid(identity.uid, identity.uid, identity.uid)
        # kill(-1) also "succeeds" on zombies, so a few rounds here; the grader checks
        # for live processes and sends this helper again while any are left.
        for _ in range(5):
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.002)
        for folder in empty:
            for name in _list(folder):
                _remove(os.path.join(folder, name))
        for folder in temp:
            for name in _list(folder):
                path = os.path.join(folder, name)
                try:
                    if os.lstat(path).st_uid == identity.uid:
                        _remove(path)
                except OSError:
                    pass
    finally:
        os._exit(0)


def _list(folder) -> list[str]:
    try:
        return os.listdir(folder)
    except OSError:
        return []


def _remove(path: str) -> None:
    """Remove `path` (as its owner), opening up folders it closed to itself first."""
    try:
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode):
            os.unlink(path)
            return
        os.chmod(path, 0o700)
        for name in os.listdir(path):
            _remove(os.path.join(path, name))
        os.rmdir(path)
    except (OSError, RecursionError):
        pass


def end_all(identity: Identity, empty=(), clean_shared_temp: bool = True,
            attempts: int = 20) -> None:
    """Kill every process of the identity, then empty `empty` and its shared temp files.

    The work is done by a forked child that has become the identity, so the cleaning
    has the student's rights, not root's (and needs no interpreter the student user can
    reach). Raises IdentityError if processes remain after `attempts` rounds.
    """
    empty = [str(p) for p in empty]
    temp = list(SHARED_TEMP) if clean_shared_temp else []
    for _ in range(attempts):
        pid = os.fork()
        if pid == 0:
            _as_identity(identity, empty, temp)
        os.waitpid(pid, 0)
        _reap_orphans(identity.uid)
        if not processes_of(identity.uid):
            return
        time.sleep(0.05)
    raise IdentityError(f"processes of uid {identity.uid} survived {attempts} rounds of killing")


def _reap_orphans(uid: int) -> None:
    """Collect zombies of the uid re-parented to this (subreaper) process."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            info = os.stat(f"/proc/{name}")
            if info.st_uid != uid:
                continue
            with open(f"/proc/{name}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == me:
            try:
                os.waitpid(int(name), os.WNOHANG)
            except ChildProcessError:
                pass
