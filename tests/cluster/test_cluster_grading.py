"""`coursekit grade --cluster` on a real Ray cluster of local processes.

A head (no CPU) and one worker node (one CPU) grade the six demo submissions of
cluster_support.EXPECTED with --retrain. The worker is killed while a grading runs and then
started again: the run completes, the scores equal those of the local --jobs path, and
no submission finished before the kill is graded again. Which submission ran where is
read from Ray's own worker logs (each grading task prints one line there when it
starts), not from the command's results folder.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from cluster_support import EXPECTED, assert_valid_results

pytest.importorskip("ray")
from coursekit.cluster.localcluster import start_local_cluster  # noqa: E402

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"coursekit: grading (\S+) on ")


def coursekit(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "coursekit", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def cluster():
    try:
        c = start_local_cluster(workers=1)
    except RuntimeError as exc:
        # Ray's raylet gives its agents 15 s to start; a machine too loaded for that
        # cannot run this test at all, which says nothing about the code under test.
        pytest.skip(f"could not start a local Ray cluster: {str(exc)[-300:]}")
    yield c
    c.stop()


def test_cluster_run_survives_a_dead_worker_and_matches_local(cluster, demo_folder, build,
                                                              tmp_path):
    zip_path = build.autograder_zip("demo")
    out_csv, results = tmp_path / "cluster.csv", tmp_path / "results"
    args = ["grade", "demo", str(demo_folder), "--zip", str(zip_path), "--retrain",
            "--csv", str(out_csv), "--results", str(results), "--cluster", cluster.address]
    driver = subprocess.Popen([sys.executable, "-m", "coursekit", *args], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        # Kill the worker once two gradings are saved and a third has started on it.
        deadline = time.monotonic() + 600
        while True:
            done = sorted(p.parent.name for p in results.glob("*/grading.json"))
            running = Counter(STARTED.findall(cluster.worker_logs()))
            if len(done) >= 2 and set(running) - set(done):
                break
            assert driver.poll() is None, driver.stdout.read()
            assert time.monotonic() < deadline, "no grading finished within 10 minutes"
            time.sleep(0.2)
        before = {name: (results / name / "grading.json").read_bytes() for name in done}
        mtimes = {name: (results / name / "results.json").stat().st_mtime_ns for name in done}
        in_flight = set(running) - set(done)
        cluster.workers[0].kill()
        time.sleep(2)
        cluster.add_worker()
        output, _ = driver.communicate(timeout=900)
    finally:
        if driver.poll() is None:
            driver.kill()
    assert driver.returncode == 0, output

    # Nothing finished before the kill was graded again; everything else was graded,
    # the one killed mid-way possibly twice.
    runs = Counter(STARTED.findall(cluster.worker_logs()))
    assert set(runs) == set(EXPECTED), runs
    for name in done:
        assert runs[name] == 1, (name, runs)
        assert (results / name / "grading.json").read_bytes() == before[name]
        assert (results / name / "results.json").stat().st_mtime_ns == mtimes[name]
    # The grading that was running when its node died ran again (Ray's retry) and only it.
    assert sorted(n for n in runs if runs[n] == 2) == sorted(in_flight), (runs, in_flight)
    assert max(runs.values()) == 2
    journal = [json.loads(line) for line in (results / "gradings.jsonl").read_text().splitlines()]
    assert sorted(j["submission"] for j in journal) == sorted(EXPECTED)

    # The same scores as the local batch path, in the same CSV.
    local_csv = tmp_path / "local.csv"
    local = coursekit("grade", "demo", str(demo_folder), "--zip", str(zip_path), "--retrain",
                      "--jobs", "2", "--csv", str(local_csv))
    assert local.returncode == 0, local.stdout + local.stderr
    assert out_csv.read_text() == local_csv.read_text()
    scores = {row["submission"]: float(row["score"]) for row in read_csv(out_csv)}
    assert scores == EXPECTED

    # One results.json per submission, valid, scoring what the CSV says.
    for name, score in EXPECTED.items():
        doc = json.loads((results / name / "results.json").read_text())
        assert_valid_results(doc)
        assert doc["score"] == score

    # Run again: everything is graded already, nothing is sent to the cluster.
    cluster.stop()
    again = coursekit(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "6 of 6 submissions already graded" in again.stdout
    assert out_csv.read_text() == local_csv.read_text()
