"""The `coursekit` command: one sub-command per job, each in its own module.

A sub-command module defines `configure(parser)` (adds its arguments) and
`run(args) -> int` (the exit status). Modules are imported only when their
sub-command runs, so `coursekit data` does not pay for torch or nbgrader.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "release": ("coursekit.release.command", "build release/, solutions/ and the autograder zips"),
    "checkpoints": ("coursekit.checkpoints", "train the reference checkpoints a perfect submission carries"),
    "grade": ("coursekit.local_grading.command", "grade one submission, or a folder of them, with the real autograder"),
    "data": ("coursekit.data.command", "fetch, verify or check the data sets"),
    "bench": ("coursekit.bench", "measure grading, sandbox, layer and training speed; write bench.json"),
    "report": ("coursekit.report.command", "one HTML page: scores, failure reasons, what needs a look, similar code"),
    "new-question": ("coursekit.scaffold", "scaffold a question: stub, public check, manifest entry, grader, mutants"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coursekit", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        # Arguments are added lazily in main(), once we know which command runs.
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # First pass finds the command; the second parses with that command's arguments.
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints usage / error and exits
        return 2
    module_name, help_text = COMMANDS[argv[0]]
    module = importlib.import_module(module_name)
    sub = argparse.ArgumentParser(prog=f"coursekit {argv[0]}", description=help_text)
    module.configure(sub)
    args = sub.parse_args(argv[1:])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
