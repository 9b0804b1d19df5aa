"""Download the course's data sets, or copy them from a local mirror, and verify them.

    python -m kitdata.fetch NAME [NAME ...] [--dest DIR] [--mirror DIR] [--flat]
    python -m kitdata.fetch NAME [NAME ...] --check [--strict]

NAME is a data set of registry.json ("mnist", "cifar10"). Files land in the official
layout under --dest (default: data_root()):
    DEST/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
    DEST/cifar-10-batches-py/{data_batch_1..5,test_batch,batches.meta}
With --flat a data set's files go straight into DEST (as a3's data/ folder expects).

What "verified" means here:
- Every file's format is checked in full (idx header, dimensions and size; CIFAR-10
  pickles read with a restricted unpickler, shapes and labels checked).
- A download must also match the official checksum of its decompressed payload, or it
  is rejected and the next mirror URL is tried.
- A copy from --mirror DIR is accepted when its checksum is official, or, when it is
  not (a re-encoded offline copy, say), when its format verifies; it is then recorded
  in the folder's .kitdata-sources.json as a mirror copy, and every later check says so.
- Files already in place are kept when their format verifies; a checksum that differs
  from the official one is reported, never hidden (--strict turns it into an error).

Standard library only (tqdm is used for the progress bar when it is installed), so the
script runs on a bare Python, e.g. on Colab before anything else is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

if __package__:
    from . import formats
else:  # run as a plain script: python kitdata/fetch.py
    import formats

SOURCES_FILE = ".kitdata-sources.json"
_CHUNK = 1 << 20
_TIMEOUT_S = 60


class FetchError(Exception):
    """A data set could not be fetched or verified; the message says what to do."""


# ---------------------------------------------------------------------------
# Where things are
# ---------------------------------------------------------------------------

def _here() -> Path:
    return Path(__file__).resolve().parent


def _in_course_repo() -> bool:
    here = _here()
    return here.name == "data" and here.parent.name == "coursekit"


def data_root() -> Path:
    """The folder that holds the data sets in their official layout.

    The folder named by the COURSEKIT_DATA environment variable; otherwise, in a
    student kit (this file at <kit>/kitdata/fetch.py) <kit>/datasets, and in the
    course repository (this file at <repo>/coursekit/data/fetch.py) <repo>/datasets/cache.
    """
    env = os.environ.get("COURSEKIT_DATA")
    if env:
        return Path(env).expanduser()
    if _in_course_repo():
        return _here().parent.parent / "datasets" / "cache"
    return _here().parent / "datasets"


def registry_path() -> Path:
    """registry.json beside this file (student kits), else the repository's datasets/registry.json."""
    beside = _here() / "registry.json"
    if beside.exists() or not _in_course_repo():
        return beside
    return _here().parent.parent / "datasets" / "registry.json"


def load_registry(path=None) -> dict:
    """The parsed registry: {"datasets": {name: spec}}; see registry.json."""
    path = Path(path) if path else registry_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FetchError(f"no data set registry at {path}") from None


def _dataset_spec(registry: dict, name: str) -> dict:
    try:
        return registry["datasets"][name]
    except KeyError:
        known = ", ".join(sorted(registry["datasets"]))
        raise FetchError(f"unknown data set {name!r}; known: {known}") from None


def dataset_folder(dest, spec: dict, flat: bool = False) -> Path:
    """Where a data set's files live under `dest`: dest/<folder>, or dest itself when flat."""
    dest = Path(dest)
    return dest if flat else dest / spec["folder"]


# ---------------------------------------------------------------------------
# Verifying one file
# ---------------------------------------------------------------------------

def _verify_format(path: Path, fname: str, fspec: dict) -> bytes:
    """Check the file's format in full; return the payload its checksums are taken of."""
    fmt = fspec["format"]
    kind = fmt["type"]
    if kind == "idx":
        payload = formats.read_payload(path, fname)
        formats.parse_idx(payload, fname, tuple(fmt["shape"]), fmt.get("dtype"))
        return payload
    payload = formats.read_payload(path, fname)
    obj = formats.loads_pickle(payload, fname)
    if kind == "cifar_batch":
        formats.check_cifar_batch(obj, fname, fmt.get("count"))
    elif kind == "cifar_meta":
        formats.check_cifar_meta(obj, fname)
    else:
        raise FetchError(f"registry: {fname}: unknown format type {kind!r}")
    return payload


def _is_official(digests: dict, expected: dict) -> bool:
    """True when every checksum the registry gives (md5, sha256, size) matches."""
    checks = [k for k in ("md5", "sha256", "size") if k in expected]
    return bool(checks) and all(digests[k] == expected[k] for k in checks)


