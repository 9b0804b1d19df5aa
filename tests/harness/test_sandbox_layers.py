"""The sandbox's layers as the grader sees them: what is recorded, what is refused with
a fix, what is charged once, and what it leaves of the machine unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coursekit.sandbox import Sandbox, StudentCrashed, StudentError, StudentTimeout, Student
from coursekit.sandbox.proxy import is_root

root_only = pytest.mark.skipif(not is_root(), reason="a uid per grading needs root")


def _pristine(tmp_path: Path, source: str) -> Path:
    folder = tmp_path / "pristine"
    folder.mkdir()
    (folder / "m.py").write_text(source)
    os.chmod(folder, 0o700)
    return folder


@root_only
def test_layers_are_recorded(tmp_path, monkeypatch):
    sandbox = Sandbox(_pristine(tmp_path, "def uid():\n    import os\n    return os.getuid()\n"))
    try:
        uid = Student(sandbox, 60).module("m").uid()
        layers = dict(sandbox.layers)
    finally:
        sandbox.close()
    assert uid == layers["own_uid"] and uid >= 1_000_000
    assert layers["no_new_privileges"] is True
    for name in ("mount", "network", "pid", "ipc", "uts"):
        # Each is either active or says why not, never missing.
        assert layers[f"{name}_namespace"] is True or isinstance(layers[f"{name}_namespace"], str)
    monkeypatch.setenv("COURSEKIT_SANDBOX_NAMESPACES", "0")
    (tmp_path / "b").mkdir()
    sandbox = Sandbox(_pristine(tmp_path / "b", "def f():\n    return 1\n"))
    try:
        assert Student(sandbox, 60).module("m").f() == 1
        assert sandbox.layers["pid_namespace"] == "turned off"
        assert sandbox.layers["filesystem_view"] == "needs a mount namespace"
    finally:
        sandbox.close()


@root_only
def test_unreachable_interpreter_is_refused_with_the_fix(tmp_path, monkeypatch):
    """Without a filesystem view, an interpreter behind a folder closed to others cannot
    run as the grading's uid: the kit says so (and changes no permission to get there)."""
    monkeypatch.setenv("COURSEKIT_SANDBOX_NAMESPACES", "0")
    closed = tmp_path / "closed"
    closed.mkdir()
    os.chmod(closed, 0o700)
    os.symlink(os.path.realpath(sys.executable), closed / "python")
    before = os.stat(closed).st_mode
    sandbox = Sandbox(_pristine(tmp_path, "x = 1\n"), python=str(closed / "python"))
    try:
        with pytest.raises(StudentCrashed) as info:
            Student(sandbox, 60).module("m")
    finally:
        sandbox.close()
    assert "cannot be reached by the unprivileged student user" in str(info.value)
    assert "/opt" in str(info.value)
    assert os.stat(closed).st_mode == before


@root_only
def test_a_grading_changes_no_permission_on_the_way_to_the_interpreter(tmp_path):
    chain = []
    path = os.path.realpath(sys.executable)
    while path != "/":
        path = os.path.dirname(path)
        chain.append(path)
    before = {p: os.stat(p).st_mode for p in chain}
    sandbox = Sandbox(_pristine(tmp_path, "def f():\n    return 2\n"))
    try:
        assert Student(sandbox, 60).module("m").f() == 2
    finally:
        sandbox.close()
    assert {p: os.stat(p).st_mode for p in chain} == before


def test_an_import_that_hangs_is_charged_once(tmp_path):
    sandbox = Sandbox(_pristine(tmp_path, "while True:\n    pass\n"))
    try:
        with pytest.raises(StudentTimeout):
            Student(sandbox, 12).module("m")
        started = time.monotonic()
        with pytest.raises(StudentTimeout) as again:
            Student(sandbox, 600).module("m")
        # The second test did not wait out its 600 s limit: it failed with the first reason.
        assert time.monotonic() - started < 300
        assert "already failed earlier in this grading" in str(again.value)
    finally:
        sandbox.close()


def test_a_short_limit_running_out_is_not_taken_for_a_hang(tmp_path):
    sandbox = Sandbox(_pristine(tmp_path, "import time\ntime.sleep(3)\ndef f():\n    return 3\n"))
    try:
        with pytest.raises(StudentTimeout):
            Student(sandbox, 0.5).module("m")
        assert Student(sandbox, 120).module("m").f() == 3
    finally:
        sandbox.close()


def test_an_import_that_raises_is_charged_once(tmp_path):
    sandbox = Sandbox(_pristine(tmp_path, "raise ValueError('broken at import')\n"))
    try:
        with pytest.raises(StudentError) as first:
            Student(sandbox, 60).module("m")
        with pytest.raises(StudentError) as again:
            Student(sandbox, 60).module("m")
        assert "broken at import" in str(first.value) and "broken at import" in str(again.value)
        assert again.value.type_name == "ValueError"
    finally:
        sandbox.close()


def test_read_bytes_and_submitted_bytes(tmp_path):
    pristine = _pristine(tmp_path, "def write():\n    open('made.bin', 'wb').write(b'\\x00made')\n"
                                   "    open('answer.txt', 'w').write('changed')\n")
    (pristine / "answer.txt").write_text("submitted")
    sandbox = Sandbox(pristine)
    try:
        student = Student(sandbox, 60)
        student.module("m").write()
        assert student.read_bytes("made.bin", 100) == b"\x00made"
        assert student.read_bytes("answer.txt", 100) == b"changed"
        # The grader's copy is what was uploaded, whatever the student process did.
        assert student.submitted_bytes("answer.txt", 100) == b"submitted"
        assert student.submitted_bytes("absent.txt", 100) is None
        with pytest.raises(AssertionError, match="over the"):
            student.read_bytes("made.bin", 2)
        with pytest.raises(AssertionError, match="answer.txt"):
            student.submitted_bytes("answer.txt", 3)
        with pytest.raises(AssertionError, match="not written"):
            student.read_bytes("missing.bin", 100)
        for bad in ("../m.py", "/etc/passwd", "a/../../b"):
            with pytest.raises(ValueError):
                student.submitted_bytes(bad, 100)
    finally:
        sandbox.close()


@root_only
def test_cleanup_runs_with_the_students_rights_only(tmp_path):
    """The student's own files, even in folders it closed to itself, are gone after the
    grading; a root-owned file it linked to is not touched."""
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.chmod(victim, 0o644)
    sandbox = Sandbox(_pristine(tmp_path, f'''
import os
def mess():
    os.makedirs("locked/deeper", exist_ok=True)
    open("locked/deeper/f", "w").write("x")
    os.symlink({str(victim)!r}, "locked/link")
    os.chmod("locked/deeper", 0o000)
    os.chmod("locked", 0o500)
    return os.getcwd()
'''))
    try:
        workdir = Student(sandbox, 60).module("m").mess()
    finally:
        sandbox.close()
    assert not os.path.exists(workdir) and not os.path.exists(sandbox.base)
    assert victim.read_text() == "keep"
