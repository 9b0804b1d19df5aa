"""fetch.py: mirror copies, downloads (from a local HTTP server), verification, offline messages."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import json
import os
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from coursekit.data import fetch as F
from coursekit.data import loaders


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving tmp_path/www; yields its base URL."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _leftovers(folder: Path):
    return sorted(p.name for p in folder.glob(".*.part"))


def _states(statuses):
    return {s.name: s.state for s in statuses}


# ---------------------------------------------------------------------------
# Mirror
# ---------------------------------------------------------------------------

def test_mirror_copy_with_official_checksums_is_verified(tmp_path, gen):
    mirror = tmp_path / "mirror"
    arrays = gen.write_mnist(mirror / "mnist")
    reg = gen.small_registry(official_mnist=mirror / "mnist")  # the mirror holds the official bytes
    dest = tmp_path / "dest"
    lines = []
    statuses = F.fetch(["mnist"], dest, mirror=mirror, registry=reg, log=lines.append)
    assert _states(statuses) == {f: "verified" for f in gen.MNIST_FILES}
    images, labels = loaders.load_mnist(dest, "train")
    np.testing.assert_array_equal(images, arrays["train-images-idx3-ubyte.gz"])
    sources = json.loads((dest / "mnist" / F.SOURCES_FILE).read_text())
    assert sources["t10k-labels-idx1-ubyte.gz"]["origin"] == f"mirror {mirror.resolve()}"
    assert sources["t10k-labels-idx1-ubyte.gz"]["official_checksum"] is True
    assert _leftovers(dest / "mnist") == []


def test_mirror_copy_with_other_checksums_is_recorded_as_mirror(tmp_path, gen):
    # The offline CIFAR-10 copy is re-encoded, so its checksums are not the official ones:
    # it is accepted because its format verifies, and recorded as a mirror copy.
    official = tmp_path / "official"
    gen.write_cifar(official / "cifar-10-batches-py", n=5, seed=0)
    mirror = tmp_path / "mirror"
    gen.write_cifar(mirror / "cifar-10-batches-py", n=5, seed=100)
    reg = gen.small_registry(official_cifar=official / "cifar-10-batches-py", n_cifar=5)
    dest = tmp_path / "dest"
    statuses = F.fetch(["cifar10"], dest, mirror=mirror, registry=reg, log=lambda s: None)
    # batches.meta does not depend on the images, so the two copies agree on it.
    expected = {f: "mirror" for f in gen.CIFAR_FILES} | {"batches.meta": "verified"}
    assert _states(statuses) == expected
    assert all(s.ok() and s.ok(strict=True) == (s.state == "verified") for s in statuses)
    assert "verified copy from a mirror (" in statuses[0].describe()
    # A file edited after the copy is no longer vouched for as the mirror's.
    gen.dump_py2(gen.cifar_batch_dict(5, seed=999), dest / "cifar-10-batches-py" / "data_batch_2")
    after = _states(F.check(["cifar10"], dest, registry=reg))
    assert after["data_batch_2"] == "unofficial" and after["data_batch_1"] == "mirror"


def test_mirror_with_a_corrupt_file_installs_nothing(tmp_path, gen):
    mirror = tmp_path / "mirror"
    gen.write_mnist(mirror / "mnist")
    reg = gen.small_registry(official_mnist=mirror / "mnist")
    bad = mirror / "mnist" / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:-20])
    dest = tmp_path / "dest"
    with pytest.raises(F.FetchError) as e:
        F.fetch(["mnist"], dest, mirror=mirror, registry=reg, log=lambda s: None)
    assert str(e.value).startswith(f"{bad}: t10k-images-idx3-ubyte.gz: corrupt gzip data")
    assert not (dest / "mnist" / "t10k-images-idx3-ubyte.gz").exists()
    assert _leftovers(dest / "mnist") == []


def test_mirror_missing_a_file(tmp_path, gen):
    mirror = tmp_path / "mirror"
    gen.write_mnist(mirror / "mnist")
    reg = gen.small_registry(official_mnist=mirror / "mnist")
    (mirror / "mnist" / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(F.FetchError, match=r"mnist: the mirror .* lacks train-labels-idx1-ubyte.gz"):
        F.fetch(["mnist"], tmp_path / "dest", mirror=mirror, registry=reg, log=lambda s: None)


def test_mirror_archive_and_flat_layout(tmp_path, gen):
    src = tmp_path / "src"
    gen.write_cifar(src, n=5)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    gen.make_cifar_tarball(src, mirror / "cifar-10-python.tar.gz")
    reg = gen.small_registry(official_cifar=src, n_cifar=5)
    dest = tmp_path / "flat"
    statuses = F.fetch(["cifar10"], dest, mirror=mirror, flat=True, registry=reg, log=lambda s: None)
    assert _states(statuses) == {f: "verified" for f in gen.CIFAR_FILES}
    assert (dest / "data_batch_3").read_bytes() == (src / "data_batch_3").read_bytes()


def test_present_files_are_kept(tmp_path, gen):
    mirror = tmp_path / "mirror"
    gen.write_mnist(mirror / "mnist")
    reg = gen.small_registry(official_mnist=mirror / "mnist")
    dest = tmp_path / "dest"
    F.fetch(["mnist"], dest, mirror=mirror, registry=reg, log=lambda s: None)
    target = dest / "mnist" / "train-images-idx3-ubyte.gz"
    os.utime(target, (1, 1))
    lines = []
    # No mirror and unreachable URLs: this only succeeds because nothing is fetched.
    F.fetch(["mnist"], dest, registry=reg, log=lines.append)
    assert target.stat().st_mtime == 1
    assert all(line.endswith("(kept)") for line in lines) and len(lines) == 4


def test_bad_present_file_is_replaced(tmp_path, gen):
    mirror = tmp_path / "mirror"
    gen.write_mnist(mirror / "mnist")
    reg = gen.small_registry(official_mnist=mirror / "mnist")
    dest = tmp_path / "dest"
    gen.write_gz(dest / "mnist" / "train-labels-idx1-ubyte.gz", b"\x00\x00\x08\x01\x00\x00\x00\x09")
    lines = []
    statuses = F.fetch(["mnist"], dest, mirror=mirror, registry=reg, log=lines.append)
    assert any("train-labels-idx1-ubyte.gz: wrong or damaged file: train-labels-idx1-ubyte.gz: has shape (9,)" in l for l in lines)
    assert _states(statuses)["train-labels-idx1-ubyte.gz"] == "verified"


# ---------------------------------------------------------------------------
# Downloads
# ---------------------------------------------------------------------------

def test_offline_message(tmp_path, gen):
    port = _closed_port()
    urls = {f: [f"http://127.0.0.1:{port}/{f}", f"http://127.0.0.1:{port}/mirror2/{f}"] for f in gen.MNIST_FILES}
    reg = gen.small_registry(mnist_urls=urls)
    dest = tmp_path / "dest"
    with pytest.raises(F.FetchError) as e:
        F.fetch(["mnist"], dest, registry=reg, progress=False, log=lambda s: None)
    first = str(e.value).splitlines()[0]
    assert first == (f"cannot reach http://127.0.0.1:{port}/train-images-idx3-ubyte.gz: "
                     f"pass --mirror DIR or place the files in {dest / 'mnist'}")
    assert f"tried http://127.0.0.1:{port}/mirror2/train-images-idx3-ubyte.gz" in str(e.value)
    assert _leftovers(dest / "mnist") == []


def test_download_tries_mirrors_and_verifies(tmp_path, gen, server, capsys):
    www, base = server
    official = tmp_path / "official"
    gen.write_mnist(official)
    (www / "good").mkdir()
    (www / "tampered").mkdir()
    for f in gen.MNIST_FILES:
        (www / "good" / f).write_bytes((official / f).read_bytes())
        # Same format, different digits: only the checksum can tell.
        payload = gzip.decompress((official / f).read_bytes())
        gen.write_gz(www / "tampered" / f, payload[:-1] + bytes([(payload[-1] + 1) % 10]))
    urls = {f: [f"{base}/gone/{f}", f"{base}/tampered/{f}", f"{base}/good/{f}"] for f in gen.MNIST_FILES}
    reg = gen.small_registry(official_mnist=official, mnist_urls=urls)
    dest = tmp_path / "dest"
    lines = []
    statuses = F.fetch(["mnist"], dest, registry=reg, progress=True, log=lines.append)
    assert _states(statuses) == {f: "verified" for f in gen.MNIST_FILES}
    for f in gen.MNIST_FILES:
        assert (dest / "mnist" / f).read_bytes() == (official / f).read_bytes()
    assert sum(f"{base}/good/" in l for l in lines) == 4
    sources = json.loads((dest / "mnist" / F.SOURCES_FILE).read_text())
    assert sources["train-images-idx3-ubyte.gz"]["origin"] == f"{base}/good/train-images-idx3-ubyte.gz"
    assert _leftovers(dest / "mnist") == []


def test_download_with_wrong_checksum_is_rejected(tmp_path, gen, server):
    www, base = server
    gen.write_mnist(www)
    reg = gen.small_registry(mnist_urls={f: [f"{base}/{f}"] for f in gen.MNIST_FILES})  # checksums of nothing real
    dest = tmp_path / "dest"
    with pytest.raises(F.FetchError) as e:
        F.fetch(["mnist"], dest, registry=reg, progress=False, log=lambda s: None)
    assert str(e.value).splitlines()[0] == "mnist: no URL gave a valid train-images-idx3-ubyte.gz:"
    assert "rejected: train-images-idx3-ubyte.gz: checksum mismatch: " in str(e.value)
    assert not (dest / "mnist" / "train-images-idx3-ubyte.gz").exists()
    assert _leftovers(dest / "mnist") == []


def test_download_archive_extracts_only_expected_members(tmp_path, gen, server):
    www, base = server
    src = tmp_path / "src"
    gen.write_cifar(src, n=5)
    hostile = [("cifar-10-batches-py/../../escaped", b"x"), ("/tmp/absolute-escape", b"x"),
               ("cifar-10-batches-py/extra_file", b"x")]
    tarball = gen.make_cifar_tarball(src, www / "cifar-10-python.tar.gz", hostile)
    raw = tarball.read_bytes()
    archive = {"name": "cifar-10-python.tar.gz", "urls": [f"{base}/cifar-10-python.tar.gz"],
               "member_prefix": "cifar-10-batches-py/", "size": len(raw),
               "md5": hashlib.md5(raw).hexdigest(), "sha256": hashlib.sha256(raw).hexdigest()}
    reg = gen.small_registry(official_cifar=src, n_cifar=5, archive=archive)
    dest = tmp_path / "dest"
    statuses = F.fetch(["cifar10"], dest, registry=reg, progress=False, log=lambda s: None)
    assert _states(statuses) == {f: "verified" for f in gen.CIFAR_FILES}
    assert sorted(p.name for p in (dest / "cifar-10-batches-py").iterdir()) == sorted(gen.CIFAR_FILES + [F.SOURCES_FILE])
    assert not (tmp_path / "escaped").exists() and not (dest / "escaped").exists()


def test_download_archive_with_wrong_checksum_is_rejected(tmp_path, gen, server):
    www, base = server
    src = tmp_path / "src"
    gen.write_cifar(src, n=5)
    gen.make_cifar_tarball(src, www / "cifar-10-python.tar.gz")
    archive = {"name": "cifar-10-python.tar.gz", "urls": [f"{base}/cifar-10-python.tar.gz"],
               "member_prefix": "cifar-10-batches-py/", "md5": "0" * 32}
    reg = gen.small_registry(official_cifar=src, n_cifar=5, archive=archive)
    dest = tmp_path / "dest"
    with pytest.raises(F.FetchError, match=r"rejected: cifar-10-python.tar.gz: checksum mismatch: md5 [0-9a-f]{32}, official 0{32}"):
        F.fetch(["cifar10"], dest, registry=reg, progress=False, log=lambda s: None)
    assert list((dest / "cifar-10-batches-py").iterdir()) == []


def test_text_progress_bar_without_tqdm(monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *args, **kwargs):
        if name == "tqdm" or name.startswith("tqdm."):
            raise ImportError("no tqdm here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    bar = F._Progress(4 * 2**20, "file.gz")
    bar.update(2**20)
    bar._last = 0  # draw now, not 0.2 s later
    bar.update(2**20)
    bar.close()
    err = capsys.readouterr().err
    assert "file.gz: [" in err and " 50% 2.0/4.0 MB" in err and err.endswith("\n")


# ---------------------------------------------------------------------------
# check / command line
# ---------------------------------------------------------------------------

def test_check_command_lists_missing_and_wrong(tmp_path, gen, capsys):
    from coursekit.cli import main

    gen.write_gz(tmp_path / "mnist" / "t10k-labels-idx1-ubyte.gz", b"\x00\x00\x08\x01\x00\x00\x27\x10" + bytes(10))
    rc = main(["data", "check", "mnist", "--dest", str(tmp_path)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "4 file(s) missing or wrong:" in out
    assert f"{tmp_path / 'mnist' / 'train-images-idx3-ubyte.gz'}: missing" in out
    assert "t10k-labels-idx1-ubyte.gz: truncated: expected 10008 bytes, got 18" in out


def test_check_command_passes_on_good_files_and_strict_flags_mirror_copies(tmp_path, gen, monkeypatch, capsys):
    from coursekit.cli import main

    mirror = tmp_path / "mirror"
    gen.write_cifar(mirror / "cifar-10-batches-py", n=5)
    reg = gen.small_registry(n_cifar=5)
    monkeypatch.setattr(F, "load_registry", lambda path=None: reg)
    dest = tmp_path / "dest"
    assert main(["data", "fetch", "cifar10", "--dest", str(dest), "--mirror", str(mirror), "--quiet"]) == 0
    assert main(["data", "check", "cifar10", "--dest", str(dest)]) == 0
    capsys.readouterr()
    assert main(["data", "check", "cifar10", "--dest", str(dest), "--strict"]) == 1
    assert "data_batch_1: not the official file (a verified copy from a mirror)" in capsys.readouterr().out


def test_fetch_command_offline_exit_status(tmp_path, gen, monkeypatch, capsys):
    from coursekit.cli import main

    reg = gen.small_registry(mnist_urls={f: [f"http://127.0.0.1:{_closed_port()}/{f}"] for f in gen.MNIST_FILES})
    monkeypatch.setattr(F, "load_registry", lambda path=None: reg)
    assert main(["data", "fetch", "mnist", "--dest", str(tmp_path), "--quiet"]) == 1
    assert "error: cannot reach http://127.0.0.1:" in capsys.readouterr().err


def test_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    assert F.data_root() == tmp_path
    monkeypatch.delenv("COURSEKIT_DATA")
    assert F.data_root() == Path(F.__file__).resolve().parents[2] / "datasets" / "cache"


def test_real_registry_is_complete():
    reg = F.load_registry()
    assert set(reg["datasets"]) == {"mnist", "cifar10"}
    for name, spec in reg["datasets"].items():
        for fname, fspec in spec["files"].items():
            assert len(fspec["payload"]["md5"]) == 32, fname
            assert fspec["format"]["type"] in ("idx", "cifar_batch", "cifar_meta")
    for fspec in reg["datasets"]["mnist"]["files"].values():
        assert len(fspec["urls"]) >= 2 and all(u.startswith(("http://", "https://")) for u in fspec["urls"])
        shape = fspec["format"]["shape"]
        # The payload size follows from the idx header (4 + 4 * ndim bytes) and the shape.
        assert fspec["payload"]["size"] == 4 + 4 * len(shape) + int(np.prod(shape))
    assert reg["datasets"]["cifar10"]["archive"]["md5"] == "c58f30108f718f92721af3b95e74349a"
