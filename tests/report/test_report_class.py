"""The class report end to end: a generated class of 21 uploads graded by the real autograder,
the report built by the `coursekit report` command, then read in headless Chromium."""

from __future__ import annotations

import json
import shutil
import textwrap

import numpy as np
import pytest
from class_of_demo import (ADD_STUDENTS, COPY_A, COPY_B, CRASH, DEMO_MANIFEST, TIMEOUT, make_class)
from report_browser import Dom, dump_dom, find_browser, screenshot

from coursekit.cli import main as coursekit
from coursekit.manifest import load_assignment
from coursekit.report import build_report
from coursekit.report.load import load


@pytest.fixture(scope="module")
def graded(build, tmp_path_factory):
    """(work folder, student -> note): uploads/, out/scores.csv and out/scores-results/<student>/results.json."""
    work = tmp_path_factory.mktemp("class")
    what = make_class(build.solutions("demo"), build.release("demo"), work / "uploads")
    status = coursekit(["grade", "demo", str(work / "uploads"), "--jobs", "2", "--csv", str(work / "out" / "scores.csv"),
                        "--zip", str(build.autograder_zip("demo")), "--timeout", "600"])
    assert status == 0
    return work, what


@pytest.fixture(scope="module")
def report(graded, build, tmp_path_factory):
    """The report built from the CSV, with a retrain run that disagrees for one student."""
    work, _ = graded
    # The "retrain" run: the same results, except that retraining COPY_A's code is taken to
    # score what an add-mutant scored (a real grading, moved to another name).
    retrain = work / "retrain"
    shutil.copytree(work / "out" / "scores-results", retrain)
    shutil.copyfile(work / "out" / "scores-results" / ADD_STUDENTS[0] / "results.json",
                    retrain / COPY_A / "results.json")
    out = work / "report.html"
    status = coursekit(["report", str(work / "out" / "scores.csv"), "-o", str(out),
                        "--submissions", str(work / "uploads"), "--starter", str(build.release("demo")),
                        "--assignment", str(DEMO_MANIFEST), "--retrain-results", str(retrain),
                        "--title", "Demo class"])
    assert status == 0
    return out


def test_the_class_is_graded_as_constructed(graded):
    work, what = graded
    assert len(what) >= 20
    data = load(work / "out" / "scores.csv")
    subs = data.by_name()
    assert set(subs) == set(what)
    assert all(s.results is not None for s in subs.values())
    full = sum(q.points for q in load_assignment(DEMO_MANIFEST).questions)
    for name in ("reference-1", COPY_A, COPY_B, "einsum", "tensordot"):
        assert subs[name].score == full, (name, subs[name].results)
    for name in ADD_STUDENTS:
        assert subs[name].by_question()["add"][0] == 0
    assert subs["stubs-1"].score == 0


@pytest.fixture(scope="module")
def browser():
    path = find_browser()
    if path is None:
        pytest.skip("no Chromium on this machine (CI installs Debian's `chromium`)")
    return path


@pytest.fixture(scope="module")
def dom(report, browser, tmp_path_factory):
    return Dom(dump_dom(browser, report, tmp_path_factory.mktemp("profile")))


def test_every_question_has_its_plot(dom):
    questions = load_assignment(DEMO_MANIFEST).questions
    assert len(questions) == 4
    for q in questions + [None]:
        fid = "plot-total" if q is None else f"plot-q-{q.id}"
        fig = dom.figures.get(fid)
        assert fig is not None, (fid, sorted(dom.figures))
        assert fig["svg"] == 1 and fig["shapes"] >= 3, fid
        if q is not None:
            assert fig["caption"].startswith(f"{q.id}: {q.title}: mean"), fig["caption"]
            assert f"{q.id}: {q.title}" in "".join(fig["text"])     # the plot's own title, as SVG text
    assert "plot-time" in dom.figures


