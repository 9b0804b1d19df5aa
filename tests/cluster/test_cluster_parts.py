"""The cluster path's parts that need no cluster: resources, keys, transport, results folder."""

from __future__ import annotations

import builtins
import csv
import io
import os
import sys
import zipfile
from pathlib import Path

import pytest

from coursekit.cluster import driver
from coursekit.cluster.plan import (HARNESS_MB, Options, list_submissions, read_manifest,
                                    run_key, task_resources)
from coursekit.cluster.store import ResultsFolder, csv_row, write_csv
from coursekit.cluster.task import pack, unpack
from coursekit.local_grading.local import GradeResult

MANIFEST = '''
[assignment]
name = "gpu_demo"
title = "t"
[release]
include = ["*.py"]
[submission]
files = ["a.py", "b.py"]
[[questions]]
id = "small"
title = "s"
points = 1
files = ["a.py"]
[questions.resources]
memory_mb = 1000
[[questions]]
id = "train"
title = "t"
points = 2
files = ["b.py"]
[questions.resources]
memory_mb = 3000
device = "any"
'''


@pytest.fixture
def gpu_zip(tmp_path) -> Path:
    path = tmp_path / "gpu_demo-gradescope.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("assignment.toml", MANIFEST)
    return path


def test_resources_follow_the_manifest(gpu_zip):
    a = read_manifest(gpu_zip)
    cuda = task_resources(a, "cuda")
    assert (cuda.num_gpus, cuda.memory_mb) == (1, 3000 + HARNESS_MB)
    assert cuda.ray_options()["memory"] == (3000 + HARNESS_MB) * 1024 * 1024
    assert task_resources(a, "cpu").num_gpus == 0
    # Only the CPU question: no GPU even on a cuda run, and its own memory.
    small = task_resources(a, "cuda", only=("small",))
    assert (small.num_gpus, small.memory_mb) == (0, 1000 + HARNESS_MB)
    assert task_resources(a, "auto", cluster_has_gpu=True).num_gpus == 1
    assert task_resources(a, "auto", cluster_has_gpu=False).num_gpus == 0
    with pytest.raises(ValueError, match="no question 'nope'"):
        task_resources(a, "cpu", only=("nope",))


def test_manifest_errors_name_the_zip(tmp_path):
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("other.txt", "x")
    with pytest.raises(ValueError, match="bad.zip: holds no assignment.toml"):
        read_manifest(bad)


def _folder(root: Path) -> Path:
    sub = root / "alice"
    (sub / "calc").mkdir(parents=True)
    (sub / "calc" / "ops.py").write_text("x = 1\n")
    os.symlink("/etc/passwd", sub / "calc" / "link.py")
    return sub


def test_folder_travels_with_its_links(tmp_path):
    sub = list_submissions(_folder(tmp_path / "in").parent)[0]
    kind, payload = pack(sub)
    assert kind == "tar"
    out = tmp_path / "out"
    out.mkdir()
    back = unpack(kind, sub.name, payload, out)
    assert (back / "calc" / "ops.py").read_text() == "x = 1\n"
    assert os.readlink(back / "calc" / "link.py") == "/etc/passwd"
    # The same content gives the same key; a changed byte another.
    again = list_submissions(out)[0]
    assert again.key == sub.key
    (back / "calc" / "ops.py").write_text("x = 2\n")
    assert list_submissions(out)[0].key != sub.key


