"""Malformed uploads: each bad file is named in a note, everything else is still graded.

Every case goes through a real grading of the demo assignment (calc/ops.py: questions
`add` and `matmul`, 3 points; calc/models.py: `model`, 2 points; Demo.ipynb:
`nb_square`, 1 point). The broken part costs exactly the points of the questions that
need it; `--only` keeps its meaning; nothing is written outside the grading's folders.
"""

from __future__ import annotations

import glob
import json
import os
import uuid
import zipfile
from pathlib import Path

import pytest

FILES = ("calc/ops.py", "calc/models.py", "Demo.ipynb")


def make_zip(path: Path, demo: Path, extra=(), skip=(), compression=zipfile.ZIP_DEFLATED) -> Path:
    """A zip of the demo's correct files (minus `skip`), then `extra` (name, bytes) entries."""
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for rel in FILES:
            if rel not in skip:
                zf.write(demo / rel, rel)
        for name, data in extra:
            zf.writestr(name, data)
    return path


def notes(result) -> str:
    return result.results["output"]


def test_file_and_folder_of_the_same_name(grade_demo, demo, tmp_path):
    """`x` and `x/y` in one zip: the second cannot be unpacked and is named; all else graded."""
    upload = make_zip(tmp_path / "upload.zip", demo,
                      extra=[("notes", b"a file"), ("notes/todo.txt", b"under the file")])
    result = grade_demo(upload)
    assert result.score == 6
    assert "skipped notes/todo.txt: it clashes with the file notes" in notes(result)


def test_file_inside_an_answer_file(grade_demo, demo, tmp_path):
    """calc/ops.py and calc/ops.py/x.py: the answer file is kept, the clash is named."""
    upload = make_zip(tmp_path / "upload.zip", demo, extra=[("calc/ops.py/x.py", b"x = 1\n")])
    result = grade_demo(upload)
    assert result.score == 6
    assert "skipped calc/ops.py/x.py: it clashes with the file calc/ops.py" in notes(result)


def test_folder_where_an_answer_file_belongs(grade_demo, demo, tmp_path):
    upload = make_zip(tmp_path / "upload.zip", demo, skip=("calc/models.py",),
                      extra=[("calc/models.py/inner.py", b"x = 1\n")])
    result = grade_demo(upload)
    assert "calc/models.py in your submission is a folder, not a file" in notes(result)
    assert "calc/models.py" in result.test("test_linear_forward")["output"]
    assert result.question("model") == (0, 2)
    assert result.score == 4


def _corrupt_stored_entry(upload: Path, name: str) -> None:
    """Change one byte of an uncompressed entry's data, leaving its recorded CRC."""
    data = bytearray(upload.read_bytes())
    with zipfile.ZipFile(upload) as zf:
        info = zf.getinfo(name)
    header = info.header_offset
    name_len = int.from_bytes(data[header + 26:header + 28], "little")
    extra_len = int.from_bytes(data[header + 28:header + 30], "little")
    start = header + 30 + name_len + extra_len
    data[start + 10] ^= 0x01
    upload.write_bytes(bytes(data))


def test_bad_crc(grade_demo, demo, tmp_path):
    upload = make_zip(tmp_path / "upload.zip", demo, compression=zipfile.ZIP_STORED)
    _corrupt_stored_entry(upload, "calc/models.py")
    result = grade_demo(upload)
    assert "skipped calc/models.py: the zip's copy of it is damaged" in notes(result)
    assert "CRC" in notes(result)
    assert result.question("model") == (0, 2)
    assert result.score == 4


def test_duplicate_entries(grade_demo, demo, tmp_path):
    """The same name twice: the last copy is used (as unzip tools do), with a note."""
    wrong = "def add(a, b):\n    return 0\n\ndef matmul(a, b):\n    return 0\n"
    upload = tmp_path / "upload.zip"
    with zipfile.ZipFile(upload, "w") as zf:
        zf.writestr("calc/ops.py", wrong)
        for rel in FILES:
            if rel == "calc/ops.py":
                with pytest.warns(UserWarning, match="Duplicate name"):
                    zf.write(demo / rel, rel)
            else:
                zf.write(demo / rel, rel)
    result = grade_demo(upload)
    assert "calc/ops.py is in the zip more than once; the last copy was used" in notes(result)
    assert result.score == 6


