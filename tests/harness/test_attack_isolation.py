"""Attacks on the sandbox itself: processes that outlive a grading, root acting on
links the student planted, gradings that reach each other, the machine seen from inside.

Each attack runs in `sandbox_attack.py` against a real Sandbox, in three modes:

- `namespaces`: root with every layer (the way Gradescope runs the autograder);
- `uid-only`: root with namespaces turned off (a machine that refuses them);
- `normal-user`: the grader started by an ordinary user (no uid of its own, no namespaces).

Every attack asserts the outcomes that matter in each mode; where a promise does not
hold in a mode, docs/security.md says so and the test names the missing layer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from harness_support import unprivileged_can_run_python

DRIVER = Path(__file__).with_name("sandbox_attack.py")
MODES = ["namespaces", "uid-only", "normal-user"]
LIMIT = 240   # seconds: any attack ends far sooner; only a hang would reach this


@pytest.fixture(params=MODES)
def attack(request, tmp_path):
    """attack(module_source, calls, **spec) -> the driver's report (a dict)."""
    mode = request.param
    if os.geteuid() != 0:
        if mode != "normal-user":
            pytest.skip(f"{mode} needs root; this run is a normal user's")
        prefix, env = [], dict(os.environ)
    elif mode == "normal-user":
        why = unprivileged_can_run_python("nobody", "nogroup")
        if why:
            pytest.skip(f"the user nobody cannot run this interpreter: {why}")
        prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
        env = dict(os.environ, HOME="/tmp", TMPDIR="/tmp")
    else:
        prefix, env = [], dict(os.environ)
        if mode == "uid-only":
            why = unprivileged_can_run_python()
            if why:
                pytest.skip(f"without namespaces an unprivileged uid cannot run this interpreter: {why}")
            env["COURSEKIT_SANDBOX_NAMESPACES"] = "0"

    def run(module: str, calls: list, **spec):
        spec = dict(spec, module=textwrap.dedent(module), calls=calls)
        if "neighbour" in spec:
            spec["neighbour"] = textwrap.dedent(spec["neighbour"])
        spec.setdefault("token", uuid.uuid4().hex)
        proc = subprocess.run(prefix + [sys.executable, str(DRIVER), json.dumps(spec)],
                              capture_output=True, text=True, env=env, timeout=LIMIT)
        line = [x for x in proc.stdout.splitlines() if x.startswith("ATTACK-RESULT ")]
        assert proc.returncode == 0 and line, proc.stdout[-3000:] + proc.stderr[-3000:]
        report = json.loads(line[0].split(" ", 1)[1])
        report["mode"] = mode
        return report

    run.mode = mode
    return run


def assert_nothing_left(report):
    """No process of the grading survives it, and the grading's folders are gone."""
    assert report["survivors"] == [], f"{report['mode']}: processes outlived the grading"
    assert report["uid_processes"] == []
    assert not report["sandbox_base_left"]


def test_deep_setsid_fork_chain_is_ended(attack):
    """A chain of 40 processes, each in a new session, the last ones sleeping for
    minutes with the output pipe open: all are gone when the grading closes, and
    closing does not wait on the pipe they hold."""
    report = attack('''
        import os, time
        def start():
            return 0
        def chain():
            for depth in range(40):
                pid = os.fork()
                if pid:
                    if depth == 0:
                        return "started"
                    os._exit(0)      # orphan the rest of the chain
                os.setsid()
            time.sleep(600)          # the end of the chain holds stdout open
        ''', [["chain", []]])
    assert report["calls"][0] == {"value": "started"}
    assert_nothing_left(report)
    assert report["close_seconds"] < LIMIT / 4


