"""The report's parts on small inputs: grouping, winnowing, starter regions, loading, flags, escaping."""

from __future__ import annotations

import json
import re
import zipfile

import pytest

from coursekit.report import build_report
from coursekit.report.attention import needs_a_look
from coursekit.report.files import read_code
from coursekit.report.load import ReportInputError, load
from coursekit.report.reasons import group_reasons, normalise
from coursekit.report.regions import student_lines
from coursekit.report.winnow import fingerprints, tokens


def results_doc(tests, **top):
    """A results.json document: tests are (name, question, score, max_score, output)."""
    doc = {"score": sum(t[2] for t in tests), "execution_time": 3, "tests": [
        {"name": n, "score": s, "max_score": m, "output": o,
         "extra_data": {"id": f"test_x.py::{n}", "question": q}} for n, q, s, m, o in tests]}
    doc.update(top)
    return doc


def write_class(folder, docs):
    for name, doc in docs.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "results.json").write_text(json.dumps(doc))
    return folder


def test_numbers_are_normalised_but_names_with_digits_are_not():
    a = normalise("dx: relative error 3.1e-02, expected below 1e-07")
    b = normalise("dx:  relative error 4.7E+01, expected below 1e-07")
    assert a == b == "dx: relative error N, expected below N"
    assert normalise("conv2d of a1_pytorch: shape (4, -2) vs nan") == "conv2d of a1_pytorch: shape (N, N) vs N"


def test_reasons_group_across_students_and_keep_an_example(tmp_path):
    docs = {f"s{i}": results_doc([("t_dx", "q1", 0, 2, f"dx: relative error {e}, expected below 1e-07\n"
                                   f"  trace line {i}")]) for i, e in enumerate(["3.1e-02", "0.5", "7e+01"])}
    docs["s9"] = results_doc([("t_dx", "q1", 0, 2, "dx is not implemented yet")])
    docs["ok"] = results_doc([("t_dx", "q1", 2, 2, "")])
    reasons = group_reasons(load(write_class(tmp_path, docs)))["q1"]
    assert [(r.count, r.pattern) for r in reasons] == [
        (3, "dx: relative error N, expected below N"), (1, "dx is not implemented yet")]
    assert reasons[0].example.startswith("dx: relative error 3.1e-02")
    assert reasons[0].points_lost == 6


STUDENT = '''
def matmul(a, b):
    n, k = a.shape
    out = np.zeros((n, b.shape[1]))
    for i in range(n):
        for j in range(b.shape[1]):
            total = 0.0
            for t in range(k):
                total += a[i, t] * b[t, j]
            out[i, j] = total
    return out
'''


def test_renamed_identifiers_give_the_same_fingerprints():
    renamed = (STUDENT.replace("total", "acc").replace("out", "res").replace("    for i", "    # rows\n    for i"))
    a, b = tokens(STUDENT), tokens(renamed)
    assert [t.text for t in a] == [t.text for t in b]
    fa = {h for h, _ in fingerprints(a, 5, 4)}
    assert fa == {h for h, _ in fingerprints(b, 5, 4)} and len(fa) > 10
    other = tokens("prod = np.einsum('ik,kj->ij', a, b)\nprint(prod.sum())\n")
    assert not fa & {h for h, _ in fingerprints(other, 5, 4)}


def test_attribute_names_still_count():
    assert [t.text for t in tokens("x.shape")] == ["V", ".", ".shape", ";"]
    assert [t.text for t in tokens("y.size")] != [t.text for t in tokens("x.shape")]


def test_every_window_keeps_a_fingerprint():
    toks = tokens(STUDENT)
    kept = sorted(p for _, p in fingerprints(toks, 5, 4))
    # Winnowing's guarantee: no gap of w or more k-grams without a kept one.
    assert all(b - a <= 4 for a, b in zip([-1] + kept, kept + [len(toks) - 5 + 1]))


