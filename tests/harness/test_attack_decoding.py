"""Hostile replies: a student process that writes crafted bytes to its reply pipe,
bypassing the encoder, cannot make the grader slow, cannot make it allocate what it
only declares, and cannot put text in results.json that strict readers refuse.

Each hostile calc/ops.py keeps the demo's correct model and notebook, so the honest
score is exactly 3 points (questions `model` and `nb_square`); its own questions
(`add`, `matmul`) score 0. The attacks run inside `add`, whose limit is 10 s.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import threading
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from coursekit.local_grading.command import print_summary
from coursekit.grading.results import build_results, write_atomic
from coursekit.sandbox import codec

HONEST = 3.0
REPO = Path(__file__).resolve().parents[2]
# The whole grading, honest questions included, takes seconds; `add`'s own limit is
# 10 s. Before the limits, decoding the colliding keys alone took minutes.
GRADING_LIMIT_S = 60

# Helpers the hostile module uses: a message written straight to the reply pipe,
# whose descriptor the child's configuration (its first argument) names.
RAW_SENDER = '''
import json, os, struct, sys, time
import numpy as np

def send_raw(header, sizes=(), count=None, header_size=None):
    fd = json.loads(sys.argv[1])["reply_fd"]

    def put(data):
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    try:
        count = len(sizes) if count is None else count
        declared = len(header) if header_size is None else header_size
        put(struct.pack("<Q", declared) + header + struct.pack("<I", count))
        zeros = bytes(8 << 20)
        for size in sizes:
            put(struct.pack("<Q", size))
            while size > 0:
                put(zeros[:size])
                size -= len(zeros)
    except OSError:
        pass
    time.sleep(120)  # never reply properly: the grader must not wait for more

def ok(body):
    return b'{"$d":[["ok",' + body + b']]}'

def matmul(a, b):
    return 0
'''

P61 = 2**61 - 1

ATTACKS = {
    # 99,999 int keys with one hash value, plus the reply's own key: the key limit exactly.
    "colliding_keys": 'send_raw(ok(json.dumps({"$d": [[k * %d + 1, 0] for k in range(1, 100000)]}).encode()))' % P61,
    "deep_json": 'send_raw(ok(b"[" * 2000000 + b"]" * 2000000))',
    "deep_value": 'send_raw(ok(b"[" * 100 + b"]" * 100))',
    "item_flood": 'send_raw(ok(b"[" + b"[]," * 9999999 + b"[]]"))',
    "buffer_flood": 'send_raw(ok(b"0"), count=2**32 - 1)',
    "huge_header": 'send_raw(b" " * (1 << 20), header_size=1 << 30)',
    "huge_buffer": ('send_raw(ok(b\'{"$a":0,"dtype":"|u1","shape":[%d]}\'), sizes=[%d])'
                    % (3 << 29, 3 << 29)),
}


def hostile_ops(attack: str) -> str:
    return RAW_SENDER + "\ndef add(a, b):\n    " + ATTACKS[attack] + "\n"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_reply_is_refused_quickly(grade_demo, demo, attack):
    (demo / "calc" / "ops.py").write_text(hostile_ops(attack))
    started = time.monotonic()
    # A regression must fail the test, not hang it: run_autograder is stopped at 300 s.
    result = grade_demo(demo, timeout=300)
    elapsed = time.monotonic() - started
    assert result.score == HONEST
    out = result.test("test_add")["output"]
    assert "cannot read" in out, out
    assert "timed out" not in out
    assert elapsed < GRADING_LIMIT_S, f"grading took {elapsed:.0f} s"


def test_an_oversized_honest_reply_gets_a_clear_message(grade_demo, demo):
    # Not an attack: the student's own encoder refuses what the grader would, and says why.
    (demo / "calc" / "ops.py").write_text(
        "def add(a, b):\n    return {i: a for i in range(100001)}\n\n"
        "def matmul(a, b):\n    return 0\n")
    result = grade_demo(demo, timeout=300)
    assert result.score == HONEST
    out = result.test("test_add")["output"]
    assert "more than 100000 dict keys in one value: cannot send it" in out, out


MEASURE = '''
import json, resource, sys
from coursekit.local_grading.local import grade_submission
r = grade_submission("demo", sys.argv[1], autograder_zip=sys.argv[2], timeout=300)
print(json.dumps({"score": r.score, "add": r.test("test_add")["output"],
                  "peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
'''


def graded_in_fresh_process(submission: Path, zip_path: Path) -> dict:
    """Grade in a new process; the largest resident size of any process of the grading
    (the grader, its launcher and student processes) is that process's children's peak."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", MEASURE, str(submission), str(zip_path)],
                          capture_output=True, text=True, timeout=400, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_declared_huge_buffer_costs_the_grader_nothing(build, demo, tmp_path):
    zip_path = build.autograder_zip("demo")
    honest = graded_in_fresh_process(demo, zip_path)
    hostile = tmp_path / "hostile"
    subprocess.run(["cp", "-r", str(demo), str(hostile)], check=True)
    (hostile / "calc" / "ops.py").write_text(hostile_ops("huge_buffer"))
    attacked = graded_in_fresh_process(hostile, zip_path)
    assert honest["score"] == 6.0
    assert attacked["score"] == HONEST
    assert "cannot read" in attacked["add"]
    # 1.5 GB declared (and streamed): the peak stays that of an honest grading, give
    # or take noise far below the buffer's size.
    assert attacked["peak_mb"] < honest["peak_mb"] + 200, (honest["peak_mb"], attacked["peak_mb"])