def test_the_top_failure_reason_of_the_mutated_question_with_its_count(dom):
    rows = dom.rows("reasons:add")
    assert rows, dom.tables.keys()
    count, test, reason, examples = rows[0]
    assert int(count) == len(ADD_STUDENTS)
    assert test.endswith("add works on numbers and arrays"), test
    # One group although each student's numbers differ: the numbers read as N.
    assert reason.startswith("add(N, N): got N, expected N"), reason
    shown = [n for n in ADD_STUDENTS if n in examples]
    assert len(shown) == 5 and f"and {len(ADD_STUDENTS) - 5} more" in examples
    # Every link (examples, needs a look, pairs) leads to something on the page.
    assert dom.links and not [target for target in dom.links if target not in dom.ids]
    assert "sub-" + ADD_STUDENTS[0] in dom.links
    # The stubs' reason comes after, with its own count.
    assert any(r[2].startswith("add is not implemented yet") and r[0] == "2" for r in rows[1:]), rows


def test_the_copied_pair_tops_the_similarity_table(dom):
    rows = dom.rows("similarity")
    assert rows, "no similarity table"
    first = rows[0]
    assert {first[1], first[2]} == {COPY_A, COPY_B}, rows[:3]
    assert int(first[3]) >= 60
    # Nobody else shares that much: the reference and its mutants are common code.
    for row in rows[1:]:
        assert int(row[3]) < int(first[3]) / 2, row


def test_crash_timeout_and_retrain_need_a_look(dom):
    rows = dom.rows("needs-a-look")
    kinds = {(r[0], r[1]) for r in rows}
    assert (CRASH, "crash") in kinds, rows
    assert (TIMEOUT, "timeout") in kinds, rows
    assert (COPY_A, "retrain disagrees") in kinds, rows
    retrain = [r for r in rows if r[1] == "retrain disagrees"]
    assert len(retrain) == 1 and retrain[0][2] == "add" and "retraining the submitted code scores 0" in retrain[0][3]
    # Nothing else: right answers, mutants and stubs are not concerns.
    assert {r[0] for r in rows} == {CRASH, TIMEOUT, COPY_A}, rows
    crash = [r for r in rows if r[1] == "crash"][0]
    assert "the student process exited with status 3" in crash[3]


def test_the_screenshot_shows_a_page(report, browser, tmp_path):
    from PIL import Image

    png = tmp_path / "report.png"
    screenshot(browser, report, png, tmp_path / "profile")
    image = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert image.shape[0] >= 2000 and image.shape[1] == 1280
    # Text and plots: many dark pixels on a light page, spread over its height.
    dark = image < 128
    assert dark.mean() > 0.01
    bands = np.array_split(dark, 8, axis=0)
    assert sum(b.mean() > 0.002 for b in bands) >= 6
    keep = (report.parent / "report.png")
    shutil.copyfile(png, keep)


def test_a_gradescope_export_gives_the_same_report(graded, build, tmp_path):
    """The Export Submissions layout: submission_metadata.yml with each upload's results."""
    import yaml

    work, what = graded
    local = load(work / "out" / "scores.csv").by_name()
    export = tmp_path / "assignment_4242_export"
    export.mkdir()
    entries, ids = [], {}
    for i, name in enumerate(sorted(what), start=1001):
        ids[name] = f"submission_{i}"
        shutil.copytree(work / "uploads" / name, export / ids[name])
        doc = json.loads((work / "out" / "scores-results" / name / "results.json").read_text())
        results = textwrap.indent(yaml.safe_dump(doc, sort_keys=False), "    ")
        entries.append(f"submission_{i}:\n  :submitters:\n  - :name: {name}\n    :sid: '{i}'\n"
                       f"    :email: {name}@example.edu\n  :created_at: 2026-03-01 10:00:00.000000000 -08:00\n"
                       f"  :score: {doc['score']}\n  :status: processed\n  :results:\n{results}  :history: []\n")
    (export / "submission_metadata.yml").write_text("".join(entries))
    page = build_report(tmp_path, tmp_path / "gs.html", starter=build.release("demo"), progress=False)
    subs = page.results.by_name()
    assert set(subs) == set(ids.values())
    for name, sid in ids.items():
        assert subs[sid].label == name
        assert subs[sid].by_question() == local[name].by_question()
    top = page.pairs[0]
    assert {top.a.submission.label, top.b.submission.label} == {COPY_A, COPY_B}
    assert {(c.submission.label, c.kind) for c in page.concerns} == {(CRASH, "crash"), (TIMEOUT, "timeout")}