def _digests(payload: bytes) -> dict:
    return {"md5": hashlib.md5(payload).hexdigest(), "sha256": hashlib.sha256(payload).hexdigest(),
            "size": len(payload)}


def _mismatch_text(digests: dict, expected: dict) -> str:
    for k in ("size", "md5", "sha256"):
        if k in expected and digests[k] != expected[k]:
            return f"{k} {digests[k]}, official {expected[k]}"
    return "no official checksum in the registry"


@dataclass
class FileStatus:
    """The state of one file of a data set.

    state is one of
      "verified"   format checked, checksum official;
      "mirror"     format checked, checksum differs, recorded as copied from a mirror;
      "unofficial" format checked, checksum differs, origin not recorded;
      "missing"    not there;
      "bad"        there but wrong (detail says what).
    """

    dataset: str
    name: str
    path: Path
    state: str
    detail: str = ""

    OK_STATES = ("verified", "mirror", "unofficial")

    def ok(self, strict: bool = False) -> bool:
        return self.state == "verified" if strict else self.state in self.OK_STATES

    def describe(self) -> str:
        """One line in plain words: verified official file, verified mirror copy, or
        wrong/damaged/missing, with what to do when something needs doing."""
        again = f"run `python -m kitdata.fetch {self.dataset}`"
        text = {
            "verified": "verified, official file",
            "mirror": f"verified copy from a mirror ({self.detail}): complete and readable; its "
                      "bytes differ from the official download, as a repacked copy's do. Nothing to do",
            "unofficial": f"verified copy of unrecorded origin: complete and readable, so it works, but "
                          f"it is not the official file ({self.detail}). For the official one, delete "
                          f"it and {again}",
            "missing": f"missing (expected at {self.path}): {again}",
            "bad": f"wrong or damaged file: {self.detail}. Delete it and {again} again",
        }[self.state]
        return f"{self.dataset}: {self.name}: {text}"


def _read_sources(folder: Path) -> dict:
    try:
        data = json.loads((folder / SOURCES_FILE).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _record_source(folder: Path, fname: str, md5: str, origin: str, official: bool) -> None:
    sources = _read_sources(folder)
    sources[fname] = {"origin": origin, "md5": md5, "official_checksum": official}
    _write_atomic(folder / SOURCES_FILE, (json.dumps(sources, indent=2, sort_keys=True) + "\n").encode())


def check_file(dataset: str, folder: Path, fname: str, fspec: dict) -> FileStatus:
    """Verify one file in place (format always, checksum against the registry)."""
    path = folder / fname
    if not path.exists():
        return FileStatus(dataset, fname, path, "missing")
    try:
        payload = _verify_format(path, fname, fspec)
    except formats.FormatError as e:
        return FileStatus(dataset, fname, path, "bad", str(e))
    digests = _digests(payload)
    if _is_official(digests, fspec.get("payload", {})):
        return FileStatus(dataset, fname, path, "verified")
    source = _read_sources(folder).get(fname, {})
    if source.get("md5") == digests["md5"] and str(source.get("origin", "")).startswith("mirror "):
        return FileStatus(dataset, fname, path, "mirror", source["origin"][len("mirror "):])
    return FileStatus(dataset, fname, path, "unofficial", _mismatch_text(digests, fspec.get("payload", {})))


def check(names=None, dest=None, flat: bool = False, registry: dict | None = None) -> list:
    """Verify the files of the named data sets (default: all) under `dest`.

    Returns a list of FileStatus, one per file, in registry order.
    """
    registry = registry or load_registry()
    dest = Path(dest) if dest else data_root()
    out = []
    for name in names or list(registry["datasets"]):
        spec = _dataset_spec(registry, name)
        folder = dataset_folder(dest, spec, flat)
        for fname, fspec in spec["files"].items():
            out.append(check_file(name, folder, fname, fspec))
    return out


# ---------------------------------------------------------------------------
# Getting files: atomic writes, progress, mirror, download
# ---------------------------------------------------------------------------

def _temp_in(folder: Path, fname: str) -> Path:
    # In the destination folder, so the final os.replace is atomic (same file system).
    fd, tmp = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=folder)
    os.close(fd)
    return Path(tmp)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = _temp_in(path.parent, path.name)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class _Progress:
    """A byte-count progress bar: tqdm when importable, else a plain text bar on stderr."""

    def __init__(self, total, desc: str, enabled: bool = True):
        self.total, self.desc, self.done = total, desc, 0
        self._bar = None
        self._text = False
        self._last = 0.0
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self._text = True
        else:
            self._bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024)

    def update(self, n: int) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._text and time.monotonic() - self._last > 0.2:
            self._last = time.monotonic()
            self._draw()

    def _draw(self) -> None:
        mb = self.done / 2**20
        if self.total:
            frac = min(1.0, self.done / self.total)
            bar = "#" * int(30 * frac)
            line = f"\r{self.desc}: [{bar:<30}] {100 * frac:3.0f}% {mb:.1f}/{self.total / 2**20:.1f} MB"
        else:
            line = f"\r{self.desc}: {mb:.1f} MB"
        sys.stderr.write(line)
        sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._text:
            self._draw()
            sys.stderr.write("\n")


