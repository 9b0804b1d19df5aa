"""Hostile submissions: each earns nothing it did not earn honestly, ends within its
time limit and leaves a valid results file.

Each hostile calc/ops.py keeps the demo's correct `Linear` model and notebook, so the
honest score is exactly the 3 points of the questions `model` and `nb_square`; the
hostile file's own questions (`add`, `matmul`, 3 points) must score 0 unless noted.
Run as root, the student process runs as an unprivileged user; isolation checks that
only hold there are marked `root_only`.
"""

from __future__ import annotations

import glob
import os
import subprocess
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from coursekit.sandbox.proxy import is_root

HONEST = 3.0
root_only = pytest.mark.skipif(not is_root(), reason="isolation by user needs root")

WRONG_OPS = '''
def add(a, b):
    return 0

def matmul(a, b):
    return 0
'''


def hostile_ops(prelude: str, body: str = WRONG_OPS) -> str:
    return "import numpy as np\nimport os, sys, glob, json, time\n" + prelude + "\n" + body


def run_hostile(grade_demo, demo, source: str, **kw):
    (demo / "calc" / "ops.py").write_text(source)
    started = time.monotonic()
    result = grade_demo(demo, **kw)
    return result, time.monotonic() - started


def test_writes_results_file_at_import(grade_demo, demo):
    source = hostile_ops('''
fake = {"score": 1000, "tests": [{"name": "x", "score": 1000, "max_score": 1}]}
for path in glob.glob("/tmp/coursekit-grade-*/autograder/results") + glob.glob("/autograder/results"):
    try:
        with open(path + "/results.json", "w") as fh:
            json.dump(fake, fh)
    except OSError:
        pass
''')
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST


def test_background_process_rewriting_results_is_killed(grade_demo, demo, tmp_path):
    token = uuid.uuid4().hex
    beacon = Path("/tmp") / f"coursekit-beacon-{token}"
    source = hostile_ops(f'''
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        # A daemon: outlives its parent, keeps trying to overwrite results.
        for _ in range(600):
            for path in glob.glob("/tmp/coursekit-grade-*/autograder/results/results.json"):
                try:
                    open(path, "w").write('{{"score": 1000}}')
                except OSError:
                    pass
            try:
                open("{beacon}", "w").write(str(time.time()))
            except OSError:
                pass
            time.sleep(0.05)
    os._exit(0)
''')
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST
    # The daemon is gone: its beacon stops changing and no process mentions the token.
    if beacon.exists():
        before = beacon.stat().st_mtime_ns
        time.sleep(0.5)
        assert beacon.stat().st_mtime_ns == before
        beacon.unlink()


@pytest.mark.parametrize("how", ["os._exit(0)", "sys.exit(0)", "raise SystemExit(3)"])
def test_exit_at_import(grade_demo, demo, how):
    result, _ = run_hostile(grade_demo, demo, hostile_ops(how))
    assert result.score == HONEST
    assert result.test("test_add")["output"]


def test_infinite_loop_times_out(grade_demo, demo):
    result, elapsed = run_hostile(grade_demo, demo, hostile_ops("while True:\n    pass"))
    assert result.score == HONEST
    assert "timed out" in result.test("test_add")["output"]
    # add and matmul: 10 s limits; the import is retried once per test.
    assert elapsed < 90


def test_runaway_memory_is_stopped(grade_demo, demo):
    source = hostile_ops('''
def add(a, b):
    hog = []
    while True:
        hog.append(bytearray(64 << 20))
''', body="def matmul(a, b):\n    return 0\n")
    result, elapsed = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST
    out = result.test("test_add")["output"]
    assert "MemoryError" in out or "died" in out, out
    assert elapsed < 60


def test_many_processes(grade_demo, demo):
    source = hostile_ops('''
def add(a, b):
    kids = 0
    for _ in range(3000):
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            kids += 1
        except OSError:
            break
    return kids
''', body="def matmul(a, b):\n    return 0\n")
    result, elapsed = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST
    assert elapsed < 60


