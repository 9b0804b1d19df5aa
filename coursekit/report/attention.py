"""Submissions a person should look at, each with the reason.

Kinds: "crash", "timeout", "grader error", "no results", "integrity" and
"retrain disagrees". The graders record crashes, timeouts and integrity findings in
results.json under `extra_data.flags`; results written before flags existed are read
from the messages the sandbox gives the student ("timed out after ...", "the student
process died ...").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coursekit.report.model import ClassResults, Submission, slug, test_id
from coursekit.report.reasons import first_paragraph

KINDS = ("crash", "timeout", "grader error", "integrity", "retrain disagrees", "no results")
PATTERNS = (
    ("timeout", re.compile(r"\btimed out after\b|\bran past (?:its|the) time limit\b", re.I)),
    ("crash", re.compile(r"\bthe student process (?:died|exited|stopped answering)\b", re.I)),
    ("grader error", re.compile(r"\bthe grader itself failed\b", re.I)),
)


@dataclass
class Concern:
    submission: Submission
    kind: str
    test: str            # the test it happened in ("" when it concerns the whole submission)
    reason: str


def _from_flags(sub: Submission) -> list[Concern]:
    out = []
    for flag in sub.flags:
        kind = str(flag.get("kind") or "integrity")
        out.append(Concern(sub, kind, str(flag.get("test") or ""), str(flag.get("reason") or "")))
    return out


def _from_messages(sub: Submission) -> list[Concern]:
    out = []
    for t in sub.tests:
        message = first_paragraph(str(t.get("output") or ""))
        for kind, pattern in PATTERNS:
            if pattern.search(message):
                out.append(Concern(sub, kind, test_id(t), message))
                break
    return out


def _same_test(a: str, b: str) -> bool:
    """Flags may name a test by its full id or by its function name."""
    return a == b or a.endswith("::" + b) or b.endswith("::" + a)


def concerns_of(sub: Submission) -> list[Concern]:
    if sub.results is None:
        return [Concern(sub, "no results", "", sub.error or "grading wrote no results.json")]
    flagged = _from_flags(sub)
    extra = [c for c in _from_messages(sub)
             if not any(f.kind == c.kind and _same_test(f.test, c.test) for f in flagged)]
    return flagged + extra


def retrain_disagreements(checkpoint: ClassResults, retrain: ClassResults,
                          tolerance: float = 1e-6) -> list[Concern]:
    """Questions whose score from the submitted checkpoint differs from the retrained run's."""
    # Either run may name an upload "alice.zip" (a CSV row) or "alice" (its results folder).
    others = {slug(s.name): s for s in retrain.submissions}
    out = []
    for sub in checkpoint.submissions:
        again = others.get(slug(sub.name))
        if again is None or again.results is None or sub.results is None:
            continue
        theirs = again.by_question()
        for qid, (score, top) in sub.by_question().items():
            if qid not in theirs:
                continue
            retrained = theirs[qid][0]
            if abs(score - retrained) > tolerance:
                shown = f" / {top:g}" if top is not None else ""
                out.append(Concern(sub, "retrain disagrees", qid,
                                   f"question {qid}: the submitted checkpoint scores {score:g}{shown}, "
                                   f"retraining the submitted code scores {retrained:g}{shown}"))
    return out


def needs_a_look(results: ClassResults, retrain: ClassResults | None = None) -> list[Concern]:
    """Every concern, in the order of KINDS, then by submission name."""
    found = [c for sub in results.submissions for c in concerns_of(sub)]
    if retrain is not None:
        found += retrain_disagreements(results, retrain)
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(found, key=lambda c: (order.get(c.kind, len(KINDS)), c.submission.name, c.test))
