"""Pairs of uploads whose student-written code is unusually alike, with the passages.

Only the lines each student wrote count (see regions.py). Fingerprints (winnow.py) that
appear in many uploads are dropped, as MOSS does: they are the reference solution's
obvious lines or the same small slip many students made, and say nothing about copying.
Pairs are ranked by how many tokens of student code they share.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.report.files import Unit, read_code
from coursekit.report.model import Submission
from coursekit.report.regions import student_lines
from coursekit.report.winnow import Token, fingerprints, tokens


@dataclass
class Settings:
    k: int = 5                      # tokens per k-gram
    w: int = 4                      # window: passages of w + k - 1 tokens always match
    common_fraction: float = 0.1    # fingerprints in more uploads than this share are dropped
    min_common: int = 3             # ... but never fewer than this many uploads
    min_tokens: int = 20            # pairs sharing fewer tokens are not listed
    max_pairs: int = 25


@dataclass
class Code:
    submission: Submission
    units: list[Unit]
    tokens: list[list[Token]]                  # per unit: the student's normalised tokens
    prints: dict[int, list[tuple[int, int]]]   # hash -> [(unit index, token position)]

    @property
    def size(self) -> int:
        return sum(len(t) for t in self.tokens)


@dataclass
class Passage:
    a_unit: Unit
    a_lines: tuple[int, int]        # first and last line, 1-based, inclusive
    b_unit: Unit
    b_lines: tuple[int, int]
    tokens: int                     # matched tokens in this passage (on a's side)


@dataclass
class Pair:
    a: Code
    b: Code
    shared_a: int                   # a's student tokens covered by shared fingerprints
    shared_b: int
    passages: list[Passage] = field(default_factory=list)

    @property
    def share(self) -> int:
        return min(self.shared_a, self.shared_b)

    @property
    def percent_a(self) -> float:
        return 100.0 * self.shared_a / max(1, self.a.size)

    @property
    def percent_b(self) -> float:
        return 100.0 * self.shared_b / max(1, self.b.size)


def code_of(sub: Submission, starter: list[Unit] | None, settings: Settings) -> Code:
    units = read_code(sub.files)
    masks = student_lines(units, starter)
    toks = [tokens(u.text, m) for u, m in zip(units, masks)]
    prints: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for ui, t in enumerate(toks):
        for h, pos in fingerprints(t, settings.k, settings.w):
            prints[h].append((ui, pos))
    return Code(sub, units, toks, dict(prints))


def _covered(matches: list[tuple[int, int]], k: int) -> set[tuple[int, int]]:
    return {(ui, p) for ui, pos in matches for p in range(pos, pos + k)}


def _passages(pair_matches: list[tuple[int, int, int, int]], a: Code, b: Code, k: int,
              gap: int) -> list[Passage]:
    """Group matched k-grams (a unit, a pos, b unit, b pos) into runs that read as one passage."""
    runs: list[list[tuple[int, int, int, int]]] = []
    for m in sorted(pair_matches):
        if runs:
            last = runs[-1][-1]
            same_units = m[0] == last[0] and m[2] == last[2]
            if same_units and 0 <= m[1] - last[1] <= gap and abs((m[3] - m[1]) - (last[3] - last[1])) <= gap:
                runs[-1].append(m)
                continue
        runs.append([m])
    out = []
    for run in runs:
        ua, ub = run[0][0], run[0][2]
        ta, tb = a.tokens[ua], b.tokens[ub]
        a_first, a_last = min(m[1] for m in run), max(m[1] for m in run) + k - 1
        b_first, b_last = min(m[3] for m in run), max(m[3] for m in run) + k - 1
        out.append(Passage(a.units[ua], (ta[a_first].line, ta[min(a_last, len(ta) - 1)].line),
                           b.units[ub], (tb[b_first].line, tb[min(b_last, len(tb) - 1)].line),
                           len({p for m in run for p in range(m[1], m[1] + k)})))
    return _new_lines_only(sorted(_merge(out), key=lambda p: (-p.tokens, p.a_unit.label, p.a_lines)))


def _new_lines_only(passages: list[Passage]) -> list[Passage]:
    """Drop a passage whose lines on both sides are already inside longer passages shown."""
    def inside(unit, lines, side):
        return any(u is unit and r[0] <= lines[0] and lines[1] <= r[1] for u, r in side)
    shown_a: list = []
    shown_b: list = []
    out = []
    for p in passages:
        if inside(p.a_unit, p.a_lines, shown_a) and inside(p.b_unit, p.b_lines, shown_b):
            continue
        out.append(p)
        shown_a.append((p.a_unit, p.a_lines))
        shown_b.append((p.b_unit, p.b_lines))
    return out


def _touch(x: tuple[int, int], y: tuple[int, int]) -> bool:
    return x[0] <= y[1] + 1 and y[0] <= x[1] + 1


def _merge(passages: list[Passage]) -> list[Passage]:
    """Passages whose line ranges overlap or touch on both sides read as one."""
    merged: list[Passage] = []
    for p in sorted(passages, key=lambda p: (p.a_unit.label, p.b_unit.label, p.a_lines, p.b_lines)):
        for m in merged:
            if (m.a_unit is p.a_unit and m.b_unit is p.b_unit and _touch(m.a_lines, p.a_lines)
                    and _touch(m.b_lines, p.b_lines)):
                m.a_lines = (min(m.a_lines[0], p.a_lines[0]), max(m.a_lines[1], p.a_lines[1]))
                m.b_lines = (min(m.b_lines[0], p.b_lines[0]), max(m.b_lines[1], p.b_lines[1]))
                m.tokens += p.tokens
                break
        else:
            merged.append(Passage(p.a_unit, p.a_lines, p.b_unit, p.b_lines, p.tokens))
    return merged


def similar_pairs(codes: list[Code], settings: Settings | None = None, progress: bool = True) -> list[Pair]:
    """The most alike pairs, most shared tokens first."""
    from tqdm import tqdm

    s = settings or Settings()
    holders: dict[int, set[int]] = defaultdict(set)
    for i, c in enumerate(codes):
        for h in c.prints:
            holders[h].add(i)
    limit = max(s.min_common, math.ceil(s.common_fraction * len(codes)))
    shared: dict[tuple[int, int], list[int]] = defaultdict(list)
    for h, who in holders.items():
        if 2 <= len(who) <= limit:
            ordered = sorted(who)
            for x in range(len(ordered)):
                for y in range(x + 1, len(ordered)):
                    shared[(ordered[x], ordered[y])].append(h)
    pairs = []
    for (i, j), hs in tqdm(sorted(shared.items()), desc="comparing pairs", unit="pair", disable=not progress):
        a, b = codes[i], codes[j]
        ma = [m for h in hs for m in a.prints[h]]
        mb = [m for h in hs for m in b.prints[h]]
        pair = Pair(a, b, len(_covered(ma, s.k)), len(_covered(mb, s.k)))
        if pair.share < s.min_tokens:
            continue
        matches = [(ua, pa, ub, pb) for h in hs for ua, pa in a.prints[h][:5] for ub, pb in b.prints[h][:5]]
        pair.passages = _passages(matches, a, b, s.k, gap=s.w + s.k)
        pairs.append(pair)
    pairs.sort(key=lambda p: (-p.share, -max(p.percent_a, p.percent_b), p.a.submission.name, p.b.submission.name))
    return pairs[: s.max_pairs]


def read_starter(starter: Path | None) -> list[Unit] | None:
    return read_code(starter) if starter is not None and starter.exists() else None


def compare(submissions: list[Submission], starter: Path | None, settings: Settings | None = None,
            progress: bool = True) -> tuple[list[Pair], int]:
    """(pairs, how many uploads had code to compare)."""
    from tqdm import tqdm

    s = settings or Settings()
    base = read_starter(starter)
    codes = [code_of(sub, base, s)
             for sub in tqdm(submissions, desc="reading code", unit="upload", disable=not progress)
             if sub.files is not None]
    codes = [c for c in codes if c.size]
    return similar_pairs(codes, s, progress), len(codes)
