"""Build the student kit, the solutions and their zips from `source/<a>/`.

One module per job: `markers` (find marker regions), `strip` (.py files),
`notebooks` (nbgrader's preprocessors), `leakcheck`, `archive` (deterministic
zips), `kit` (release/<a>/), `solutions` (solutions/<a>/), `command` and
`checkpoints` (the `coursekit release` / `coursekit checkpoints` commands).
"""


class ReleaseError(RuntimeError):
    """The release cannot be built; the message starts with `file:line:` when it can."""