def test_deeply_nested_notebook(grade_demo, demo):
    depth = 100_000
    (demo / "Demo.ipynb").write_text("[" * depth + "]" * depth)
    result = grade_demo(demo)
    assert "Demo.ipynb is not a valid notebook (its JSON is nested too deeply)" in notes(result)
    assert "nested too deeply" in result.test("test_square")["output"]
    assert result.question("nb_square") == (0, 1)
    assert result.score == 5


def test_notebook_of_a_million_tiny_lists(grade_demo, demo):
    """Under the demo's 5 MB limit, but far more objects than any notebook: refused
    from its byte counts, before the grader builds them."""
    doc = json.loads((demo / "Demo.ipynb").read_text())
    text = json.dumps(doc)[:-1] + ', "padding": [' + ",".join(["[]"] * 1_200_000) + "]}"
    assert len(text) < 5 << 20
    (demo / "Demo.ipynb").write_text(text)
    result = grade_demo(demo)
    assert "Demo.ipynb is not a valid notebook (far more JSON objects" in notes(result)
    assert result.question("nb_square") == (0, 1)
    assert result.score == 5


def _with_invalid_utf8_name(upload: Path, good: str, bad: bytes) -> None:
    """Rename entry `good` to the raw bytes `bad` (same length) in both of its headers,
    keeping the flag that says names are UTF-8."""
    data = upload.read_bytes()
    encoded = good.encode("utf-8")
    assert len(encoded) == len(bad) and data.count(encoded) == 2
    upload.write_bytes(data.replace(encoded, bad))


def test_zip_entry_name_that_is_not_utf8(grade_demo, demo, tmp_path):
    upload = make_zip(tmp_path / "upload.zip", demo, extra=[("calc/h\u00e9.py", b"x = 1\n")])
    _with_invalid_utf8_name(upload, "calc/h\u00e9.py", b"calc/h\xff\xfe.py")
    result = grade_demo(upload)
    assert result.score == 6
    assert "its name is not valid UTF-8" in notes(result)


def test_uploaded_file_name_that_is_not_utf8(grade_demo, demo):
    os.close(os.open(os.fsencode(demo / "calc") + b"/h\xff.py", os.O_CREAT | os.O_WRONLY, 0o644))
    result = grade_demo(demo)
    assert result.score == 6
    assert "ignored calc/h\\xff.py: its name is not valid UTF-8" in notes(result)
    # The results stay strict JSON: no lone surrogate from the undecodable name.
    json.dumps(result.results, ensure_ascii=False).encode("utf-8")


def test_only_is_honoured_with_a_broken_upload(grade_demo, demo, tmp_path):
    depth = 50_000
    upload = make_zip(tmp_path / "upload.zip", demo, skip=("Demo.ipynb",), compression=zipfile.ZIP_STORED,
                      extra=[("Demo.ipynb", "[" * depth + "]" * depth), ("calc", b"clash")])
    _corrupt_stored_entry(upload, "calc/models.py")
    result = grade_demo(upload, only=["add"])
    assert [t["extra_data"]["question"] for t in result.results["tests"]] == ["add"]
    assert result.score == 1
    # Only the files the selected question uses are looked at.
    assert "Demo.ipynb" not in notes(result)


def test_nothing_is_written_outside(grade_demo, demo, tmp_path):
    """Clashes and damaged entries never send a write elsewhere."""
    token = uuid.uuid4().hex
    upload = make_zip(tmp_path / "upload.zip", demo, compression=zipfile.ZIP_STORED,
                      extra=[(f"{token}", b"file"), (f"{token}/../../{token}-up", b"up"),
                             (f"{token}/x", b"clash"), ("a/" * 40 + f"{token}-deep", b"deep")])
    result = grade_demo(upload)
    assert result.score == 6
    assert not glob.glob(f"/tmp/*{token}*") + glob.glob(f"/tmp/*/*{token}*")
    assert "more than 24 folders deep" in notes(result)