SURROGATES = '''
import os, sys
import numpy as np

_codec = sys.modules["coursekit.sandbox.codec"]
_encode = _codec.encode


def _next_reply(value):
    """The child's next reply is `value`, whatever the call returned or raised."""
    def crafted(_ignored, make_handle=None):
        _codec.encode = _encode
        return _encode(value)
    _codec.encode = crafted


class Odd:
    def __repr__(self):
        return "odd \\udcff repr"


def add(a, b):
    os.write(1, b"printed \\xed\\xa0\\x80 bytes\\n")
    raise ValueError("bad \\ud800 value \\udfff")


def matmul(a, b):
    if np.shape(a)[1] != np.shape(b)[0]:
        # An error report no real exception can produce: its type name is not UTF-8 either.
        _next_reply({"error": {"type": "Value\\ud800Error", "message": "shapes \\udc00",
                               "trace": [["calc/ops\\udcff.py", 3, "mat\\ud801", "x = \\udbff"]]}})
        return None
    return {"key \\ud800": Odd(), "text": "returned \\udc80 string", ("t\\udfff",): 1}
'''


def strings_of(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings_of(k)
            yield from strings_of(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings_of(v)


def assert_strict_utf8_json(raw: bytes) -> dict:
    doc = json.loads(raw.decode("utf-8", "strict"))
    for s in strings_of(doc):
        s.encode("utf-8", "strict")  # a lone surrogate (even as a \\ud800 escape) fails here
    return doc


def test_lone_surrogates_reach_results_as_replacement_characters(grade_demo, demo, tmp_path):
    (demo / "calc" / "ops.py").write_text(SURROGATES)
    results_file = tmp_path / "results.json"
    started = time.monotonic()
    result = grade_demo(demo, results=results_file, timeout=300)
    assert time.monotonic() - started < GRADING_LIMIT_S
    assert result.score == HONEST
    doc = assert_strict_utf8_json(results_file.read_bytes())
    outputs = {t["extra_data"]["id"].split("::")[-1]: t["output"] for t in doc["tests"]}
    assert "bad \ufffd value \ufffd" in outputs["test_add"]
    assert "printed \ufffd" in outputs["test_add"]
    assert "Value\ufffdError" in outputs["test_matmul_shape_error"]
    # The summary prints on a strict UTF-8 stream.
    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    print_summary("hostile", result, out=stream)
    stream.flush()
    printed = stream.buffer.getvalue().decode("utf-8")
    assert "bad \ufffd value" in printed


def test_results_file_is_strict_json_whatever_the_records_hold(tmp_path):
    class Record:
        def __init__(self, score, output, leaderboard=None):
            self.score, self.output, self.status = score, output, "failed"
            self.leaderboard = leaderboard

    expected = [
        {"id": "t::a", "name": "name \ud800", "max_score": 1, "question": "q\udcff"},
        {"id": "t::b", "name": "b", "max_score": 1, "question": "q", "leaderboard": ["acc", "desc"]},
    ]
    records = {"t::a": Record(float("nan"), "out \udfff"),
               "t::b": Record(1.0, "fine \u00e9", leaderboard=("acc", "desc", float("inf")))}
    doc = build_results(expected, records, ["note about \udc80file.py"], 1.0)
    path = tmp_path / "results.json"
    write_atomic(path, doc)
    written = assert_strict_utf8_json(path.read_bytes())
    assert [t["name"] for t in written["tests"]] == ["name \ufffd", "b"]
    assert written["tests"][0]["output"] == "out \ufffd"
    assert written["tests"][0]["score"] == 0.0  # NaN points are no points
    assert written["tests"][1]["output"] == "fine \u00e9"
    assert written["output"] == "note about \ufffdfile.py"
    assert written["leaderboard"] == [{"name": "acc", "value": 0.0}]
    assert written["score"] == 1.0


def test_deadline_pipe_reads_buffers_in_place_and_keeps_its_deadline():
    from coursekit.sandbox.proxy import _DeadlinePipe

    class InPlaceOnly(_DeadlinePipe):
        def read(self, n):
            assert n <= 1 << 16, "an array's bytes must be read in place, not through read()"
            return super().read(n)

    a = np.arange(300_000, dtype="<f8")
    data = b"".join(bytes(c) for c in codec.encode({"ok": a}))
    r, w = os.pipe()
    try:
        os.set_blocking(w, False)
        written = 0
        pipe = InPlaceOnly(r, time.monotonic() + 60)
        # The message is larger than the pipe holds: write it from a thread.
        def writer():
            nonlocal written
            view = memoryview(data)
            while view:
                try:
                    n = os.write(w, view)
                except BlockingIOError:
                    time.sleep(0.001)
                    continue
                view = view[n:]
                written += n

        t = threading.Thread(target=writer)
        t.start()
        doc, buffers = codec.read_message(pipe, 1 << 30)
        t.join()
        out = codec.decode(doc, buffers)["ok"]
        np.testing.assert_array_equal(out, a)
        assert np.shares_memory(out, buffers[0])
        # Nothing more arrives: the read gives up at the deadline instead of waiting.
        with pytest.raises(TimeoutError):
            codec.read_message(_DeadlinePipe(r, time.monotonic() + 0.2), 1 << 30)
    finally:
        os.close(r)
        os.close(w)