def test_huge_output_is_truncated(grade_demo, demo):
    source = hostile_ops('''
def add(a, b):
    for _ in range(50):
        sys.stdout.write("x" * (1 << 20))
    sys.stdout.flush()
    return a - b
''', body="def matmul(a, b):\n    return 0\n")
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST
    out = result.test("test_add")["output"]
    assert len(out) <= 9_000 and "Output of your code" in out


@root_only
def test_cannot_read_graders_data_or_results(grade_demo, demo):
    source = hostile_ops('''
def add(a, b):
    stolen = []
    for pattern in ["/tmp/coursekit-grade-*/autograder/source/tests/*.py",
                    "/tmp/coursekit-grade-*/autograder/source/data/*",
                    "/tmp/coursekit-grade-*/autograder/results/*",
                    "/tmp/coursekit-grade-*/autograder/source/assignment.toml"]:
        for path in glob.glob(pattern):
            try:
                stolen.append(open(path).read()[:50])
            except OSError:
                pass
    for path in ["/etc/shadow"]:
        try:
            stolen.append(open(path).read()[:50])
        except OSError:
            pass
    raise ValueError("stolen: %d" % len(stolen))
''', body="def matmul(a, b):\n    return 0\n")
    result, _ = run_hostile(grade_demo, demo, source)
    assert "stolen: 0" in result.test("test_add")["output"]
    assert result.score == HONEST


def test_patching_numpy_does_not_fool_the_grader(grade_demo, demo):
    source = hostile_ops('''
np.allclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.array_equal = lambda *a, **k: True
''')
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST


@pytest.mark.parametrize("returned, message", [
    ("np.asarray(a + b).view(Sneaky)", None),
    ("Always()", "add(a, b): expected a numpy array, got an object of type Always"),
    ("np.full(np.shape(a + b), np.nan)", "add(a, b): 6 entries are NaN or infinite"),
    ("np.full(np.shape(a + b), np.inf)", "add(a, b): 6 entries are NaN or infinite"),
    ("np.zeros((7, 7))", "add(a, b): expected shape (2, 3), got (7, 7)"),
    ("np.array([object()] * 6, dtype=object).reshape(2, 3)",
     "add(a, b): expected a numpy array, got an object of type ndarray"),
])
def test_deceptive_return_values(grade_demo, demo, returned, message):
    source = hostile_ops('''
class Sneaky(np.ndarray):
    def __eq__(self, other):
        return True
    def __sub__(self, other):
        return np.zeros(self.shape)

class Always:
    def __eq__(self, other):
        return True
    def __float__(self):
        return 6.5
''', body=f'''
def add(a, b):
    if np.ndim(a) == 0:
        return a + b
    return {returned}

def matmul(a, b):
    return Always()
''')
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.question("matmul")[0] == 0
    if message is None:
        # A plain ndarray subclass comes back as a plain array of the same numbers (the
        # subclass's tricks stay in the child): the right answer, full marks.
        assert result.question("add") == (1, 1), result.test("test_add")
    else:
        # The scalar half of test_add passes, so the message is the array check's own.
        assert result.question("add")[0] == 0
        assert message in result.test("test_add")["output"], result.test("test_add")["output"]


def test_pickle_payload_in_the_reply_runs_nothing(grade_demo, demo):
    marker = Path("/tmp") / f"coursekit-pwned-{uuid.uuid4().hex}"
    source = hostile_ops(f'''
import pickle, struct
class Evil:
    def __reduce__(self):
        return (os.system, ("touch {marker}",))

def add(a, b):
    fd = json.loads(sys.argv[1])["reply_fd"]
    payload = pickle.dumps({{"ok": Evil()}})
    os.write(fd, struct.pack("<Q", len(payload)) + payload + struct.pack("<I", 0))
    time.sleep(5)
''', body="def matmul(a, b):\n    return 0\n")
    result, _ = run_hostile(grade_demo, demo, source)
    assert not marker.exists()
    assert result.score == HONEST
    assert "cannot read" in result.test("test_add")["output"]


