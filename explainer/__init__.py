"""em-explainer: step-by-step worked solutions of EM for Gaussian mixture models.

The flow: spec -> :class:`~explainer.problem.Problem` -> :func:`~explainer.engine.run`
-> :class:`~explainer.trace.Trace` (the record) -> render (Markdown, LaTeX, PDF, HTML,
JSON). :mod:`explainer.api` holds :func:`solve` and the public :class:`Trace`, the
record with the methods that render it.

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
    from .api import Trace, solve


def __getattr__(name: str) -> Any:
    # solve and Trace live in explainer.api, imported when first asked for.
    if name in ("solve", "Trace"):
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'explainer' has no attribute {name!r}")
