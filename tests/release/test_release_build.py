"""Whole builds of the demo: layout, determinism, zips, leaks, checkpoints, the command."""

import os
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from coursekit.manifest import load_assignment
from coursekit.release import ReleaseError
from coursekit.release.command import release_all
from coursekit.release.kit import build_kit
from coursekit.release.leakcheck import LeakChecker

SUBMISSION = ["Demo.ipynb", "calc/models.py", "calc/ops.py"]
# Every kit also carries the student's guide, pins, environment check and self-check.
SUPPORT = ["README.md", "check_env.py", "kit.json", "requirements.txt", "self_check.py"]
KIT = sorted(["Demo.ipynb", "calc/__init__.py", "calc/models.py", "calc/ops.py", "collect_submission.py"]
             + SUPPORT)


def tree(root):
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


def build_demo(source_root, out, names=("demo",)):
    return release_all([load_assignment(source_root / n) for n in names], out)


@pytest.fixture(scope="module")
def two_builds(tmp_path_factory, demo_dir):
    """The demo built twice: from the fixture, and from a copy elsewhere with other
    mtimes, permissions and junk, so nothing but content can make them differ."""
    first = tmp_path_factory.mktemp("first")
    build_demo(demo_dir.parent, first)
    copy_root = tmp_path_factory.mktemp("copy") / "source"
    shutil.copytree(demo_dir, copy_root / "demo")
    for path in (copy_root / "demo").rglob("*"):
        os.utime(path, (1_000_000_000, 1_234_567_890))
    (copy_root / "demo" / "calc" / "__pycache__").mkdir()
    (copy_root / "demo" / "calc" / "__pycache__" / "ops.cpython-311.pyc").write_bytes(b"junk")
    (copy_root / "demo" / ".ipynb_checkpoints").mkdir()
    (copy_root / "demo" / ".ipynb_checkpoints" / "Demo-checkpoint.ipynb").write_text("{}")
    second = tmp_path_factory.mktemp("second")
    build_demo(copy_root, second)
    return first, second


def test_release_layout(two_builds):
    out, _ = two_builds
    assert sorted(tree(out / "release" / "demo")) == KIT
    assert sorted(tree(out / "solutions" / "demo")) == [f for f in KIT if f != "collect_submission.py"]
    ops = (out / "release" / "demo" / "calc" / "ops.py").read_text()
    assert 'raise NotImplementedError("add")' in ops and "return a + b" not in ops
    sol = (out / "solutions" / "demo" / "calc" / "ops.py").read_text()
    assert "return a + b" in sol and "BEGIN SOLUTION" not in sol
    collect = (out / "release" / "demo" / "collect_submission.py").read_text()
    assert ('SUBMISSION = {"assignment": "demo", "files": ["calc/ops.py", "calc/models.py", '
            '"Demo.ipynb"], "max_file_mb": 5, "stubs": {"calc/models.py": ["Linear.forward"], '
            '"calc/ops.py": ["add", "matmul", "clip_all"]}}') in collect


def test_two_builds_are_byte_identical(two_builds):
    first, second = two_builds
    assert tree(first) == tree(second)
    for rel in ("release/demo.zip", "solutions/demo-submission.zip"):
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_zips_are_normalised(two_builds):
    out, _ = two_builds
    with zipfile.ZipFile(out / "release" / "demo.zip") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(f"demo/{n}" for n in KIT)
        for info in infos:
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert stat.S_IMODE(info.external_attr >> 16) == 0o644
            assert zf.read(info) == (out / "release" / info.filename).read_bytes()
    with zipfile.ZipFile(out / "solutions" / "demo-submission.zip") as zf:
        assert zf.namelist() == SUBMISSION
        assert b"return a + b" in zf.read("calc/ops.py")