def test_daemons_and_fork_storm_outlive_nothing(attack):
    report = attack('''
        import os, time
        def storm():
            n = 0
            for _ in range(300):
                try:
                    if os.fork() == 0:
                        os.setsid()
                        if os.fork() == 0:
                            time.sleep(600)
                        os._exit(0)
                    n += 1
                except OSError:
                    break
            return n
        ''', [["storm", []]])
    assert "value" in report["calls"][0] or "error" in report["calls"][0]
    assert_nothing_left(report)


def test_files_in_shared_temporary_folders_do_not_stay(attack):
    if attack.mode == "normal-user":
        pytest.skip("normal-user mode: files in shared temporary folders are not removed "
                    "(no uid of the grading's own; docs/security.md)")
    token = uuid.uuid4().hex
    paths = [f"/tmp/left-{token}", f"/var/tmp/left-{token}", f"/dev/shm/left-{token}"]
    report = attack('''
        def leave():
            written = 0
            for path in %r:
                try:
                    with open(path, "w") as fh:
                        fh.write("x")
                    written += 1
                except OSError:
                    pass
            return written
        ''' % paths, [["leave", []]], token=token)
    assert report["calls"][0]["value"] == 3, "the student could not write its temporary files"
    assert [p for p in paths if os.path.exists(p)] == []


def test_proc_shows_no_grader_and_no_repository(attack):
    """The token is on the grader's command line: reading it means reading /proc of
    processes outside the grading."""
    report = attack('''
        import os
        def snoop():
            found = []
            token = os.environ["ATTACK_TOKEN"].encode()
            me = os.getpid()
            for name in os.listdir("/proc"):
                if name.isdigit() and int(name) != me:
                    try:
                        if token in open("/proc/%s/cmdline" % name, "rb").read():
                            found.append(name)
                    except OSError:
                        pass
            pristine = os.environ["ATTACK_PRISTINE"]
            try:
                stolen = open(os.path.join(pristine, "m.py")).read()[:20]
            except OSError:
                stolen = ""
            repo = os.path.exists("/work/main/README.md") or os.path.exists("/autograder/source")
            return {"found": found, "stolen": stolen, "repo": repo}
        ''', [["snoop", []]])
    seen = report["calls"][0]["value"]
    if report["mode"] == "normal-user":
        pytest.skip("normal-user mode: the student runs as the grader's own user and can read "
                    "what it can (docs/security.md)")
    assert seen["stolen"] == "", "the student read the grader's own copy of the submission"
    if report["mode"] == "uid-only":
        assert report["layers"]["pid_namespace"] == "turned off"
        return   # /proc is the machine's: the grader's command line is visible, its files are not
    assert report["layers"]["pid_namespace"] is True and report["layers"]["filesystem_view"] is True
    assert seen["found"] == [], "the student saw the grader's command line in /proc"


def test_no_network(attack):
    report = attack('''
        import os, socket
        def connect():
            try:
                socket.create_connection(("127.0.0.1", int(os.environ["ATTACK_PORT"])), timeout=3).close()
                return "connected"
            except OSError as exc:
                return type(exc).__name__
        ''', [["connect", []]])
    if report["mode"] != "namespaces":
        assert report["layers"]["network_namespace"] != True  # noqa: E712 (a reason string)
        pytest.skip(f"{report['mode']}: no network namespace ({report['layers']['network_namespace']})")
    assert report["calls"][0]["value"] != "connected"
    assert report["connections"] == 0