def _download(url: str, target: Path, desc: str, size=None, progress: bool = True) -> dict:
    """Stream `url` into `target`; return the md5/sha256/size of the bytes received."""
    request = urllib.request.Request(url, headers={"User-Agent": "kitdata-fetch/1"})
    md5, sha = hashlib.md5(), hashlib.sha256()
    received = 0
    with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response, open(target, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or size
        bar = _Progress(total, desc, progress)
        try:
            while True:
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                md5.update(chunk)
                sha.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
        finally:
            bar.close()
    return {"md5": md5.hexdigest(), "sha256": sha.hexdigest(), "size": received}


def _offline_message(urls, folder: Path, failures) -> str:
    lines = [f"cannot reach {urls[0]}: pass --mirror DIR or place the files in {folder}"]
    lines += [f"  tried {url}: {why}" for url, why in failures]
    return "\n".join(lines)


def _install(tmp: Path, folder: Path, fname: str, fspec: dict, origin: str, require_official: bool, log) -> None:
    """Verify a fetched temporary file and move it into place (or delete it)."""
    try:
        payload = _verify_format(tmp, fname, fspec)
        digests = _digests(payload)
        official = _is_official(digests, fspec.get("payload", {}))
        if require_official and not official:
            raise formats.FormatError(f"{fname}: checksum mismatch: {_mismatch_text(digests, fspec.get('payload', {}))}")
        os.replace(tmp, folder / fname)
    finally:
        tmp.unlink(missing_ok=True)
    _record_source(folder, fname, digests["md5"], origin, official)
    log(f"  {fname}: {'verified, official file' if official else 'verified copy from a mirror (complete and readable; its bytes differ from the official download)'}")


def _from_mirror(dataset: str, spec: dict, todo, folder: Path, mirror: Path, log) -> None:
    """Copy the files in `todo` from a mirror folder laid out officially."""
    origin = f"mirror {mirror}"
    pending = []
    for fname in todo:
        candidates = [mirror / spec["folder"] / fname, mirror / fname]
        src = next((c for c in candidates if c.is_file()), None)
        if src is None:
            pending.append(fname)
            continue
        log(f"{dataset}: copying {fname} from {src}")
        tmp = _temp_in(folder, fname)
        shutil.copyfile(src, tmp)
        try:
            _install(tmp, folder, fname, spec["files"][fname], origin, False, log)
        except formats.FormatError as e:
            raise FetchError(f"{src}: {e}") from None
    archive = spec.get("archive")
    if pending and archive and (mirror / archive["name"]).is_file():
        log(f"{dataset}: extracting {', '.join(pending)} from {mirror / archive['name']}")
        _extract(mirror / archive["name"], archive, spec, pending, folder, origin, False, log)
        pending = []
    if pending:
        where = " or ".join(str(mirror / spec["folder"] / f) for f in pending[:1])
        raise FetchError(f"{dataset}: the mirror {mirror} lacks {', '.join(pending)} "
                         f"(looked for {where}; a mirror must use the official layout)")


def _extract(archive_path: Path, archive: dict, spec: dict, wanted, folder: Path, origin: str,
             require_official: bool, log) -> None:
    """Take the wanted members out of the archive, one verified file at a time.

    Only regular members with exactly the expected names are read, and each is written
    under its own name into `folder`: nothing in the archive chooses a path.
    """
    prefix = archive.get("member_prefix", "")
    left = set(wanted)
    try:
        with tarfile.open(archive_path, "r:*") as tf:
            for member in tf:
                fname = member.name[len(prefix):] if member.name.startswith(prefix) else None
                if fname not in left or not member.isfile():
                    continue
                tmp = _temp_in(folder, fname)
                with tf.extractfile(member) as src, open(tmp, "wb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
                try:
                    _install(tmp, folder, fname, spec["files"][fname], origin, require_official, log)
                except formats.FormatError as e:
                    raise FetchError(f"{archive_path.name}: {e}") from None
                left.discard(fname)
    except (tarfile.TarError, EOFError, OSError) as e:
        raise FetchError(f"{archive_path}: cannot extract ({type(e).__name__}: {e})") from None
    if left:
        raise FetchError(f"{archive_path.name}: has no {', '.join(prefix + f for f in sorted(left))}")


def _from_urls(dataset: str, spec: dict, todo, folder: Path, progress: bool, log) -> None:
    """Download the files in `todo` (or the archive that holds them), trying each URL in turn."""
    archive = spec.get("archive")
    jobs = [(archive["name"], archive, archive["urls"])] if archive else [
        (f, spec["files"][f], spec["files"][f]["urls"]) for f in todo]
    for fname, fspec, urls in jobs:
        failures, unreachable = [], True
        for url in urls:
            tmp = _temp_in(folder, fname)
            try:
                log(f"{dataset}: downloading {url}")
                digests = _download(url, tmp, fname, fspec.get("size"), progress)
                if archive:
                    if not _is_official(digests, archive):
                        raise formats.FormatError(f"{fname}: checksum mismatch: {_mismatch_text(digests, archive)}")
                    _extract(tmp, archive, spec, todo, folder, url, True, log)
                else:
                    _install(tmp, folder, fname, fspec, url, True, log)
                break
            except (formats.FormatError, FetchError) as e:
                unreachable = False
                failures.append((url, f"rejected: {e}"))
            except (OSError, http.client.HTTPException, ValueError) as e:  # URLError, HTTPError, timeouts, bad URLs
                failures.append((url, getattr(e, "reason", None) or e))
            finally:
                tmp.unlink(missing_ok=True)
        else:
            if unreachable:
                raise FetchError(_offline_message(urls, folder, failures))
            raise FetchError(f"{dataset}: no URL gave a valid {fname}:\n" +
                             "\n".join(f"  {url}: {why}" for url, why in failures))


def fetch(names=None, dest=None, mirror=None, flat: bool = False, registry: dict | None = None,
          progress: bool = True, log=print) -> list:
    """Make the named data sets (default: all) present and verified under `dest`.

    Inputs:
        names: list of data set names from the registry, or None for all of them.
        dest: the data root (default: data_root()).
        mirror: optional folder laid out officially to copy from instead of downloading.
        flat: put each data set's files straight into `dest`.
        registry: a parsed registry (default: load_registry()).
        progress: show a progress bar while downloading.
        log: called with one line of text per step.

    Returns the final list of FileStatus. Files already present and verified are left
    alone. Raises FetchError listing every data set that could not be made ready.
    """
    registry = registry or load_registry()
    dest = Path(dest) if dest else data_root()
    mirror = Path(mirror).expanduser().resolve() if mirror else None
    errors = []
    for name in names or list(registry["datasets"]):
        spec = _dataset_spec(registry, name)
        folder = dataset_folder(dest, spec, flat)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            errors.append(f"{name}: cannot create {folder} ({e.strerror or e})")
            continue
        todo = []
        for fname, fspec in spec["files"].items():
            status = check_file(name, folder, fname, fspec)
            if status.ok():
                log(f"{status.describe()} (kept)")
            else:
                if status.state == "bad":
                    log(f"{status.describe()} (will replace)")
                todo.append(fname)
        if not todo:
            continue
        try:
            if mirror:
                _from_mirror(name, spec, todo, folder, mirror, log)
            else:
                _from_urls(name, spec, todo, folder, progress, log)
        except FetchError as e:
            errors.append(str(e))
    if errors:
        raise FetchError("\n".join(errors))
    return check(names, dest, flat, registry)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kitdata.fetch", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="data sets to fetch (default: all in the registry)")
    parser.add_argument("--dest", type=Path, help=f"data root to fill (default: {data_root()})")
    parser.add_argument("--mirror", type=Path, metavar="DIR", help="copy from this folder (official layout) instead of downloading")
    parser.add_argument("--flat", action="store_true", help="put the files straight into --dest, not in a per-data-set folder")
    parser.add_argument("--check", action="store_true", help="only verify what is there; exit 1 if anything is missing or wrong")
    parser.add_argument("--strict", action="store_true", help="with --check: also fail on files whose checksum is not official")
    args = parser.parse_args(argv)
    try:
        if args.check:
            return report(check(args.names or None, args.dest, args.flat), args.strict)
        fetch(args.names or None, args.dest, args.mirror, args.flat)
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def report(statuses, strict: bool = False, out=None) -> int:
    """Print one line per file and, when anything is missing or wrong, a summary; return the exit status."""
    out = out or sys.stdout
    for s in statuses:
        print(s.describe(), file=out)
    bad = [s for s in statuses if not s.ok(strict)]
    if bad:
        print(f"\n{len(bad)} file(s) missing or wrong:", file=out)
        for s in bad:
            why = {"missing": "missing", "bad": f"wrong or damaged file: {s.detail}",
                   "mirror": "not the official file (a verified copy from a mirror)",
                   "unofficial": "not the official file (a verified copy of unrecorded origin)"}[s.state]
            print(f"  {s.path}: {why}", file=out)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
