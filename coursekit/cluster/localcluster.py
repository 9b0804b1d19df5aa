"""A throw-away Ray cluster of processes on this machine: a head and worker nodes.

For the kit's tests and `make bench` only (real clusters are started with Ray's own
tooling, docs/cluster.md). Every node is a `ray start --block` process in a session
of its own, so one node can be killed alone (all processes of its session) the way a
machine dies, and the whole cluster is removed by `stop()`. The head gets no CPU, so
tasks run on the worker nodes only; each worker gets a small object store.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

READY = "Ray runtime started"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_processes(sid: int) -> list[int]:
    """Pids of the processes in session `sid` (read from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # Fields after the command name, which sits in parentheses and may hold spaces.
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 3 and int(fields[3]) == sid:
            pids.append(int(entry))
    return pids


def _raylet_failed(node_dir: Path) -> bool:
    """The node's raylet stopped on a failed check (`ray start` notices only much later)."""
    for out in node_dir.glob("session_*/logs/raylet.out"):
        try:
            if "Check failed" in out.read_text(errors="replace"):
                return True
        except OSError:
            pass
    return False


def _normal_priority() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except OSError:  # not allowed: keep ours
        pass


def _real_time() -> None:
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    except (OSError, AttributeError):
        _normal_priority()


def _back_to(pid: int, nice: int) -> None:
    try:
        os.sched_setscheduler(pid, os.SCHED_OTHER, os.sched_param(0))
    except (OSError, AttributeError):
        pass
    try:
        os.setpriority(os.PRIO_PROCESS, pid, nice)
    except OSError:
        pass


@dataclass
class Node:
    process: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL every process of the node's session, like a machine losing power."""
        for pid in session_processes(self.process.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)


@dataclass
class LocalCluster:
    temp_dir: Path
    port: int
    env: dict
    head: Node | None = None
    workers: list[Node] = field(default_factory=list)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self, name: str, args: list[str], timeout: float, attempts: int = 3) -> Node:
        for attempt in range(attempts):
            try:
                # Later attempts start at real-time priority (see _start_once).
                return self._start_once(f"{name}-{attempt}" if attempt else name, args, timeout,
                                        boost=attempt > 0)
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")

    def _start_once(self, name: str, args: list[str], timeout: float, boost: bool) -> Node:
        # A raylet gives its dashboard agent 15 s to come up and exits otherwise (Ray
        # 2.60); on a loaded machine the agent's imports alone can take longer. So a node
        # starts at normal priority, or (boost) round-robin real-time priority, where this
        # process may set them, and is put back at ours once it is up: for a few
        # seconds of start-up only, and never for the gradings it runs.
        our_nice = os.getpriority(os.PRIO_PROCESS, 0)
        log = self.temp_dir / f"{name}.log"
        ports = ["--dashboard-agent-listen-port", "--dashboard-agent-grpc-port",
                 "--runtime-env-agent-port", "--metrics-export-port", "--node-manager-port",
                 "--object-manager-port"]
        cmd = [sys.executable, "-m", "ray.scripts.scripts", "start", "--block",
               "--node-ip-address=127.0.0.1", "--disable-usage-stats", "--include-log-monitor=false",
               f"--temp-dir={self.temp_dir / name}"] + [f"{p}={free_port()}" for p in ports] + args
        with open(log, "w") as fh:
            proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=self.env,
                                    start_new_session=True, cwd=self.temp_dir,
                                    preexec_fn=_real_time if boost else _normal_priority)
        node = Node(proc, log)
        deadline = time.monotonic() + timeout
        try:
            while READY not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline \
                        or _raylet_failed(self.temp_dir / name):
                    text = log.read_text(errors="replace")[-3000:]
                    node.kill()
                    raise RuntimeError(f"ray node {name} did not start:\n{text}")
                time.sleep(0.5)
        finally:
            for pid in session_processes(proc.pid):
                _back_to(pid, our_nice)
        return node

    def add_worker(self, cpus: int = 1, memory_mb: int = 3500, object_store_mb: int = 100,
                   timeout: float = 120, gpus: int = 0) -> Node:
        name = f"worker{len(self.workers)}"
        node = self._start(name, [f"--address={self.address}", f"--num-cpus={cpus}",
                                  f"--num-gpus={gpus}", f"--memory={memory_mb << 20}",
                                  f"--object-store-memory={object_store_mb * 1_000_000}"],
                           timeout)
        self.workers.append(node)
        return node

    def stop(self) -> None:
        for node in self.workers + ([self.head] if self.head else []):
            try:
                node.kill()
            except Exception:
                pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def worker_logs(self) -> str:
        """Everything Ray's worker processes printed, on every node, in any session."""
        parts = []
        # session_latest links to the newest session_<time>: read each session once.
        for path in sorted(self.temp_dir.glob("*/session_2*/logs/worker-*.out")):
            parts.append(path.read_text(errors="replace"))
        return "".join(parts)


def start_local_cluster(workers: int = 1, object_store_mb: int = 100, memory_mb: int = 3500,
                        timeout: float = 120, gpus_per_worker: int = 0) -> LocalCluster:
    """A head (no CPU) and `workers` nodes with one CPU (and `gpus_per_worker` GPUs) each;
    call `stop()` when done."""
    # A short folder: Ray's socket paths under it must stay within 107 characters.
    temp_dir = Path(tempfile.mkdtemp(prefix="ckray-", dir="/tmp"))
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0",
               # A dead node is noticed within seconds, not the default half minute.
               RAY_health_check_period_ms="1000", RAY_health_check_failure_threshold="5")
    cluster = LocalCluster(temp_dir, free_port(), env)
    try:
        cluster.head = cluster._start("head", [
            "--head", f"--port={cluster.port}", "--num-cpus=0", "--num-gpus=0",
            # No autoscaler (a fixed cluster): one process less competing for the CPU
            # while the raylet waits for its agents.
            "--include-dashboard=false", "--no-monitor", f"--ray-client-server-port={free_port()}",
            f"--dashboard-port={free_port()}",
            f"--object-store-memory={object_store_mb * 1_000_000}"], timeout)
        for _ in range(workers):
            cluster.add_worker(memory_mb=memory_mb, object_store_mb=object_store_mb,
                               timeout=timeout, gpus=gpus_per_worker)
    except BaseException:
        cluster.stop()
        raise
    return cluster
