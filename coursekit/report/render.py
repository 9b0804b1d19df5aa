"""The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched.

Everything that comes from a submission (messages, code, file names) is escaped; the
page's Content-Security-Policy forbids scripts and remote loads as a second guard.
"""

from __future__ import annotations

import html
import statistics
from collections import Counter
from dataclasses import dataclass

from coursekit.report.attention import Concern
from coursekit.report.model import ClassResults, Submission
from coursekit.report.reasons import Reason
from coursekit.report.similarity import Pair, Passage

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#222;background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #3b6ea8;padding-bottom:3px}
h3{font-size:15px;margin:18px 0 6px}
.summary{color:#444;margin:0 0 8px}
nav a{margin-right:14px}
.plots{display:flex;flex-wrap:wrap;gap:12px}
figure{background:#fff;border:1px solid #ddd;border-radius:6px;margin:0;padding:6px 8px;flex:0 1 350px}
figure.wide{flex-basis:560px}
figure svg{width:100%;height:auto;display:block}
figcaption{font-size:12.5px;color:#333}
table{border-collapse:collapse;background:#fff;width:100%;margin:4px 0 10px}
th,td{border:1px solid #ddd;padding:4px 7px;text-align:left;vertical-align:top}
th{background:#eef2f7}
td.num{text-align:right;white-space:nowrap}
.kind{font-weight:600;white-space:nowrap}
.kind-crash,.kind-timeout,.kind-integrity{color:#a4262c}
.kind-grader-error,.kind-no-results{color:#8a5a00}
.kind-retrain-disagrees{color:#5b2a86}
code,pre{font:12.5px/1.35 ui-monospace,"DejaVu Sans Mono",monospace}
.reason code{white-space:pre-wrap}
.example{color:#555;font-size:12.5px}
.side{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:6px 0 12px}
.side pre{background:#fff;border:1px solid #ddd;padding:6px;margin:0;overflow-x:auto}
.side .head{font-weight:600;font-size:12.5px;margin-bottom:2px}
.none{color:#666;font-style:italic}
details{margin:4px 0}
.ctx{color:#999}
"""


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def link(sub: Submission) -> str:
    return f'<a href="#{esc(sub.anchor)}">{esc(sub.display)}</a>'


def fmt(value: float | None, digits: str = "g") -> str:
    return "—" if value is None else format(value, digits)


@dataclass
class Page:
    title: str
    results: ClassResults
    plots: dict[str, str]                 # figure id -> svg text
    captions: dict[str, str]              # figure id -> caption
    concerns: list[Concern]
    reasons: dict[str, list[Reason]]
    pairs: list[Pair] | None              # None: similarity not computed
    compared: int = 0
    similarity_note: str = ""


def _summary(page: Page) -> str:
    subs = page.results.submissions
    totals = [s.score for s in subs if s.score is not None]
    top = page.results.max_score()
    parts = [f"{len(subs)} submissions"]
    if totals:
        parts.append(f"total score mean {statistics.mean(totals):.2f}, median {statistics.median(totals):g}"
                     + (f" of {top:g}" if top is not None else ""))
    parts.append(f"{len(page.concerns)} items need a look")
    return f'<p class="summary">{esc("; ".join(parts))}. Read from <code>{esc(page.results.source)}</code>.</p>'


def _plots(page: Page) -> str:
    out = ['<h2 id="scores">Scores</h2><div class="plots">']
    for fid, svg in page.plots.items():
        if fid == "plot-time":
            continue
        out.append(f'<figure id="{esc(fid)}" class="plot">{svg}<figcaption>{esc(page.captions[fid])}'
                   "</figcaption></figure>")
    out.append("</div>")
    if "plot-time" in page.plots:
        out.append('<h2 id="time">Time and memory</h2><div class="plots">'
                   f'<figure id="plot-time" class="plot wide">{page.plots["plot-time"]}'
                   f'<figcaption>{esc(page.captions["plot-time"])}</figcaption></figure></div>')
    return "".join(out)


def _concerns(page: Page) -> str:
    out = ['<h2 id="needs-a-look-heading">Needs a look</h2>']
    if not page.concerns:
        return out[0] + '<p class="none">Nothing: no crashes, timeouts, grader errors or flags.</p>' + _sandbox(page)
    out.append('<table id="needs-a-look"><thead><tr><th>Submission</th><th>Kind</th><th>Where</th>'
               "<th>Reason</th></tr></thead><tbody>")
    for c in page.concerns:
        cls = "kind-" + c.kind.replace(" ", "-")
        out.append(f'<tr><td>{link(c.submission)}</td><td class="kind {esc(cls)}">{esc(c.kind)}</td>'
                   f"<td><code>{esc(c.test)}</code></td><td class=\"reason\">{esc(c.reason)}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out) + _sandbox(page)


def _sandbox(page: Page) -> str:
    """Which isolation layers were active, counted over the class (results' extra_data.sandbox)."""
    counts: dict[str, Counter] = {}
    for s in page.results.submissions:
        layers = s.extra.get("sandbox")
        if not isinstance(layers, dict):
            continue
        for layer, state in layers.items():
            # true/false, or a word saying how (e.g. "own", "not used: ..."); ids count as on.
            if isinstance(state, bool) or state is None:
                shown = "on" if state else "off"
            else:
                shown = "on" if isinstance(state, (int, float)) else str(state)
            counts.setdefault(str(layer), Counter())[shown] += 1
    if not counts:
        return ""
    items = []
    for layer in sorted(counts):
        parts = "; ".join(f"{state} ({n} submission{'s' if n != 1 else ''})"
                          for state, n in counts[layer].most_common())
        items.append(f"<li><b>{esc(layer)}</b>: {esc(parts)}</li>")
    return f'<h3 id="sandbox">Sandbox layers</h3><ul id="sandbox-layers">{"".join(items)}</ul>'


def _reasons(page: Page) -> str:
    out = ['<h2 id="reasons">Most common failure reasons</h2>',
           '<p class="summary">Per question, the messages of failed tests with the numbers that differ '
           "between students replaced by N; the count is the number of submissions.</p>"]
    titles = page.results.question_titles
    any_reason = False
    for qid, _ in page.results.questions():
        reasons = page.reasons.get(qid, [])
        title = f"{qid}: {titles[qid]}" if qid in titles else qid
        out.append(f'<h3 id="reasons-{esc(qid)}">{esc(title)}</h3>')
        if not reasons:
            out.append('<p class="none">No test of this question failed.</p>')
            continue
        any_reason = True
        out.append(f'<table class="reasons" data-question="{esc(qid)}"><thead><tr><th>Submissions</th>'
                   "<th>Test</th><th>Reason</th><th>Examples</th></tr></thead><tbody>")
        for r in reasons[:8]:
            examples = ", ".join(link(s) for s in r.submissions[:5])
            if r.count > 5:
                examples += f" and {r.count - 5} more"
            example = "" if r.example == r.pattern else f'<div class="example">e.g. {esc(r.example)}</div>'
            out.append(f'<tr><td class="num">{r.count}</td><td>{esc(r.test)}</td>'
                       f'<td class="reason"><code>{esc(r.pattern)}</code>{example}</td><td>{examples}</td></tr>')
        if len(reasons) > 8:
            out.append(f'<tr><td colspan="4" class="none">{len(reasons) - 8} rarer reasons not shown</td></tr>')
        out.append("</tbody></table>")
    if not any_reason and not page.results.questions():
        out.append('<p class="none">No per-test results to group.</p>')
    return "".join(out)


def _excerpt(unit, lines: tuple[int, int], context: int = 1) -> str:
    """The matched lines, numbered, with `context` lines around them shown greyed."""
    text = unit.text.splitlines()
    first, last = max(1, lines[0] - context), min(len(text), lines[1] + context)
    width = len(str(last))
    out = []
    for n in range(first, last + 1):
        line = esc(f"{n:>{width}}  {text[n - 1]}")
        out.append(line if lines[0] <= n <= lines[1] else f'<span class="ctx">{line}</span>')
    return "\n".join(out)


def _passage(p: Passage, a: Submission, b: Submission) -> str:
    def side(sub, unit, lines):
        return (f'<div><div class="head">{esc(sub.display)}: {esc(unit.label)}, lines {lines[0]}-{lines[1]}'
                f"</div><pre>{_excerpt(unit, lines)}</pre></div>")
    return f'<div class="side">{side(a, p.a_unit, p.a_lines)}{side(b, p.b_unit, p.b_lines)}</div>'


def _similarity(page: Page) -> str:
    out = ['<h2 id="similarity-heading">Similar submissions</h2>']
    if page.pairs is None:
        return out[0] + f'<p class="none">{esc(page.similarity_note or "Not computed.")}</p>'
    out.append(f'<p class="summary">{esc(page.similarity_note)}</p>')
    if not page.pairs:
        return "".join(out) + '<p class="none">No pair of submissions shares an unusual passage.</p>'
    out.append('<table id="similarity"><thead><tr><th>#</th><th>Submission</th><th>Submission</th>'
               "<th>Shared tokens</th><th>Share of the first's code</th><th>Share of the second's code</th>"
               "</tr></thead><tbody>")
    for i, pair in enumerate(page.pairs, 1):
        a, b = pair.a.submission, pair.b.submission
        out.append(f'<tr><td class="num"><a href="#pair-{i}">{i}</a></td><td>{link(a)}</td><td>{link(b)}</td>'
                   f'<td class="num">{pair.share}</td><td class="num">{pair.percent_a:.0f}%</td>'
                   f'<td class="num">{pair.percent_b:.0f}%</td></tr>')
    out.append("</tbody></table>")
    for i, pair in enumerate(page.pairs, 1):
        a, b = pair.a.submission, pair.b.submission
        opened = " open" if i == 1 else ""
        out.append(f'<details id="pair-{i}"{opened}><summary>Pair {i}: {esc(a.display)} and {esc(b.display)}, '
                   f"{len(pair.passages)} matching passage{'s' if len(pair.passages) != 1 else ''}</summary>")
        out.extend(_passage(p, a, b) for p in pair.passages[:6])
        out.append("</details>")
    return "".join(out)


def _memory(s: Submission) -> str:
    student = s.student_peak_memory_mb
    return fmt(s.peak_memory_mb, ".0f") + (f" (student {student:.0f})" if student is not None else "")


def _submissions(page: Page) -> str:
    qs = page.results.questions()
    head = "".join(f"<th>{esc(q)}</th>" for q, _ in qs)
    out = ['<h2 id="all-submissions">Submissions</h2><table id="submissions"><thead><tr><th>Submission</th>'
           f'<th>Total</th>{head}<th>Time (s)</th><th>Peak memory (MB)</th><th>Lost points</th></tr></thead><tbody>']
    for s in page.results.submissions:
        per = s.by_question()
        cells = "".join(f'<td class="num">{fmt(per[q][0]) if q in per else "—"}</td>' for q, _ in qs)
        lost = [t for t in s.tests if isinstance(t.get("score"), (int, float))
                and isinstance(t.get("max_score"), (int, float)) and t["score"] < t["max_score"]]
        if lost:
            items = "".join(f"<li><b>{esc(t.get('name', '?'))}</b>: <code>{esc((t.get('output') or '')[:600])}"
                            "</code></li>" for t in lost)
            detail = (f"<details><summary>{len(lost)} test{'s' if len(lost) > 1 else ''}</summary>"
                      f"<ul>{items}</ul></details>")
        else:
            detail = esc(s.error) if s.results is None else ""
        notes = (s.results or {}).get("output")
        if isinstance(notes, str) and notes.strip():
            detail += f'<div class="example">{esc(notes.strip()[:600])}</div>'
        out.append(f'<tr id="{esc(s.anchor)}"><td>{esc(s.display)}</td><td class="num">{fmt(s.score)}</td>{cells}'
                   f'<td class="num">{fmt(s.execution_time)}</td><td class="num">{_memory(s)}</td>'
                   f"<td>{detail}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render(page: Page) -> str:
    nav = ('<nav><a href="#scores">Scores</a><a href="#needs-a-look-heading">Needs a look</a>'
           '<a href="#reasons">Failure reasons</a><a href="#similarity-heading">Similar submissions</a>'
           '<a href="#all-submissions">Submissions</a></nav>')
    body = "".join([f"<h1>{esc(page.title)}</h1>", _summary(page), nav, _plots(page), _concerns(page),
                    _reasons(page), _similarity(page), _submissions(page)])
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; img-src data:\">"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(page.title)}</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")
