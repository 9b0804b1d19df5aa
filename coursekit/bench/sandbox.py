"""Section: the cost of one call into the student process, against a bare pipe.

The floor is what any two-process design pays: a message written into a pipe, read
by another Python process and written back. The sandbox adds its codec (JSON header
plus raw array buffers), the dispatch in the child and the whitelist decoding.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from coursekit.bench.measure import best_of
from coursekit.bench.report import Metric, fmt_duration

TITLE = "sandbox calls"

_ECHO_MODULE = '''
def nothing():
    return None


def echo(*args):
    return args[0] if len(args) == 1 else args
'''

# The floor: a Python process that sends back every length-prefixed message it reads.
_PIPE_ECHO = r'''
import os, struct, sys
r, w = sys.stdin.fileno(), sys.stdout.fileno()

def read_exactly(n):
    buf = bytearray()
    while len(buf) < n:
        chunk = os.read(r, min(n - len(buf), 1 << 20))
        if not chunk:
            sys.exit(0)
        buf += chunk
    return bytes(buf)

while True:
    header = read_exactly(8)
    body = read_exactly(struct.unpack("<Q", header)[0])
    view = memoryview(header + body)
    while view:
        view = view[os.write(w, view):]
'''


def unavailable() -> str | None:
    try:
        from coursekit.sandbox import Sandbox, Student  # noqa: F401
    except ImportError as e:
        return f"coursekit.sandbox cannot be imported ({e})"
    return None


class _PipeEcho:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-I", "-c", _PIPE_ECHO], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, bufsize=0)
        self.w, self.r = self.proc.stdin.fileno(), self.proc.stdout.fileno()

    def round_trip(self, payload: bytes) -> None:
        view = memoryview(struct.pack("<Q", len(payload)) + payload)
        while view:
            view = view[os.write(self.w, view):]
        want, got = 8 + len(payload), 0
        while got < want:
            chunk = os.read(self.r, min(want - got, 1 << 20))
            if not chunk:
                raise RuntimeError("the pipe echo process died")
            got += len(chunk)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


def _layer_modes() -> list[tuple[str, dict]]:
    """The sandbox's configurations this machine can run: every layer, and (as root)
    the uid-only fallback of a machine that refuses namespaces."""
    if os.geteuid() != 0:
        return [("normal user: no uid of its own, no namespaces", {})]
    return [("all layers (uid + namespaces + view)", {"COURSEKIT_SANDBOX_NAMESPACES": "1"}),
            ("uid only (namespaces refused)", {"COURSEKIT_SANDBOX_NAMESPACES": "0"})]


def _startup_and_round_trip(tmp: Path, env: dict, repeat: int, min_small: float):
    """(seconds to start a student process and import a module, seconds per small call)."""
    import time

    from coursekit.sandbox import Sandbox, Student

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        sandbox = Sandbox(tmp, python_path=["."])
        try:
            starts = []
            for _ in range(repeat):
                sandbox.stop()
                t0 = time.perf_counter()
                Student(sandbox, timeout=3600).module("benchecho").nothing()
                starts.append(time.perf_counter() - t0)
            echo = Student(sandbox, timeout=3600).module("benchecho").echo
            small_args = (3, 2.5, "abc", [1, 2, 3])
            t_small = best_of(lambda: echo(*small_args), repeat, min_small)
            layers = dict(sandbox.layers)
        finally:
            sandbox.close()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return min(starts), t_small, layers


def run(quick: bool = False) -> list:
    import time

    import numpy as np

    from coursekit.sandbox import Sandbox, Student

    array_mb = 1 if quick else 32
    repeat = 2 if quick else 5
    min_small = 0.05 if quick else 0.5
    x = np.random.default_rng(0).standard_normal(array_mb * 2**20 // 8)
    small_args = (3, 2.5, "abc", [1, 2, 3])
    layer_rows = []

    with tempfile.TemporaryDirectory(prefix="coursekit-bench-") as tmp:
        Path(tmp, "benchecho.py").write_text(_ECHO_MODULE)
        for name, env in _layer_modes():
            layer_rows.append((name,) + _startup_and_round_trip(Path(tmp), env, repeat, min_small))
        sandbox = Sandbox(Path(tmp), python_path=["."])
        try:
            student = Student(sandbox, timeout=3600)
            module = student.module("benchecho")
            nothing, echo = module.nothing, module.echo
            nothing()  # starts nothing new, but warms the child's import caches
            t_nothing = best_of(nothing, repeat, min_small)
            t_small = best_of(lambda: echo(*small_args), repeat, min_small)
            back = echo(x)
            if not np.array_equal(back, x):
                raise RuntimeError("the sandbox echoed a different array")
            t_array = best_of(lambda: echo(x), repeat)
        finally:
            sandbox.close()

    pipe = _PipeEcho()
    try:
        small_payload = b"x" * 64
        pipe.round_trip(small_payload)
        t_pipe_small = best_of(lambda: pipe.round_trip(small_payload), repeat, min_small)
        big = x.tobytes()
        t_pipe_array = best_of(lambda: pipe.round_trip(big), repeat)
        # The floor for a start-up: a bare interpreter that imports nothing of ours.
        starts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
            starts.append(time.perf_counter() - t0)
        t_bare_start = min(starts)
    finally:
        pipe.close()

    mb_moved = 2 * x.nbytes / 2**20  # there and back
    us = 1e6
    metrics = [
        Metric("call round trip, no arguments", t_nothing * us, "us",
               f"bare pipe {fmt_duration(t_pipe_small)}", t_nothing / t_pipe_small,
               note="64-byte message through the pipe"),
        Metric("call round trip, small arguments", t_small * us, "us",
               f"bare pipe {fmt_duration(t_pipe_small)}", t_small / t_pipe_small,
               note="int, float, str, list of 3 ints"),
        Metric(f"array echo, {array_mb} MB float64", mb_moved / t_array, "MB/s",
               f"bare pipe {mb_moved / t_pipe_array:,.0f} MB/s", t_array / t_pipe_array,
               note="ratio: time relative to the pipe"),
    ]
    for name, t_start, t_round, layers in layer_rows:
        active = sorted(k for k, v in layers.items() if v is True)
        metrics.append(Metric(f"student process start-up, {name}", t_start * 1e3, "ms",
                              f"bare `python -I -c pass` {fmt_duration(t_bare_start)}",
                              t_start / t_bare_start,
                              note="fresh workspace copy + launcher + child + one import; "
                                   "active: " + (", ".join(active) or "none")))
        metrics.append(Metric(f"call round trip, small arguments, {name}", t_round * us, "us",
                              f"bare pipe {fmt_duration(t_pipe_small)}", t_round / t_pipe_small))
    return metrics
