"""The student process: imports the submission and answers the grader's requests.

Started by `coursekit.sandbox.proxy.Sandbox` as

    python -I child.py CONFIG_JSON

with the request and reply pipes on the descriptors the configuration names. Before any student code
runs it lowers its own resource limits (hard limits included, which an unprivileged
process cannot raise again), so the limits hold for everything the submission does.
Everything after that point is untrusted: the parent checks every reply.
"""

from __future__ import annotations

import json
import os
import resource
import sys


def apply_limits(limits: dict) -> None:
    mb = 1 << 20
    plan = {
        resource.RLIMIT_CPU: limits["cpu_seconds"],
        resource.RLIMIT_FSIZE: limits["file_size_mb"] * mb,
        resource.RLIMIT_CORE: 0,
    }
    # 0 means no address-space limit: a CUDA context reserves far more than it uses.
    if limits["memory_mb"]:
        plan[resource.RLIMIT_AS] = limits["memory_mb"] * mb
    if limits.get("max_processes"):
        plan[resource.RLIMIT_NPROC] = limits["max_processes"]
    for which, value in plan.items():
        soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        # CPU: the soft limit sends SIGXCPU; the hard one, a little later, SIGKILL.
        new_hard = value + 5 if which == resource.RLIMIT_CPU and (
            hard == resource.RLIM_INFINITY or value + 5 <= hard) else value
        resource.setrlimit(which, (value, new_hard))


class Handles:
    """The child's table of objects the parent holds handles to."""

    def __init__(self, id_base: int):
        self.objects: dict[int, object] = {}
        # Ids never repeat across restarts, so a stale handle cannot hit a new object.
        self.next_id = id_base + 1

    def register(self, obj) -> dict:
        hid = self.next_id
        self.next_id += 1
        self.objects[hid] = obj
        try:
            text = repr(obj)
        except Exception:
            text = "?"
        return {"$h": hid, "type": type(obj).__name__[:80], "repr": text[:200]}

    def lookup(self, tag):
        try:
            return self.objects[tag["$h"]]
        except KeyError:
            raise LookupError("this handle belongs to an earlier test or process") from None


def student_frames(tb, roots: list[str]) -> list[list]:
    """Traceback frames from the student's own files and notebook cells.

    Functions are named by their qualified name ("TwoLayerFC.__init__"), so a method of
    a notebook class is told apart from every other `__init__`.
    """
    import linecache

    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        name = code.co_filename
        if ", cell '" in name or any(name.startswith(root) for root in roots):
            shown = name
            for root in roots:
                if name.startswith(root):
                    shown = os.path.relpath(name, os.getcwd())
            line = linecache.getline(name, tb.tb_lineno).strip()
            frames.append([shown, tb.tb_lineno, getattr(code, "co_qualname", code.co_name),
                           line[:200]])
        tb = tb.tb_next
    return frames[-8:]


def main() -> None:
    config = json.loads(sys.argv[1])
    apply_limits(config["limits"])
    runtime = config["runtime"]
    workdir = os.getcwd()
    roots = [os.path.join(workdir, "")]
    sys.path[:0] = [runtime] + [os.path.join(workdir, p) for p in config["python_path"]]
    sys.dont_write_bytecode = True

    from coursekit.sandbox import codec
    from coursekit.sandbox.definition_cells import load_notebook

    requests = os.fdopen(config["request_fd"], "rb", buffering=1 << 16)
    replies = os.fdopen(config["reply_fd"], "wb", buffering=0)
    handles = Handles(config["id_base"])
    notebooks: dict[str, object] = {}

    def reply(value) -> None:
        try:
            chunks = codec.encode({"ok": value}, make_handle=handles.register)
        except Exception as exc:  # e.g. a value nested too deeply
            chunks = codec.encode({"error": {"type": type(exc).__name__, "message": str(exc)[:2000],
                                             "trace": []}})
        for chunk in chunks:
            replies.write(chunk)

    def fail(exc: BaseException) -> None:
        try:
            message = str(exc)
        except Exception:
            message = "?"
        for chunk in codec.encode({"error": {
                "type": type(exc).__name__[:80], "message": message[:2000],
                "trace": student_frames(exc.__traceback__, roots)}}):
            replies.write(chunk)

    def handle(request: dict):
        op = request["op"]
        if op == "ping":
            return "pong"
        if op == "import":
            import importlib
            return importlib.import_module(request["name"])
        if op == "notebook":
            path = request["path"]
            if path not in notebooks:
                notebooks[path] = load_notebook(path)
            return notebooks[path]
        if op == "getattr":
            return getattr(request["h"], request["name"])
        if op == "setattr":
            setattr(request["h"], request["name"], request["value"])
            return None
        if op == "getitem":
            return request["h"][request["key"]]
        if op == "setitem":
            request["h"][request["key"]] = request["value"]
            return None
        if op == "call":
            return request["h"](*request["args"], **request["kwargs"])
        if op == "seed":
            import random
            import numpy as np
            random.seed(request["n"])
            np.random.seed(request["n"])
            if "torch" in sys.modules:
                sys.modules["torch"].manual_seed(request["n"])
            return None
        if op == "tensor":
            import torch
            tensor = torch.from_numpy(request["array"])
            if request.get("dtype"):
                tensor = tensor.to(getattr(torch, request["dtype"]))
            if request.get("device"):
                tensor = tensor.to(request["device"])
            return tensor.requires_grad_(bool(request.get("requires_grad")))
        if op == "read_file":
            import numpy as np
            path, limit = request["path"], request["max_bytes"]
            try:
                fh = open(path, "rb")
            except FileNotFoundError:
                return None
            with fh:
                data = fh.read(limit + 1)
            return np.frombuffer(data, dtype=np.uint8)
        if op == "reset":
            handles.objects.clear()
            return None
        raise ValueError(f"unknown request {op!r}")

    while True:
        try:
            doc, buffers = codec.read_message(requests, max_bytes=1 << 40)
        except EOFError:
            return
        except codec.ProtocolError as exc:   # the grader's own encoder refuses these first
            fail(exc)
            return
        try:
            request = codec.decode(doc, buffers, make_handle=handles.lookup)
            wants_ref = request.get("ref", False)
            result = handle(request)
        except BaseException as exc:  # SystemExit from student code is an error, not an exit
            if isinstance(exc, KeyboardInterrupt):
                raise
            fail(exc)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        reply(codec.AsHandle(result) if wants_ref or request["op"] in ("import", "notebook") else result)


if __name__ == "__main__":
    main()
