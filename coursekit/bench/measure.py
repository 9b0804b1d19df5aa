"""Timing helpers, and running a measurement in a fresh single-threaded process.

Ratios compare two things measured in the same process under the same thread
settings, so a busy machine slows both alike; each timing is the best of a few
repeats, the usual way to filter out interference from other processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULT_PREFIX = "@@coursekit-bench@@ "
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS")


def best_of(fn, repeat: int = 5, min_seconds: float = 0.0) -> float:
    """Seconds per call of fn(): the best of `repeat` timed runs.

    Each run calls fn() once, or as many times as it takes to last `min_seconds`
    (so very short calls are not lost in the clock's resolution).
    """
    best = float("inf")
    for _ in range(repeat):
        calls = 0
        start = time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds:
                break
        best = min(best, elapsed / calls)
    return best


def single_thread_env(extra: dict | None = None) -> dict:
    """The environment for a child that must use one thread (BLAS, OpenMP)."""
    env = dict(os.environ)
    for var in THREAD_VARS:
        env[var] = "1"
    env.update(extra or {})
    return env


class ChildFailed(RuntimeError):
    pass


def run_child(module: str, function: str, kwargs: dict, timeout: float, cpu: int | None = None,
              env: dict | None = None) -> dict:
    """Call `module.function(**kwargs)` in a fresh Python with one thread; return its dict.

    Inputs:
        module, function: where the measurement lives (it must return JSON-able data).
        kwargs: JSON-able keyword arguments.
        timeout: seconds before the child is killed (ChildFailed).
        cpu: pin the child to this CPU (None: leave the affinity alone).
        env: extra environment variables.
    """
    code = (
        "import json, os, sys\n"
        f"cpu = {cpu!r}\n"
        "if cpu is not None and hasattr(os, 'sched_setaffinity'):\n"
        "    os.sched_setaffinity(0, {cpu})\n"
        f"from {module} import {function} as f\n"
        "out = f(**json.loads(sys.argv[1]))\n"
        f"print({RESULT_PREFIX!r} + json.dumps(out), flush=True)\n"
    )
    try:
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(kwargs)], cwd=REPO,
                              env=single_thread_env(env), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ChildFailed(f"{module}.{function} took over {timeout:.0f} s") from None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
    raise ChildFailed(f"{module}.{function} failed (exit {proc.returncode}): {tail[0]}")


def pick_cpu() -> int:
    """A CPU this process may run on (the last one: the first tends to take interrupts)."""
    try:
        return max(os.sched_getaffinity(0))
    except AttributeError:
        return 0
