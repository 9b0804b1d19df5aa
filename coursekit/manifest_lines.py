"""Where each key of a TOML file is written: `key_lines(text)` maps key paths such as
``questions[3].points`` or ``questions[3].files[1]`` to 1-based line numbers.

tomllib returns values without positions, so error messages about a manifest find the
line here, from the text. The scan covers what assignment.toml uses: `[table]` and
`[[array]]` headers, `key = value` lines (bare, quoted or dotted keys), inline tables
and arrays spread over several lines. Anything it cannot place is simply absent, and
`line_of` falls back to the closest enclosing key that it found.
"""

from __future__ import annotations

import re

_KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_KEY = re.compile(rf"\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=")
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*(\]\]?)\s*(?:#.*)?$")
_SEGMENT = re.compile(_KEY_PART)


def _parts(dotted: str) -> list[str]:
    out = []
    for seg in _SEGMENT.findall(dotted):
        out.append(seg[1:-1] if seg[:1] in "\"'" else seg)
    return out


def key_lines(text: str) -> dict[str, int]:
    """Key path -> line number (1-based) of every key, table and array element found."""
    lines = text.splitlines()
    found: dict[str, int] = {}
    counts: dict[str, int] = {}      # array-of-tables path -> elements seen so far
    prefix = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        header = _HEADER.match(line)
        if header and header.group(1) == header.group(3)[::-1].replace("]", "["):
            parts = _parts(header.group(2))
            if header.group(1) == "[[":
                path = _join(_resolve(parts[:-1], counts), parts[-1])
                counts[path] = counts.get(path, -1) + 1
                path = f"{path}[{counts[path]}]"
            else:
                path = _resolve(parts, counts)
            prefix = path
            found.setdefault(path, i + 1)
            i += 1
            continue
        key = _KEY.match(line)
        if key:
            path = _join(prefix, ".".join(_parts(key.group(1))))
            found.setdefault(path, i + 1)
            i = _value(lines, i, key.end(), path, found)
            continue
        i += 1
    return found


def _resolve(parts: list[str], counts: dict[str, int]) -> str:
    """A header's path, with each array of tables it passes through indexed by its
    latest element ([questions.resources] after the third [[questions]] ->
    questions[2].resources)."""
    path = ""
    for part in parts:
        path = _join(path, part)
        if path in counts:
            path = f"{path}[{counts[path]}]"
    return path


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _value(lines: list[str], row: int, col: int, path: str, found: dict[str, int]) -> int:
    """Record the elements of the value starting at lines[row][col:] (arrays: each
    element's line; inline tables: each key's line); returns the next row to scan."""
    stack: list[list] = []          # per open bracket: [path, kind, next index]
    r, c = row, col
    expecting = True                # at the start of an array element
    while r < len(lines):
        text = lines[r]
        while c < len(text):
            ch = text[c]
            if ch == "#":
                break
            if ch in " \t":
                c += 1
                continue
            if stack and stack[-1][1] == "{":
                key = _KEY.match(text, c)
                if key and expecting:
                    sub = _join(stack[-1][0], ".".join(_parts(key.group(1))))
                    found.setdefault(sub, r + 1)
                    stack[-1][2] = sub
                    c = key.end()
                    expecting = False
                    continue
            if expecting and stack and stack[-1][1] == "[" and ch != "]":
                elem = f"{stack[-1][0]}[{stack[-1][2]}]"
                found.setdefault(elem, r + 1)
                expecting = False
                if ch in "[{":
                    stack.append([elem, ch, 0 if ch == "[" else elem])
                    expecting = True
                    c += 1
                    continue
            elif not stack and ch in "[{":
                stack.append([path, ch, 0 if ch == "[" else path])
                expecting = True
                c += 1
                continue
            elif ch in "[{" and stack and stack[-1][1] == "{":
                sub = stack[-1][2]
                stack.append([sub, ch, 0 if ch == "[" else sub])
                expecting = True
                c += 1
                continue
            if ch in "\"'":
                c = _skip_string(text, c)
                continue
            if ch == ",":
                if stack and stack[-1][1] == "[":
                    stack[-1][2] += 1
                expecting = True
                c += 1
                continue
            if ch in "]}":
                stack.pop()
                expecting = False
                c += 1
                if not stack:
                    return r + 1
                continue
            c += 1
        if not stack:
            return r + 1
        r, c = r + 1, 0
    return r


def _skip_string(text: str, c: int) -> int:
    quote = text[c]
    c += 1
    while c < len(text):
        if text[c] == "\\" and quote == '"':
            c += 2
            continue
        if text[c] == quote:
            return c + 1
        c += 1
    return c


def line_of(text: str, keypath: str) -> int | None:
    """The line of `keypath`, or of the closest enclosing key found in `text`."""
    found = key_lines(text)
    path = keypath
    while path:
        if path in found:
            return found[path]
        path = re.sub(r"(\[\d+\]|\.?[^.\[\]]+)$", "", path)
    return None
