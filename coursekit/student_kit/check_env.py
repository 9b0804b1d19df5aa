"""Check that this computer can run the assignment: Python, packages, data.

    python check_env.py

Prints one line per check and, for each problem, what to do about it. Exit status 1
when something must be fixed. Standard library only, so it runs before anything is
installed. The notebooks' set-up cell calls `quick()`, a one-line summary.
"""

import json
import re
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parent


def in_colab():
    return "google.colab" in sys.modules


def kit_info():
    return json.loads((KIT / "kit.json").read_text(encoding="utf-8"))


def requirements(path=None):
    """[(name, version)] pinned with == in requirements.txt, for this platform."""
    pins = []
    for raw in Path(path or KIT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        spec, _, marker = line.partition(";")
        if marker and not _marker_applies(marker.strip()):
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*==\s*([^\s]+)$", spec.strip())
        if m:
            pins.append((m.group(1), m.group(2)))
    return pins


def _marker_applies(marker):
    # Only the markers this kit writes: sys_platform == "..." joined by "or".
    platforms = re.findall(r'sys_platform\s*==\s*"([^"]+)"', marker)
    return not platforms or sys.platform in platforms


def base_version(version):
    """2.13.0+cpu -> 2.13.0: the build tag (CPU or a CUDA version) is not the version."""
    return version.split("+", 1)[0]


def check_python(info):
    want = info["python"]
    have = "%d.%d" % sys.version_info[:2]
    if have == want:
        return [("ok", "Python", have, "")]
    return [("warn", "Python", f"{have} (the graders use {want})",
             f"Code that runs on Python {have} usually runs on {want} too; to be sure, create "
             f"the environment with Python {want} (README.md, 'Local set-up').")]


def check_packages(pins):
    from importlib import metadata
    rows = []
    install = ("run `!pip install -r requirements.txt` in a cell, then restart the session"
               if in_colab() else "run `python -m pip install -r requirements.txt` in the kit folder, "
               "inside the assignment's virtual environment")
    for name, want in pins:
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            rows.append(("FAIL", name, "not installed", f"{name} is missing: {install}."))
            continue
        if base_version(have) == base_version(want):
            rows.append(("ok", name, have, ""))
        elif in_colab():
            rows.append(("warn", name, f"{have} (the graders use {want})",
                         f"Colab's preinstalled {name} usually works. If a check fails in a way "
                         f"that looks like a version difference, {install}."))
        else:
            rows.append(("FAIL", name, f"{have} (the graders use {want})",
                         f"{name} {have} is not the graded version {want}: {install}."))
    return rows


def check_gpu():
    try:
        import torch
    except ImportError:
        return []
    if torch.cuda.is_available():
        return [("ok", "GPU", torch.cuda.get_device_name(0), "")]
    return [("info", "GPU", "none (CPU only)",
             "Every question runs on a CPU; the training-heavy ones are faster on a GPU "
             "(on Colab: Runtime > Change runtime type).")]


def check_data(info):
    if not info.get("datasets"):
        return []
    sys.path.insert(0, str(KIT))
    try:
        from kitdata import data_root
        from kitdata.fetch import check
    except ImportError as exc:
        return [("FAIL", "data", "kitdata cannot be imported",
                 f"kitdata/ is missing or damaged ({exc}): unzip the kit again.")]
    rows = []
    for name in info["datasets"]:
        places = [(data_root(), False)]
        if (KIT / "data").is_dir():
            places.append((KIT / "data", True))
        best = None
        for dest, flat in places:
            statuses = check([name], dest, flat)
            if best is None or sum(s.ok() for s in statuses) > sum(s.ok() for s in best):
                best = statuses
        bad = [s for s in best if not s.ok()]
        if not bad:
            how = "official files" if all(s.state == "verified" for s in best) else "verified copies"
            rows.append(("ok", f"data: {name}", f"{len(best)} files, {how}", ""))
            continue
        detail = "; ".join(s.describe() for s in bad[:3]) + (" ..." if len(bad) > 3 else "")
        rows.append(("FAIL", f"data: {name}", f"{len(bad)} of {len(best)} files not ready",
                     f"{detail}. Fetch it with `python -m kitdata.fetch {name}` in the kit "
                     f"folder (or run the notebook's data cell)."))
    return rows


def run_checks(with_data=True):
    info = kit_info()
    rows = check_python(info) + check_packages(requirements()) + check_gpu()
    if with_data:
        rows += check_data(info)
    return rows


def main(argv=None):
    rows = run_checks(with_data="--no-data" not in (argv if argv is not None else sys.argv[1:]))
    width = max(len(r[1]) for r in rows)
    print(f"Environment check for {kit_info()['assignment']} (kit folder {KIT})")
    for status, what, value, _fix in rows:
        print(f"  {status:<4}  {what:<{width}}  {value}")
    fixes = [(what, fix) for status, what, _v, fix in rows if fix and status in ("FAIL", "warn")]
    if fixes:
        print("\nWhat to do:")
        for what, fix in fixes:
            print(f"  - {what}: {fix}")
    failed = [r for r in rows if r[0] == "FAIL"]
    print("\n" + (f"{len(failed)} problem(s) to fix before you start." if failed
                  else "Ready: everything the assignment needs is here."))
    return 1 if failed else 0


def quick():
    """One line for the notebooks' set-up cell (no data check: that reads every file)."""
    try:
        rows = run_checks(with_data=False)
    except Exception as exc:  # a set-up cell must never fail on a check of its own
        print(f"environment check skipped ({exc})")
        return
    problems = [r for r in rows if r[0] in ("FAIL", "warn")]
    summary = ", ".join(f"{what} {value.split(' ')[0]}" for _s, what, value, _f in rows
                        if what in ("Python", "numpy", "torch", "GPU"))
    if not problems:
        print(f"environment: as the graders' ({summary})")
    else:
        print(f"environment: {len(problems)} difference(s) from the graders' set-up: "
              + "; ".join(f"{what} {value}" for _s, what, value, _f in problems)
              + ". Run `python check_env.py` in the kit folder for what to do.")


if __name__ == "__main__":
    sys.exit(main())
