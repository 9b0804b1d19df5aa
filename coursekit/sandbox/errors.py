"""What graders see when student code misbehaves. Each message is written for the student."""

from __future__ import annotations


class SandboxFailure(Exception):
    """Base class: something went wrong on the student's side, not in the grader."""


class StudentError(SandboxFailure):
    """Student code raised an exception."""

    def __init__(self, label: str, type_name: str, message: str, trace: list):
        self.label, self.type_name, self.message, self.trace = label, type_name, message, trace
        super().__init__(self.render())

    def render(self) -> str:
        if self.type_name == "NotImplementedError":
            what = self.message.strip() or self.label
            head = f"{what} is not implemented yet"
        else:
            head = f"{self.label} raised {self.type_name}: {self.message}".rstrip(": ")
        lines = [head]
        for filename, lineno, func, code in self.trace:
            lines.append(f"  {filename}, line {lineno}, in {func}")
            if code:
                lines.append(f"    {code}")
        return "\n".join(lines)


class StudentTimeout(SandboxFailure):
    """Student code ran past its time limit; the process was killed."""


class StudentCrashed(SandboxFailure):
    """The student process died (signal, exit, resource limit)."""


class StudentProtocolError(SandboxFailure):
    """The student process sent something that is not a valid reply."""


class MissingCell(SandboxFailure):
    """A notebook cell a question needs is missing or raised while loading."""