def test_planted_links_and_a_racing_swapper_reach_nothing_of_roots(attack, tmp_path):
    """The student swaps its files and folders for links to a root-only file, keeps a
    process swapping them, and crashes so the grader starts it again: the victim keeps
    its owner, mode and content, and the grader still reads the submitted bytes."""
    victim = tmp_path / "victim.txt"
    victim.write_text("root's own")
    os.chmod(victim, 0o600)
    os.chmod(tmp_path, 0o755)
    before = victim.stat()
    report = attack('''
        import os, time
        victim = os.environ["ATTACK_VICTIM"]
        def plant():
            for name in os.listdir("."):
                if name.endswith(".txt") or name == "sub":
                    os.system("rm -rf " + name)
            os.symlink(victim, "answer.txt")
            os.symlink(os.path.dirname(victim), "sub")
            if os.fork() == 0:
                os.setsid()
                while True:      # keep swapping, hoping to meet root half-way
                    for name in ("answer.txt", "sub", "m2.py"):
                        try:
                            os.unlink(name)
                        except OSError:
                            pass
                        try:
                            os.symlink(victim, name)
                        except OSError:
                            pass
            time.sleep(0.2)
            os._exit(1)
        def read():
            try:
                return open("answer.txt").read()
            except OSError as exc:
                return type(exc).__name__
        ''', [["plant", []], ["read", []], ["@restart", []], ["read", []]],
        files={"answer.txt": "submitted answer", "sub/inner.txt": "inner"},
        victim=str(victim), check_files=["answer.txt", "sub/inner.txt"])
    after = victim.stat()
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)
    assert victim.read_text() == "root's own"
    # Each new student process starts from the submitted files, not from what the last one left.
    assert report["calls"][1] == {"value": "submitted answer"}
    assert report["calls"][2] == {"value": "submitted answer"}
    assert report["submitted"] == {"answer.txt": "submitted answer", "sub/inner.txt": "inner"}
    assert_nothing_left(report)


def test_grader_folder_is_read_only_to_the_student(attack):
    report = attack('''
        import os
        def use_shared(folder):
            path = os.path.join(folder, "input.txt")
            text = open(path).read()
            outcomes = []
            for action in (lambda: open(path, "w").write("changed"),
                           lambda: os.unlink(path),
                           lambda: os.rename(path, path + ".old"),
                           lambda: open(os.path.join(folder, "extra"), "w").write("x")):
                try:
                    action()
                    outcomes.append("done")
                except OSError as exc:
                    outcomes.append(type(exc).__name__)
            return {"read": text, "outcomes": outcomes}
        ''', [["@shared", []]], shared="grader's input")
    value = report["calls"][0]["value"]
    assert value["read"] == "grader's input"
    if report["mode"] == "normal-user":
        pytest.skip("normal-user mode: the student runs as the grader's own user, who owns "
                    "the folder (docs/security.md)")
    assert "done" not in value["outcomes"]
    assert report["shared_text"] == "grader's input" and report["shared_after"] == ["input.txt"]


def test_gradings_cannot_reach_each_other(attack):
    """Two gradings side by side (as with --jobs 2): the second tries to kill every
    process it may and to rewrite the first one's workspace."""
    if attack.mode == "normal-user":
        pytest.skip("normal-user mode: every grading runs as the grader's own user "
                    "(docs/security.md)")
    report = attack('''
        import glob, os, signal
        def attack_neighbour():
            try:
                os.kill(-1, signal.SIGKILL)   # every process this uid may signal, but itself
            except OSError:
                pass
            touched = 0
            own = os.path.join(os.getcwd(), "m.py")
            for path in glob.glob("/tmp/coursekit-sandbox-*/work-*/m.py"):
                if path == own:
                    continue
                try:
                    open(path, "a").write("\\n# hacked-by-neighbour\\n")
                    touched += 1
                except OSError:
                    pass
            return touched
        ''', [["attack_neighbour", []]], neighbour='''
        import os
        def start():
            return os.getpid()
        def check():
            return {"pid": os.getpid(), "hacked": ("hacked-by-" + "neighbour") in open("m.py").read()}
        ''')
    assert report["uid"] != report["neighbour_uid"]
    assert report["calls"][0] == {"value": 0}
    assert "value" in report["neighbour_calls"][0], report["neighbour_calls"]
    first_pid = report["neighbour_calls"][0]["value"]
    # The neighbour's process was neither killed (it would have been restarted) nor edited.
    assert report["neighbour_calls"][1] == {"value": {"pid": first_pid, "hacked": False}}
    assert_nothing_left(report)