def test_write_zip_executables_and_order(tmp_path):
    from coursekit.release.archive import write_zip
    script = tmp_path / "run"
    script.write_bytes(b"#!/bin/sh\necho hi\n")
    a = write_zip(tmp_path / "a.zip", {"z.txt": b"z", "run": script, "a/b.txt": b"b"},
                  executable={"run"})
    b = write_zip(tmp_path / "b.zip", {"run": str(script), "a/b.txt": b"b", "z.txt": b"z"},
                  executable=["run"])
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in zf.infolist()}
    assert modes == {"a/b.txt": 0o644, "run": 0o755, "z.txt": 0o644}
    with pytest.raises(ValueError):
        write_zip(tmp_path / "c.zip", {"../x": b""})


# --------------------------------------------------------------------------- leaks

def plant(demo_source, rel, old, new):
    path = demo_source / rel
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def leak_error(demo_source, out, releaser):
    a = load_assignment(demo_source)
    with pytest.raises(ReleaseError) as info:
        build_kit(a, out, releaser)
    assert not (out / "release" / "demo").exists(), "a leaking kit must not be left behind"
    assert not (out / "release" / "demo.zip").exists()
    return str(info.value)


def test_planted_leak_in_another_module(demo_source, tmp_path, releaser):
    # The matmul solution line copied into models.py, outside any region.
    plant(demo_source, "calc/models.py", "        return y\n", "        return y\n        out = a @ b\n")
    message = leak_error(demo_source, tmp_path, releaser)
    assert "release/demo/calc/models.py:31: 'out = a @ b'" in message
    assert "(inside a solution region at calc/ops.py:40)" in message


def test_planted_leak_inside_a_comment_and_from_a_notebook(demo_source, tmp_path, releaser):
    # A long solution line quoted in a comment, and a notebook answer pasted into a module.
    plant(demo_source, "calc/ops.py", "    out = []\n",
          "    out = []  # v = np.minimum(np.maximum(v, low), high)\n")
    plant(demo_source, "calc/models.py", '        """Number of', '        return x * x\n        """Number of')
    message = leak_error(demo_source, tmp_path, releaser)
    assert "release/demo/calc/ops.py:48: 'v = np.minimum(np.maximum(v, low), high)'" in message
    assert "(inside a solution region at calc/ops.py:59)" in message
    assert "release/demo/calc/models.py:33: 'return x * x'" in message
    assert "Demo.ipynb[cell 5, grade_id 'square']:12" in message


def test_planted_leak_in_markdown_and_in_an_extra_file(demo_source, tmp_path, releaser):
    toml = demo_source / "assignment.toml"
    toml.write_text(toml.read_text().replace('include = ["calc/*.py", "*.ipynb"]',
                                             'include = ["calc/*.py", "*.ipynb", "*.md"]'))
    (demo_source / "NOTES.md").write_text("# Notes\n\nHint: the model computes\n"
                                          "    y = x.dot(self.W) + self.b\n")
    message = leak_error(demo_source, tmp_path, releaser)
    assert "release/demo/NOTES.md:4: 'y = x.dot(self.W) + self.b'" in message
    assert "calc/models.py:30" in message


def test_markers_in_other_file_types_are_refused(demo_source, tmp_path, releaser):
    toml = demo_source / "assignment.toml"
    toml.write_text(toml.read_text().replace('"*.ipynb"]', '"*.ipynb", "*.md"]'))
    (demo_source / "NOTES.md").write_text("text\n### BEGIN SOLUTION\nsecret\n### END SOLUTION\n")
    with pytest.raises(ReleaseError, match=r"NOTES.md:2: solution markers are only understood"):
        build_kit(load_assignment(demo_source), tmp_path, releaser)


def test_leak_rule_ignores_trivial_and_same_file_lines():
    checker = LeakChecker()
    checker.add([("m.py:3", "    return out"), ("m.py:4", "    pass"), ("m.py:5", "    )"),
                 ("m.py:6", "    import numpy as np"), ("m.py:7", "    # done"),
                 ("m.py:8", "    x = x.reshape(N, -1)"), ("m.py:9", "    w = v * 0.5 + bias_vector")],
                public=["def f(x):", "    x = x.reshape(N, -1)"])
    assert [s.text for s in checker.secrets] == ["w = v * 0.5 + bias_vector"]
    released = [("k/a.py:1", "return out"), ("k/a.py:2", "x = x.reshape(N, -1)"),
                ("k/a.py:3", "w = v * 0.5 + bias_vector2"), ("k/a.py:4", "  w = v * 0.5 + bias_vector "),
                ("k/a.py:5", "# w = v * 0.5 + bias_vector"), ("k/a.py:6", "w = v * 0.5 + bias")]
    assert [leak.location for leak in checker.scan(iter(released))] == ["k/a.py:4", "k/a.py:5"]


