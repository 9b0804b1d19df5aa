"""What the report is built from: one `Submission` per graded upload, whatever its origin.

A folder graded locally, a cluster run and a Gradescope export all become a `ClassResults`.
Fields that older results files lack (`extra_data.flags`, `peak_memory_mb`) read as empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


def _number(value, default=None):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return float(value)


@dataclass
class Submission:
    name: str                          # the upload's name (CSV row, folder, Gradescope submission id)
    results: dict | None = None        # the results.json document; None when grading wrote none
    error: str = ""                    # why there are no results (batch error column, unreadable file)
    files: Path | None = None          # the uploaded files (a folder or a zip), for similarity
    label: str = ""                    # who submitted (Gradescope export), shown beside the name
    csv_scores: dict = field(default_factory=dict)   # question id -> score, when only a CSV is known

    @property
    def anchor(self) -> str:
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in self.name)
        return f"sub-{safe}"

    @property
    def display(self) -> str:
        return f"{self.name} ({self.label})" if self.label else self.name

    @property
    def tests(self) -> list[dict]:
        tests = (self.results or {}).get("tests")
        return [t for t in tests if isinstance(t, dict)] if isinstance(tests, list) else []

    @property
    def score(self) -> float | None:
        if self.results is not None:
            total = _number(self.results.get("score"))
            if total is None:
                total = sum(_number(t.get("score"), 0.0) for t in self.tests)
            return total
        if self.csv_scores:
            return sum(self.csv_scores.values())
        return None

    def by_question(self) -> dict[str, tuple[float, float | None]]:
        """question id -> (score, max score); max is None when only a CSV row is known."""
        if self.results is None:
            return {q: (s, None) for q, s in self.csv_scores.items()}
        out: dict[str, tuple[float, float]] = {}
        for t in self.tests:
            qid = question_of(t)
            score, top = out.get(qid, (0.0, 0.0))
            out[qid] = (score + _number(t.get("score"), 0.0), top + _number(t.get("max_score"), 0.0))
        return out

    @property
    def extra(self) -> dict:
        extra = (self.results or {}).get("extra_data")
        return extra if isinstance(extra, dict) else {}

    @property
    def execution_time(self) -> float | None:
        return _number((self.results or {}).get("execution_time"))

    @property
    def peak_memory_mb(self) -> float | None:
        return _number(self.extra.get("peak_memory_mb"))

    @property
    def student_peak_memory_mb(self) -> float | None:
        """The student process's own peak, when the grader recorded it per process."""
        by_process = self.extra.get("peak_memory_mb_by_process")
        return _number(by_process.get("student")) if isinstance(by_process, dict) else None

    @property
    def flags(self) -> list[dict]:
        flags = self.extra.get("flags")
        return [f for f in flags if isinstance(f, dict)] if isinstance(flags, list) else []


def slug(name: str) -> str:
    """An upload's folder name in a results folder: its name without `.zip`."""
    return name[:-4] if name.lower().endswith(".zip") else name


def question_of(test: dict) -> str:
    extra = test.get("extra_data")
    qid = extra.get("question") if isinstance(extra, dict) else None
    return str(qid) if qid else "?"


def test_id(test: dict) -> str:
    extra = test.get("extra_data")
    tid = extra.get("id") if isinstance(extra, dict) else None
    return str(tid) if tid else str(test.get("name", "?"))


@dataclass
class ClassResults:
    submissions: list[Submission]
    source: str                        # what was read, for the report's heading
    question_titles: dict = field(default_factory=dict)   # question id -> title, when known

    def questions(self) -> list[tuple[str, float | None]]:
        """(question id, max points): in the manifest's order when known, else as the results list them."""
        seen: dict[str, float | None] = {}
        for sub in self.submissions:
            for qid, (_, top) in sub.by_question().items():
                if top is not None and (seen.get(qid) is None or top > seen[qid]):
                    seen[qid] = top
                else:
                    seen.setdefault(qid, top)
        order = {q: i for i, q in enumerate(self.question_titles)}
        return sorted(seen.items(), key=lambda item: order.get(item[0], len(order)))

    def max_score(self) -> float | None:
        tops = [t for _, t in self.questions()]
        return sum(tops) if tops and all(t is not None for t in tops) else None

    def by_name(self) -> dict[str, Submission]:
        return {s.name: s for s in self.submissions}
