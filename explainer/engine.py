"""The EM loop for a 1-D Gaussian mixture: one E-step, one M-step, one run.

E-step:  r_nk = pi_k N(x_n | mu_k, sigma_k^2) / sum_j pi_j N(x_n | mu_j, sigma_j^2)
M-step:  N_k = sum_n r_nk,  pi_k = N_k / N,  mu_k = sum_n r_nk x_n / N_k,
         sigma_k^2 = sum_n r_nk (x_n - mu_k)^2 / N_k   (with the new mu_k)
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

import numpy as np

from . import backend as formulas
from . import defaults
from .backend import FLOAT, Backend, BudgetExceeded, RoundedBackend
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
    xp : the arithmetic (float, rounded carry or exact)
    """
    exponents = formulas.exponent(xp, x, params.means, params.variances)
    log_norms = formulas.log_norm(xp, params.variances)
    log_weighted = formulas.log_weighted(
        xp, formulas.log_density(xp, exponents, log_norms, kernel), params.weights)
    del exponents  # (float: free the (n_samples, n_components) temporary at once)
    resp, log_mixture = xp.normalize_log_rows(log_weighted)
    log_likelihood = float(xp.carry(np.sum(xp.carry(xp.to_float(log_mixture)))))
    if kernel == "proportional":
        # The dropped constant is shared by all components: add it back once per point
        # so the log-likelihood is always that of the real (normalized) model.
        log_likelihood = float(xp.carry(
            log_likelihood + x.shape[0] * float(xp.to_float(log_norms)[0])))
    detail = PointDetail(x=x, params=params, kernel=kernel, log_weighted=log_weighted,
                         log_mixture=log_mixture, resp=resp, xp=xp)
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
    nk = xp.simplify(xp.carry(resp.sum(axis=0)))
    sum_rx = xp.carry(x @ resp)
    nk_float = xp.to_float(nk)
    empty = nk_float < defaults.EMPTY_COMPONENT_NK
    events = [Event("empty_component", int(k), float(nk_float[k]))
              for k in np.flatnonzero(empty)]
    safe_nk = np.where(empty, xp.constant(1.0), nk)

    weights = (xp.simplify(xp.carry(nk / x.shape[0])) if "weights" in update
               else current.weights.copy())
    means = (np.where(empty, current.means, xp.simplify(xp.carry(sum_rx / safe_nk)))
             if "means" in update else current.means.copy())
    sum_rsq = xp.carry(xp.weighted_sq_sums(x, means, resp))
    if "variances" in update:
        variances = np.where(empty, current.variances, xp.simplify(xp.carry(sum_rsq / safe_nk)))
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

def _data(problem: Problem, xp: Backend) -> np.ndarray:
    """The points in *xp*'s arithmetic (exact: as the user wrote them)."""
    if xp.name == "exact":
        assert problem.exact_inputs is not None
        x = xp.asarray(problem.exact_inputs.data)
        x.setflags(write=False)
        return x
    return problem.data


def _moments_start(x: np.ndarray, k: int, xp: Backend) -> Params:
    """The fallback an empty component keeps while initialising: data mean and variance."""
    mean, var = xp.mean_var(x)
    floor = xp.constant(variance_floor(xp.to_float(x)))
    return Params(weights=xp.asarray([1] * k) / k, means=xp.asarray([mean] * k),
                  variances=xp.asarray([var if xp.to_float([var])[0] > float(floor)
                                        else floor] * k))


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
    """The starting parameters, by ``problem.init_method``.

    The random choices are made on the float data, so every arithmetic starts from
    the same points; the arithmetic on them is *xp*'s.
    """
    x, k = _data(problem, xp), problem.components
    if problem.init_method == "given":
        source = problem.exact_inputs if xp.name == "exact" else problem
        assert source is not None and source.weights is not None
        params = Params(*(xp.asarray(getattr(source, name)) for name in defaults.PARAMETERS))
        return Start("given", params, problem.seed)
    rng = np.random.default_rng(problem.seed)
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
    mstep = m_step(x, resp, _moments_start(x, k, xp), defaults.PARAMETERS,
                   variance_floor(problem.data), xp)
    return Start(problem.init_method, mstep.params, problem.seed, mstep)


# --------------------------------------------------------------------------- run

def _strip(iteration: Iteration) -> Iteration:
    """Drop the per-point arrays of an iteration that is not shown in full."""
    return replace(iteration, estep=replace(iteration.estep, detail=None),
                   mstep=replace(iteration.mstep, detail=None))


