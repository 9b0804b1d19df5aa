"""The cluster tests' submissions: six demo submissions covering every outcome."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from coursekit.testing import mutate

HARNESS = Path(__file__).resolve().parents[1] / "harness"
if str(HARNESS) not in sys.path:
    sys.path.insert(0, str(HARNESS))
from harness_support import assert_valid_results  # noqa: E402,F401

# Module-level code that kills the student process while calc.ops is imported.
CRASH_AT_IMPORT = "import ctypes\nctypes.string_at(0)\n"

# At import: forge a perfect results file wherever one might be, and leave a daemon
# that keeps forging it; add and matmul are wrong.
HOSTILE = '''
import glob, json, os, time
import numpy as np

FAKE = {"score": 1000, "tests": [{"name": "x", "score": 1000, "max_score": 1}]}

def _forge():
    for path in glob.glob("/tmp/coursekit-*/autograder/results") + ["/autograder/results"]:
        try:
            with open(path + "/results.json", "w") as fh:
                json.dump(FAKE, fh)
        except OSError:
            pass

_forge()
if os.fork() == 0:
    os.setsid()
    for _ in range(400):
        _forge()
        time.sleep(0.05)
    os._exit(0)

def add(a, b):
    return 0

def matmul(a, b):
    return 0
'''

# What each submission earns of the demo's 6 points (add 1, matmul 2, model 2, nb_square 1),
# from the demo graders' own rules (tests/harness/test_demo_grading.py, test_hostile.py).
EXPECTED = {
    "a_reference": 6.0,
    "b_stubs": 0.0,
    "c_hangs": 5.0,       # add never returns: its 10 s limit ends it, 0 of 1
    "d_partial": 4.0,     # forward ignores the bias: 0 of 2 for model
    "e_crashes": 3.0,     # calc.ops dies at import: add and matmul 0
    "f_hostile": 3.0,     # forged results and a daemon: add and matmul wrong
}


def make_submissions(folder: Path, reference: Path, stubs: Path) -> Path:
    folder.mkdir(parents=True)
    shutil.copytree(reference, folder / "a_reference")
    shutil.copytree(stubs, folder / "b_stubs")
    hang = shutil.copytree(reference, folder / "c_hangs")
    mutate(hang, "calc/ops.py", "def add(a, b):\n    while True:\n        pass\n")
    partial = shutil.copytree(reference, folder / "d_partial")
    mutate(partial, "calc/models.py", "def forward(self, x):\n    return x @ self.W\n",
           name="Linear.forward")
    crash = shutil.copytree(reference, folder / "e_crashes")
    ops = crash / "calc" / "ops.py"
    ops.write_text(CRASH_AT_IMPORT + ops.read_text())
    hostile = shutil.copytree(reference, folder / "f_hostile")
    (hostile / "calc" / "ops.py").write_text(HOSTILE)
    return folder
