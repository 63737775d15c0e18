"""Trace -> Markdown, through templates/markdown/."""

from __future__ import annotations

import re

from ..trace import Trace
from .context import build_context
from .environment import environment

_BLANK_RUNS = re.compile(r"\n{3,}")


def render_markdown(trace: Trace, plots: dict[str, str] | None = None) -> str:
    """The worked solution as Markdown (math in ``$...$`` and ``$$...$$``).

    *plots* maps figure names (``fit``, ``loglik``, ``resp``) to image paths,
    relative to the Markdown file.
    """
    context = build_context(trace)
    context["plots"] = plots or {}
    text = environment("markdown").get_template("markdown/document.md.j2").render(context)
    # Template control flow leaves runs of blank lines; one blank line is all Markdown needs.
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"
