"""The problem: the frozen record every stage downstream trusts, and its spec.

A :class:`Problem` is made by :func:`explainer.validation.validate` (all checks are
there, and in the readers it uses); :func:`explainer.families.writing.spec_of` writes it
back as the spec keys of :data:`explainer.spec.KEYS`, for the JSON trace, asking the
problem's model plug-in for the keys that are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from . import defaults
from .numbers import fraction_text


@dataclass(frozen=True)
class Detail:
    """Which iterations are shown in full: listed ones, all, and/or the last; with
    *up_to*, every iteration of a run that has at most *up_to* (the default when
    ``stop.tol`` may end the run before ``stop.iterations``: the iterations run count,
    not those asked)."""

    iterations: frozenset[int] = frozenset(defaults.DETAIL)
    all: bool = False
    last: bool = False
    up_to: int | None = None

    def shows(self, index: int, last_index: int | None = None) -> bool:
        """Whether iteration *index* is shown in full in a run of *last_index* iterations
        (None while the run goes on: what may yet be shown)."""
        if self.all or index in self.iterations or (self.last and index == last_index):
            return True
        return self.up_to is not None and index <= self.up_to and (
            last_index is None or last_index <= self.up_to)

    def to_spec(self) -> Any:
        if self.up_to is not None:
            return "auto"
        if self.all:
            return "all"
        items: list[Any] = sorted(self.iterations)
        if self.last:
            items.append("last")
        return items


@dataclass(frozen=True)
class ExactInputs:
    """The numbers of a problem as the user wrote them, exactly (``0.1`` is 1/10, ``1/3``
    is 1/3), for exact arithmetic; the starting parameters only when they are given."""

    data: tuple[Any, ...]  # Fractions; for d >= 2 rows (tuples) of Fractions
    weights: tuple[Fraction, ...] | None = None
    means: tuple[Any, ...] | None = None  # d >= 2: rows
    variances: tuple[Any, ...] | None = None  # d >= 2: covariance matrices (nested tuples)
    # Other families' parameter (binomial, Bernoulli: p; Poisson: rates; categorical: probs).
    p: tuple[Any, ...] | None = None
    rates: tuple[Any, ...] | None = None
    probs: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Problem:
    """A validated EM problem: a Gaussian mixture in one dimension or in d >= 2.

    Attributes
    ----------
    data : ndarray of shape (n_samples,) for d = 1, (n_samples, d) for d >= 2
        The points x_n, read-only.
    weights, means, variances : the starting parameters when ``init_method == "given"``
        (else None): weights of shape (n_components,); means (n_components,) or
        (n_components, d); variances (n_components,) or, for d >= 2, the covariance
        matrices (n_components, d, d) (also called :attr:`covariances`).
    covariance_type : ``full``, ``diag``, ``spherical`` or ``tied`` (d >= 2; see
        families.gaussian.COVARIANCE_UPDATES); ``full`` for d = 1, where all four are the same.
    exact : bool
        Also carry the iterations in exact arithmetic (SymPy), shown beside the decimals;
        ``exact_inputs`` then holds the numbers as written.
    carry : ``full`` or ``rounded``
        ``rounded``: every intermediate is rounded to the displayed decimals before it
        is used, as in a hand calculation.
    grading_carry : ``any``, ``full`` or ``rounded``
        The calculations whose answers ``check`` and an exam's exports accept (see
        :mod:`explainer.grading.accepted`): any a student may carry out without a slip,
        or the full-precision or the rounded-carry one alone.
    variables : the names of the coordinates (one per dimension), from the spec's
        ``variables`` or the header of the CSV columns the data came from; None when
        unnamed. They label the figures' axes and the setup's data.
    paper : ``a4`` or ``letter``, the PDF's paper.
    family : ``gaussian``, or a family of :mod:`explainer.families` (binomial,
        bernoulli, poisson, categorical); then ``p``, ``rates`` or ``probs`` is its
        starting parameter (given), ``trials`` each binomial point's number of trials,
        ``categories`` a categorical problem's categories (``data`` holds their
        indices), and means and variances are None.
    parameters : the names of the mixture's parameters, the weights first (the Gaussian's
        weights, means, variances; another family's weights and its own).
    """

    data: np.ndarray
    components: int
    title: str | None = None
    names: tuple[str, ...] | None = None
    weights: np.ndarray | None = None
    means: np.ndarray | None = None
    variances: np.ndarray | None = None
    init_method: str = defaults.INIT_METHOD
    seed: int = defaults.SEED
    kernel: str = defaults.KERNEL
    update: tuple[str, ...] = defaults.UPDATE
    iterations: int = defaults.ITERATIONS
    tol: float | None = defaults.TOL
    decimals: int = defaults.DECIMALS
    max_rows: int = defaults.MAX_ROWS
    detail: Detail = Detail()
    highlight: str | tuple[int, ...] = defaults.HIGHLIGHT
    exact: bool = False
    carry: str = defaults.CARRY
    grading_carry: str = defaults.GRADING_CARRY
    exact_inputs: ExactInputs | None = None
    covariance_type: str = defaults.COVARIANCE_TYPE
    variables: tuple[str, ...] | None = None
    paper: str = defaults.PAPER
    family: str = defaults.FAMILY
    trials: np.ndarray | None = None
    categories: tuple[str, ...] | None = None
    p: np.ndarray | None = None
    rates: np.ndarray | None = None
    probs: np.ndarray | None = None
    # The parameters of the mixture, the weights first (its model plug-in's).
    parameters: tuple[str, ...] = defaults.PARAMETERS

    @property
    def n_samples(self) -> int:
        return int(self.data.shape[0])

    @property
    def dim(self) -> int:
        """d, the dimension of the points."""
        return dimension_of(self.data)

    @property
    def covariances(self) -> np.ndarray | None:
        """The starting covariance matrices (d >= 2): the same array as ``variances``."""
        return self.variances

    def component_label(self, k: int) -> str:
        """The name of component k (0-based), or its number."""
        return self.names[k] if self.names else str(k + 1)

    def as_written(self, name: str) -> Any:
        """The data or a starting parameter as a spec writes it: exact texts (``"1/3"``)
        under exact arithmetic, so that it reads back to the same exact problem; else
        floats."""
        if self.exact_inputs is not None:
            return _texts_of(getattr(self.exact_inputs, name))
        return getattr(self, name).tolist()

    def given_as_written(self, name: str) -> Any:
        """A starting parameter as the spec wrote it (:meth:`as_written`), or None where
        the start was not given."""
        if self.init_method != "given" or getattr(self, name) is None:
            return None
        return self.as_written(name)


def dimension_of(data: np.ndarray) -> int:
    """d, the number of coordinates of each point: 1 for one number per point (shape
    (n,)), else the rows' length (shape (n, d))."""
    return int(np.prod(data.shape[1:]))


def _texts_of(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_texts_of(v) for v in value]
    return fraction_text(value)


def set_path(spec: dict[str, Any], path: str, value: Any) -> None:
    *sections, key = path.split(".")
    node = spec
    for name in sections:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[key] = value
