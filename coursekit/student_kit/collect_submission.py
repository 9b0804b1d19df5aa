"""Zip your submission for Gradescope.

Run it from the kit folder, in a terminal (`python collect_submission.py`) or from a
notebook cell (`!python collect_submission.py`, on Colab after the set-up cell).

It checks that every file the assignment asks for is there, that no answer is
left unfinished and that each notebook was run and saved; then it writes
`<assignment>_submission.zip` (upload it to the code assignment), and
`<assignment>_written.pdf`, the written answers one per page, each labelled with its
question (upload it to the written, PDF assignment), plus an `.html` export of each
notebook as a fallback. `--allow-incomplete` zips whatever is there, listing what is
missing.

Standard library only, except the PDF: matplotlib draws it (the kit's requirements pin
it and Colab has it), so no TeX installation is needed.
"""

import argparse
import html
import json
import os
import re
import sys
import textwrap
import zipfile

# Filled in by `coursekit release` for this assignment.
SUBMISSION = {"assignment": "assignment", "files": [], "stubs": {}, "max_file_mb": 50}

NOTEBOOK_STUBS = ("raise NotImplementedError()", "YOUR ANSWER HERE")
FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def _read_notebook(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _source(cell):
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _is_solution(cell):
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def _cell_name(index, cell):
    gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    return "cell %d (%s)" % (index + 1, gid) if gid else "cell %d" % (index + 1)


def notebook_problems(path, name):
    """Reasons a notebook is not ready, one string each."""
    try:
        nb = _read_notebook(path)
    except (OSError, ValueError) as exc:
        return ["%s: cannot be read as a notebook (%s)" % (name, exc)]
    problems = []
    cells = nb.get("cells", [])
    for i, cell in enumerate(cells):
        if _is_solution(cell) and any(stub in _source(cell) for stub in NOTEBOOK_STUBS):
            problems.append("%s: %s is not answered yet" % (name, _cell_name(i, cell)))
    # A notebook that was run and saved records an execution count in its code
    # cells; none at all means it was saved before running (or never saved).
    code = [c for c in cells if c.get("cell_type") == "code"]
    if code and not any(c.get("execution_count") for c in code):
        problems.append("%s: no cell has been run; run all cells, then save the notebook" % name)
    # Jupyter writes .ipynb_checkpoints/<name>-checkpoint.ipynb on "Save and
    # Checkpoint"; a copy newer than the notebook means the file on disk is not
    # what was last saved (e.g. a revert), so the export would miss work.
    folder, base = os.path.split(path)
    stem = os.path.splitext(base)[0]
    checkpoint = os.path.join(folder, ".ipynb_checkpoints", stem + "-checkpoint.ipynb")
    if os.path.exists(checkpoint) and os.path.getmtime(checkpoint) > os.path.getmtime(path) + 1:
        problems.append("%s: the checkpoint copy in .ipynb_checkpoints/ is newer than the "
                        "notebook; open it and save it again" % name)
    return problems


def module_problems(path, name, stubs):
    """Stubs the release put in a .py file that are still there."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        return ["%s: cannot be read (%s)" % (name, exc)]
    problems = []
    lines = [line.strip() for line in text.splitlines()]
    for func in stubs:
        stub = 'raise NotImplementedError("%s")' % func
        if stub in lines:
            problems.append("%s: %s is not implemented yet" % (name, func))
    return problems


def check(kit, submission):
    """(missing files, other problems) for the kit folder."""
    missing, problems = [], []
    limit = submission.get("max_file_mb", 50) * 1024 * 1024
    for name in submission["files"]:
        path = os.path.join(kit, *name.split("/"))
        if not os.path.isfile(path):
            missing.append(name)
            continue
        if os.path.getsize(path) > limit:
            problems.append("%s: larger than %s MB" % (name, submission.get("max_file_mb", 50)))
        if name.endswith(".ipynb"):
            problems.extend(notebook_problems(path, name))
        elif name.endswith(".py"):
            problems.extend(module_problems(path, name, submission.get("stubs", {}).get(name, [])))
    return missing, problems


def write_zip(kit, names, zip_path):
    tmp = zip_path + ".tmp"
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(names):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.external_attr = (0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(kit, *name.split("/")), "rb") as f:
                zf.writestr(info, f.read())
    os.replace(tmp, zip_path)


def plain_html(nb, title):
    """A readable HTML page of a notebook without nbconvert: sources and outputs."""
    parts = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title>"
             "<style>body{font-family:sans-serif;max-width:60em;margin:auto}"
             "pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}"
             ".md pre{background:none;font-family:inherit}.out pre{background:#fff;"
             "border-left:3px solid #ccc}</style></head><body><h1>%s</h1>"
             % (html.escape(title), html.escape(title))]
    for cell in nb.get("cells", []):
        src = html.escape(_source(cell))
        if cell.get("cell_type") == "code":
            parts.append("<pre>%s</pre>" % src)
            for out in cell.get("outputs", []):
                data = out.get("data", {})
                if "image/png" in data:
                    png = data["image/png"]
                    png = "".join(png) if isinstance(png, list) else png
                    parts.append("<div class='out'><img src='data:image/png;base64,%s'></div>"
                                 % png.replace("\n", ""))
                    continue
                text = out.get("text") or data.get("text/plain") or ""
                if out.get("output_type") == "error":
                    text = "%s: %s" % (out.get("ename", ""), out.get("evalue", ""))
                text = "".join(text) if isinstance(text, list) else text
                if text:
                    parts.append("<div class='out'><pre>%s</pre></div>" % html.escape(text))
        else:
            parts.append("<div class='md'><pre>%s</pre></div>" % src)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def written_answers(nb):
    """[(grade_id, prompt, answer)] of the markdown answer cells, in notebook order.

    The prompt is the markdown cell just above the answer (where the question is asked)."""
    out = []
    cells = nb.get("cells", [])
    for i, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "markdown" or not (meta.get("solution") and meta.get("grade")):
            continue
        prompt = ""
        if i > 0 and cells[i - 1].get("cell_type") == "markdown":
            prompt = _source(cells[i - 1]).strip()
        out.append((meta.get("grade_id") or "cell %d" % (i + 1), prompt, _source(cell).strip()))
    return out


def _plain(markdown):
    """Markdown as readable plain text (the PDF shows text, not rendered markdown)."""
    text = re.sub(r"^#+\s*", "", markdown, flags=re.M)
    return re.sub(r"\*\*(.+?)\*\*", r"\1", text)


def _wrap(text, width):
    lines = []
    for para in text.splitlines():
        lines.extend(textwrap.wrap(para, width=width, break_long_words=True) or [""])
    return lines


def export_pdf(entries, pdf_path, title):
    """Write the written answers, one per page (continued over more pages when long),
    each page headed by its question's label. entries: [(notebook, grade_id, prompt, answer)].
    Returns the number of pages."""
    import matplotlib
    matplotlib.use("Agg", force=True)
    from matplotlib.backends.backend_pdf import PdfPages
    import matplotlib.pyplot as plt

    width, per_page = 84, 56           # characters per line (monospace, 10 pt, A4) and lines per page
    pages = 0
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(pdf_path) as pdf:
        for n, (notebook, grade_id, prompt, answer) in enumerate(entries, 1):
            label = "Question %d: %s (%s)" % (n, grade_id, notebook)
            body = [("prompt", line) for line in _wrap(_plain(prompt), width)]
            body += [("gap", ""), ("head", "Answer:")]
            body += [("answer", line) for line in _wrap(_plain(answer), width)]
            chunks = [body[i:i + per_page] for i in range(0, len(body), per_page)] or [[]]
            for part, chunk in enumerate(chunks):
                fig = plt.figure(figsize=(8.27, 11.69))     # A4, portrait
                fig.text(0.07, 0.965, title, fontsize=8, color="0.4", parse_math=False)
                head = label + (" (continued)" if part else "")
                fig.text(0.07, 0.94, head, fontsize=13, weight="bold", parse_math=False)
                y = 0.905
                for kind, line in chunk:
                    style = {"prompt": dict(color="0.35", style="italic"), "head": dict(weight="bold"),
                             "answer": {}, "gap": {}}[kind]
                    fig.text(0.07, y, line, fontsize=10, family="monospace" if kind == "answer" else None,
                             parse_math=False, **style)
                    y -= 0.0155
                pdf.savefig(fig)
                plt.close(fig)
                pages += 1
    return pages


def export_html(path, html_path):
    """nbconvert's HTML export when it is installed, else `plain_html`."""
    try:
        import nbconvert  # noqa: F401  (pinned by the course, present on Colab)
        import nbformat
        exporter = nbconvert.HTMLExporter()
        body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
        how = "nbconvert"
    except Exception:  # nbconvert missing or unable to render: fall back, never fail here
        nb = _read_notebook(path)
        body = plain_html(nb, os.path.basename(path))
        how = "plain"
    with open(html_path, "w", encoding="utf-8") as f:
        f.write(body)
    return how


def main(argv=None, kit=None, submission=None):
    submission = submission or SUBMISSION
    parser = argparse.ArgumentParser(description="Zip your submission for Gradescope.")
    parser.add_argument("--allow-incomplete", action="store_true",
                        help="zip whatever is there even with missing files or answers")
    parser.add_argument("--no-html", action="store_true", help="skip the HTML export")
    parser.add_argument("--no-pdf", action="store_true", help="skip the PDF of written answers")
    args = parser.parse_args(argv)
    kit = kit or os.path.dirname(os.path.abspath(__file__))

    missing, problems = check(kit, submission)
    if missing or problems:
        stream = sys.stdout if args.allow_incomplete else sys.stderr
        if missing:
            print("Missing files:", file=stream)
            for name in missing:
                print("  - " + name, file=stream)
        if problems:
            print("Not ready:", file=stream)
            for p in problems:
                print("  - " + p, file=stream)
        if not args.allow_incomplete:
            print("\nNothing was written. Fix the above, or run with --allow-incomplete "
                  "to submit anyway.", file=stream)
            return 1
    present = [n for n in submission["files"] if n not in missing]
    if not present:
        print("None of the submission files exist; nothing to zip.", file=sys.stderr)
        return 1

    zip_path = os.path.join(kit, "%s_submission.zip" % submission["assignment"])
    write_zip(kit, present, zip_path)
    print("Wrote %s with %d file(s):" % (os.path.relpath(zip_path), len(present)))
    for name in sorted(present):
        print("  " + name)
    if not args.no_html:
        for name in present:
            if name.endswith(".ipynb"):
                src = os.path.join(kit, *name.split("/"))
                out = os.path.splitext(src)[0] + ".html"
                how = export_html(src, out)
                print("Wrote %s (%s export)" % (os.path.relpath(out), how))
    entries = []
    for name in present:
        if name.endswith(".ipynb"):
            try:
                nb = _read_notebook(os.path.join(kit, *name.split("/")))
            except (OSError, ValueError):
                continue
            entries += [(name,) + e for e in written_answers(nb)]
    pdf_path = os.path.join(kit, "%s_written.pdf" % submission["assignment"])
    if entries and not args.no_pdf:
        try:
            pages = export_pdf(entries, pdf_path, "%s: written answers" % submission["assignment"])
            print("Wrote %s: %d written answer(s) on %d page(s), each labelled with its question"
                  % (os.path.relpath(pdf_path), len(entries), pages))
        except ImportError:
            print("Could not write the PDF: matplotlib is not installed (python -m pip install -r "
                  "requirements.txt). Upload the HTML export for your written answers instead.")
    print("Upload the zip to the code assignment on Gradescope and the PDF to the written one "
          "(mark each question's page); the HTML export is a fallback copy.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
