"""Winnowing (Schleimer, Wilkerson and Aiken, SIGMOD 2003; the algorithm behind MOSS).

Code is reduced to a stream of normalised tokens: identifiers become `V` (so renamed
variables still match) except attribute names after a dot (`.shape`, `.dot` carry
meaning), numbers become `N`, strings `S`, comments and layout vanish, keywords and
operators stay. Every k consecutive tokens (a k-gram) are hashed; in every window of w
consecutive hashes the smallest is kept. Two texts sharing a passage of at least
w + k - 1 tokens are guaranteed to share a kept hash, and kept hashes are few.
"""

from __future__ import annotations

import hashlib
import io
import keyword
import re
import tokenize
from dataclasses import dataclass

KEEP_KINDS = {tokenize.OP}
DROP_KINDS = {tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
              tokenize.ENCODING, tokenize.ENDMARKER}
# Fallback for text Python's tokenizer rejects (a half-written cell): the same classes.
ROUGH = re.compile(r"""(?P<str>'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'[^'\n]*'|"[^"\n]*")|"""
                   r"""(?P<comment>\#[^\n]*)|(?P<num>\d[\w.]*)|(?P<name>[A-Za-z_]\w*)|"""
                   r"""(?P<nl>\n)|(?P<op>\*\*=?|//=?|[-+*/%@&|^<>!=]=|->|<<|>>|[^\s\w])""")


@dataclass(frozen=True)
class Token:
    text: str      # the normalised token
    line: int      # 1-based line in the unit
    segment: int = 0   # tokens kept from one unbroken run of the student's lines share a segment


def _normal(kind: int, text: str, previous: str) -> str | None:
    if kind in DROP_KINDS:
        return None
    if kind == tokenize.NAME:
        if keyword.iskeyword(text) or keyword.issoftkeyword(text):
            return text
        return "." + text if previous == "." else "V"
    if kind == tokenize.NUMBER:
        return "N"
    if kind == tokenize.STRING:
        return "S"
    if kind == tokenize.NEWLINE:
        return ";"
    if kind == tokenize.ERRORTOKEN and not text.strip():
        return None
    return text


def _rough_tokens(text: str) -> list[tuple[int, str, int]]:
    out, line = [], 1
    for m in ROUGH.finditer(text):
        group, value = m.lastgroup, m.group()
        kind = {"str": tokenize.STRING, "comment": tokenize.COMMENT, "num": tokenize.NUMBER,
                "name": tokenize.NAME, "nl": tokenize.NEWLINE, "op": tokenize.OP}[group]
        out.append((kind, value, line))
        line += value.count("\n")
    return out


def _raw_tokens(text: str) -> list[tuple[int, str, int]]:
    try:
        return [(t.type, t.string, t.start[0])
                for t in tokenize.generate_tokens(io.StringIO(text).readline)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _rough_tokens(text)


def tokens(text: str, lines: set[int] | None = None) -> list[Token]:
    """The normalised tokens of `text`, only those starting on `lines` when given."""
    out: list[Token] = []
    previous = ""
    segment = 0
    for kind, value, line in _raw_tokens(text):
        norm = _normal(kind, value, previous)
        if kind not in DROP_KINDS:
            previous = value
        if norm is None:
            continue
        if lines is not None and line not in lines:
            # A k-gram must not join code on both sides of the starter's lines.
            segment += 1 if out and out[-1].segment == segment else 0
            continue
        if norm == ";" and (not out or out[-1].text == ";"):
            continue
        out.append(Token(norm, line, segment))
    return out


def _hash(gram: tuple[str, ...]) -> int:
    digest = hashlib.blake2b("\x1f".join(gram).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def kgram_hashes(toks: list[Token], k: int) -> list[int]:
    texts = [t.text for t in toks]
    return [_hash(tuple(texts[i:i + k])) for i in range(len(texts) - k + 1)]


def winnow(hashes: list[int], w: int) -> list[tuple[int, int]]:
    """(hash, position) kept by winnowing: each window's minimum, rightmost on ties.

    A sequence shorter than one window keeps its minimum, so short passages still count.
    """
    if not hashes:
        return []
    if len(hashes) <= w:
        i = min(range(len(hashes)), key=lambda j: (hashes[j], -j))
        return [(hashes[i], i)]
    kept: list[tuple[int, int]] = []
    last = -1
    for start in range(len(hashes) - w + 1):
        window = range(start, start + w)
        i = min(window, key=lambda j: (hashes[j], -j))
        if i != last:
            kept.append((hashes[i], i))
            last = i
    return kept


def fingerprints(toks: list[Token], k: int, w: int) -> list[tuple[int, int]]:
    """(hash, token position) of the k-grams winnowing keeps in one unit's tokens.

    Each segment (an unbroken run of the student's lines) is winnowed on its own.
    """
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(toks):
        end = start
        while end < len(toks) and toks[end].segment == toks[start].segment:
            end += 1
        out.extend((h, start + pos) for h, pos in winnow(kgram_hashes(toks[start:end], k), w))
        start = end
    return out