def run_with(problem: Problem, xp: Backend, progress: Progress | None = None,
             final: bool = True) -> Trace:
    """One EM run on *problem* in *xp*'s arithmetic.

    Per-point arrays are kept only for the iterations ``problem.detail`` shows (and
    always for the final E-step), so memory stays O(N*K) however long the run. When
    the backend's budget is spent (exact arithmetic) the run ends after the last
    whole M-step (``stop_reason == "budget"``; ``final`` is None when the E-step after
    that M-step was not finished); a budget spent before the first E-step ends raises
    :class:`BudgetExceeded`. Without *final* the E-step after
    the last M-step is skipped (``trace.final`` is None, the last ``log_likelihood_after``
    NaN): a companion run that only shows its iterations does not need it.
    """
    x = _data(problem, xp)
    start = initialise(problem, xp)
    floor = variance_floor(problem.data)
    estep = e_step(x, start.params, problem.kernel, xp)
    iterations: list[Iteration] = []
    events: list[Event] = list(start.mstep.events) if start.mstep else []
    converged, stop_reason, budget = False, "iterations", None
    for index in range(1, problem.iterations + 1):
        assert estep.detail is not None
        # A backend with a budget may stop anywhere in the iteration: the run then ends
        # after the last whole M-step (or, before any, at the last whole E-step).
        last_whole = estep if xp.budgeted else None  # (float: free the arrays early)
        mstep_done = None
        try:
            mstep = m_step(x, estep.detail.resp, estep.params, problem.update, floor, xp)
            # Free this iteration's per-point arrays before the next E-step allocates its
            # own, unless they are shown ('last' keeps them until the run is known to go on).
            may_be_last = index == problem.iterations or problem.tol is not None
            if not (problem.detail.shows(index) or (problem.detail.last and may_be_last)):
                estep, mstep = replace(estep, detail=None), replace(mstep, detail=None)
            mstep_done = mstep
            next_estep = (e_step(x, mstep.params, problem.kernel, xp)
                          if final or index < problem.iterations else None)
        except BudgetExceeded as exc:
            stop_reason, budget = "budget", exc.reason
            if mstep_done is None:
                assert last_whole is not None
                estep = last_whole
                break
            next_estep = None
        del last_whole
        events.extend(mstep.events)
        if iterations and not problem.detail.shows(iterations[-1].index):
            iterations[-1] = _strip(iterations[-1])
        iterations.append(Iteration(index, estep, mstep, math.nan if next_estep is None
                                    else next_estep.log_likelihood))
        if next_estep is None:
            estep = None
            break
        estep = next_estep
        if progress is not None:
            progress(index, problem.iterations)
        if problem.tol is not None and iterations[-1].gain < problem.tol:
            converged, stop_reason = True, "tol"
            break
    if iterations and not problem.detail.shows(iterations[-1].index, iterations[-1].index):
        iterations[-1] = _strip(iterations[-1])
    return Trace(problem=problem, start=start, iterations=tuple(iterations), final=estep,
                 converged=converged, stop_reason=stop_reason, events=tuple(events),
                 budget=budget)


def run(problem: Problem, progress: Progress | None = None) -> Trace:
    """Run EM on *problem* and return the frozen trace.

    With ``problem.carry == "rounded"`` the trace is the hand calculation (rounded
    carry) and ``trace.full`` the same run at full precision; with ``problem.exact``
    the trace is in floats and ``trace.exact`` the same run in exact arithmetic, as
    far as its budget goes (``trace.exact_budget`` says why it stopped short).
    """
    if problem.carry == "rounded":
        full = run_with(problem, FLOAT)
        return replace(run_with(problem, RoundedBackend(problem.decimals), progress), full=full)
    if not problem.exact:
        return run_with(problem, FLOAT, progress)
    trace = run_with(problem, FLOAT)
    from .exact import ExactBackend

    backend = ExactBackend()
    try:
        # The same iterations as the float run (which tol may have stopped early); no
        # exact final E-step, which the document does not show.
        with backend.enforced():
            exact = run_with(replace(problem, iterations=len(trace.iterations), tol=None),
                             backend, progress, final=False)
    except BudgetExceeded as exc:
        return replace(trace, exact_budget=exc.reason)
    finally:
        # The document derives its exact values (exponents, densities) from the trace
        # later, with this backend: they are no new arithmetic, so no budget applies.
        backend.release()
    return replace(trace, exact=exact, exact_budget=exact.budget)
