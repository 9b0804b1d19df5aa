"""The a2 reference package (solution code), imported for in-process tests."""

import importlib
import sys
from pathlib import Path

SOURCE = Path(__file__).resolve().parents[2] / "source" / "a2_neural_nets"


def import_reference(*names):
    """Modules of the reference package scratch/ (solution code) from source/, imported
    without leaving it in sys.modules or sys.path, where other tests import their own
    copy of scratch/."""
    saved = {k: v for k, v in sys.modules.items() if k == "scratch" or k.startswith("scratch.")}
    for k in saved:
        del sys.modules[k]
    sys.path.insert(0, str(SOURCE))
    try:
        mods = [importlib.import_module(f"scratch.{name}") for name in names]
    finally:
        sys.path.remove(str(SOURCE))
        for k in [k for k in sys.modules if k == "scratch" or k.startswith("scratch.")]:
            del sys.modules[k]
        sys.modules.update(saved)
    for m in mods:
        assert Path(m.__file__).resolve().is_relative_to(SOURCE), m.__file__
    return mods
