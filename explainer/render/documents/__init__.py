"""Document plug-ins: what a page writes for each model's mixture (the operands of each
density, the written-out sums of each update, the model's remarks, how a point is
written and drawn, the templates of its parts, its figures), one per model, the
Gaussian's included, found by its file (``documents/<model>.py``). The page's context
(``context.py``) and the figures (``plots.py``) ask the plug-in; the model plug-in
(:mod:`explainer.families`) knows nothing of pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...families import MODELS, model_of, plugins
from .base import Asked, Document, FamilyDocument, Words

if TYPE_CHECKING:
    from ...problem import Problem


# Every model's document plug-in: the Document subclass of documents/<model>.py.
DOCUMENTS: dict[str, type[Document]] = plugins(__name__, __path__, Document)
if set(DOCUMENTS) != set(MODELS):
    raise ImportError(f"document plug-ins {sorted(DOCUMENTS)} for the models {sorted(MODELS)}")


def words_of(name: str) -> Words:
    """How exams and reports name the model *name* (model.family)."""
    return DOCUMENTS[name].words


def asked_of(name: str, dim: int, kind: str) -> Asked | None:
    """How an exam's question asks for the quantities of *kind* of the model *name*
    (model.family) in *dim* dimensions; None for a kind every model has."""
    return DOCUMENTS[name].asked(MODELS[name], kind, dim)


def document_of(problem: "Problem") -> Document:
    """The document plug-in of *problem*'s model, bound to it."""
    return DOCUMENTS[problem.family](model_of(problem))


__all__ = ["DOCUMENTS", "Asked", "Document", "FamilyDocument", "Words", "asked_of",
           "document_of", "words_of"]
