"""The most common reasons points were lost, per question, across the class.

Two students who lost points for the same mistake see messages that differ only in
numbers ("relative error 3.1e-02" and "relative error 4.7e-01"), so the numbers are
replaced by N before grouping. The message is the first paragraph of the test's output:
the trace below it and the student's printed output differ between students.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from coursekit.report.model import ClassResults, Submission, question_of

# A number: optional sign, digits with an optional fraction, optional exponent; or nan/inf.
# Words that merely contain digits (conv2d, a1_pytorch) are left alone.
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w])|"
                    r"(?<![\w])[-+]?(?:nan|inf)(?![\w])", re.IGNORECASE)
MAX_REASON_CHARS = 300


def first_paragraph(output: str) -> str:
    """The message a test failed with: its lines up to the first blank or indented line."""
    lines = []
    for line in (output or "").strip().splitlines():
        if not line.strip() or (lines and line[:1] in (" ", "\t")):
            break
        lines.append(line.strip())
    return " ".join(lines)[:MAX_REASON_CHARS]


def normalise(message: str) -> str:
    """`message` with every number replaced by N and runs of spaces collapsed."""
    return re.sub(r"\s+", " ", NUMBER.sub("N", message)).strip()


@dataclass
class Reason:
    question: str
    test: str                        # the test's name
    pattern: str                     # the message with numbers replaced by N
    example: str                     # one student's message as written
    submissions: list[Submission] = field(default_factory=list)
    points_lost: float = 0.0

    @property
    def count(self) -> int:
        return len(self.submissions)


def group_reasons(results: ClassResults) -> dict[str, list[Reason]]:
    """question id -> reasons, most frequent first (ties: more points lost first)."""
    groups: dict[tuple[str, str, str], Reason] = {}
    for sub in results.submissions:
        for t in sub.tests:
            score, top = t.get("score", 0), t.get("max_score", 0)
            if not isinstance(score, (int, float)) or not isinstance(top, (int, float)) or score >= top:
                continue
            message = first_paragraph(str(t.get("output") or "")) or "(no message)"
            qid, name = question_of(t), str(t.get("name", "?"))
            key = (qid, name, normalise(message))
            reason = groups.get(key)
            if reason is None:
                reason = groups[key] = Reason(qid, name, key[2], message)
            if sub not in reason.submissions:
                reason.submissions.append(sub)
            reason.points_lost += float(top) - float(score)
    by_question: dict[str, list[Reason]] = defaultdict(list)
    for reason in groups.values():
        by_question[reason.question].append(reason)
    return {q: sorted(rs, key=lambda r: (-r.count, -r.points_lost, r.test, r.pattern))
            for q, rs in by_question.items()}
