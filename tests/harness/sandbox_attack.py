"""Runs one attack against a real Sandbox and prints what happened, as JSON.

    python sandbox_attack.py SPEC_JSON

SPEC: {"token": str, "module": source of the student module `m`, "calls": [[name, args], ...],
       "files": {relpath: text} (more submitted files), "victim": path of a root-owned file,
       "neighbour": module source for a second grading run beside the first (optional),
       "shared": text to put in a grader folder (optional), "check_files": [relpath, ...]}

It is a separate program so that the same attack can be started as root (with or
without namespaces) and as an ordinary user. The token is on this program's command
line, so an attack that finds it has read another process's /proc entries.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from coursekit.sandbox import Sandbox, SandboxFailure, Student  # noqa: E402
from coursekit.sandbox.identity import processes_of  # noqa: E402


def _pristine(module: str, files: dict) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="attack-pristine-"))
    (folder / "m.py").write_text(module)
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return folder


def _listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted = []

    def serve():
        server.settimeout(0.5)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                accepted.append(1)
                conn.close()
            except OSError:
                continue

    stop = threading.Event()
    threading.Thread(target=serve, daemon=True).start()
    return server.getsockname()[1], accepted, stop


def _marked_processes(token: str) -> list[int]:
    """Live processes whose command line or environment carries the token (every
    student process inherits it in its environment)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                seen = fh.read()
            try:
                with open(f"/proc/{name}/environ", "rb") as fh:
                    seen += fh.read()
            except OSError:
                pass
        except (OSError, IndexError):
            continue
        if token.encode() in seen:
            found.append(int(name))
    return found


def call(student: Student, name: str, args: list):
    try:
        return {"value": getattr(student.module("m"), name)(*args)}
    except SandboxFailure as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    spec = json.loads(sys.argv[1])
    token = spec["token"]
    port, accepted, stop = _listener()
    env = {"ATTACK_PORT": str(port), "ATTACK_TOKEN": token, "ATTACK_VICTIM": spec.get("victim", "")}
    pristine = _pristine(spec["module"], spec.get("files", {}))
    os.chmod(pristine, 0o700 if os.geteuid() == 0 else 0o755)
    out: dict = {"calls": [], "grader_pid": os.getpid(), "pristine": str(pristine)}
    sandbox = Sandbox(pristine, python_path=["."], env=dict(env, ATTACK_PRISTINE=str(pristine)))
    neighbour = None
    if spec.get("neighbour"):
        other = _pristine(spec["neighbour"], {})
        os.chmod(other, 0o700 if os.geteuid() == 0 else 0o755)
        neighbour = Sandbox(other, python_path=["."], env=env)
        out["neighbour_calls"] = [call(Student(neighbour, 60), "start", [])]
    if spec.get("shared") is not None:
        folder = sandbox.shared_folder()
        (folder / "input.txt").write_text(spec["shared"])
        os.chmod(folder / "input.txt", 0o644)
        env_folder = str(folder)
        out["shared_folder"] = env_folder
    started = time.monotonic()
    for name, args in spec["calls"]:
        if name == "@restart":
            sandbox.stop()
            continue
        if name == "@shared":
            args = [out["shared_folder"]]
            name = "use_shared"
        out["calls"].append(call(Student(sandbox, 60), name, args))
    out["layers"] = sandbox.layers
    out["uid"] = sandbox.identity.uid if sandbox.identity else None
    if neighbour is not None:
        out["neighbour_calls"].append(call(Student(neighbour, 60), "check", []))
        out["neighbour_uid"] = neighbour.identity.uid if neighbour.identity else None
    for rel in spec.get("check_files", []):
        data = Student(sandbox, 60).submitted_bytes(rel, 1 << 20)
        out.setdefault("submitted", {})[rel] = None if data is None else data.decode()
    if "shared_folder" in out:
        out["shared_after"] = sorted(os.listdir(out["shared_folder"]))
        kept = Path(out["shared_folder"]) / "input.txt"
        out["shared_text"] = kept.read_text() if kept.is_file() else None
    close_started = time.monotonic()
    sandbox.close()
    if neighbour is not None:
        neighbour.close()
    out["close_seconds"] = time.monotonic() - close_started
    out["seconds"] = time.monotonic() - started
    time.sleep(0.3)   # a survivor would have re-spawned by now
    out["survivors"] = _marked_processes(token)
    out["uid_processes"] = processes_of(out["uid"]) if out["uid"] is not None else []
    stop.set()
    out["connections"] = len(accepted)
    out["sandbox_base_left"] = os.path.exists(sandbox.base)
    print("ATTACK-RESULT " + json.dumps(out))


if __name__ == "__main__":
    main()
