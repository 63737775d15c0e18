"""Trace -> LaTeX, through templates/latex/ (LaTeX-safe Jinja delimiters)."""

from __future__ import annotations

from typing import Any

from ..trace import Trace
from .context import build_context, select_part
from .environment import render_template, tidy



def render_latex(trace: Trace, fragment: bool = False, plots: dict[str, Any] | None = None,
                 part: str | None = None, iteration: int | None = None,
                 templates: str | None = None) -> str:
    """A standalone LaTeX document, or with *fragment* only its body for ``\\input{}``.

    *plots* maps figure names (``fit``, ``loglik``, ``resp``) to graphics files,
    as written by :func:`explainer.render.plots.write_plots`. *part* renders one
    part alone (defaults.PARTS), of *iteration* for the parts that belong to one.
    *templates* is a folder of the user's templates, searched first.
    """
    context = build_context(trace)
    context["plots"] = plots or {}
    select_part(context, trace, part, iteration)
    name = "latex/fragment.tex.j2" if fragment else "latex/document.tex.j2"
    text = render_template("latex", name, context, templates)
    return tidy(text)
