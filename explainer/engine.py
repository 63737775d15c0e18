"""The EM loop: one E-step, one M-step, one run, for every model of mixture. The steps
are the model plug-in's (:mod:`explainer.families`: the Gaussian's in
``families/gaussian.py``, another family's in its module), which :func:`run_with`
asks for its start, E-step and M-step.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable

import numpy as np

from . import defaults
from .backend import FLOAT, Backend, BudgetExceeded, RoundedBackend, round_half_up
from .errors import ProblemError
from .families import model_of
from .families.base import data_in
from .numbers import written_as_given
from .problem import Detail, Problem
from .trace import Event, Iteration, Trace

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- run

def _strip(iteration: Iteration) -> Iteration:
    """Drop the per-point arrays of an iteration that is not shown in full."""
    return replace(iteration, estep=replace(iteration.estep, detail=None),
                   mstep=replace(iteration.mstep, detail=None))


def gain_stops(gain: float, tol: float, xp: Backend) -> bool:
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


def _detail(problem: Problem) -> Detail:
    """The iterations the run keeps in full: the problem's; a run shown whole if it is
    short (``up_to``) only where that many iterations in full fit a document's limits
    (else its first iteration alone, as for a long run)."""
    detail = problem.detail
    if detail.up_to is not None:
        try:
            _check_detail(problem, detail.up_to)
        except ProblemError:
            return replace(detail, up_to=None)
    return detail


def written_down(problem: Problem) -> Problem:
    """*problem* as a hand calculation (rounded carry) writes it: a data value too long to
    be written as given (:func:`~explainer.numbers.written_as_given`: a generated data
    set's 0.34268040332750216) is written and used at the carry's decimals (0.343), as
    every value written down; shorter ones as given."""
    data = problem.data
    if data.dtype.kind != "f":
        return problem
    written = np.array([value if written_as_given(value)
                        else round_half_up(value, problem.decimals)
                        for value in data.ravel().tolist()], dtype=float).reshape(data.shape)
    if np.array_equal(written, data):
        return problem
    written.setflags(write=False)
    return replace(problem, data=written)


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
    if xp.name == "rounded":
        problem = written_down(problem)
    x = data_in(problem, xp)
    detail = _detail(problem)
    model = model_of(problem)  # (its start, E-step and M-step)
    start = model.start(xp)
    estep = model.e_step(x, start.params, xp)
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
            mstep = model.m_step(x, estep.detail.resp, estep.params, problem.update, xp)
            # Free this iteration's per-point arrays before the next E-step allocates its
            # own, unless they are shown ('last' keeps them until the run is known to go on).
            may_be_last = index == problem.iterations or problem.tol is not None
            if not (detail.shows(index) or (detail.last and may_be_last)):
                estep, mstep = replace(estep, detail=None), replace(mstep, detail=None)
            mstep_done = mstep
            next_estep = (model.e_step(x, mstep.params, xp)
                          if final or index < problem.iterations else None)
        except BudgetExceeded as exc:
            stop_reason, budget = "budget", exc.reason
            if mstep_done is None:
                assert last_whole is not None
                estep = last_whole
                break
            next_estep = None
        del last_whole
        if detail.shows(index):
            shown += 1
            _check_detail(problem, shown)
        events.extend(mstep.events)
        if iterations and not detail.shows(iterations[-1].index):
            iterations[-1] = _strip(iterations[-1])
        iterations.append(Iteration(index, estep, mstep, math.nan if next_estep is None
                                    else next_estep.log_likelihood))
        if detail.up_to is not None and index == detail.up_to + 1:
            # The run is longer than a run shown whole: its earlier iterations kept so far
            # are shown only where listed.
            iterations[:-1] = [it if detail.shows(it.index, index) else _strip(it)
                               for it in iterations[:-1]]
        if next_estep is None:
            estep = None
            break
        estep = next_estep
        if progress is not None:
            progress(index, problem.iterations)
        if problem.tol is not None and gain_stops(iterations[-1].gain, problem.tol, xp):
            converged, stop_reason = True, "tol"
            break
    if iterations and not detail.shows(iterations[-1].index, iterations[-1].index):
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
        rounded = run_with(problem, RoundedBackend(problem.decimals), progress)
        # Compared iteration by iteration, and at the end: the same number of iterations,
        # on the data as the hand calculation wrote them (its problem: written_down).
        full = run_with(replace(rounded.problem, iterations=len(rounded.iterations), tol=None),
                        FLOAT)
        return replace(rounded, full=full)
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
