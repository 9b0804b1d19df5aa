"""The course's data sets: registry, verified fetching, and loaders.

The same files ship to students as the `kitdata` package (see kit_files), so this
package imports nothing at start-up: `python -m kitdata.fetch` must run on a bare
Python, and the numpy loaders load only when first used.

    from kitdata import data_root, load_mnist, load_cifar10, load_cifar10_batch

(fetching itself is kitdata.fetch.fetch / `python -m kitdata.fetch`).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

# Name -> module that defines it; resolved on first access (PEP 562).
_LAZY = {
    "data_root": "fetch",
    "FetchError": "fetch",
    "FormatError": "formats",
    "read_idx": "loaders",
    "load_mnist": "loaders",
    "load_cifar10": "loaders",
    "load_cifar10_batch": "loaders",
    "cifar10_class_names": "loaders",
}

# The modules a student kit's kitdata/ package is made of, besides the registry.
KIT_MODULES = ("__init__.py", "fetch.py", "formats.py", "loaders.py")
KIT_PACKAGE = "kitdata"

__all__ = sorted(_LAZY) + ["kit_files", "KIT_PACKAGE"]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def kit_files(dataset_names) -> dict:
    """The files of the `kitdata/` package for a student kit.

    Inputs:
        dataset_names: the data sets the assignment uses (names in the registry).

    Returns {path relative to the kit root: file bytes}: kitdata/__init__.py,
    kitdata/fetch.py, kitdata/formats.py and kitdata/loaders.py (these very source
    files, byte for byte) and kitdata/registry.json holding only the named data sets.
    Raises ValueError for a name the registry does not know.
    """
    from . import fetch as _fetch

    here = Path(__file__).resolve().parent
    registry = _fetch.load_registry()
    names = list(dict.fromkeys(dataset_names))
    unknown = [n for n in names if n not in registry["datasets"]]
    if unknown:
        raise ValueError(f"unknown data set(s) {', '.join(unknown)}; the registry knows "
                         f"{', '.join(sorted(registry['datasets']))}")
    subset = dict(registry)
    subset["datasets"] = {n: registry["datasets"][n] for n in sorted(names)}
    files = {f"{KIT_PACKAGE}/{m}": (here / m).read_bytes() for m in KIT_MODULES}
    files[f"{KIT_PACKAGE}/registry.json"] = (json.dumps(subset, indent=2) + "\n").encode("utf-8")
    return dict(sorted(files.items()))
