"""Trace -> Markdown, through templates/markdown/."""

from __future__ import annotations

import re

from ..trace import Trace
from .context import build_context
from .environment import environment

_BLANK_RUNS = re.compile(r"\n{3,}")


def render_markdown(trace: Trace) -> str:
    """The worked solution as Markdown (math in ``$...$`` and ``$$...$$``)."""
    text = environment().get_template("markdown/document.md.j2").render(build_context(trace))
    # Template control flow leaves runs of blank lines; one blank line is all Markdown needs.
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"