def test_only_lines_that_differ_from_the_starter_are_the_students(tmp_path):
    starter = tmp_path / "starter"
    sub = tmp_path / "sub"
    for d in (starter, sub):
        (d / "pkg").mkdir(parents=True)
    (starter / "pkg" / "ops.py").write_text(
        'def add(a, b):\n    """Add."""\n    # Hint: one operator.\n    raise NotImplementedError("add")\n')
    (sub / "pkg" / "ops.py").write_text(
        'def add(a, b):\n    """Add."""\n    # Hint: one operator.\n    c = a + b\n    return c\n')
    nb = {"cells": [{"cell_type": "code", "source": "x = 1\n", "metadata": {}},
                    {"cell_type": "code", "source": ["def sq(x):\n", "    raise NotImplementedError\n"],
                     "metadata": {"nbgrader": {"grade_id": "sq"}}}], "metadata": {}, "nbformat": 4}
    (starter / "N.ipynb").write_text(json.dumps(nb))
    nb["cells"][1]["source"] = "def sq(x):\n    return x * x\n"
    nb["cells"].insert(0, {"cell_type": "code", "source": "import numpy as np\n", "metadata": {}})
    with zipfile.ZipFile(tmp_path / "sub.zip", "w") as zf:   # an upload with an extra top folder
        for p in sub.rglob("*.py"):
            zf.write(p, "mywork/" + p.relative_to(sub).as_posix())
        zf.writestr("mywork/N.ipynb", json.dumps(nb))
        zf.writestr("../evil.py", "x = 1\n")
    units = read_code(tmp_path / "sub.zip")
    assert [u.label for u in units] == ["mywork/N.ipynb, cell #0", "mywork/N.ipynb, cell #1",
                                        "mywork/N.ipynb, cell sq", "mywork/pkg/ops.py"]
    lines = student_lines(units, read_code(starter))
    assert lines == [{1}, set(), {2}, {4, 5}]


def test_flags_and_messages_make_the_needs_a_look_table(tmp_path):
    docs = {
        "flagged": results_doc([("t1", "q1", 1, 1, "")], extra_data={
            "peak_memory_mb": 812.5, "sandbox": {"network": True},
            "flags": [{"test": "test_x.py::t1", "kind": "integrity", "reason": "labels file opened"}]}),
        "slow": results_doc([("t1", "q1", 0, 1, "timed out after 5 s in m.f")], extra_data={
            "flags": [{"test": "t1", "kind": "timeout", "reason": "ran past 5 s"}]}),
        "old": results_doc([("t1", "q1", 0, 1, "the student process died with SIGKILL during m.f")]),
        "fine": results_doc([("t1", "q1", 0, 1, "got 3, expected 4")]),
    }
    data = load(write_class(tmp_path / "r", docs))
    assert data.by_name()["flagged"].peak_memory_mb == 812.5 and data.by_name()["old"].peak_memory_mb is None
    found = [(c.submission.name, c.kind, c.reason) for c in needs_a_look(data)]
    # The timeout is flagged and also in the message: listed once, from the flag.
    assert found == [("old", "crash", "the student process died with SIGKILL during m.f"),
                     ("slow", "timeout", "ran past 5 s"), ("flagged", "integrity", "labels file opened")]


def test_csv_rows_without_results_are_listed_with_their_error(tmp_path):
    (tmp_path / "scores.csv").write_text("submission,score,max_score,q1,error\n"
                                         "a.zip,1,1,1,\nb.zip,,,,RuntimeError: run_autograder wrote no results.json\n")
    write_class(tmp_path / "scores-results", {"a": results_doc([("t1", "q1", 1, 1, "")])})
    data = load(tmp_path / "scores.csv")
    assert data.by_name()["a.zip"].score == 1
    [concern] = needs_a_look(data)
    assert (concern.submission.name, concern.kind) == ("b.zip", "no results")
    assert "wrote no results.json" in concern.reason


def test_bad_input_names_the_file_and_line(tmp_path):
    (tmp_path / "scores.csv").write_text("submission,score,q1,error\na,1,one,\n")
    with pytest.raises(ReportInputError, match=r"scores.csv, line 2, column 'q1': 'one' is not a number"):
        load(tmp_path / "scores.csv")
    bad = tmp_path / "r"
    (bad / "x").mkdir(parents=True)
    (bad / "x" / "results.json").write_text('{"tests": [{"score": "full"}]}')
    [sub] = load(bad).submissions
    assert sub.results is None and "x/results.json: tests[0] (?): score is not a number" in sub.error
    with pytest.raises(ReportInputError, match="no such file or folder"):
        load(tmp_path / "missing")


