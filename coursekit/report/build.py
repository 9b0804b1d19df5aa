"""Put the report together: load, analyse, plot, render, write."""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path

from coursekit.report import attention, load, plots, reasons, render, similarity


def _caption(qid: str, title: str | None, scores: list[float], top: float | None) -> str:
    name = f"{qid}: {title}" if title else qid
    if not scores:
        return f"{name}: no scores"
    text = f"{name}: mean {statistics.mean(scores):.2f}"
    if top is not None:
        full = sum(1 for s in scores if s >= top - 1e-9)
        text += f" of {top:g}; {full} of {len(scores)} submissions have full marks"
    return text


def make_plots(results, progress: bool = True) -> tuple[dict[str, str], dict[str, str]]:
    from tqdm import tqdm

    figs, captions = {}, {}
    subs = results.submissions
    questions = results.questions()
    titles = results.question_titles
    totals = [s.score for s in subs if s.score is not None]
    top_total = results.max_score()
    jobs = [("plot-total", "Total", "total score", totals, top_total)]
    for qid, top in questions:
        scores = [s.by_question()[qid][0] for s in subs if qid in s.by_question()]
        title = titles.get(qid)
        jobs.append((f"plot-q-{qid}", qid, f"{qid}: {title}" if title else qid, scores, top))
    for fid, qid, heading, scores, top in tqdm(jobs, desc="plotting", unit="plot", disable=not progress):
        figs[fid] = plots.score_distribution(heading, scores, top, salt=fid)
        captions[fid] = _caption(qid, titles.get(qid), scores, top)
    seconds = [s.execution_time for s in subs]
    if any(t is not None for t in seconds):
        memory = [s.peak_memory_mb for s in subs]
        figs["plot-time"] = plots.time_and_memory([s.name for s in subs], seconds, memory,
                                                  [s.student_peak_memory_mb for s in subs])
        known = [t for t in seconds if t is not None]
        mem = [m for m in memory if m is not None]
        captions["plot-time"] = (f"Grading time: median {statistics.median(known):g} s, longest {max(known):g} s"
                                 + (f"; peak memory: median {statistics.median(mem):.0f} MB, largest "
                                    f"{max(mem):.0f} MB" if mem else "; peak memory not recorded"))
    return figs, captions


def question_titles(manifest: Path | None) -> dict[str, str]:
    if manifest is None or not manifest.is_file():
        return {}
    import tomllib
    try:
        doc = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(q["id"]): str(q.get("title", "")) for q in doc.get("questions", [])
            if isinstance(q, dict) and "id" in q}


def build_report(results: str | Path, out: str | Path, submissions: str | Path | None = None,
                 starter: str | Path | None = None, manifest: str | Path | None = None,
                 retrain: str | Path | None = None, title: str | None = None,
                 settings: similarity.Settings | None = None, progress: bool = True) -> render.Page:
    """Read `results` (folder, CSV or Gradescope export), write the HTML page to `out`.

    `submissions`: the folder of uploads named as in the results (a Gradescope export
    carries its own). `starter`: the released starter kit (`release/<a>/`), whose code is
    left out of the similarity check. `manifest`: assignment.toml, for question titles.
    `retrain`: results of `coursekit grade --retrain` on the same uploads, compared per
    question with `results`.
    """
    data = load.load(results, submissions)
    data.question_titles = question_titles(Path(manifest) if manifest else None)
    again = load.load(retrain) if retrain else None
    figs, captions = make_plots(data, progress)
    concerns = attention.needs_a_look(data, again)
    grouped = reasons.group_reasons(data)
    if any(s.files is not None for s in data.submissions):
        pairs, compared = similarity.compare(data.submissions, Path(starter) if starter else None,
                                             settings, progress)
        s = settings or similarity.Settings()
        note = (f"{compared} submissions with code compared by winnowing ({s.k}-token fingerprints over "
                "normalised tokens, renamed identifiers still match); "
                + ("only lines that differ from the starter kit count." if starter else
                   "no starter kit given, so starter code counts too.")
                + f" Passages found in more than {max(s.min_common, int(s.common_fraction * compared + 0.999))} "
                "submissions are left out.")
    else:
        pairs, compared = None, 0
        note = "Not computed: the uploads were not found (give --submissions DIR, the folder that was graded)."
    page = render.Page(title or f"Class report: {Path(results).name}", data, figs, captions, concerns,
                       grouped, pairs, compared, note)
    text = render.render(page)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".report-", suffix=".html", dir=out.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, out)
    return page
