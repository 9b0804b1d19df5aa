"""The student README.md of a kit, written from the assignment's manifest."""

from __future__ import annotations


def _questions_table(a) -> list[str]:
    rows = ["| question | points | where your answer goes |", "| --- | ---: | --- |"]
    for q in a.questions:
        where = [f"`{f}`" for f in q.files] + [f"`{c[0]}` cell `{c[1]}`"
                                               for c in q.cells]
        rows.append(f"| {q.title} (`{q.id}`) | {q.points:g} | {', '.join(where)} |")
    rows.append(f"| **total** | **{sum(q.points for q in a.questions):g}** | |")
    return rows


def render_readme(a, info: dict, torch: bool) -> str:
    name, py = a.name, info["python"]
    notebooks = info["notebooks"]
    data = info["datasets"]
    lines = [
        f"# {a.title}",
        "",
        f"This folder is the starter kit of assignment `{name}`. You write your answers in the",
        "notebooks" + (" and the `.py` files they name" if any(not f.endswith(".ipynb") for f in a.submission_files) else "")
        + f" ({', '.join(f'`{n}`' for n in notebooks)}), check them with the public checks,",
        "and upload a zip that `collect_submission.py` makes.",
        "",
        "## Local set-up",
        "",
        f"You need Python {py} (the graders' version; other 3.x versions usually work, and",
        "`check_env.py` says when yours differs). In a terminal, in this folder:",
        "",
        "```sh",
        f"python{py} -m venv .venv            # once; on Windows: py -{py} -m venv .venv",
        "source .venv/bin/activate           # each new terminal; on Windows: .venv\\Scripts\\activate",
        "python -m pip install -r requirements.txt",
        "python check_env.py                 # says what is missing or different, and how to fix it",
        "jupyter notebook                    # then open the notebooks from this folder",
        "```",
        "",
        "`requirements.txt` pins the versions the graders use, so what passes here passes there.",
    ]
    if torch:
        lines += [
            "It installs the CPU build of PyTorch, which every question runs on. For an NVIDIA",
            "GPU, edit the torch lines as the comment in `requirements.txt` says before installing.",
        ]
    lines += [
        "",
        "## Colab",
        "",
        f"1. Upload this whole folder (`{name}/`, unzipped) to your Google Drive, into *My Drive*.",
        "2. Open a notebook from Drive with Colab and run its first cell (the set-up cell). It",
        "   mounts Drive, finds the kit (it looks for `kit.json` up to three folders deep), and",
        "   makes it the working directory. If it cannot find it, it says so: set `KIT_PATH` in",
        f"   that cell to the folder, e.g. `\"/content/drive/MyDrive/my-course/{name}\"`.",
        "3. Colab's preinstalled packages usually work; the set-up cell prints how they differ",
        "   from the graders'. `!python check_env.py` gives the details.",
    ]
    if torch:
        lines += ["4. For training-heavy parts, pick a GPU runtime: *Runtime > Change runtime type*."]
    lines += [""]
    if data:
        lines += [
            "## Getting the data",
            "",
            f"The notebooks use {', '.join(data)}. Their data cell fetches what is missing and",
            "verifies it; from a terminal the same is",
            "",
            "```sh",
            f"python -m kitdata.fetch {' '.join(data)}          # downloads into ./datasets/ and verifies",
            f"python -m kitdata.fetch {' '.join(data)} --check  # only verifies what is there",
            "```",
            "",
            "Set `COURSEKIT_DATA=/some/folder` to keep the data elsewhere. Each file is reported as",
            "*verified, official file*, *verified copy from a mirror* (complete and readable; fine",
            "to use) or *wrong or damaged file* (delete it and fetch again).",
            "",
        ]
    lines += [
        "## Checking your work",
        "",
        "- Under every question of the notebooks is a **public check**: run it after writing",
        "  your answer. It compares shapes first, then values, and says what it expected.",
        "- `python self_check.py` (or the *Self-check* cell at the end of each notebook) runs",
        "  every public check of the assignment from the saved files and prints a table:",
        "  **done**, **failing** (with the message), **not started** (a function still raises",
        "  `NotImplementedError`), or **run notebook** (the check needs your training run).",
        "  Save your notebooks first.",
        "- Passing the public checks is a good sign, not a guarantee: the graders call your",
        "  code on other inputs. Make it correct for any valid shapes, not just the examples.",
        "",
        "## Collecting and uploading",
        "",
        "Run all cells of each notebook, save, then in this folder:",
        "",
        "```sh",
        "python collect_submission.py",
        "```",
        "",
        "It refuses, with a list, when a file is missing or an answer is unfinished",
        "(`--allow-incomplete` zips what is there). It writes:",
        "",
        f"- `{name}_submission.zip`: upload it to the **code** assignment on Gradescope;",
        f"- `{name}_written.pdf`: your written answers, each on its own page labelled with its",
        "  question: upload it to the **written** (PDF) assignment and mark each question's page;",
        "- an `.html` export of each notebook, a fallback copy of everything you wrote.",
        "",
        "## What is graded and how",
        "",
        "The autograder runs your functions and classes on inputs of its own and compares the",
        "results with a reference (numeric gradient checks, relative errors, accuracies from",
        "the checkpoints you submit). Only the cells that define things run while grading,",
        "never training or plotting cells, so keep each definition in the cell that holds it",
        "and do not rename or delete cells. Each lost point comes with a line saying why.",
        "",
    ] + _questions_table(a) + [
        "",
        "Written answers (the *Your answer* cells) are graded by hand from the PDF.",
        "",
        "Files in the zip: " + ", ".join(f"`{f}`" for f in a.submission_files) + ".",
        "",
    ]
    return "\n".join(lines)