def test_zip_travels_as_uploaded(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bob.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    sub = list_submissions(folder)[0]
    assert sub.slug == "bob"
    kind, payload = pack(sub)
    out = tmp_path / "out"
    out.mkdir()
    assert unpack(kind, sub.name, payload, out).read_bytes() == (folder / "bob.zip").read_bytes()


def test_names_sharing_a_results_folder_are_refused(tmp_path):
    (tmp_path / "carol").mkdir()
    (tmp_path / "carol.zip").write_bytes(b"")
    with pytest.raises(ValueError, match="'carol' and 'carol.zip'"):
        list_submissions(tmp_path)


DOC = {"score": 3.0, "output": "", "tests": [
    {"name": "a", "score": 1.0, "max_score": 1.0, "extra_data": {"question": "q1"}},
    {"name": "b", "score": 2.0, "max_score": 4.0, "extra_data": {"question": "q2"}}]}


def test_results_folder_marks_finished_gradings_only(tmp_path):
    folder = tmp_path / "subs"
    _folder(folder)
    sub = list_submissions(folder)[0]
    store = ResultsFolder(tmp_path / "results")
    key = run_key(sub, "zipsha", Options("demo"))
    assert not store.finished(sub, key)
    store.save(sub, key, DOC, "log", {"wall_seconds": 2.5, "node": {"hostname": "n1", "uid": 0}})
    assert store.finished(sub, key)
    assert store.load(sub).results == DOC
    # Other options or another autograder: a different grading, not finished.
    assert not store.finished(sub, run_key(sub, "zipsha", Options("demo", retrain=True)))
    assert not store.finished(sub, run_key(sub, "other", Options("demo")))
    # A grading cut between its two files counts as not finished.
    (store.folder(sub) / "grading.json").unlink()
    assert not store.finished(sub, key)
    assert not list(store.folder(sub).glob(".*"))   # no temporary files left


def test_csv_matches_the_local_batch_format(tmp_path):
    """The row and header rules of coursekit.local_grading.command's batch CSV."""
    result = GradeResult(DOC, 1.0, "")
    rows = [csv_row("alice", result, ""), csv_row("bob.zip", None, "RuntimeError: boom")]
    path = tmp_path / "scores.csv"
    write_csv(rows, path)
    expected = io.StringIO(newline="")
    writer = csv.writer(expected)
    writer.writerow(["submission", "score", "max_score", "q1", "q2", "error"])
    writer.writerow(["alice", "3.0", "5.0", "1.0", "2.0", ""])
    writer.writerow(["bob.zip", "", "", "", "", "RuntimeError: boom"])
    assert path.read_bytes().decode() == expected.getvalue()


def test_without_ray_the_command_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    status = driver.grade_on_cluster("127.0.0.1:1", tmp_path, Options("demo"),
                                     tmp_path / "missing.zip", tmp_path / "s.csv")
    assert status == 2
    assert "pip install 'coursekit[cluster]'" in capsys.readouterr().err


def test_nodes_without_root_or_a_layer_are_named(tmp_path, capsys):
    folder = tmp_path / "subs"
    _folder(folder)
    sub = list_submissions(folder)[0]
    store = ResultsFolder(tmp_path / "results")
    doc = dict(DOC, extra_data={"sandbox": {
        "own_uid": 1900000004, "pid_namespace": True, "network_namespace": "refused by the machine (EPERM)",
        "cgroup": "not used: the kit relies on rlimits and a uid per grading"}})
    store.save(sub, "k", doc, "", {"node": {"hostname": "gpu-07", "uid": 1000}})
    driver._warn_about_isolation(store, [sub], sys.stderr)
    err = capsys.readouterr().err
    assert "1 grading(s) on gpu-07 ran as a user other than root" in err
    assert "gpu-07 ran without the sandbox layer 'network_namespace'" in err
    for fine in ("own_uid", "pid_namespace", "cgroup"):
        assert repr(fine) not in err


def test_a_task_fits_a_node_only_with_all_it_asks(gpu_zip):
    res = task_resources(read_manifest(gpu_zip), "cuda")
    mb = 1024 * 1024
    big = {"CPU": 4, "GPU": 1, "memory": (res.memory_mb + 1) * mb}
    assert driver._fits(res, big)
    assert not driver._fits(res, dict(big, GPU=0))
    assert not driver._fits(res, dict(big, CPU=0))
    assert not driver._fits(res, dict(big, memory=(res.memory_mb - 1) * mb))
