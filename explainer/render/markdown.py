"""Trace -> Markdown, through templates/markdown/."""

from __future__ import annotations

from typing import Any

from .. import defaults
from ..errors import ProblemError
from ..trace import Trace
from .context import build_context
from .environment import render_template, tidy
from .skeleton import select_part


def render_markdown(trace: Trace, plots: dict[str, str] | None = None, part: str | None = None,
                    iteration: int | None = None, templates: str | None = None,
                    flavor: str = defaults.FLAVOR) -> str:
    """The worked solution as Markdown (math in ``$...$`` and ``$$...$$``).

    *plots* maps figure names (``fit``, ``loglik``, ``resp``) to image paths,
    relative to the Markdown file. *part* renders one part alone (defaults.PARTS),
    of *iteration* for the parts that belong to one. *templates* is a folder of the
    user's templates, searched first. *flavor* (defaults.FLAVORS): MyST and Quarto
    label the main formulas and refer to them.
    """
    if flavor not in defaults.FLAVORS:
        raise ProblemError("--flavor", f"expected one of {', '.join(defaults.FLAVORS)}, "
                                       f"but got {flavor!r}")
    return markdown_document(build_context(trace), trace, plots, part, iteration, templates,
                             flavor)


def markdown_document(context: dict[str, Any], trace: Trace, plots: dict[str, str] | None,
                      part: str | None, iteration: int | None, templates: str | None,
                      flavor: str) -> str:
    """:func:`render_markdown` from the trace's context (:func:`build_context`, which it
    may change: a copy when it is used again)."""
    context["flavor"] = flavor
    context["plots"] = plots or {}
    select_part(context, trace, part, iteration)
    name = "markdown/document.md.j2" if part is None else "markdown/part.md.j2"
    text = render_template("markdown", name, context, templates)
    # Template control flow leaves runs of blank lines; one blank line is all Markdown needs.
    return tidy(text)
