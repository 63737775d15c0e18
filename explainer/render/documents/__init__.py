"""Document plug-ins: what a page writes for each model's mixture (the operands of each
density, the written-out sums of each update, the model's remarks, how a point is
written and drawn). The page's context for the families (``context_family.py``) and
the figures (``plots.py``) ask the plug-in; the model plug-in
(:mod:`explainer.families`) knows nothing of pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...families import family_of, family_or_none
from .base import FamilyDocument
from .bernoulli import BernoulliDocument
from .binomial import BinomialDocument
from .categorical import CategoricalDocument
from .poisson import PoissonDocument

if TYPE_CHECKING:
    from ...problem import Problem

DOCUMENTS: dict[str, type[FamilyDocument]] = {
    "binomial": BinomialDocument, "bernoulli": BernoulliDocument,
    "poisson": PoissonDocument, "categorical": CategoricalDocument}


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


__all__ = ["DOCUMENTS", "FamilyDocument", "document_of", "document_or_none", "parts_of"]