# --------------------------------------------------------------------------- manifest-driven parts

def test_include_glob_matching_nothing_and_missing_submission_file(demo_source, tmp_path, releaser):
    toml = demo_source / "assignment.toml"
    original = toml.read_text()
    toml.write_text(original.replace('"*.ipynb"]', '"*.ipynb", "data/*.csv"]'))
    with pytest.raises(ReleaseError, match=r"release.include\[2\]: 'data/\*.csv' matches no file"):
        build_kit(load_assignment(demo_source), tmp_path, releaser)
    toml.write_text(original.replace('exclude = []', 'exclude = ["calc/models.py"]'))
    with pytest.raises(ReleaseError, match="submission file 'calc/models.py' is not in the kit"):
        build_kit(load_assignment(demo_source), tmp_path, releaser)


def test_datasets_bring_the_kitdata_package(demo_source, tmp_path, releaser):
    toml = demo_source / "assignment.toml"
    toml.write_text(toml.read_text().replace("datasets = []", 'datasets = ["mnist"]'))
    kit = build_kit(load_assignment(demo_source), tmp_path, releaser)
    import coursekit.data
    expected = coursekit.data.kit_files(["mnist"])
    for rel, data in expected.items():
        assert (kit.release_dir / rel).read_bytes() == data
    assert "kitdata/registry.json" in kit.files


def test_checkpoints_survive_rebuilds_and_join_the_submission(demo_source, tmp_path):
    toml = demo_source / "assignment.toml"
    toml.write_text(toml.read_text().replace(
        '"Demo.ipynb"]\nmax_file_mb = 5', '"Demo.ipynb", "checkpoints/mean.npy"]\nmax_file_mb = 5')
        + '\n[[checkpoints]]\nfile = "checkpoints/mean.npy"\nnotebook = "Demo.ipynb"\n')
    result = build_demo(demo_source.parent, tmp_path)["demo"]
    assert result.solutions.missing_checkpoints == ["checkpoints/mean.npy"]
    ckpt = tmp_path / "solutions" / "demo" / "checkpoints" / "mean.npy"
    ckpt.parent.mkdir()
    ckpt.write_bytes(b"weights")
    (tmp_path / "solutions" / "demo" / "stale.txt").write_text("left over from a run")
    result = build_demo(demo_source.parent, tmp_path)["demo"]
    assert result.solutions.missing_checkpoints == []
    assert ckpt.read_bytes() == b"weights"
    assert not (tmp_path / "solutions" / "demo" / "stale.txt").exists()
    with zipfile.ZipFile(tmp_path / "solutions" / "demo-submission.zip") as zf:
        assert zf.namelist() == sorted(SUBMISSION + ["checkpoints/mean.npy"])
        assert zf.read("checkpoints/mean.npy") == b"weights"


def test_command_line(demo_source, tmp_path, capsys):
    from coursekit.cli import main
    out = tmp_path / "out"
    args = ["release", "demo", "--source", str(demo_source.parent), "--out", str(out),
            "--autograder", str(tmp_path / "autograder")]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "demo: Demo assignment" in printed and "4 stubbed functions" in printed
    assert (out / "release" / "demo.zip").is_file()
    toml = demo_source / "assignment.toml"
    toml.write_text(toml.read_text().replace("points = 2", "points = 0", 1))
    assert main(args) == 1
    assert "questions[1].points: must be > 0" in capsys.readouterr().err
    assert main(["release", "nope", "--source", str(demo_source.parent), "--out", str(out)]) == 1
