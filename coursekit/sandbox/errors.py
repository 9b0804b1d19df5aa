"""What graders see when student code misbehaves. Each message is written for the student."""

from __future__ import annotations


def not_implemented(what: str) -> str:
    """The one wording for a stub that still raises NotImplementedError, everywhere the
    kit reports one (graders, notebook cells, collect_submission.py, the self-check)."""
    return f"{what} is not implemented yet"


def stub_name(message: str, trace: list, fallback: str) -> str:
    """The function the student must write, for a NotImplementedError.

    Module stubs carry the name as their message (`raise NotImplementedError("relu_forward")`);
    notebook stubs are a bare `raise NotImplementedError()`, so the name comes from the
    innermost student frame. The grader's own label is the last resort: it names what the
    grader called, which may be a helper that called the student's function.
    """
    message = message.strip()
    if message:
        return message
    for _filename, _lineno, func, _code in reversed(trace):
        if func and not func.startswith("<"):
            return func
    return fallback


class SandboxFailure(Exception):
    """Base class: something went wrong on the student's side, not in the grader."""


class StudentError(SandboxFailure):
    """Student code raised an exception."""

    def __init__(self, label: str, type_name: str, message: str, trace: list):
        self.label, self.type_name, self.message, self.trace = label, type_name, message, trace
        super().__init__(self.render())

    def render(self) -> str:
        if self.type_name == "NotImplementedError":
            head = not_implemented(stub_name(self.message, self.trace, self.label))
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
