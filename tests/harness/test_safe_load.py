"""coursekit.grading.safe_load: submitted model files read in the grader process.

Plain files load; pickles, damaged files and decompression bombs are refused with a
message naming the file, and refusing a bomb costs little memory (measured as the peak
resident size of a fresh process that loads it)."""

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from coursekit.grading.safe_load import load_npz, load_torch
from model_file_bombs import BOMB_SIZE, GIB, inflated_size, npz_bomb, npz_lying_header, torch_bomb

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CAP = 64 << 20


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _pt(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def test_plain_npz_loads():
    rng = np.random.default_rng(0)
    arrays = {"param_W1": rng.standard_normal((5, 3)).astype(np.float32),
              "config_normalization": np.str_("batchnorm"), "config_hidden_dims": np.arange(3)}
    loaded = load_npz(_npz(**arrays), "best.npz", CAP)
    assert sorted(loaded) == sorted(arrays)
    for k, v in arrays.items():
        assert loaded[k].dtype == np.asarray(v).dtype and np.array_equal(loaded[k], v)


def test_compressed_npz_loads():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, w=np.ones((100, 100)))
    assert np.array_equal(load_npz(buffer.getvalue(), "w.npz", CAP)["w"], np.ones((100, 100)))


@pytest.mark.parametrize("make, message", [
    (lambda: b"not a zip at all", "best.npz is not a valid .npz file: it is not a zip archive ("),
    (lambda: _npz(w=np.array([{"a": 1}], dtype=object)),
     "best.npz: entry w.npy holds Python objects (pickled data), which the grader never loads"),
])
def test_bad_npz_refused(make, message):
    with pytest.raises(AssertionError) as info:
        load_npz(make(), "best.npz", CAP)
    assert str(info.value).startswith(message), str(info.value)


def test_npz_over_the_cap_once_decompressed_refused():
    buffer = io.BytesIO()
    np.savez_compressed(buffer, w=np.zeros(1 << 20))   # 8 MB of zeros in a few kB
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(AssertionError) as info:
        load_npz(buffer.getvalue(), "best.npz", 4_000_000)
    assert str(info.value).startswith("best.npz would take 8.4 MB once decompressed, more than the "
                                      "4.0 MB allowed"), str(info.value)


def test_npz_header_larger_than_its_data_refused(tmp_path):
    data = npz_lying_header(tmp_path / "lie.npz").read_bytes()
    with pytest.raises(AssertionError, match=r"lie.npz: entry param_W1.npy declares an array of shape"):
        load_npz(data, "lie.npz", CAP)


def test_npz_with_too_many_entries_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i in range(2000):
            zf.writestr(f"a{i}.npy", b"")
    with pytest.raises(AssertionError, match="many.npz holds 2000 entries"):
        load_npz(buffer.getvalue(), "many.npz", CAP)


def test_plain_torch_file_loads():
    state = {"config": {"width": 3}, "state_dict": {"w": torch.randn(3, 4), "n": torch.tensor(7)}}
    loaded = load_torch(_pt(state), "model.pt", CAP)
    assert loaded["config"] == {"width": 3}
    assert torch.equal(loaded["state_dict"]["w"], state["state_dict"]["w"])


def test_torch_file_with_deflated_entries_loads():
    """torch's own reader accepts deflated entries, so a legitimately re-zipped file does too."""
    original = zipfile.ZipFile(io.BytesIO(_pt({"w": torch.arange(10.0)})))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in original.infolist():
            zf.writestr(info.filename, original.read(info))
    assert torch.equal(load_torch(buffer.getvalue(), "m.pt", CAP)["w"], torch.arange(10.0))


def test_pickled_module_refused():
    data = _pt(torch.nn.Sequential(torch.nn.Linear(2, 2)))
    with pytest.raises(AssertionError) as info:
        load_torch(data, "checkpoints/m.pt", CAP)
    assert str(info.value) == ("checkpoints/m.pt cannot be read with torch.load(..., weights_only=True): "
                               "it holds a pickled torch.nn.modules.container.Sequential object, not only "
                               "tensors")


def test_not_a_torch_file_refused():
    with pytest.raises(AssertionError, match=r"m.pt cannot be read with torch.load\(\.\.\., weights_only=True\): "
                                             r"it is not a zip archive"):
        load_torch(b"\x80\x04garbage", "m.pt", CAP)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bombs")
    return {"npz": npz_bomb(folder / "best_fc.npz"), "torch": torch_bomb(folder / "model.pt")}


@pytest.mark.parametrize("kind", ["npz", "torch"])
def test_bomb_refused_with_little_memory(bombs, kind):
    path = bombs[kind]
    # The attack is real: a few MB that inflate to more than a gigabyte.
    assert path.stat().st_size < 8 << 20
    assert inflated_size(path) > GIB
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "model_file_bombs.py"), kind, str(path)],
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["outcome"].startswith(f"{path.name} would take {BOMB_SIZE / 1e6:.0f}.") and \
        "more than the 268.4 MB allowed" in report["outcome"], report
    grown_mb = (report["peak_kb_after"] - report["peak_kb_before"]) / 1024
    print(f"{kind} bomb: peak resident size grew by {grown_mb:.1f} MB while refusing it")
    assert grown_mb < 64, report
