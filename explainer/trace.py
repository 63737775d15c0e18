"""Frozen trace records: what one EM run computed, step by step.

The engine builds these; renderers only read them. Per-point quantities are
held in :class:`PointDetail` (E-step) and :class:`MStepDetail` (M-step). They
store the arrays the engine computed anyway (log pi_k N(x_n), log p(x_n), r_nk)
and derive the textbook intermediates (deviation, exponent, density, ...) from
them on demand, so that a detailed iteration costs O(N*K) memory, not eight
times that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from . import backend
from .backend import FLOAT, Backend
from .problem import Problem


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Params:
    """Mixture parameters: the weights, and the component family's own, each with the
    component as its first axis. Gaussian: ``means`` and ``variances`` (d >= 2:
    covariance matrices); binomial and Bernoulli: ``p`` (Bernoulli: a vector per
    component); Poisson: ``rates``; categorical: ``probs`` (a vector per component).
    The names are the spec's ``init`` keys; a family's absent ones are None."""

    weights: np.ndarray
    means: np.ndarray | None = None
    variances: np.ndarray | None = None
    p: np.ndarray | None = None
    rates: np.ndarray | None = None
    probs: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in self.names:
            _frozen(getattr(self, name))

    @property
    def names(self) -> tuple[str, ...]:
        """The parameters this mixture has, in order (the weights first)."""
        return tuple(name for name in PARAMETER_NAMES if getattr(self, name) is not None)

    def get(self, name: str) -> np.ndarray:
        """The parameter called *name* (``weights``, ``means``, ``p``, ...)."""
        return getattr(self, name)


PARAMETER_NAMES = ("weights", "means", "variances", "p", "rates", "probs")


@dataclass(frozen=True)
class Event:
    """Something the document must explain: a collapse, a floor applied.

    kind : ``"empty_component"`` (N_k ~ 0: mean and variance kept),
    ``"variance_floor"`` (the variance fell below the floor and was raised to it) or
    ``"covariance_floor"`` (d >= 2: a covariance's smallest eigenvalue fell below the
    floor; the matrix was raised by (floor - eigenvalue) I).
    """

    kind: str
    component: int
    value: float
    floor: float = 0.0
    # covariance_floor (d >= 2): why the covariance was singular -- ``collapse`` (the
    # component carries *points* <= d points), ``dependent`` (the data's columns are
    # linearly dependent, e.g. two coincident columns) or ``flat`` (its points nearly
    # lie on a line or plane); value is then the smallest eigenvalue.
    cause: str = ""
    points: int = 0


class MixtureRows:
    """What an E-step's stored arrays give for any family: pi_k f_k(x_n), log r_nk and
    p(x_n) (the class holding them has ``log_weighted``, ``log_mixture`` and ``xp``)."""

    log_weighted: np.ndarray
    log_mixture: np.ndarray
    xp: Backend

    @cached_property
    def weighted_density(self) -> np.ndarray:
        """pi_k f_k(x_n) (Gaussian: pi_k N(x_n | mu_k, sigma_k^2))."""
        return _frozen(self.xp.exp(self.log_weighted))

    @cached_property
    def log_resp(self) -> np.ndarray:
        """log r_nk, exact where r_nk itself underflows to 0."""
        return _frozen(self.log_weighted - self.log_mixture[:, None])

    def log_resp_of(self, n: int) -> np.ndarray:
        """Row n of :attr:`log_resp` (the same numbers), without the whole array: a
        document shows a few rows of a million points'."""
        if "log_resp" in self.__dict__:
            return self.log_resp[n]
        return self.log_weighted[n] - self.log_mixture[n]

    @cached_property
    def mixture_density(self) -> np.ndarray:
        """p(x_n) = sum_k pi_k f_k(x_n), shape (n_samples,)."""
        return _frozen(self.xp.exp(self.log_mixture))


