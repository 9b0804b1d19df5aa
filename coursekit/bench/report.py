"""What a benchmark section measured, and how it is shown (table) and kept (bench.json)."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class Metric:
    """One measured number.

    Attributes:
        name: what was measured, e.g. "conv forward, fast".
        value: the measurement, in `unit`.
        unit: "s", "ms", "us", "MB", "MB/s", "%", "x" ...
        reference: what it is compared with, e.g. "torch conv2d 1.20 ms" ("" for none).
        ratio: value relative to that reference, measured in the same run (None for none).
        target: the target as text, e.g. "<= 3x" ("" for none).
        passed: whether the target is met (None when there is no target).
        note: anything a reader needs to interpret the number.
    """

    name: str
    value: float
    unit: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    passed: bool | None = None
    note: str = ""


@dataclass
class Section:
    """One section of the benchmark.

    status is "ok", "not available" (a dependency does not exist yet; `reason` says
    which) or "error" (it exists but the measurement failed; `reason` says how).
    """

    key: str
    title: str
    status: str = "ok"
    reason: str = ""
    metrics: list = field(default_factory=list)
    seconds: float = 0.0


def at_most(ratio: float, limit: float) -> tuple[str, bool]:
    """Target text and verdict for "ratio must not exceed limit"."""
    return f"<= {limit:g}x", ratio <= limit


def at_least(ratio: float, limit: float) -> tuple[str, bool]:
    """Target text and verdict for "ratio must reach limit"."""
    return f">= {limit:g}x", ratio >= limit


def fmt_value(value: float, unit: str) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}".strip()


def fmt_duration(seconds: float) -> str:
    """A duration with three significant digits in a fitting unit: "412 us", "3.1 ms", "2.50 s"."""
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if seconds >= scale or unit == "us":
            value = seconds / scale
            return f"{value:,.0f} {unit}" if value >= 100 else f"{value:.3g} {unit}"
    raise AssertionError("unreachable")


def _fmt_ratio(ratio) -> str:
    if ratio is None:
        return "-"
    return f"{ratio:.3g}x" if ratio < 100 else f"{ratio:,.0f}x"


def table(sections) -> str:
    """The plain-text table printed at the end of a run."""
    header = ("section", "metric", "value", "reference", "ratio", "target", "pass", "note")
    rows = []
    for s in sections:
        if s.status != "ok":
            rows.append((s.title, "-", "", "", "", "", "", f"{s.status}: {s.reason}"))
            continue
        for m in s.metrics:
            verdict = "-" if m.passed is None else ("PASS" if m.passed else "FAIL")
            rows.append((s.title, m.name, fmt_value(m.value, m.unit), m.reference or "-",
                         _fmt_ratio(m.ratio), m.target or "-", verdict, m.note))
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths[:-1]) + "  " + "-" * len(header[-1])]
    previous = None
    for r in rows:
        cells = list(r)
        if cells[0] == previous:
            cells[0] = ""
        else:
            previous = cells[0]
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)


def machine() -> dict:
    """What the numbers were measured on."""
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "hostname": platform.node()}
    try:
        info["cpus_usable"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    for mod in ("numpy", "torch"):
        try:
            info[mod] = __import__(mod).__version__
        except ImportError:
            info[mod] = None
    try:
        import torch
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["cuda"] = None
    return info


def document(sections, started: float, options: dict) -> dict:
    """The bench.json document."""
    return {
        "format_version": 1,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 2),
        "options": options,
        "machine": machine(),
        "sections": [asdict(s) for s in sections],
    }


def write_json(doc: dict, path: Path) -> None:
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2) + "\n")
    os.replace(tmp, path)
