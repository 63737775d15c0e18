"""The public API: solve a problem, and a trace with its conveniences.

:func:`solve` runs EM and returns a :class:`Trace`: the record of the run
(:class:`explainer.trace.Trace`, frozen) with the methods that render it, as Markdown,
LaTeX, HTML or JSON, with a template of your own, or to a file as the command line
would; a notebook displays it. The record itself knows nothing of rendering (the
layers of the design: the records of a run sit below the renderers); this module sits
above both. The renderers are imported when called: ``import explainer`` stays cheap.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from . import trace as records

if TYPE_CHECKING:  # pragma: no cover
    from .problem import Problem


class Trace(records.Trace):
    """A whole EM run (the frozen record: problem, start, iterations, final E-step),
    with the methods that render it."""

    @classmethod
    def of(cls, record: records.Trace) -> "Trace":
        """The record of a run (:func:`explainer.engine.run`) with these methods."""
        if isinstance(record, cls):
            return record
        return cls(**{f.name: getattr(record, f.name) for f in fields(record)})

    def to_markdown(self, part: str | None = None, iteration: int | None = None,
                    templates: str | Path | None = None, flavor: str = "gfm") -> str:
        """The worked solution (or one *part* of it, of *iteration*) as Markdown;
        *templates* is a folder of your templates, used before ours; *flavor* is gfm,
        myst, quarto or obsidian."""
        from .render.markdown import render_markdown

        return render_markdown(self, part=part, iteration=iteration, flavor=flavor,
                               templates=None if templates is None else str(templates))

    def to_latex(self, fragment: bool = False, part: str | None = None,
                 iteration: int | None = None, templates: str | Path | None = None) -> str:
        """A standalone LaTeX document, or with *fragment* its body for ``\\input{}``."""
        from .render.latex import render_latex

        return render_latex(self, fragment=fragment, part=part, iteration=iteration,
                            templates=None if templates is None else str(templates))

    def to_html(self, part: str | None = None, iteration: int | None = None,
                templates: str | Path | None = None, plots: bool = True,
                study: bool = False, practice: bool = False) -> str:
        """The worked solution as one self-contained HTML page (math as MathML, figures
        inside it); *study*: it opens in study mode; *practice*: practice mode, an input
        for every quantity of the iterations shown in full, checked in the page as
        ``check`` grades (a whole page: not with *part*)."""
        from .render.html import render_html, svg_figures

        panels = None
        if practice:
            from .grading.practice import practice_context

            if part is not None:
                raise ValueError("practice mode is a whole page: give no part")
            panels = practice_context(self)
        return render_html(self, plots=svg_figures(self) if plots else None, part=part,
                           iteration=iteration, study=study, practice=panels,
                           templates=None if templates is None else str(templates))

    def render_template(self, name: str, templates: str | Path | None = None,
                        kind: str = "markdown") -> str:
        """Render a template of your own (found in *templates*, then among ours) with
        this trace's context; it may import ``em/macros.md.j2``. Sandboxed."""
        from .render.environment import render_template

        return render_template(kind, name, self.context(),
                               None if templates is None else str(templates))

    def to_json(self) -> str:
        """The trace as JSON (schema ``em-explainer/trace@1``); :meth:`from_json` reads it."""
        from .render.json import render_json

        return render_json(self)

    @classmethod
    def from_json(cls, text: str) -> "Trace":
        """A trace saved with :meth:`to_json`, rebuilt without recomputing EM."""
        from .render.json_reader import trace_from_json

        return cls.of(trace_from_json(text))

    def context(self) -> dict:
        """The plain data the templates render (for your own Jinja2 templates)."""
        from .render.context import build_context

        context = build_context(self)
        context["plots"] = {}
        return context

    def write(self, path: str | Path, *, format: str | None = None, plots: bool | None = None,
              fragment: bool = False, part: str | None = None, iteration: int | None = None,
              templates: str | Path | None = None, flavor: str | None = None) -> list[Path]:
        """Write the solution to *path* as the CLI would (format from the suffix); return
        the files written (figures included)."""
        from .render.output import format_for, plan, write

        output = plan(format_for(str(path), format), Path(path), plots=plots,
                      fragment=fragment, part=part, iteration=iteration,
                      templates=None if templates is None else str(templates), flavor=flavor)
        return write(self, output)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        """The document for a notebook's output: its HTML and MathML, no script."""
        from .render.html import render_html

        return render_html(self, fragment=True)

    def _repr_latex_(self) -> str:
        return self.to_latex(fragment=True)


def run(problem: "Problem") -> Trace:
    """Run EM on a validated problem (:func:`explainer.validation.validate`)."""
    from .engine import run as run_em

    return Trace.of(run_em(problem))


def spec_of(problem: Problem) -> dict[str, Any]:
    """The validated *problem* written back as its spec: plain data, the data inlined,
    the keys of :data:`explainer.spec.KEYS` that apply in their order (the JSON trace's
    ``problem``); under exact arithmetic the numbers as exact texts, so that it reads
    back to the same exact problem."""
    from .families.writing import spec_of as written

    return written(problem)


def solve(spec: "str | Path | Mapping[str, Any] | None" = None, **options: Any) -> Trace:
    """Run EM and return the frozen trace.

    *spec* is a spec file (YAML or JSON), a mapping with the spec's keys, or None;
    *options* mirror the command line's flags (``data``, ``data_file``, ``column``,
    ``k``, ``names``, ``weights``, ``means``, ``variances``, ``init_method``, ``seed``,
    ``update``, ``kernel``, ``iterations``, ``tol``, ``decimals``, ``detail``,
    ``max_rows``, ``highlight``, ``title``) and override the spec. Bad input raises
    :class:`~explainer.errors.ProblemError` naming the field.
    """
    from .validation import problem_from

    return run(problem_from(spec, **options))
