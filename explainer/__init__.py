"""em-explainer: step-by-step worked solutions of EM for Gaussian mixture models.

The flow: spec -> :class:`~explainer.problem.Problem` -> :func:`~explainer.engine.run`
-> :class:`~explainer.trace.Trace` -> render (Markdown and LaTeX via templates, PDF, JSON).

In Python::

    import explainer
    trace = explainer.solve("examples/lecture/lecture.yaml")          # or a dict
    trace = explainer.solve(data=[1, 2, 5, 8, 9], k=2, weights=[.5, .5], means=[2, 8],
                            variances=[2, 2], update="weights,means", iterations=3)
    trace.iterations[0].mstep.params.means     # every quantity, by name
    trace.to_markdown(part="mstep", iteration=1)
    trace.to_latex(fragment=True)
    same = explainer.Trace.from_json(trace.to_json())

Nothing heavy is imported until it is used: ``import explainer`` costs nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["solve", "Trace", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path
    from typing import Mapping

    from .trace import Trace


def solve(spec: "str | Path | Mapping[str, Any] | None" = None, **options: Any) -> "Trace":
    """Run EM and return the frozen trace.

    *spec* is a spec file (YAML or JSON), a mapping with the spec's keys, or None;
    *options* mirror the command line's flags (``data``, ``data_file``, ``column``,
    ``k``, ``names``, ``weights``, ``means``, ``variances``, ``init_method``, ``seed``,
    ``update``, ``kernel``, ``iterations``, ``tol``, ``decimals``, ``detail``,
    ``max_rows``, ``highlight``, ``title``) and override the spec. Bad input raises
    :class:`~explainer.errors.ProblemError` naming the field.
    """
    from .engine import run
    from .problem import problem_from

    return run(problem_from(spec, **options))


def __getattr__(name: str) -> Any:
    if name == "Trace":
        from .trace import Trace

        return Trace
    raise AttributeError(f"module 'explainer' has no attribute {name!r}")
