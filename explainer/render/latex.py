"""Trace -> LaTeX, through templates/latex/ (LaTeX-safe Jinja delimiters)."""

from __future__ import annotations

from typing import Any

from ..problem import Problem
from ..trace import Trace
from .context import build_context
from .environment import render_template, tidy
from .fonts import fallback_fonts, needs_unicode_engine
from .skeleton import select_part


def user_texts(problem: Problem) -> list[str]:
    """The texts of a document that come from the user: title, names, variables and a
    categorical mixture's categories."""
    return [t for t in (problem.title, *(problem.names or ()), *(problem.variables or ()),
                        *(problem.categories or ())) if t]


def engine(problem: Problem) -> dict[str, Any]:
    """The TeX engine the user's texts need and LuaLaTeX's fallback fonts for them (the
    preamble's ``engine``): pdflatex and none when pdflatex sets them all."""
    texts = user_texts(problem)
    return {"name": "lualatex" if needs_unicode_engine(texts) else "pdflatex",
            "fonts": fallback_fonts(texts, strict=False)}


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
    context["engine"] = engine(trace.problem)
    select_part(context, trace, part, iteration)
    name = "latex/fragment.tex.j2" if fragment else "latex/document.tex.j2"
    text = render_template("latex", name, context, templates)
    return tidy(text)


def latex_body(trace: Trace) -> str:
    """The document's body alone (no preamble, no header comment), for a document that
    holds several: the printable batch of an exam's keys."""
    context = build_context(trace)
    context["plots"] = {}
    context["engine"] = engine(trace.problem)
    select_part(context, trace, None, None)
    return tidy(render_template("latex", "latex/body.tex.j2", context))
