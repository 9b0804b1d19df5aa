"""Read graded results from any of the three places they come from.

- A folder graded locally or on a cluster: `coursekit grade <a> <folder> --csv DIR/scores.csv`
  writes `DIR/scores.csv` and `DIR/scores-results/<upload>/results.json` (the upload's name
  without `.zip`). Either the CSV or any folder holding `results.json` files
  (`<name>/results.json` or `<name>.json`) is accepted.
- A Gradescope "Export Submissions" download, unzipped: `submission_metadata.yml` beside one
  `submission_<id>/` folder per upload. Each entry of the metadata carries `:submitters:`
  and `:results:` (the autograder's results.json document). A results.json inside a
  submission folder is never read: it is whatever the student uploaded.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from coursekit.report.model import ClassResults, Submission, slug

MAX_RESULTS_BYTES = 64 << 20
METADATA = "submission_metadata.yml"


class ReportInputError(Exception):
    """The input cannot be read; the message names the file and what is wrong."""


def read_results(path: Path) -> tuple[dict | None, str]:
    """(document, "") or (None, why) for one results.json file."""
    try:
        size = path.stat().st_size
        if size > MAX_RESULTS_BYTES:
            return None, f"{path}: {size} bytes, more than a results file can be"
        doc = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path}: not a readable results.json ({exc})"
    problem = check_document(doc)
    return (doc, "") if not problem else (None, f"{path}: {problem}")


def check_document(doc) -> str:
    """"" when `doc` has the shape of a results.json document, else what is wrong."""
    if not isinstance(doc, dict):
        return "expected a JSON object"
    tests = doc.get("tests", [])
    if not isinstance(tests, list):
        return "'tests' is not a list"
    for i, t in enumerate(tests):
        if not isinstance(t, dict):
            return f"tests[{i}] is not an object"
        for key in ("score", "max_score"):
            value = t.get(key, 0)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return f"tests[{i}] ({t.get('name', '?')}): {key} is not a number"
    return ""


def _submission_path(submissions: Path | None, name: str) -> Path | None:
    if submissions is None:
        return None
    for candidate in (submissions / name, submissions / (name + ".zip")):
        if candidate.exists():
            return candidate
    return None


def load(path: str | Path, submissions: str | Path | None = None) -> ClassResults:
    """Read a results folder, a scores CSV or a Gradescope export.

    `submissions`: the folder of uploads (zips or folders, named as in the results), used
    for the similarity check; a Gradescope export carries its own.
    """
    path = Path(path)
    subs = Path(submissions) if submissions else None
    if not path.exists():
        raise ReportInputError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix.lower() == ".csv":
            return load_csv(path, subs)
        if path.name == METADATA:
            return load_gradescope(path.parent)
        if path.suffix.lower() == ".zip":
            raise ReportInputError(f"{path}: unzip the Gradescope export first and give its folder")
        raise ReportInputError(f"{path}: expected a folder of results, a scores .csv or an "
                               f"unzipped Gradescope export (with {METADATA})")
    export = find_export(path)
    if export is not None:
        return load_gradescope(export)
    return load_folder(path, subs)


def find_export(folder: Path) -> Path | None:
    """The folder holding submission_metadata.yml: `folder` itself or one level below."""
    if (folder / METADATA).is_file():
        return folder
    below = sorted(p.parent for p in folder.glob(f"*/{METADATA}"))
    if len(below) > 1:
        raise ReportInputError(f"{folder}: holds {len(below)} Gradescope exports "
                               f"({', '.join(p.name for p in below)}); give one of them")
    return below[0] if below else None


def _results_files(folder: Path) -> dict[str, Path]:
    """submission name -> results file, for `<name>/results.json` and `<name>.json` layouts."""
    found: dict[str, Path] = {}
    for p in sorted(folder.rglob("results.json")):
        rel = p.parent.relative_to(folder)
        name = rel.parts[-1] if rel.parts else folder.name
        if name == "results" and len(rel.parts) > 1:      # <name>/results/results.json
            name = rel.parts[-2]
        found.setdefault(name, p)
    for p in sorted(folder.glob("*.json")):
        if p.name != "results.json":
            found.setdefault(p.stem, p)
    return found


def load_folder(folder: Path, submissions: Path | None = None) -> ClassResults:
    files = _results_files(folder)
    csvs = sorted(folder.glob("*.csv"))
    if len(csvs) == 1:
        return load_csv(csvs[0], submissions, extra_results=files)
    if not files:
        raise ReportInputError(f"{folder}: no results.json files (expected <submission>/results.json "
                               "or <submission>.json) and no scores .csv")
    out = []
    for name, p in files.items():
        doc, why = read_results(p)
        if doc is None and p.name != "results.json":
            continue          # some other JSON file lying beside the results
        out.append(Submission(name, doc, why, _submission_path(submissions, name)))
    if not out:
        raise ReportInputError(f"{folder}: none of its .json files is a results document")
    return ClassResults(sorted(out, key=lambda s: s.name), str(folder))


def load_csv(path: Path, submissions: Path | None = None,
             extra_results: dict[str, Path] | None = None) -> ClassResults:
    """A batch CSV (submission, score, max_score, one column per question, error) and the
    results files next to it (`<csv stem>-results/<upload>/results.json`, or `results/...`)."""
    try:
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReportInputError(f"{path}: not a readable CSV ({exc})") from None
    if not rows or "submission" not in rows[0]:
        raise ReportInputError(f"{path}: expected a 'submission' column (the CSV `coursekit grade` writes)")
    known = dict(extra_results or {})
    for folder in (path.with_name(path.stem + "-results"), path.parent / "results"):
        if folder.is_dir():
            for name, p in _results_files(folder).items():
                known.setdefault(name, p)
    fixed = {"submission", "score", "max_score", "error"}
    out = []
    for line, row in enumerate(rows, start=2):
        name = (row.get("submission") or "").strip()
        if not name:
            raise ReportInputError(f"{path}, line {line}: empty submission name")
        doc, why = None, (row.get("error") or "").strip()
        found = known.get(name) or known.get(slug(name))
        if found is not None:
            doc, problem = read_results(found)
            why = why or problem
        scores = {}
        if doc is None:
            for key, value in row.items():
                if key not in fixed and key and value not in (None, ""):
                    try:
                        scores[key] = float(value)
                    except ValueError:
                        raise ReportInputError(
                            f"{path}, line {line}, column {key!r}: {value!r} is not a number") from None
            if not why:
                why = "no results.json next to the CSV; only its scores are known"
        out.append(Submission(name, doc, why, _submission_path(submissions, name), csv_scores=scores))
    return ClassResults(out, str(path))


def _yaml_loader():
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):
        """Safe loading that reads Ruby-tagged nodes as plain data instead of failing."""

    def plain(loader, suffix, node):
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("!", plain)
    return Loader


def _key(entry: dict, name: str):
    """Gradescope writes Ruby symbol keys (`:score:`); accept the plain spelling too."""
    return entry.get(":" + name, entry.get(name))


def load_gradescope(export: Path) -> ClassResults:
    import yaml

    meta_path = export / METADATA
    try:
        meta = yaml.load(meta_path.read_text(encoding="utf-8"), Loader=_yaml_loader())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ReportInputError(f"{meta_path}: not readable YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise ReportInputError(f"{meta_path}: expected a mapping of submission folders to their metadata")
    out = []
    for folder, entry in meta.items():
        folder = str(folder)
        if not isinstance(entry, dict):
            raise ReportInputError(f"{meta_path}: entry {folder!r} is not a mapping")
        people = _key(entry, "submitters")
        names = [str(_key(p, "name") or _key(p, "sid") or "?")
                 for p in (people if isinstance(people, list) else []) if isinstance(p, dict)]
        doc, why = _key(entry, "results"), ""
        if isinstance(doc, str):          # some exports carry the document as JSON text
            try:
                doc = json.loads(doc)
            except ValueError:
                doc, why = None, f"{meta_path}: {folder}: results are not JSON"
        if doc is None and not why:
            why = f"{meta_path}: {folder} has no autograder results"
        elif doc is not None:
            problem = check_document(doc)
            if problem:
                doc, why = None, f"{meta_path}: {folder}: results {problem}"
        files = export / folder
        plain = "/" not in folder and "\\" not in folder and folder not in ("", ".", "..")
        out.append(Submission(folder, doc, why, files if plain and files.is_dir() else None, ", ".join(names)))
    if not out:
        raise ReportInputError(f"{meta_path}: lists no submissions")
    return ClassResults(sorted(out, key=lambda s: s.name), str(export))
