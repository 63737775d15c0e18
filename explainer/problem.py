"""The problem: the frozen record every stage downstream trusts, and its spec.

A :class:`Problem` is made by :func:`explainer.validation.validate` (all checks are
there, and in the readers it uses); :meth:`Problem.to_spec` writes it back as the
spec keys of :data:`explainer.spec.KEYS`, for the JSON trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from . import defaults
from .numbers import fraction_text
from .spec import KEYS, Key


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
        return 1 if self.data.ndim == 1 else int(self.data.shape[1])

    @property
    def covariances(self) -> np.ndarray | None:
        """The starting covariance matrices (d >= 2): the same array as ``variances``."""
        return self.variances

    def component_label(self, k: int) -> str:
        """The name of component k (0-based), or its number."""
        return self.names[k] if self.names else str(k + 1)

    def to_spec(self) -> dict[str, Any]:
        """The validated spec as plain data (data inlined), for the JSON trace: the keys
        of :data:`explainer.spec.KEYS` in their order, those that apply.

        With exact arithmetic the numbers are written as exact texts (``"1/3"``), so
        that the spec reads back to the same exact problem."""
        spec: dict[str, Any] = {}
        for key in KEYS:
            value = _DUMPS.get(key.path, _attribute)(self, key)
            if value is not _LEFT_OUT:
                set_path(spec, key.path, value)
        return spec

    def _numbers(self, name: str) -> Any:
        """The data or a starting parameter as written: exact texts, or floats."""
        if self.exact_inputs is not None:
            return _texts_of(getattr(self.exact_inputs, name))
        return getattr(self, name).tolist()


_LEFT_OUT = object()  # a key to_spec does not write


def _texts_of(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_texts_of(v) for v in value]
    return fraction_text(value)


def _attribute(problem: Problem, key: Key) -> Any:
    """A key's value: the attribute of its last name, as plain data."""
    value = getattr(problem, key.path.rsplit(".", 1)[-1])
    if isinstance(value, Detail):
        return value.to_spec()
    return list(value) if isinstance(value, tuple) else value


def _starting(name: str, dims: str = "any") -> Any:
    """A starting parameter's dump: given ones only; variances for d = 1 (*dims* "1"),
    covariances for d >= 2 ("d")."""
    def dump(problem: Problem, key: Key) -> Any:
        if problem.init_method != "given" or getattr(problem, name) is None or (
                dims == "1" and problem.dim != 1) or (dims == "d" and problem.dim == 1):
            return _LEFT_OUT
        return problem._numbers(name)
    return dump


def _family_data(problem: Problem, key: Key) -> Any:
    """The data as a spec writes it: binomial successes (rows [successes, trials] when
    the trials differ), categorical data by their categories' names, counts as whole
    numbers, other data (waiting times) as written."""
    if problem.family == "gaussian":
        return problem._numbers("data")
    if problem.family == "categorical":
        assert problem.categories is not None
        return [problem.categories[int(v)] for v in problem.data]
    if problem.family == "binomial" and problem.trials is not None \
            and not np.all(problem.trials == problem.trials[0]):
        return np.stack([problem.data, problem.trials], axis=1).astype(int).tolist()
    if not np.all(problem.data == np.floor(problem.data)):
        return problem._numbers("data")
    return problem.data.astype(int).tolist()


def _trials(problem: Problem, key: Key) -> Any:
    if problem.trials is None or not np.all(problem.trials == problem.trials[0]):
        return _LEFT_OUT
    return int(problem.trials[0])


def _gaussian_only(problem: Problem, key: Key) -> Any:
    return _attribute(problem, key) if problem.family == "gaussian" else _LEFT_OUT


_DUMPS = {
    "data": _family_data,
    "init.p": _starting("p"),
    "init.rates": _starting("rates"),
    "init.probs": _starting("probs"),
    # A Gaussian problem's spec has no family (the default), as before families came.
    "model.family": lambda problem, key: problem.family if problem.family != defaults.FAMILY
    else _LEFT_OUT,
    "model.trials": _trials,
    "model.categories": lambda problem, key: list(problem.categories) if problem.categories
    else _LEFT_OUT,
    "model.kernel": _gaussian_only,
    "grading.carry": lambda problem, key: problem.grading_carry
    if problem.grading_carry != defaults.GRADING_CARRY else _LEFT_OUT,
    # The data is inlined: where it came from is not the problem's.
    "data_file": lambda problem, key: _LEFT_OUT,
    "column": lambda problem, key: _LEFT_OUT,
    "columns": lambda problem, key: _LEFT_OUT,
    "variables": lambda problem, key: list(problem.variables) if problem.variables
    else _LEFT_OUT,
    "names": lambda problem, key: list(problem.names) if problem.names else _LEFT_OUT,
    "init.weights": _starting("weights"),
    "init.means": _starting("means"),
    "init.variances": _starting("variances", "1"),
    "init.covariances": _starting("variances", "d"),
    "model.covariance_type": lambda problem, key: problem.covariance_type
    if problem.dim > 1 and problem.family == "gaussian" else _LEFT_OUT,
}


def set_path(spec: dict[str, Any], path: str, value: Any) -> None:
    *sections, key = path.split(".")
    node = spec
    for name in sections:
        if not isinstance(node.get(name), dict):
            node[name] = {}
        node = node[name]
    node[key] = value
