"""The error tree. Every user-facing failure is a subclass of ExplainerError.

Exit statuses (the command line's contract): 0 success; 1 an internal fault;
2 bad input (:class:`ProblemError`, :class:`RenderError`); 3 the system refused
to write a file the input named correctly (:class:`SystemRefused`: a read-only
folder, a full disk, no permission); 130 interrupted (SIGINT); 143
terminated (SIGTERM or SIGHUP).
"""

from __future__ import annotations

import signal
from typing import Any, NoReturn

EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143


class ExplainerError(Exception):
    """Base class: an error the command line reports as one line, exit status 2."""

    exit_status = EXIT_BAD_INPUT


class ProblemError(ExplainerError):
    """Bad input: names the offending field and what was expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        # (A worker process's error reaches the command's process pickled.)
        return _problem_error, (type(self), self.field, self.message)


def _problem_error(cls: type[ProblemError], field: str, message: str) -> ProblemError:
    error = ProblemError.__new__(cls)
    ProblemError.__init__(error, field, message)
    return error


class RenderError(ExplainerError):
    """The trace could not be turned into the requested output."""


class SystemRefused(ProblemError):
    """The operating system refused a write (read-only, disk full, permission): exit 3.

    The message is ``FIELD: cannot write PATH: REASON``.
    """

    exit_status = EXIT_REFUSED

    def __init__(self, field: str, path: object, error: OSError) -> None:
        reason = error.strerror or type(error).__name__
        super().__init__(field, f"cannot write {path}: {reason}")


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind (temporary files, child processes), exit 143."""


def raise_terminated(signum: int, frame: object) -> NoReturn:
    """The handler of SIGTERM (and SIGHUP): unwind as :class:`Terminated`, once.

    Further SIGTERMs and SIGHUPs are ignored from then on: the process is on its way
    out, and a second signal (a process group's SIGTERM reaches a worker process, then
    the command's own; or an impatient user) would cut short the clean-up the first
    one started, leaving a LaTeX process running or half a temporary folder behind."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated(signum)