@dataclass(frozen=True)
class PointDetail(MixtureRows):
    """Per-point quantities of one E-step.

    Attributes
    ----------
    x : ndarray of shape (n_samples,)
    params : Params the E-step used
    kernel : ``normalized`` or ``proportional``
    log_weighted : ndarray of shape (n_samples, n_components)
        log(pi_k) + log of the kernel at x_n (the kernel drops the constant when
        proportional).
    log_mixture : ndarray of shape (n_samples,)
        log sum_k pi_k kernel_k(x_n): log p(x_n) for the normalized kernel.
    resp : ndarray of shape (n_samples, n_components)
        Responsibilities r_nk; each row sums to 1.
    xp : the arithmetic the E-step used; the derived quantities (exponent, density,
        ...) are computed with it, as the E-step computed them.
    """

    x: np.ndarray
    params: Params
    kernel: str
    log_weighted: np.ndarray
    log_mixture: np.ndarray
    resp: np.ndarray

    xp: Backend = FLOAT

    @cached_property
    def deviation(self) -> np.ndarray:
        """x_n - mu_k, shape (n_samples, n_components) (d >= 2: (..., d))."""
        return _frozen(self.x[:, None] - self.params.means[None])

    @cached_property
    def inverse(self) -> np.ndarray:
        """Sigma_k^-1, shape (n_components, d, d) (d >= 2)."""
        return _frozen(self.xp.inverse(self.params.variances))

    @cached_property
    def determinant(self) -> np.ndarray:
        """|Sigma_k|, shape (n_components,) (d >= 2)."""
        return _frozen(self.xp.det(self.params.variances))

    @cached_property
    def precision_deviation(self) -> np.ndarray:
        """Sigma_k^-1 (x_n - mu_k), shape (n_samples, n_components, d) (d >= 2; a hand
        calculation's entries as carried)."""
        return _frozen(self.xp.precision_deviation(self.inverse, self.deviation))

    @cached_property
    def mahalanobis(self) -> np.ndarray:
        """(x_n - mu_k)^T Sigma_k^-1 (x_n - mu_k) = -2 x the exponent (d >= 2, where a hand
        calculation carries it before halving it; for d = 1 (x_n - mu_k)^2 / sigma_k^2)."""
        if self.x.ndim == 1:
            return _frozen(-2 * self.exponent)
        return _frozen(self.xp.mahalanobis(self.exponent, self.deviation,
                                           self.precision_deviation))

    @cached_property
    def sq_deviation(self) -> np.ndarray:
        """(x_n - mu_k)^2."""
        return _frozen(self.deviation * self.deviation)

    @cached_property
    def exponent(self) -> np.ndarray:
        """-(x_n - mu_k)^2 / (2 sigma_k^2), as the E-step used it."""
        return _frozen(backend.exponent(self.xp, self.x, self.params.means,
                                         self.params.variances))

    @cached_property
    def log_norm_const(self) -> np.ndarray:
        """log of c_k = 1/sqrt(2 pi sigma_k^2), shape (n_components,)."""
        return _frozen(backend.log_norm(self.xp, self.params.variances))

    @cached_property
    def norm_const(self) -> np.ndarray:
        """c_k = 1/sqrt(2 pi sigma_k^2), shape (n_components,)."""
        return _frozen(self.xp.exp(self.log_norm_const))

    @cached_property
    def log_density(self) -> np.ndarray:
        """log of the kernel value: exponent (+ log constant when normalized)."""
        return _frozen(backend.log_density(self.xp, self.exponent, self.log_norm_const,
                                            self.kernel))

    @cached_property
    def kernel_value(self) -> np.ndarray:
        """exp(exponent), the density without its constant."""
        return _frozen(self.xp.exp(self.exponent))

    @cached_property
    def density(self) -> np.ndarray:
        """N(x_n | mu_k, sigma_k^2), or exp(exponent) for the proportional kernel."""
        return _frozen(self.xp.exp(self.log_density))



@dataclass(frozen=True)
class EStep:
    """One E-step: the log-likelihood of *params* and, when kept, the per-point detail."""

    params: Params
    log_likelihood: float
    detail: PointDetail | None


@dataclass(frozen=True)
class MStepDetail:
    """Per-point terms of the M-step's weighted sums.

    resp : ndarray of shape (n_samples, n_components), the E-step's r_nk.
    """

    x: np.ndarray
    resp: np.ndarray
    old_means: np.ndarray
    new_means: np.ndarray

    # For d >= 2 each term has the point's coordinates as a last axis (and the variance
    # terms are d x d outer products).

    @property
    def _r(self) -> np.ndarray:
        """r_nk, broadcast over the coordinates of a point (d >= 2)."""
        return self.resp.reshape(self.resp.shape + (1,) * (self.x.ndim - 1))

    @property
    def _x(self) -> np.ndarray:
        """x_n against every component: shape (n_samples, 1) or (n_samples, 1, d)."""
        return self.x[:, None]

    @cached_property
    def mean_pull(self) -> np.ndarray:
        """r_nk (x_n - mu_k^old): how hard each point pulls mean k; the shift of the
        mean is the column sum divided by N_k."""
        return _frozen(self._r * (self._x - self.old_means))

    def mean_pull_of(self, k: int) -> np.ndarray:
        """Column k of :attr:`mean_pull` (the same numbers; d >= 2: shape (n_samples,
        d)), without the whole array."""
        if "mean_pull" in self.__dict__:
            return self.mean_pull[:, k]
        return self._r[:, k] * (self.x - self.old_means[k])

    @cached_property
    def mean_terms(self) -> np.ndarray:
        """r_nk x_n, shape (n_samples, n_components) (d >= 2: (..., d))."""
        return _frozen(self._r * self._x)

    @cached_property
    def new_deviation(self) -> np.ndarray:
        """x_n - mu_k^new."""
        return _frozen(self._x - self.new_means)

    @cached_property
    def variance_terms(self) -> np.ndarray:
        """r_nk (x_n - mu_k^new)^2; d >= 2: r_nk (x_n - mu_k)(x_n - mu_k)^T, shape
        (n_samples, n_components, d, d)."""
        if self.x.ndim > 1:
            dev = self.new_deviation
            return _frozen(self.resp[:, :, None, None] * dev[..., :, None] * dev[..., None, :])
        return _frozen(self.resp * self.new_deviation ** 2)


