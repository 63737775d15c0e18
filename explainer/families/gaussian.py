"""Gaussian mixtures, in one dimension and in d >= 2 with four covariance types: the
model plug-in whose steps the engine's loop runs, as it runs another family's.

E-step:  r_nk = pi_k N(x_n | mu_k, sigma_k^2) / sum_j pi_j N(x_n | mu_j, sigma_j^2)
M-step:  N_k = sum_n r_nk,  pi_k = N_k / N,  mu_k = sum_n r_nk x_n / N_k,
         sigma_k^2 = sum_n r_nk (x_n - mu_k)^2 / N_k   (with the new mu_k)
         (d >= 2: the covariance of COVARIANCE_UPDATES[covariance_type] from the
         scatter matrices S_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T)

Every step is written against the arithmetic backend (float, rounded carry, exact).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

import numpy as np

from .. import backend
from .. import defaults
from ..backend import FLOAT, Backend, BudgetExceeded
from ..problem import Problem
from ..trace import EStep, Event, MStep, MStepDetail, Params, PointDetail, Start
from .base import data_in


# Exams are drawn in one dimension and in the plane.
EXAM_D3_REFUSAL = ("exam variants are drawn for 1-D problems and for points in the plane "
                   "(data {dims: 2}, 2 x 2 covariances); d >= 3 is not supported by 'exam'")

# The quantities ``check`` and the exports name: in d >= 2 a mean's coordinate mu[k][i]
# and a covariance's entry cov[k][i,j], and no one move.
KINDS = ("r", "N", "pi", "mu", "var", "loglik", "assign", "moves")
KINDS_2D = ("r", "N", "pi", "mu", "cov", "loglik", "assign")


class Gaussian:
    """The Gaussian mixture's model plug-in, bound to a problem: its start, its E-step
    and its M-step (the variance floor and the covariance type are the problem's)."""

    name = "gaussian"
    # No one symbol names its parameters (mu and var, or cov), as p or lambda does.
    symbol = None
    # The sum its page writes beyond sum_n r_nk x_n, as check names it: the weighted sum
    # of squares around the new mean (the plane's scatter matrix).
    sums = ("ss",)

    @classmethod
    def kinds(cls, dim: int) -> tuple[str, ...]:
        """The quantities ``check`` and the exports name, in *dim* dimensions."""
        return KINDS_2D if dim > 1 else KINDS

    @classmethod
    def quantity_names(cls, dim: int) -> str:
        """How ``check`` names the parameters' quantities in *dim* dimensions, for its
        help."""
        return "mu[k][i], cov[k][i,j]" if dim > 1 else "mu[k], var[k]"

    @classmethod
    def spec_keys(cls) -> tuple[str, ...]:
        """The spec keys that are the Gaussian's own (another model's spec refuses them)."""
        return ("init.means", "init.variances", "init.covariances", "model.kernel",
                "model.covariance_type")

    @classmethod
    def spec_values(cls, problem: Problem) -> dict[str, Any]:
        """The data and the Gaussian's own spec keys as the spec writes them back
        (:func:`explainer.families.writing.spec_of`), by path: the given means, the
        variances (d = 1) or covariance matrices (d >= 2), the kernel and, for d >= 2,
        the covariance type."""
        values: dict[str, Any] = {"data": problem.as_written("data")}
        means = problem.given_as_written("means")
        if means is not None:
            values["init.means"] = means
        spreads = problem.given_as_written("variances")
        if spreads is not None:
            values["init.variances" if problem.dim == 1 else "init.covariances"] = spreads
        values["model.kernel"] = problem.kernel
        if problem.dim > 1:
            values["model.covariance_type"] = problem.covariance_type
        return values

    # An exam's M-step sums are never an exact 0 that is written as such (see Family).
    exact_zero_sums = False

    def __init__(self, problem: Problem):
        self.problem = problem
        self.floor = variance_floor(problem.data)

    # ------------------------------------------------------------------ a saved run

    def saved_names(self) -> dict[str, str]:
        """The name a saved trace gives each parameter (by its Params field): the
        covariance matrices of d >= 2 as ``covariances``."""
        return {"weights": "weights", "means": "means",
                "variances": "covariances" if self.problem.dim > 1 else "variances"}

    # Whether an M-step has the weighted scatter sum_rsq (saved beside sum_rx).
    has_scatter = True

    def shapes(self, k: int) -> dict[str, tuple[int, ...]]:
        """The shape of each parameter of *k* components (by its Params field)."""
        d = self.problem.dim
        return {"weights": (k,), "means": (k,) if d == 1 else (k, d),
                "variances": (k,) if d == 1 else (k, d, d)}

    def sum_shapes(self, k: int) -> dict[str, tuple[int, ...]]:
        """The shape of each of an M-step's sums (by its MStep field)."""
        d = self.problem.dim
        return {"nk": (k,), "sum_rx": (k,) if d == 1 else (k, d),
                "sum_rsq": (k,) if d == 1 else (k, d, d)}

    def saved_sums(self, x: np.ndarray, resp: np.ndarray
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The M-step's sums that a saved trace's responsibilities give (float), each with
        the scale its rounding error is measured against: sum_n r_nk x_n."""
        return {"sum_rx": (resp.T @ x, resp.T @ np.abs(x))}

    def updated_from_sums(self, mstep: MStep) -> tuple[str, np.ndarray, np.ndarray] | None:
        """The parameter an M-step's saved sums give, with its scale (None when the step
        does not update it): the means sum_rx / N_k (an empty component's: 0)."""
        if "means" not in mstep.updated:
            return None
        full = mstep.nk >= defaults.EMPTY_COMPONENT_NK  # an empty component keeps its mean
        means = mstep.sum_rx / np.where(full, mstep.nk, 1.0).reshape(
            (-1,) + (1,) * (mstep.sum_rx.ndim - 1))
        return "means", means, np.abs(means)

    def out_of_range(self, params: Params) -> tuple[str, str] | None:
        """The parameter outside its range, and what it should be (None when none is):
        variances > 0; covariance matrices symmetric (within a double's rounding of the
        scatter) and positive definite."""
        if self.problem.dim == 1:
            return (("variances", "expected variances > 0") if np.any(params.variances <= 0)
                    else None)
        covariances = params.variances
        scale = np.max(np.abs(covariances), axis=(1, 2), keepdims=True)
        asymmetric = np.abs(covariances - np.swapaxes(covariances, 1, 2)) > 1e-9 * scale
        if np.any(asymmetric) or np.any(np.linalg.eigvalsh(
                (covariances + np.swapaxes(covariances, 1, 2)) / 2)[:, 0] <= 0):
            return ("covariances", "expected symmetric positive-definite covariance "
                                   "matrices")
        return None

    def detail_of(self, x: np.ndarray, params: Params, xp: Backend,
                  **arrays: np.ndarray) -> PointDetail:
        """An E-step's per-point record from its saved arrays (``log_weighted``,
        ``log_mixture``, ``resp``); the rest is derived on demand."""
        return PointDetail(x=x, params=params, kernel=self.problem.kernel, xp=xp, **arrays)

    def mstep_detail_of(self, x: np.ndarray, resp: np.ndarray, before: Params,
                        after: Params) -> MStepDetail:
        """An M-step's per-point record from the E-step's r_nk and the means before and
        after."""
        return MStepDetail(x=x, resp=resp, old_means=before.means, new_means=after.means)

    # ------------------------------------------------------------------ check

    @classmethod
    def rounded_carry_written(cls, dim: int) -> bool:
        """Whether a hand calculation (rounded carry) writes the model out in *dim*
        dimensions, so that ``check`` also accepts its values: in d >= 3 it does not
        (2 x 2 matrices only)."""
        return dim <= 2

    @classmethod
    def entry_kinds(cls, dim: int) -> tuple[str, ...]:
        """The kinds ``check`` names entry by entry (mu[k][i], cov[k][i,j]): in d >= 2."""
        return ("mu", "cov") if dim > 1 else ()

    # ------------------------------------------------------------------ exam draws

    def exam_refusal(self) -> str | None:
        """Why an exam cannot be drawn of this problem (None when it can)."""
        return EXAM_D3_REFUSAL if self.problem.dim > 2 else None

    def worked_sums(self, mstep: MStep) -> list[np.ndarray]:
        """The M-step's sums a hand calculation works out, each of which must have two
        significant digits at the display precision: N_k, sum_n r_nk x_n and, where the
        variances are updated, the weighted squares (the plane's scatter: its diagonal;
        a correlation near 0 is one)."""
        sums = [mstep.nk, mstep.sum_rx]
        if "variances" in self.problem.update:
            sums.append(np.diagonal(mstep.sum_rsq, axis1=1, axis2=2)
                        if self.problem.dim > 1 else mstep.sum_rsq)
        return sums

    def first_densities(self, xp: Backend) -> tuple[np.ndarray, np.ndarray] | None:
        """The first E-step's log densities and log weighted densities, without the rest
        of the run: an exam tests a draw's on them first (most draws fail there)."""
        return first_densities(self.problem, xp)

    def too_close(self, params: Params, least: float, grid: float) -> str | None:
        """Why an exam draw's components do not stay apart after an M-step (None when
        they do): two means closer than a unit of the data grid (*grid*), in the plane
        by their distance."""
        means = np.asarray(params.means, dtype=float)
        if means.ndim > 1:  # in the plane: the distance between two means
            apart = np.linalg.norm(means[:, None] - means[None], axis=2)
            if np.any(apart[np.triu_indices(len(means), 1)] < grid):
                return "two means closer than a unit of the data grid"
        elif np.any(np.diff(np.sort(means)) < grid):
            return "two means closer than a unit of the data grid"
        return None

    def start(self, xp: Backend) -> Start:
        """The starting parameters, by the problem's ``init_method``."""
        return initialise(self.problem, xp)

    def log_constant(self, x: np.ndarray, xp: Backend = FLOAT) -> np.ndarray:
        """No term of the log-density is free of the parameters: 0 for each point."""
        return np.zeros(x.shape[0])

    def e_step(self, x: np.ndarray, params: Params, xp: Backend) -> EStep:
        """:func:`e_step` with the problem's kernel."""
        return e_step(x, params, self.problem.kernel, xp)

    def m_step(self, x: np.ndarray, resp: np.ndarray, current: Params,
               update: tuple[str, ...], xp: Backend) -> MStep:
        """:func:`m_step` with the problem's variance floor and covariance type."""
        return m_step(x, resp, current, update, self.floor, xp, self.problem.covariance_type)

    # ------------------------------------------------------------------ in a student's hands

    def followed(self, x: np.ndarray, params: Params, resp: np.ndarray, nk: np.ndarray,
                 given: Callable[[str, np.ndarray], np.ndarray],
                 update: tuple[str, ...]) -> dict[str, np.ndarray]:
        """The M-step as a student's answers make it (``check``'s follow-through): what
        their own responsibilities *resp* and N_k *nk* lead to, by the kind ``check``
        names (``sx``, ``mu``, ``ss``, and ``var``, or ``cov`` for d >= 2), each later
        step from their answer to the earlier one where they gave it (*given(kind,
        computed)* puts their answers in). Float arithmetic, no floor: a student's
        slip is followed as they made it."""
        plane = x.ndim > 1
        spread = "cov" if plane else "var"
        led: dict[str, np.ndarray] = {"sx": FLOAT.column_sums(resp, x)}
        sums = given("sx", led["sx"])
        by_k = (slice(None), None) if plane else slice(None)
        led["mu"] = sums / nk[by_k] if "means" in update else params.means.copy()
        means = given("mu", led["mu"])
        led["ss"] = FLOAT.weighted_sq_sums(x, means, resp)
        scatter = given("ss", led["ss"])
        if "variances" not in update:
            led[spread] = params.variances.copy()
        elif plane:
            led[spread] = COVARIANCE_UPDATES[self.problem.covariance_type](
                scatter, nk, x.shape[0], FLOAT)
        else:
            led[spread] = scatter / nk
        return led

    def answered(self, led: dict[str, np.ndarray], weights: np.ndarray,
                 given: Callable[[str, np.ndarray], np.ndarray]) -> Params:
        """The parameters an iteration ends with in a student's hands: *weights* and the
        means and variances (covariances) their answers give, else what
        :meth:`followed` led to."""
        spread = "cov" if "cov" in led else "var"
        return Params(weights, given("mu", led["mu"]), given(spread, led[spread]))


def e_step(x: np.ndarray, params: Params, kernel: str, xp: Backend = FLOAT) -> EStep:
    """Responsibilities and log-likelihood of *params*, with the per-point detail.

    Parameters
    ----------
    x : ndarray of shape (n_samples,), or (n_samples, d) for d >= 2
    params : Params: weights of shape (n_components,); means (n_components,) or
        (n_components, d); variances (n_components,) or covariance matrices
        (n_components, d, d)
    kernel : ``normalized`` or ``proportional`` (the latter drops 1/sqrt(2 pi sigma^2),
        which the problem guarantees is one shared constant; 1-D only)
    xp : the arithmetic (float, rounded carry or exact)

    Returns
    -------
    EStep whose detail holds the responsibilities, shape (n_samples, n_components), and
    log pi_k N(x_n | ...) and log p(x_n) as carried.
    """
    log_densities, log_weighted = weighted_densities(x, params, kernel, xp)
    resp, log_mixture = xp.mixture_rows(log_densities, params.weights, log_weighted)
    del log_densities
    log_likelihood = float(xp.carry(np.sum(xp.carry(xp.to_float(log_mixture)))))
    if kernel == "proportional":
        # The dropped constant is shared by all components: add it back once per point
        # so the log-likelihood is always that of the real (normalized) model. By hand:
        # N ln c, with ln c = -ln(2 pi sigma^2) / 2 rounded (c itself is never used).
        log_c = float(xp.carry(xp.to_float(xp.log_norm_const(params.variances[:1]))[0]))
        log_likelihood = float(xp.carry(log_likelihood + x.shape[0] * log_c))
    detail = PointDetail(x=x, params=params, kernel=kernel, log_weighted=log_weighted,
                         log_mixture=log_mixture, resp=resp, xp=xp)
    for array in (log_weighted, log_mixture, resp):
        array.setflags(write=False)
    return EStep(params=params, log_likelihood=log_likelihood, detail=detail)


def weighted_densities(x: np.ndarray, params: Params, kernel: str,
                       xp: Backend = FLOAT) -> tuple[np.ndarray, np.ndarray]:
    """The E-step's first half: log N(x_n | mu_k, sigma_k^2) and log pi_k N(x_n | ...),
    as carried, shape (n_samples, n_components)."""
    exponents = backend.exponent(xp, x, params.means, params.variances)
    log_norms = backend.log_norm(xp, params.variances)
    log_densities = backend.log_density(xp, exponents, log_norms, kernel)
    del exponents  # (float: free the (n_samples, n_components) temporary at once)
    return log_densities, backend.log_weighted(xp, log_densities, params.weights)


def first_densities(problem: Problem, xp: Backend) -> tuple[np.ndarray, np.ndarray]:
    """:func:`weighted_densities` of a Gaussian mixture's first E-step in *xp*'s
    arithmetic, without the rest of the run (an exam's draw is refused by them most
    often, before its hand calculation is made)."""
    return weighted_densities(data_in(problem, xp), initialise(problem, xp).params,
                              problem.kernel, xp)


def variance_floor(x: np.ndarray) -> float:
    """The smallest variance a component may take (see defaults); for d >= 2 the
    smallest eigenvalue a covariance may have (from the least spread coordinate).

    1-D: the square of a millionth of the data's range, the resolution at which a
    component has collapsed onto a point; a real cluster's variance, however small
    beside a far outlier, lies far above it (a fraction of the data's variance would
    not: one point at 1000 beside a cluster near 0 makes that larger than the cluster's
    own variance)."""
    if x.ndim == 1:
        resolution = defaults.VARIANCE_FLOOR_RESOLUTION * float(np.ptp(x)) if x.size else 0.0
        return max(resolution * resolution, defaults.VARIANCE_FLOOR_ABSOLUTE)
    spread = float(np.min(np.var(x, axis=0)))
    return max(defaults.VARIANCE_FLOOR_FRACTION * spread, defaults.VARIANCE_FLOOR_ABSOLUTE)


# --------------------------------------------------------------------------- covariances
# The M-step's covariance for each covariance type (d >= 2), from the scatter matrices
# S_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T, the N_k and N. Pure functions on arrays of
# shape (K, d, d); *xp* gives the identity matrix in its arithmetic.

def _full(scatter: np.ndarray, nk: np.ndarray, n: int, xp: Backend) -> np.ndarray:
    """Sigma_k = S_k / N_k."""
    return xp.quotient(scatter, nk[:, None, None])


def _diag(scatter: np.ndarray, nk: np.ndarray, n: int, xp: Backend) -> np.ndarray:
    """Sigma_k = diag(S_k) / N_k: one variance per coordinate, no correlation."""
    eye = xp.eye(scatter.shape[-1])
    return xp.quotient(np.diagonal(scatter, axis1=1, axis2=2)[:, :, None] * eye,
                       nk[:, None, None])


def _spherical(scatter: np.ndarray, nk: np.ndarray, n: int, xp: Backend) -> np.ndarray:
    """Sigma_k = sigma_k^2 I with sigma_k^2 = trace(S_k) / (d N_k): the mean of the
    diagonal ones."""
    d = scatter.shape[-1]
    trace = np.trace(scatter, axis1=1, axis2=2)
    return xp.quotient(trace, d * nk)[:, None, None] * xp.eye(d)


def _tied(scatter: np.ndarray, nk: np.ndarray, n: int, xp: Backend) -> np.ndarray:
    """Sigma = sum_k S_k / N, shared by every component."""
    shared = xp.quotient(scatter.sum(axis=0), n)
    return np.stack([shared] * scatter.shape[0])


COVARIANCE_UPDATES: dict[str, Callable[..., np.ndarray]] = {
    "full": _full, "diag": _diag, "spherical": _spherical, "tied": _tied}


def _singular_cause(x: np.ndarray, resp: np.ndarray | None) -> tuple[str, int]:
    """Why a covariance (of the component with responsibilities *resp*; None: of the data)
    is singular: the data's columns are dependent (``dependent``), the component carries
    d or fewer points (``collapse``, with their number), or its points nearly lie on a
    line or plane (``flat``)."""
    d = x.shape[1]
    if np.linalg.matrix_rank(x - x.mean(axis=0)) < d:
        return "dependent", 0
    if resp is None:
        return "flat", 0
    # The points carrying the component: the fewest whose r_nk make 99.9% of N_k.
    order = np.sort(resp)[::-1]
    points = int(np.searchsorted(np.cumsum(order), 0.999 * order.sum()) + 1)
    return ("collapse", points) if points <= d else ("flat", points)


def floor_covariances(covariances: np.ndarray, floor: float, x: np.ndarray,
                      resp: np.ndarray | None, skip: np.ndarray, xp: Backend,
                      ) -> tuple[np.ndarray, list[Event]]:
    """Covariances with every eigenvalue >= *floor*: a matrix whose smallest eigenvalue
    lambda is below gets (floor - lambda) I added (which raises each eigenvalue by as
    much, as scikit-learn's reg_covar does), with an event saying why it was singular."""
    events: list[Event] = []
    values = np.linalg.eigvalsh(xp.to_float(covariances))[:, 0]
    for k in np.flatnonzero(~skip & (values < floor)):
        if xp.budgeted:
            raise BudgetExceeded("a covariance became singular and was floored (its "
                                 "eigenvalues have no short exact form)")
        cause, points = _singular_cause(x, None if resp is None else resp[:, k])
        covariances[k] = covariances[k] + (floor - values[k]) * xp.eye(x.shape[1])
        events.append(Event("covariance_floor", int(k), float(values[k]), floor,
                            cause=cause, points=points))
    return covariances, events


def m_step(x: np.ndarray, resp: np.ndarray, current: Params, update: tuple[str, ...],
           floor: float, xp: Backend = FLOAT, covariance_type: str = "full") -> MStep:
    """Re-estimate the parameters named in *update* from the responsibilities.

    Parameters
    ----------
    x : ndarray of shape (n_samples,) or (n_samples, d)
    resp : ndarray of shape (n_samples, n_components)
    current : the parameters before the step; those not updated are carried over,
        and an empty component (N_k ~ 0) keeps its mean and variance.
    floor : the smallest variance allowed (d >= 2: the smallest eigenvalue of a
        covariance).
    covariance_type : for d >= 2, the key of :data:`COVARIANCE_UPDATES`.

    For d >= 2, ``sum_rx`` holds the vectors sum_n r_nk x_n (K, d) and ``sum_rsq`` the
    scatter matrices S_k (K, d, d) around the new means.
    """
    nk = xp.simplify(xp.carry(xp.column_sums(resp)))
    multi = x.ndim > 1
    sum_rx = xp.carry(xp.column_sums(resp, x))
    nk_float = xp.to_float(nk)
    empty = nk_float < defaults.EMPTY_COMPONENT_NK
    events = [Event("empty_component", int(k), float(nk_float[k]))
              for k in np.flatnonzero(empty)]
    safe_nk = np.where(empty, xp.constant(1.0), nk)
    # Per component, broadcast over a mean's coordinates (d >= 2).
    by_k = (slice(None), None) if multi else (slice(None),)

    weights = (xp.simplify(xp.carry(xp.quotient(nk, x.shape[0]))) if "weights" in update
               else current.weights.copy())
    means = (np.where(empty[by_k], current.means,
                      xp.simplify(xp.carry(xp.quotient(sum_rx, safe_nk[by_k]))))
             if "means" in update else current.means.copy())
    sum_rsq = xp.carry(xp.weighted_sq_sums(x, means, resp))
    if "variances" in update and multi:
        fresh = COVARIANCE_UPDATES[covariance_type](sum_rsq, safe_nk, x.shape[0], xp)
        variances = np.where(empty[:, None, None], current.variances, xp.simplify(fresh))
        variances, floored = floor_covariances(variances, floor, x, resp, empty, xp)
        events.extend(floored)
    elif "variances" in update:
        variances = np.where(empty, current.variances,
                             xp.simplify(xp.carry(xp.quotient(sum_rsq, safe_nk))))
        below = xp.to_float(variances) < floor
        for k in np.flatnonzero(~empty & below):
            events.append(Event("variance_floor", int(k), float(xp.to_float(variances)[k]),
                                floor))
            variances[k] = xp.constant(floor)
    else:
        variances = current.variances.copy()
    params = Params(weights=weights, means=means, variances=variances)
    for array in (nk, sum_rx, sum_rsq):
        array.setflags(write=False)
    return MStep(nk=nk, sum_rx=sum_rx, sum_rsq=sum_rsq, params=params, updated=update,
                 events=tuple(events), detail=MStepDetail(x=x, resp=resp, old_means=current.means,
                                             new_means=means))


# --------------------------------------------------------------------------- start

def _moments_start(x: np.ndarray, k: int, xp: Backend, covariance_type: str = "full") -> Params:
    """The fallback an empty component keeps while initialising: data mean and variance
    (d >= 2: covariance, of the covariance type's form; floored by the caller)."""
    mean, var = xp.mean_var(x)
    if x.ndim > 1:
        n = x.shape[0]
        cov = COVARIANCE_UPDATES[covariance_type](var[None] * n, xp.asarray([n]), n, xp)[0]
        return Params(weights=xp.asarray([1] * k) / k, means=np.stack([mean] * k),
                      variances=np.stack([cov] * k))
    floor = xp.constant(variance_floor(xp.to_float(x)))
    # (A hand calculation carries them as it writes them: 1/3 as 0.333.)
    return Params(weights=xp.carry(xp.asarray([1] * k) / k),
                  means=xp.carry(xp.asarray([mean] * k)),
                  variances=xp.carry(xp.asarray([var if xp.to_float([var])[0] > float(floor)
                                                 else floor] * k)))


def _kmeans_labels(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Lloyd's algorithm from a k-means++ start; returns a label per point, cluster 1
    the leftmost (d >= 2: by the first coordinate, then the second, ...)."""
    points = x.reshape(x.shape[0], -1)
    values = np.unique(points, axis=0)
    centres = [values[rng.choice(len(values))]] if x.ndim > 1 else [
        np.array([float(rng.choice(values[:, 0]))])]
    while len(centres) < k:
        dist2 = np.min(((values[:, None, :] - np.array(centres)) ** 2).sum(axis=2), axis=1)
        centres.append(values[rng.choice(len(values), p=dist2 / dist2.sum())])
    c = np.array(centres, dtype=float)
    if x.ndim == 1:
        c = np.sort(c, axis=0)
    labels = np.full(x.shape[0], -1)
    for _ in range(300):
        new_labels = np.argmin(((points[:, None, :] - c) ** 2).sum(axis=2), axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        c = np.array([points[labels == j].mean(axis=0) if np.any(labels == j) else c[j]
                      for j in range(k)])
    if x.ndim > 1:
        # Clusters numbered in the order of their centres' first coordinate (then second).
        rank = np.empty(k, dtype=int)
        rank[np.lexsort(c.T[::-1])] = np.arange(k)
        labels = rank[labels]
    return labels


def initialise(problem: Problem, xp: Backend = FLOAT) -> Start:
    """The starting parameters, by ``problem.init_method``.

    The random choices are made on the float data, so every arithmetic starts from
    the same points; the arithmetic on them is *xp*'s. A singular starting covariance
    (d >= 2: given so, or the data's) is floored, and the start's events say so.
    """
    x, k = data_in(problem, xp), problem.components
    floor = variance_floor(problem.data)
    multi = problem.dim > 1

    def floored(params: Params, method: str) -> Start:
        if not multi:
            return Start(method, params, problem.seed)
        variances, events = floor_covariances(params.variances.copy(), floor, problem.data,
                                              None, np.zeros(k, dtype=bool), xp)
        return Start(method, replace(params, variances=variances), problem.seed,
                     events=tuple(events))

    if problem.init_method == "given":
        source = problem.exact_inputs if xp.name == "exact" else problem
        assert source is not None and source.weights is not None
        params = Params(*(xp.asarray(getattr(source, name)) for name in defaults.PARAMETERS))
        return floored(params, "given")
    rng = np.random.default_rng(problem.seed)
    if problem.init_method == "random_points" and multi:
        rows = np.unique(problem.data, axis=0, return_index=True)[1]
        chosen = rows[rng.choice(len(rows), size=k, replace=False)]
        # Components in the order of their first coordinate (then the second, ...).
        chosen = chosen[np.lexsort(problem.data[chosen].T[::-1])]
        fallback = _moments_start(x, k, xp, problem.covariance_type)
        return floored(Params(fallback.weights.copy(), x[chosen].copy(),
                              fallback.variances.copy()), "random_points")
    if problem.init_method == "random_points":
        picked = np.sort(rng.choice(np.unique(problem.data), size=k, replace=False))
        # The same points in x's arithmetic (exact: as written): where each picked value
        # first occurs in the data.
        order = np.argsort(problem.data, kind="stable")
        means = x[order[np.searchsorted(problem.data, picked, sorter=order)]]
        fallback = _moments_start(x, k, xp)
        params = Params(xp.asarray(list(fallback.weights)), xp.asarray(list(means)),
                        fallback.variances.copy())
        return Start("random_points", params, problem.seed)
    if problem.init_method == "random_responsibilities":
        resp = rng.dirichlet(np.ones(k), size=x.shape[0])
    else:  # kmeans: hard responsibilities from Lloyd's algorithm
        resp = xp.asarray(np.eye(k)[_kmeans_labels(problem.data, k, rng)])
    resp.setflags(write=False)
    fallback = _moments_start(x, k, xp, problem.covariance_type)
    if multi:
        fallback = floored(fallback, problem.init_method).params
    mstep = m_step(x, resp, fallback, defaults.PARAMETERS, floor, xp, problem.covariance_type)
    return Start(problem.init_method, mstep.params, problem.seed, mstep)
