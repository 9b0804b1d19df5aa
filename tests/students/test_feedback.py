"""Feedback a student can act on: the stub's own name, one wording, summaries that keep
the assignment's order and whole words, missing files that say what to do."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from coursekit.local_grading.command import lost_reason, print_summary
from coursekit.local_grading.local import GradeResult
from coursekit.grading.submission import prepare_workspace
from coursekit.manifest import load_assignment
from coursekit.sandbox.errors import StudentError
from coursekit.sandbox.definition_cells import load_notebook

REPO = Path(__file__).resolve().parents[2]


def test_bare_stub_is_named_by_the_students_frame_not_the_graders_call():
    # A grader that maps the student's function through a container reaches it via
    # collections.deque; the student must read the function they have to write.
    trace = [["PyTorch.ipynb, cell 'init_weights'", 4, "random_weight", "raise NotImplementedError()"]]
    err = StudentError("collections.deque", "NotImplementedError", "", trace)
    assert str(err).splitlines()[0] == "random_weight is not implemented yet"
    assert "collections.deque" not in str(err)


def test_module_stub_message_wins_over_the_frame():
    trace = [["scratch/layers.py", 30, "affine_forward", 'raise NotImplementedError("affine_forward")']]
    err = StudentError("scratch.layers.affine_forward", "NotImplementedError", "affine_forward", trace)
    assert str(err).splitlines()[0] == "affine_forward is not implemented yet"


def test_other_errors_keep_the_label():
    err = StudentError("scratch.layers.relu_forward", "ValueError", "bad shape", [])
    assert str(err) == "scratch.layers.relu_forward raised ValueError: bad shape"


def _notebook(tmp_path, cells):
    nb = {"cells": [{"cell_type": "code", "source": src, "outputs": [], "execution_count": None,
                     "metadata": {"tags": ["definitions"], "nbgrader": {"grade_id": gid}}}
                    for gid, src in cells],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return str(path)


def test_notebook_cell_stub_uses_the_same_wording(tmp_path):
    path = _notebook(tmp_path, [
        ("challenge_model", "x = 1\n\nraise NotImplementedError()\n"),
        ("helpers", "def helper():\n    raise NotImplementedError()\n\nhelper()\n"),
        ("broken", "y = 1 / 0\n"),
    ])
    module = load_notebook(path)
    errors = module.__coursekit_cell_errors__
    assert errors["challenge_model"] == "challenge_model is not implemented yet (line 3)"
    assert errors["helpers"] == "helper is not implemented yet (line 2)"   # where the stub is
    assert errors["broken"] == "ZeroDivisionError: division by zero (line 1)"


def _result(tests):
    doc = {"score": sum(t["score"] for t in tests), "tests": tests}
    return GradeResult(doc, 1.0, "")


def _t(name, qid, score, top, output=""):
    return {"name": name, "score": score, "max_score": top, "output": output,
            "extra_data": {"question": qid, "id": f"test_x.py::{name}"}}


def test_summary_follows_the_manifest_order_and_explains_each_loss():
    tests = [_t("test_c", "conv", 0, 2, "conv_forward_naive is not implemented yet\n  scratch/layers.py, line 9"),
             _t("test_a", "fc", 1, 1),
             _t("test_b", "norm", 0.5, 1, "dx: relative error 3.1e-02, expected below 1e-07")]
    out = []
    print_summary("sub", _result(tests), out=_Sink(out), order=["fc", "norm", "conv"])
    text = "".join(out)
    lines = text.splitlines()
    qlines = [ln.split()[0] for ln in lines if ln.startswith("  ") and not ln.startswith("   ")]
    assert qlines == ["fc", "norm", "conv"]
    # The reason comes right under its loss, before (and without) the traceback.
    i = next(i for i, ln in enumerate(lines) if "lost 2: test_c" in ln)
    assert lines[i + 1].strip() == "conv_forward_naive is not implemented yet"
    assert "scratch/layers.py" not in text
    j = next(i for i, ln in enumerate(lines) if "lost 0.5: test_b" in ln)
    assert lines[j + 1].strip() == "dx: relative error 3.1e-02, expected below 1e-07"


def test_lost_reason_never_cuts_a_word_and_keeps_two_lines():
    words = [f"word{i:03d}" for i in range(80)]
    message = " ".join(words) + "\n  File x.py, line 3"
    lines = lost_reason(message, width=60)
    assert 1 <= len(lines) <= 2
    assert all(len(ln) <= 60 for ln in lines)
    shown = " ".join(lines).replace(" ...", "").split()
    assert shown == words[:len(shown)]          # whole words, in order, none cut
    assert lines[-1].endswith(" ...")
    assert lost_reason("short reason") == ["short reason"]


class _Sink:
    def __init__(self, parts):
        self.parts = parts

    def write(self, s):
        self.parts.append(s)

    def flush(self):
        pass


def test_missing_files_say_what_to_do(tmp_path):
    a = load_assignment(REPO / "source" / "a2_neural_nets")
    starter = tmp_path / "starter"
    (starter / "scratch").mkdir(parents=True)
    (starter / "scratch" / "layers.py").write_text("x = 1\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    prepared = prepare_workspace(sub, starter, a, tmp_path / "ws")
    layers = prepared.file_notes["scratch/layers.py"]
    assert "starter version" in layers and "collect_submission.py" in layers
    ckpt = prepared.file_notes["checkpoints/best_fc.npz"]
    assert "starter" not in ckpt               # the starter has no checkpoint to grade
    assert "run FullyConnectedNets.ipynb" in ckpt and "collect_submission.py" in ckpt


def test_summary_wrap_matches_textwrap():
    # The wrapping is textwrap's: a message at the width stays on one line.
    msg = "a" * 10 + " " + "b" * 10
    assert lost_reason(msg, width=21) == textwrap.wrap(msg, width=21)
    assert re.fullmatch(r"a+ b+", lost_reason(msg, width=100)[0])


def test_data_states_read_in_plain_words(tmp_path):
    from coursekit.data.fetch import FileStatus

    def line(state, detail=""):
        return FileStatus("mnist", "t10k-labels-idx1-ubyte.gz", tmp_path / "f", state, detail).describe()

    assert line("verified").endswith(": verified, official file")
    mirror = line("mirror", "/srv/mirror")
    assert "verified copy from a mirror (/srv/mirror)" in mirror and "Nothing to do" in mirror
    assert "not the official file (md5 1, official 2)" in line("unofficial", "md5 1, official 2")
    bad = line("bad", "has shape (9,)")
    assert "wrong or damaged file: has shape (9,)" in bad and "python -m kitdata.fetch mnist" in bad
    assert "python -m kitdata.fetch mnist" in line("missing")
    # Only a wrong or missing file reads as a problem.
    assert not any(w in (line("verified") + mirror).lower() for w in ("wrong", "error", "damaged"))


def test_percent_continuation_line_is_python_not_a_magic(tmp_path):
    path = _notebook(tmp_path, [
        ("fmt", 'def label(x):\n    return ("%d items"\n            % x)\n'),
        ("magic", "%matplotlib inline\nvalue = 3\n"),
    ])
    module = load_notebook(path)
    assert module.__coursekit_cell_errors__ == {}
    assert module.label(4) == "4 items" and module.value == 3
