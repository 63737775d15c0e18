"""Trace -> LaTeX, through templates/latex/ (LaTeX-safe Jinja delimiters)."""

from __future__ import annotations

import re
from typing import Any

from ..trace import Trace
from .context import build_context
from .environment import environment

_BLANK_RUNS = re.compile(r"\n{3,}")


def render_latex(trace: Trace, fragment: bool = False,
                 plots: dict[str, Any] | None = None) -> str:
    """A standalone LaTeX document, or with *fragment* only its body for ``\\input{}``.

    *plots* maps figure names (``fit``, ``loglik``, ``resp``) to graphics files,
    as written by :func:`explainer.render.plots.write_plots`.
    """
    context = build_context(trace)
    context["plots"] = plots or {}
    name = "latex/fragment.tex.j2" if fragment else "latex/document.tex.j2"
    text = environment("latex").get_template(name).render(context)
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"
