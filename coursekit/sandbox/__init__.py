"""Run untrusted student code in a separate, limited process and talk to it safely."""

from coursekit.sandbox.errors import (  # noqa: F401
    MissingCell,
    SandboxFailure,
    StudentCrashed,
    StudentError,
    StudentProtocolError,
    StudentTimeout,
)
from coursekit.sandbox.proxy import Limits, Remote, Sandbox, Student  # noqa: F401
