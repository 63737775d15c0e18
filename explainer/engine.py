"""The EM loop for a 1-D Gaussian mixture: one E-step, one M-step, one run.

E-step:  r_nk = pi_k N(x_n | mu_k, sigma_k^2) / sum_j pi_j N(x_n | mu_j, sigma_j^2)
M-step:  N_k = sum_n r_nk,  pi_k = N_k / N,  mu_k = sum_n r_nk x_n / N_k,
         sigma_k^2 = sum_n r_nk (x_n - mu_k)^2 / N_k   (with the new mu_k)
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from . import defaults
from .backend import FLOAT, LOG_2PI, Backend
from .problem import Problem
from .trace import EStep, Event, Iteration, MStep, MStepDetail, Params, PointDetail, Start, Trace

Progress = Callable[[int, int], None]


def e_step(x: np.ndarray, params: Params, kernel: str, xp: Backend = FLOAT) -> EStep:
    """Responsibilities and log-likelihood of *params*, with the per-point detail.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
    params : Params with arrays of shape (n_components,)
    kernel : ``normalized`` or ``proportional`` (the latter drops 1/sqrt(2 pi sigma^2),
        which the problem guarantees is one shared constant)
    """
    log_norm = -0.5 * (LOG_2PI + xp.log(params.variances))
    log_scale = xp.log(params.weights)
    if kernel == "normalized":
        log_scale = log_scale + log_norm
    log_weighted = xp.log_gaussian_kernel(x, params.means, params.variances, log_scale)
    resp, log_mixture = xp.normalize_log_rows(log_weighted)
    log_likelihood = float(log_mixture.sum())
    if kernel == "proportional":
        # The dropped constant is shared by all components: add it back once per point
        # so the log-likelihood is always that of the real (normalized) model.
        log_likelihood += x.shape[0] * float(log_norm[0])
    detail = PointDetail(x=x, params=params, kernel=kernel, log_weighted=log_weighted,
                         log_mixture=log_mixture, resp=resp)
    for array in (log_weighted, log_mixture, resp):
        array.setflags(write=False)
    return EStep(params=params, log_likelihood=log_likelihood, detail=detail)


def variance_floor(x: np.ndarray) -> float:
    """The smallest variance a component may take (see defaults)."""
    return max(defaults.VARIANCE_FLOOR_FRACTION * float(np.var(x)),
               defaults.VARIANCE_FLOOR_ABSOLUTE)


def m_step(x: np.ndarray, resp: np.ndarray, current: Params, update: tuple[str, ...],
           floor: float, xp: Backend = FLOAT) -> MStep:
    """Re-estimate the parameters named in *update* from the responsibilities.

    Parameters
    ----------
    x : ndarray of shape (n_samples,)
    resp : ndarray of shape (n_samples, n_components)
    current : the parameters before the step; those not updated are carried over,
        and an empty component (N_k ~ 0) keeps its mean and variance.
    floor : the smallest variance allowed.
    """
    nk = resp.sum(axis=0)
    sum_rx = x @ resp
    empty = nk < defaults.EMPTY_COMPONENT_NK
    events = [Event("empty_component", int(k), float(nk[k])) for k in np.flatnonzero(empty)]
    safe_nk = np.where(empty, 1.0, nk)

    weights = nk / x.shape[0] if "weights" in update else current.weights.copy()
    means = (np.where(empty, current.means, sum_rx / safe_nk) if "means" in update
             else current.means.copy())
    sum_rsq = xp.weighted_sq_sums(x, means, resp)
    if "variances" in update:
        variances = np.where(empty, current.variances, sum_rsq / safe_nk)
        for k in np.flatnonzero(~empty & (variances < floor)):
            events.append(Event("variance_floor", int(k), float(variances[k]), floor))
            variances[k] = floor
    else:
        variances = current.variances.copy()
    params = Params(weights=np.asarray(weights, dtype=float), means=means, variances=variances)
    for array in (nk, sum_rx, sum_rsq):
        array.setflags(write=False)
    return MStep(nk=nk, sum_rx=sum_rx, sum_rsq=sum_rsq, params=params, updated=update,
                 events=tuple(events), detail=MStepDetail(x=x, resp=resp, old_means=current.means,
                                             new_means=means))


# --------------------------------------------------------------------------- start

def _moments_start(x: np.ndarray, k: int) -> Params:
    """The fallback an empty component keeps while initialising: data mean and variance."""
    return Params(weights=np.full(k, 1.0 / k), means=np.full(k, float(np.mean(x))),
                  variances=np.full(k, max(float(np.var(x)), variance_floor(x))))


def _kmeans_labels(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Lloyd's algorithm in 1-D from a k-means++ start; returns a label per point."""
    values = np.unique(x)
    centres = [float(rng.choice(values))]
    while len(centres) < k:
        dist2 = np.min((values[:, None] - np.array(centres)) ** 2, axis=1)
        centres.append(float(rng.choice(values, p=dist2 / dist2.sum())))
    c = np.sort(np.array(centres))
    labels = np.full(x.shape[0], -1)
    for _ in range(300):
        new_labels = np.argmin(np.abs(x[:, None] - c), axis=1)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
        c = np.array([x[labels == j].mean() if np.any(labels == j) else c[j] for j in range(k)])
    return labels


