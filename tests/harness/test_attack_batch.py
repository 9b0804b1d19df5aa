"""Attacks on other students' gradings, through `coursekit grade` on a folder.

A hostile submission graded beside an honest one (`--jobs 2`), or just before it
(`--jobs 1`), tries to kill every process it may signal, to rewrite the other
workspaces it can find and to leave a daemon behind for the next grading. The honest
submission must keep its full marks with no misleading message, and nothing of the
hostile one may survive the batch. Runs as root (a uid per grading); as a normal user
every grading shares one uid, which docs/security.md states.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from harness_support import unprivileged_can_run_python

from coursekit.sandbox.proxy import is_root

REPO = Path(__file__).resolve().parents[2]

ATTACK = '''
import glob, os, signal, sys, time
end = time.time() + float(sys.argv[1])
mine = os.getcwd()
while time.time() < end:
    # Every process this uid may signal, except the ones working in this submission's folder.
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and int(pid) != os.getpid() and \\
                    os.readlink("/proc/%s/cwd" % pid) != mine:
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass
    for path in glob.glob("/tmp/coursekit-sandbox-*/work-*/calc/ops.py"):
        if not path.startswith(mine):
            try:
                with open(path, "w") as fh:
                    fh.write("def add(a, b):\\n    return 0\\n")
            except OSError:
                pass
    time.sleep(0.02)
'''

# The token is on the attackers' command lines, so a survivor can be found afterwards.
HOSTILE = '''
import os, subprocess, sys
ATTACK = %r
TOKEN = "%s"

# A daemon for whoever is graded next, then the attack on whoever is graded now.
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", ATTACK, "120", TOKEN])
    os._exit(0)

def add(a, b):
    subprocess.run([sys.executable, "-c", ATTACK, "8", TOKEN])
    return 0

def matmul(a, b):
    return 0
'''


@pytest.mark.skipif(not is_root(), reason="a uid per grading needs root")
@pytest.mark.parametrize("namespaces", ["1", "0"], ids=["namespaces", "uid-only"])
@pytest.mark.parametrize("jobs", [2, 1])
def test_hostile_submission_cannot_touch_its_neighbours(build, reference_submission, tmp_path, jobs,
                                                        namespaces):
    if namespaces == "0":
        why = unprivileged_can_run_python()
        if why:
            pytest.skip(f"without namespaces an unprivileged uid cannot run this interpreter: {why}")
    token = uuid.uuid4().hex[:8]
    batch = tmp_path / "batch"
    batch.mkdir()
    honest = reference_submission("demo")
    # Sorted names: with one job the hostile one is graded first, then the honest ones.
    shutil.copytree(honest, batch / "a-hostile")
    (batch / "a-hostile" / "calc" / "ops.py").write_text(HOSTILE % (ATTACK, token))
    # The model module is imported first: it starts the attack at once, keeping its model.
    models = batch / "a-hostile" / "calc" / "models.py"
    models.write_text("import calc.ops\n" + models.read_text())
    for name in ("b-honest", "c-honest"):
        shutil.copytree(honest, batch / name)
    scores = tmp_path / "scores.csv"
    proc = subprocess.run(
        [sys.executable, "-m", "coursekit", "grade", "demo", str(batch), "--jobs", str(jobs),
         "--zip", str(build.autograder_zip("demo")), "--csv", str(scores)],
        capture_output=True, text=True, cwd=REPO, timeout=600,
        env=dict(os.environ, PYTHONPATH=str(REPO), COURSEKIT_SANDBOX_NAMESPACES=namespaces))
    assert scores.is_file(), proc.stdout[-2000:] + proc.stderr[-2000:]
    rows = {row["submission"]: row for row in csv.DictReader(scores.open())}
    assert float(rows["b-honest"]["score"]) == 6.0, rows
    assert float(rows["c-honest"]["score"]) == 6.0, rows
    assert float(rows["a-hostile"]["score"]) == 3.0, rows   # only its honest model and notebook
    # Nothing of the hostile submission is left: no live process carries its token.
    left = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            if token.encode() in Path(f"/proc/{pid}/environ").read_bytes() + \
                    Path(f"/proc/{pid}/cmdline").read_bytes():
                left.append(pid)
        except OSError:
            pass
    assert left == []
