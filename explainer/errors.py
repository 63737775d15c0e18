"""The error tree. Every user-facing failure is a subclass of ExplainerError."""

from __future__ import annotations


class ExplainerError(Exception):
    """Base class: an error the command line reports as one line, exit status 2."""


class ProblemError(ExplainerError):
    """Bad input: names the offending field and what was expected."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class RenderError(ExplainerError):
    """The trace could not be turned into the requested output."""