def initialise(problem: Problem, xp: Backend = FLOAT) -> Start:
    """The starting parameters, by ``problem.init_method``."""
    x, k = problem.data, problem.components
    if problem.init_method == "given":
        assert problem.weights is not None and problem.means is not None
        assert problem.variances is not None
        params = Params(problem.weights.copy(), problem.means.copy(), problem.variances.copy())
        return Start("given", params, problem.seed)
    rng = np.random.default_rng(problem.seed)
    if problem.init_method == "random_points":
        means = np.sort(rng.choice(np.unique(x), size=k, replace=False))
        fallback = _moments_start(x, k)
        params = Params(np.full(k, 1.0 / k), means.astype(float), fallback.variances.copy())
        return Start("random_points", params, problem.seed)
    if problem.init_method == "random_responsibilities":
        resp = rng.dirichlet(np.ones(k), size=x.shape[0])
    else:  # kmeans: hard responsibilities from Lloyd's algorithm
        resp = np.eye(k)[_kmeans_labels(x, k, rng)]
    resp.setflags(write=False)
    mstep = m_step(x, resp, _moments_start(x, k), defaults.PARAMETERS, variance_floor(x), xp)
    return Start(problem.init_method, mstep.params, problem.seed, mstep)


# --------------------------------------------------------------------------- run

def _strip(iteration: Iteration) -> Iteration:
    """Drop the per-point arrays of an iteration that is not shown in full."""
    return replace(iteration, estep=replace(iteration.estep, detail=None),
                   mstep=replace(iteration.mstep, detail=None))


def run(problem: Problem, progress: Progress | None = None, xp: Backend = FLOAT) -> Trace:
    """Run EM on *problem* and return the frozen trace.

    Per-point arrays are kept only for the iterations ``problem.detail`` shows (and
    always for the final E-step), so memory stays O(N*K) however long the run.
    """
    x = problem.data
    start = initialise(problem, xp)
    floor = variance_floor(x)
    estep = e_step(x, start.params, problem.kernel, xp)
    iterations: list[Iteration] = []
    events: list[Event] = list(start.mstep.events) if start.mstep else []
    converged, stop_reason = False, "iterations"
    for index in range(1, problem.iterations + 1):
        assert estep.detail is not None
        mstep = m_step(x, estep.detail.resp, estep.params, problem.update, floor, xp)
        events.extend(mstep.events)
        # Free this iteration's per-point arrays before the next E-step allocates its own,
        # unless they are shown ('last' keeps them until the run is known to go on).
        may_be_last = index == problem.iterations or problem.tol is not None
        if not (problem.detail.shows(index) or (problem.detail.last and may_be_last)):
            estep, mstep = replace(estep, detail=None), replace(mstep, detail=None)
        next_estep = e_step(x, mstep.params, problem.kernel, xp)
        if iterations and not problem.detail.shows(iterations[-1].index):
            iterations[-1] = _strip(iterations[-1])
        iterations.append(Iteration(index, estep, mstep, next_estep.log_likelihood))
        estep = next_estep
        if progress is not None:
            progress(index, problem.iterations)
        if problem.tol is not None and iterations[-1].gain < problem.tol:
            converged, stop_reason = True, "tol"
            break
    if iterations and not problem.detail.shows(iterations[-1].index, iterations[-1].index):
        iterations[-1] = _strip(iterations[-1])
    return Trace(problem=problem, start=start, iterations=tuple(iterations), final=estep,
                 converged=converged, stop_reason=stop_reason, events=tuple(events))
