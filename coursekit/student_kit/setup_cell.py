# Set-up: the same cell opens every notebook of the course. Locally it only moves into
# the kit folder; on Colab it mounts your Google Drive and looks for the kit there.
# Nothing is installed. If the kit is not found, set KIT_PATH to the kit folder, e.g.
# KIT_PATH = "/content/drive/MyDrive/my-course/@@KIT@@"
KIT = "@@KIT@@"
KIT_PATH = ""

import json
import os
import sys
from pathlib import Path


def _is_kit(folder):
    try:
        return json.loads((Path(folder) / "kit.json").read_text())["assignment"] == KIT
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _find_kit():
    if KIT_PATH:
        if _is_kit(KIT_PATH):
            return Path(KIT_PATH)
        raise FileNotFoundError(
            f"KIT_PATH = {KIT_PATH!r} is not the {KIT} kit folder (it holds no kit.json of "
            f"{KIT}). Set KIT_PATH to the folder that holds kit.json and the notebooks.")
    here = Path.cwd()
    for folder in [here, *here.parents, here / KIT]:
        if _is_kit(folder):
            return folder
    try:
        import google.colab  # noqa: F401  (importable on Colab only)
    except ImportError:
        # Locally a notebook may run on its own (a copy, a course's test): stay here.
        print(f"Note: this notebook is not inside the {KIT} kit folder (no kit.json in {here} "
              f"or above it), so it runs from {here}. To use the kit, open the notebook from "
              f"the unzipped kit folder, or set KIT_PATH in this cell.")
        return None
    mount_point = os.environ.get("COURSEKIT_DRIVE", "/content/drive")
    my_drive = Path(mount_point) / "MyDrive"
    if not my_drive.is_dir():
        from google.colab import drive
        drive.mount(mount_point)
    # The kit may sit a few folders down, possibly renamed; kit.json tells which it is.
    found = [p.parent for pattern in ("*/kit.json", "*/*/kit.json", "*/*/*/kit.json")
             for p in my_drive.glob(pattern) if _is_kit(p.parent)]
    if len(found) == 1:
        return found[0]
    if found:
        raise FileNotFoundError(
            f"Several copies of the {KIT} kit are in your Drive: "
            + ", ".join(str(p) for p in found) + ". Set KIT_PATH in this cell to the one you use.")
    raise FileNotFoundError(
        f"The {KIT} kit is not in your Google Drive. Upload the unzipped folder {KIT} to "
        f"My Drive (so that {my_drive / KIT / 'kit.json'} exists), or set KIT_PATH in this "
        f"cell to the folder's path, then run this cell again.")


KIT_FOLDER = _find_kit()
if KIT_FOLDER is None:
    KIT_FOLDER = Path.cwd()
    _entries = ["."]
else:
    KIT_FOLDER = KIT_FOLDER.resolve()
    os.chdir(KIT_FOLDER)
    _entries = json.loads((KIT_FOLDER / "kit.json").read_text())["python_path"]
    print("kit folder:", KIT_FOLDER)
for _entry in _entries:
    _entry = str((KIT_FOLDER / _entry).resolve())
    if _entry not in sys.path:
        sys.path.insert(0, _entry)
try:
    import check_env  # the kit's own environment check (standard library only)
except ImportError:
    pass
else:
    check_env.quick()
