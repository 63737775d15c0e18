"""The model plug-ins: the Gaussian mixture's (``gaussian.py``, in one or more dimensions)
and the families beyond it (binomial, Bernoulli, Poisson, categorical).

Each model is one plug-in here holding what is the model's own: how its data and its
starting parameter are read from a spec (the Gaussian's by :mod:`explainer.validation`),
its start, log density, E-step and M-step (a family's sufficient statistics and
update), its events (a parameter on the boundary, a floored covariance), and the
quantities ``check`` names. The EM loop (:mod:`explainer.engine`) runs the steps of
:func:`model_of`. What a page writes for a family is its document plug-in
(:mod:`explainer.render.documents`); a model knows nothing of pages.

Adding a family is a module here (a :class:`~explainer.families.base.Family`
subclass) and its entry in :data:`FAMILIES`, its document plug-in and its entry in
``render/documents/__init__.py``, and its templates
``templates/{markdown,latex}/families/<name>.*.j2``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Family
from .bernoulli import Bernoulli
from .binomial import Binomial
from .categorical import Categorical
from .gaussian import Gaussian
from .poisson import Poisson

if TYPE_CHECKING:
    from ..problem import Problem

FAMILIES: dict[str, type[Family]] = {
    "binomial": Binomial, "bernoulli": Bernoulli, "poisson": Poisson,
    "categorical": Categorical}


# Every model plug-in by the name a spec gives it (model.family).
MODELS: dict[str, type[Gaussian] | type[Family]] = {"gaussian": Gaussian, **FAMILIES}


def model_of(problem: "Problem") -> Gaussian | Family:
    """The model plug-in of *problem*'s mixture, bound to it: its start, E-step and
    M-step (the Gaussian's, or another family's)."""
    return MODELS[problem.family](problem)


def family_of(problem: "Problem") -> Family:
    """The family of *problem* (not the Gaussian's), bound to its data's extras (a
    binomial's trials, a categorical's categories)."""
    return FAMILIES[problem.family](problem)


def family_or_none(problem: "Problem") -> Family | None:
    """The family of *problem*, or None for a Gaussian mixture (whose steps, shapes and
    sums are the engine's own)."""
    return None if problem.family == "gaussian" else family_of(problem)


__all__ = ["FAMILIES", "MODELS", "Family", "Gaussian", "family_of", "family_or_none", "model_of"]
