"""Fail the build when a line from inside a solution region reaches the student kit.

The rule, per source file (a `.py` module or a notebook):
- secret lines: the lines inside `BEGIN SOLUTION`/`HIDDEN TESTS`/`MARK SCHEME`
  regions, and every line of a notebook solution cell without markers (nbgrader
  replaces those whole);
- a secret line is ignored when it is trivial (blank, brackets and punctuation
  only, a lone name or keyword such as `pass` or `else:`, `return <name>`, an
  import, a comment of one or two words, nbgrader's own stub lines) or when the
  same line (whitespace-normalised) also occurs outside the regions of the *same*
  source file: the author shows that line to students anyway (`return out` after
  a region, a repeated `x = x.reshape(N, -1)`). A copy in *another* file is not
  excused: that is exactly how a solution leaks through a helper module, a
  README or a check cell.
- every text file under release/<a>/ is scanned line by line (notebooks cell by
  cell). A secret shorter than 20 characters leaks when a released line equals
  it; a longer one also when a released line contains it between word
  boundaries (so `# out = x.reshape(x.shape[0], -1) @ w` is caught).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Mapping

from coursekit.manifest import display_path
from coursekit.release import ReleaseError

SHORT = 20
_WORD = re.compile(r"[A-Za-z_]\w*|\d+")
_TRIVIAL = [
    re.compile(r"^[^A-Za-z0-9]*$"),                              # brackets, punctuation
    re.compile(r"^[A-Za-z_][\w.]*:?$"),                          # pass, else:, out
    re.compile(r"^return(\s+[A-Za-z_][\w.]*)?$"),                # return, return out
    re.compile(r"^(import\s+\S.*|from\s+\S+\s+import\s+.+)$"),   # imports
    re.compile(r"^#+\s*\S*(\s+\S+)?\s*$"),                       # short comments
    re.compile(r"^(# YOUR CODE HERE|raise NotImplementedError\(.*\)|YOUR ANSWER HERE)$"),
]


def normalise(line: str) -> str:
    return " ".join(line.split())


def is_trivial(norm: str) -> bool:
    return any(p.match(norm) for p in _TRIVIAL)


@dataclass(frozen=True)
class Secret:
    text: str     # whitespace-normalised
    origin: str   # where it sits in the source, e.g. "calc/ops.py:40"


@dataclass(frozen=True)
class Leak:
    location: str  # released file and line
    secret: Secret

    def __str__(self) -> str:
        return (f"{self.location}: {self.secret.text!r} "
                f"(inside a solution region at {self.secret.origin})")


class LeakChecker:
    """Collects secrets from source files, then scans a release tree for them."""

    def __init__(self):
        self.secrets: list[Secret] = []

    def add(self, secret: list[tuple[str, str]], public: list[str]) -> None:
        """Add one source file's (origin, line) secrets and its public lines."""
        shown = {normalise(p) for p in public}
        for origin, line in secret:
            norm = normalise(line)
            if norm and not is_trivial(norm) and norm not in shown:
                self.secrets.append(Secret(norm, origin))

    def add_python(self, relpath: str, text: str) -> None:
        from coursekit.release.strip import region_lines
        secret, public = region_lines(text, relpath)
        self.add([(f"{relpath}:{n}", line) for n, line in secret], public)

    def add_notebook(self, relpath: str, nb) -> None:
        from coursekit.release.nbgrader_steps import region_lines
        self.add(*region_lines(nb, relpath))

    def scan(self, lines: Iterator[tuple[str, str]]) -> list[Leak]:
        """Leaks among (location, line) pairs."""
        exact: dict[str, Secret] = {}
        by_token: dict[str, list[tuple[re.Pattern, Secret]]] = {}
        for s in self.secrets:
            exact.setdefault(s.text, s)
            if len(s.text) >= SHORT:
                key = max(_WORD.findall(s.text), key=len)
                pattern = re.compile(r"(?<!\w)" + re.escape(s.text) + r"(?!\w)")
                by_token.setdefault(key, []).append((pattern, s))
        leaks = []
        for location, line in lines:
            norm = normalise(line)
            if not norm:
                continue
            hit = exact.get(norm)
            if hit is None:
                for token in set(_WORD.findall(norm)) & by_token.keys():
                    hit = next((s for p, s in by_token[token] if p.search(norm)), None)
                    if hit:
                        break
            if hit is not None:
                leaks.append(Leak(location, hit))
        return leaks

    def check_tree(self, root: str | os.PathLike, label: str | None = None) -> None:
        """Raise ReleaseError listing every leak under `root` (file:line each)."""
        root = Path(root)
        label = label or display_path(root)
        leaks = self.scan(_tree_lines(root, label))
        if leaks:
            shown = "\n  ".join(str(leak) for leak in leaks[:30])
            more = f"\n  ... and {len(leaks) - 30} more" if len(leaks) > 30 else ""
            raise ReleaseError(f"solution lines leaked into {label}:\n  {shown}{more}")


def _tree_lines(root: Path, label: str) -> Iterator[tuple[str, str]]:
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f"{label}/{path.relative_to(root).as_posix()}"
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary: data or images, never source
        if path.suffix == ".ipynb":
            try:
                yield from _notebook_lines(json.loads(text), rel)
                continue
            except (ValueError, AttributeError, TypeError):
                pass  # not a notebook after all: scan it as text
        for n, line in enumerate(text.splitlines(), 1):
            yield f"{rel}:{n}", line


def _notebook_lines(nb: Mapping, rel: str) -> Iterator[tuple[str, str]]:
    for i, cell in enumerate(nb.get("cells", [])):
        texts = [cell.get("source", "")]
        for out in cell.get("outputs", []) or []:
            texts.append(out.get("text", ""))
            texts.extend((out.get("data") or {}).get(k, "") for k in ("text/plain", "text/markdown"))
        n = 0
        for text in texts:
            text = "".join(text) if isinstance(text, list) else str(text)
            for line in text.split("\n"):
                n += 1
                yield f"{rel}[cell {i}]:{n}", line