def test_student_text_cannot_inject_markup(tmp_path):
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>'
    docs = {"a": results_doc([("t1", "q1", 0, 1, evil)]), evil[:8].strip("<>"): results_doc([("t1", "q1", 1, 1, "")])}
    out = tmp_path / "report.html"
    build_report(write_class(tmp_path / "r", docs), out, progress=False)
    text = out.read_text()
    assert "<script" not in text and "<img" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "default-src 'none'" in text
    # Nothing is loaded from elsewhere: no remote src/href (SVG namespace names are not loads).
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text)
    assert "<metadata>" not in text and text.count("<svg") == 3   # total, q1, time


def test_sandbox_layers_are_counted_over_the_class(tmp_path):
    docs = {f"s{i}": results_doc([("t1", "q1", 1, 1, "")], extra_data={
        "sandbox": {"network": True, "mount": "no user namespaces" if i else True, "uid": 1900 + i,
                    "ipc": False}}) for i in range(3)}
    docs["older"] = results_doc([("t1", "q1", 1, 1, "")])
    out = tmp_path / "report.html"
    build_report(write_class(tmp_path / "r", docs), out, progress=False)
    text = out.read_text()
    assert "<li><b>mount</b>: no user namespaces (2 submissions); on (1 submission)</li>" in text
    assert "<li><b>network</b>: on (3 submissions)</li>" in text
    assert "<li><b>uid</b>: on (3 submissions)</li>" in text and "<li><b>ipc</b>: off (3 submissions)</li>" in text


def test_fingerprints_do_not_join_code_across_starter_lines():
    text = "a = f(x, y, z)\n# starter line\nSTARTER = 1\nb = g(p, q, r)\n"
    toks = tokens(text, {1, 4})
    assert {t.segment for t in toks if t.line == 1} != {t.segment for t in toks if t.line == 4}
    for h, pos in fingerprints(toks, 5, 4):
        assert toks[pos].segment == toks[pos + 4].segment


def test_retrain_results_are_matched_to_csv_rows_and_compared_per_question(tmp_path):
    (tmp_path / "scores.csv").write_text("submission,score,max_score,q1,q2,error\nalice.zip,3,3,1,2,\n"
                                         "bob.zip,3,3,1,2,\n")
    both = [("t1", "q1", 1, 1, ""), ("t2", "q2", 2, 2, "")]
    write_class(tmp_path / "scores-results", {"alice": results_doc(both), "bob": results_doc(both)})
    write_class(tmp_path / "retrain", {"alice": results_doc(both),
                                       "bob": results_doc([("t1", "q1", 1, 1, ""), ("t2", "q2", 0.5, 2, "low")])})
    found = needs_a_look(load(tmp_path / "scores.csv"), load(tmp_path / "retrain"))
    assert [(c.submission.name, c.kind, c.test) for c in found] == [("bob.zip", "retrain disagrees", "q2")]
    assert found[0].reason == ("question q2: the submitted checkpoint scores 2 / 2, "
                               "retraining the submitted code scores 0.5 / 2")


def test_a_gradescope_export_entry_without_results_or_with_json_text(tmp_path):
    doc = results_doc([("t1", "q1", 1, 2, "got 1, expected 2")])
    (tmp_path / "submission_7").mkdir()
    (tmp_path / "submission_7" / "results.json").write_text(json.dumps(results_doc([("t1", "q1", 2, 2, "")])))
    (tmp_path / "submission_metadata.yml").write_text(
        "submission_7:\n  :submitters:\n  - :name: Ada\n  :results: '" + json.dumps(doc) + "'\n"
        "submission_8:\n  :submitters:\n  - :sid: '42'\n  :score: 0.0\n"
        "../outside:\n  :submitters: []\n")
    subs = load(tmp_path).by_name()
    # The uploaded results.json (full marks) is not believed; the metadata's results are.
    assert subs["submission_7"].score == 1 and subs["submission_7"].label == "Ada"
    assert subs["submission_7"].files == tmp_path / "submission_7"
    assert subs["submission_8"].results is None and "submission_8 has no autograder results" in subs["submission_8"].error
    assert subs["submission_8"].label == "42" and subs["../outside"].files is None