@dataclass(frozen=True)
class FamilyDetail(MixtureRows):
    """Per-point quantities of one E-step of a mixture of another family (binomial,
    Bernoulli, Poisson, categorical): what :class:`PointDetail` holds for Gaussians.

    family : the problem's family (``explainer.families``), which derives each point's
        log density (the E-step stores only log pi_k f_k(x_n), log p(x_n) and r_nk).
    """

    x: np.ndarray
    params: Params
    family: Any
    log_weighted: np.ndarray
    log_mixture: np.ndarray
    resp: np.ndarray
    xp: Backend = FLOAT
    kernel: str = "normalized"

    @cached_property
    def log_density(self) -> np.ndarray:
        """log f_k(x_n), shape (n_samples, n_components)."""
        return _frozen(self.family.log_density(self.xp, self.x, self.params))

    @cached_property
    def density(self) -> np.ndarray:
        """f_k(x_n): the probability of point n under component k."""
        return _frozen(self.xp.exp(self.log_density))



@dataclass(frozen=True)
class FamilyMStepDetail:
    """Per-point terms of another family's M-step: the E-step's r_nk and the data."""

    x: np.ndarray
    resp: np.ndarray


@dataclass(frozen=True)
class MStep:
    """One M-step.

    nk : N_k = sum_n r_nk; sum_rx : sum_n r_nk x_n; sum_rsq : sum_n r_nk (x_n - mu_k^new)^2
    (all shape (n_components,)); params : the parameters after the step (the ones
    not in *updated* are carried over); events : collapses and floors.

    Other families: sum_rx is sum_n r_nk x_n (the expected successes or counts; a
    vector per component for Bernoulli data, the expected count of each category for
    categorical data), sum_rsq is None, and binomial data add sum_rm = sum_n r_nk m_n,
    the expected trials.
    """

    nk: np.ndarray
    sum_rx: np.ndarray
    sum_rsq: np.ndarray | None
    params: Params
    updated: tuple[str, ...]
    events: tuple[Event, ...] = ()
    detail: MStepDetail | FamilyMStepDetail | None = None
    sum_rm: np.ndarray | None = None


@dataclass(frozen=True)
class Iteration:
    """E-step, M-step, and the log-likelihood before (E-step's) and after."""

    index: int
    estep: EStep
    mstep: MStep
    log_likelihood_after: float

    @property
    def log_likelihood(self) -> float:
        """Total log-likelihood of the parameters this iteration started from."""
        return self.estep.log_likelihood

    @property
    def gain(self) -> float:
        return self.log_likelihood_after - self.log_likelihood

    @property
    def detailed(self) -> bool:
        return self.estep.detail is not None


@dataclass(frozen=True)
class Start:
    """Where the parameters came from; for random_responsibilities and kmeans,
    the M-step that turned the random or hard responsibilities into parameters."""

    method: str
    params: Params
    seed: int
    mstep: MStep | None = None
    # A singular starting covariance (d >= 2) floored before the first E-step.
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Trace:
    """A whole EM run: the problem, the start, each iteration, the final E-step."""

    problem: Problem
    start: Start
    iterations: tuple[Iteration, ...]
    final: EStep | None  # None only in a companion run (see engine.run_with)
    converged: bool
    stop_reason: str
    events: tuple[Event, ...] = field(default=())
    # Why this run stopped short of its iterations when its arithmetic had a budget.
    budget: str | None = None
    # Companion runs of the same problem, with the same shape: the exact one
    # (display.exact; None when its budget ran out before the first E-step, and then
    # exact_budget says why), and the full-precision one (display.carry: rounded).
    exact: Trace | None = None
    exact_budget: str | None = None
    full: Trace | None = None

    @property
    def final_params(self) -> Params:
        return self.final.params
