"""Document plug-ins: what a page writes for each model's mixture (the operands of each
density, the written-out sums of each update, the model's remarks, how a point is
written and drawn). The page's context for the families (``context_family.py``) and
the figures (``plots.py``) ask the plug-in; the model plug-in
(:mod:`explainer.families`) knows nothing of pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...families import FAMILIES, family_of, family_or_none, plugins
from .base import FamilyDocument, Words

if TYPE_CHECKING:
    from ...problem import Problem


# Every family's document plug-in: the FamilyDocument subclass of documents/<family>.py.
DOCUMENTS: dict[str, type[FamilyDocument]] = plugins(__name__, __path__, FamilyDocument)
if set(DOCUMENTS) != set(FAMILIES):
    raise ImportError(f"document plug-ins {sorted(DOCUMENTS)} for the families {sorted(FAMILIES)}")


# How exams and reports name the Gaussian mixture (the others' are their plug-ins').
GAUSSIAN_WORDS = Words("Gaussians", "mean", r"\mu")


def words_of(name: str) -> Words:
    """How exams and reports name the model *name* (model.family)."""
    return DOCUMENTS[name].words if name in DOCUMENTS else GAUSSIAN_WORDS


def document_of(problem: "Problem") -> FamilyDocument:
    """The document plug-in of *problem*'s family (not the Gaussian's), bound to its
    model."""
    return DOCUMENTS[problem.family](family_of(problem))


def document_or_none(problem: "Problem") -> FamilyDocument | None:
    """The document plug-in of *problem*'s family, or None for a Gaussian mixture."""
    model = family_or_none(problem)
    return None if model is None else DOCUMENTS[model.name](model)


def parts_of(problem: "Problem") -> str:
    """The templates that write the parts of *problem*'s document
    (``templates/<format>/<name>.<suffix>.j2``, put in the context as ``parts``):
    ``familyparts`` for another family than the Gaussian, ``mvparts`` for a Gaussian in
    d >= 2, ``parts`` in one dimension."""
    if problem.family in DOCUMENTS:
        return "familyparts"
    return "mvparts" if problem.dim > 1 else "parts"


__all__ = ["DOCUMENTS", "GAUSSIAN_WORDS", "FamilyDocument", "Words", "document_of",
           "document_or_none", "parts_of", "words_of"]
