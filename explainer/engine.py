"""The EM loop: one E-step, one M-step, one run, for every family of mixture (the
Gaussian's steps are here; another family's come from explainer.families, and
:func:`steps` hands the loop the problem's).

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
from .errors import ProblemError
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
    exponents = formulas.exponent(xp, x, params.means, params.variances)
    log_norms = formulas.log_norm(xp, params.variances)
    log_densities = formulas.log_density(xp, exponents, log_norms, kernel)
    del exponents  # (float: free the (n_samples, n_components) temporary at once)
    return log_densities, formulas.log_weighted(xp, log_densities, params.weights)


def first_densities(problem: Problem, xp: Backend) -> tuple[np.ndarray, np.ndarray]:
    """:func:`weighted_densities` of a Gaussian mixture's first E-step in *xp*'s
    arithmetic, without the rest of the run (an exam's draw is refused by them most
    often, before its hand calculation is made)."""
    return weighted_densities(_data(problem, xp), initialise(problem, xp).params,
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

def _data(problem: Problem, xp: Backend) -> np.ndarray:
    """The points in *xp*'s arithmetic (exact: as the user wrote them)."""
    if xp.name == "exact":
        assert problem.exact_inputs is not None
        x = xp.asarray(problem.exact_inputs.data)
        x.setflags(write=False)
        return x
    return problem.data


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
    x, k = _data(problem, xp), problem.components
    if problem.family != "gaussian":
        return _family_start(problem, xp)
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


def _family_start(problem: Problem, xp: Backend) -> Start:
    """The start of another family than the Gaussian: given, or one M-step from random
    responsibilities (Dirichlet(1, ..., 1), as for Gaussians)."""
    from .families import family_of

    family = family_of(problem)
    if problem.init_method == "given":
        return Start("given", family.start_params(problem, xp), problem.seed)
    rng = np.random.default_rng(problem.seed)
    resp = rng.dirichlet(np.ones(problem.components), size=problem.n_samples)
    resp.setflags(write=False)
    fallback = family.fallback(problem.data, problem.components, xp)
    mstep = family.m_step(problem.data, resp, fallback, problem.parameters, xp)
    return Start(problem.init_method, mstep.params, problem.seed, mstep)


Steps = tuple[Callable[[Params], EStep], Callable[[np.ndarray, Params], MStep]]


def steps(problem: Problem, x: np.ndarray, xp: Backend) -> Steps:
    """The E-step (of given parameters) and the M-step (of responsibilities and the
    parameters before) of *problem*'s mixture, in *xp*'s arithmetic."""
    if problem.family == "gaussian":
        floor = variance_floor(problem.data)
        return (lambda params: e_step(x, params, problem.kernel, xp),
                lambda resp, params: m_step(x, resp, params, problem.update, floor, xp,
                                            problem.covariance_type))
    from .families import family_of

    family = family_of(problem)
    return (lambda params: family.e_step(x, params, xp),
            lambda resp, params: family.m_step(x, resp, params, problem.update, xp))


# --------------------------------------------------------------------------- run

def _strip(iteration: Iteration) -> Iteration:
    """Drop the per-point arrays of an iteration that is not shown in full."""
    return replace(iteration, estep=replace(iteration.estep, detail=None),
                   mstep=replace(iteration.mstep, detail=None))


def _converged(gain: float, tol: float, xp: Backend) -> bool:
    """Whether a change of the log-likelihood smaller than *tol* ends the run: its size,
    as scikit-learn's ``abs(change) < tol``, so that ``tol: 0`` runs every iteration (a
    converged run's gains are float noise either side of 0, -1.1e-13 say, and a gain
    below 0 used to end it). A hand calculation's log-likelihood may fall (its
    intermediates are rounded; EM's never falls): a fall is not convergence, and the
    run goes on."""
    if xp.name == "rounded":
        return 0 <= float(xp.carry(gain)) < tol
    return abs(gain) < tol


def _check_detail(problem: Problem, shown: int) -> None:
    """*shown* iterations in full must fit the limits of a document (its per-point table
    rows) and of the memory (the per-point values kept for them)."""
    n, k = problem.n_samples, problem.components
    table = min(n, problem.max_rows)
    if shown * k * table ** 2 > defaults.MAX_SUM_WORK:
        raise ProblemError("display.detail", f"{shown} iteration{'s' if shown > 1 else ''} "
                                             f"in full with {k} components and tables of "
                                             f"{table} rows ask for more written-out sums than "
                                             f"a document may hold (iterations x components x "
                                             f"rows^2 at most {defaults.MAX_SUM_WORK:,}); show "
                                             f"fewer rows (max_rows) or fewer iterations in "
                                             f"full (detail)")
    rows = shown * table
    if rows > defaults.MAX_DOCUMENT_ROWS or shown * n * k > defaults.MAX_DETAIL_VALUES:
        raise ProblemError("display.detail", f"{shown} iterations in full with {n:,} points "
                                             f"(tables of {table} rows) are "
                                             f"more than a document may hold (at most "
                                             f"{defaults.MAX_DOCUMENT_ROWS:,} table rows and "
                                             f"{defaults.MAX_DETAIL_VALUES:,} per-point "
                                             f"values); show fewer iterations in full "
                                             f"(detail), or fewer rows (max_rows)")


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
    e_step_of, m_step_of = steps(problem, x, xp)
    estep = e_step_of(start.params)
    iterations: list[Iteration] = []
    events: list[Event] = [*start.events, *(start.mstep.events if start.mstep else ())]
    converged, stop_reason, budget = False, "iterations", None
    shown = 0
    for index in range(1, problem.iterations + 1):
        assert estep.detail is not None
        # A backend with a budget may stop anywhere in the iteration: the run then ends
        # after the last whole M-step (or, before any, at the last whole E-step).
        last_whole = estep if xp.budgeted else None  # (float: free the arrays early)
        mstep_done = None
        try:
            mstep = m_step_of(estep.detail.resp, estep.params)
            # Free this iteration's per-point arrays before the next E-step allocates its
            # own, unless they are shown ('last' keeps them until the run is known to go on).
            may_be_last = index == problem.iterations or problem.tol is not None
            if not (problem.detail.shows(index) or (problem.detail.last and may_be_last)):
                estep, mstep = replace(estep, detail=None), replace(mstep, detail=None)
            mstep_done = mstep
            next_estep = (e_step_of(mstep.params)
                          if final or index < problem.iterations else None)
        except BudgetExceeded as exc:
            stop_reason, budget = "budget", exc.reason
            if mstep_done is None:
                assert last_whole is not None
                estep = last_whole
                break
            next_estep = None
        del last_whole
        if problem.detail.shows(index):
            shown += 1
            _check_detail(problem, shown)
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
        if problem.tol is not None and _converged(iterations[-1].gain, problem.tol, xp):
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
    if problem.tol is None:  # every iteration runs: refuse too much detail before any
        last = problem.iterations
        _check_detail(problem, sum(problem.detail.shows(i, last) for i in range(1, last + 1)))
    if problem.carry == "rounded":
        hand = run_with(problem, RoundedBackend(problem.decimals), progress)
        # Compared iteration by iteration, and at the end: the same number of iterations.
        full = run_with(replace(problem, iterations=len(hand.iterations), tol=None), FLOAT)
        return replace(hand, full=full)
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
