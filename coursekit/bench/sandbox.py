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


def run(quick: bool = False) -> list:
    import numpy as np

    from coursekit.sandbox import Sandbox, Student

    array_mb = 1 if quick else 32
    repeat = 2 if quick else 5
    min_small = 0.05 if quick else 0.5
    x = np.random.default_rng(0).standard_normal(array_mb * 2**20 // 8)
    small_args = (3, 2.5, "abc", [1, 2, 3])

    with tempfile.TemporaryDirectory(prefix="coursekit-bench-") as tmp:
        os.chmod(tmp, 0o755)  # the student user (when running as root) must reach it
        Path(tmp, "benchecho.py").write_text(_ECHO_MODULE)
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
    finally:
        pipe.close()

    mb_moved = 2 * x.nbytes / 2**20  # there and back
    us = 1e6
    return [
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
