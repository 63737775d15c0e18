"""The model plug-ins: the Gaussian mixture's (``gaussian.py``, in one or more dimensions)
and the families beyond it (binomial, Bernoulli, Poisson, exponential, categorical).

Each model is one plug-in here holding what is the model's own: how its data and its
starting parameter are read from a spec (with the readers of :mod:`.reading`) and
written back (:mod:`.writing`), its start, log density, E-step and M-step (a family's
sufficient statistics and update), its events (a parameter on the boundary, a floored
covariance), the quantities ``check`` names, with the quotient of sums its update is,
and its M-step in a student's hands (``followed``). The EM loop
(:mod:`explainer.engine`) runs the steps of :func:`model_of`. What a page writes for a
family is its document plug-in (:mod:`explainer.render.documents`); a model knows
nothing of pages.

Adding a family is one module here defining one :class:`~explainer.families.base.Family`
subclass with its ``name`` (found by :func:`plugins`: no list to extend), its document
plug-in in ``render/documents/<name>.py`` (found the same way: how a page writes its
densities and updates, how exams name it and ask for it) and its template
``templates/parts/families/<name>.j2`` (one for every format): nothing else changes (the
exponential mixture was added so). A new ``init`` or ``model`` key is a row of
:data:`explainer.spec.KEYS`; the trace's JSON Schema lists the families by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Any

from ..defaults import NOT_FAMILIES
from .base import Family
from .gaussian import Gaussian

if TYPE_CHECKING:
    from ..problem import Problem


def plugins(package: str, path: Any, base: type, skip: tuple[str, ...] = ("base",)
            ) -> dict[str, type]:
    """The plug-ins of *package* (its ``__path__`` *path*) by module name: the one
    subclass of *base* each module but *skip* defines. A module that defines none, or
    two, is an error at import, not a plug-in silently missing."""
    found: dict[str, type] = {}
    for module in pkgutil.iter_modules(path):
        if module.name in skip:
            continue
        names = importlib.import_module(f"{package}.{module.name}")
        classes = [value for value in vars(names).values() if isinstance(value, type)
                   and issubclass(value, base) and value is not base
                   and value.__module__ == names.__name__]
        if len(classes) != 1:
            raise ImportError(f"{names.__file__} must define one {base.__name__} subclass")
        found[module.name] = classes[0]
    return found


# Every family beyond the Gaussian by its name: the Family subclass of families/<name>.py.
FAMILIES: dict[str, type[Family]] = plugins(__name__, __path__, Family, NOT_FAMILIES)
if any(cls.name != name for name, cls in FAMILIES.items()):
    raise ImportError(f"a family's name is its module's: {FAMILIES}")


# Every model plug-in by the name a spec gives it (model.family); the Gaussian first, the
# default.
MODELS: dict[str, type[Gaussian] | type[Family]] = {Gaussian.name: Gaussian, **FAMILIES}


def model_of(problem: "Problem") -> Gaussian | Family:
    """The model plug-in of *problem*'s mixture, bound to it: its start, E-step and
    M-step (the Gaussian's, or another family's)."""
    return MODELS[problem.family](problem)


def family_of(problem: "Problem") -> Family:
    """The family of *problem* (not the Gaussian's), bound to its data's extras (a
    binomial's trials, a categorical's categories)."""
    return FAMILIES[problem.family](problem)


__all__ = ["FAMILIES", "MODELS", "Family", "Gaussian", "family_of", "model_of",
           "plugins"]