def test_segfault(grade_demo, demo):
    source = hostile_ops('''
def add(a, b):
    import ctypes
    ctypes.string_at(0)
''', body="def matmul(a, b):\n    return 0\n")
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST
    assert "SIGSEGV" in result.test("test_add")["output"]


def test_deep_recursion(grade_demo, demo):
    source = hostile_ops('''
sys.setrecursionlimit(10**6)
def add(a, b):
    return add(a, b) + 1
''', body="def matmul(a, b):\n    return 0\n")
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST


@root_only
def test_cannot_edit_files_outside_its_folder(grade_demo, demo, tmp_path):
    victim = Path("/tmp") / f"coursekit-victim-{uuid.uuid4().hex}"
    victim.write_text("original")
    os.chmod(victim, 0o644)
    source = hostile_ops(f'''
for path in glob.glob("/tmp/coursekit-grade-*/autograder/source/tests/*.py") + ["{victim}"]:
    try:
        open(path, "w").write("def test_add(): pass\\n")
    except OSError:
        pass
try:
    open("/etc/coursekit-was-here", "w").write("x")
except OSError:
    pass
''')
    result, _ = run_hostile(grade_demo, demo, source)
    assert result.score == HONEST
    assert victim.read_text() == "original"
    assert not Path("/etc/coursekit-was-here").exists()
    victim.unlink()


def test_zip_entries_escaping_the_folder(grade_demo, demo, tmp_path):
    escape_name = f"coursekit-escape-{uuid.uuid4().hex}"
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as zf:
        for rel in ("calc/ops.py", "calc/models.py", "Demo.ipynb"):
            zf.write(demo / rel, rel)
        zf.writestr(f"../../{escape_name}", "escaped")
        zf.writestr(f"/tmp/{escape_name}", "escaped")
        link = zipfile.ZipInfo("calc/link.py")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    result = grade_demo(upload)
    assert result.score == 6
    assert not glob.glob(f"/tmp/**/{escape_name}", recursive=True)
    assert "points outside the submission folder" in result.results["output"]
    assert "links are not accepted" in result.results["output"]


def test_as_a_normal_user(grade, build, demo):
    """The whole grading run started by an ordinary user: still correct, still bounded."""
    if not is_root():
        pytest.skip("already running as a normal user: the other tests cover it")
    import sys

    probe = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
                            sys.executable, "-c", "pass"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"the user nobody cannot run this interpreter: {probe.stderr.strip()[-200:]}")
    import json
    import shutil
    import tempfile

    from harness_support import assert_valid_results

    # A folder of its own under /tmp: pytest's own temporary folders are closed to others.
    shared = Path(tempfile.mkdtemp(prefix="coursekit-nobody-"))
    try:
        zip_copy = shared / "demo-gradescope.zip"
        zip_copy.write_bytes(build.autograder_zip("demo").read_bytes())
        (demo / "calc" / "ops.py").write_text(hostile_ops("while True:\n    pass"))
        sub = shared / "sub"
        subprocess.run(["cp", "-r", str(demo), str(sub)], check=True)
        subprocess.run(["chmod", "-R", "a+rX", str(shared)], check=True)
        results = shared / "results.json"
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
               sys.executable, "-m", "coursekit", "grade", "demo", str(sub), "--zip", str(zip_copy),
               "--results", str(results)]
        env = dict(os.environ, HOME=str(shared), PYTHONPATH=str(Path(__file__).resolve().parents[2]))
        # The results file's folder must be writable by that user.
        os.chmod(shared, 0o777)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        doc = json.loads(results.read_text())
        assert_valid_results(doc)
        assert doc["score"] == HONEST
        assert doc["extra_data"]["sandbox"]["own_uid"].startswith("not separated")
    finally:
        shutil.rmtree(shared, ignore_errors=True)
