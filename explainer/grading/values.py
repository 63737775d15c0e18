"""The value of an answerable quantity in a run: a responsibility, a sum, a parameter's
entry, the log-likelihood, or a choice (``assign``, ``moves``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..families import MODELS, family_of
from ..problem import Problem
from ..trace import Params, Trace
from .quantities import PARAMETER_OF, Quantity, family_kind


def answer_value(trace: Trace, q: Quantity) -> float:
    """The quantity's value in a trace kept in detail."""
    if trace.problem.iterations == 0:
        estep = trace.final
        assert estep is not None and estep.detail is not None
        if q.kind == "loglik":
            return estep.log_likelihood
        return _point_value(estep.detail, q)
    it = trace.iterations[q.iteration - 1]
    if q.kind in ("r", "assign", "dens", "px"):
        assert it.estep.detail is not None
        return _point_value(it.estep.detail, q)
    if q.kind == "sx":
        return float(it.mstep.sum_rx[q.entry])
    if q.kind == "ss":
        assert it.mstep.sum_rsq is not None
        return float(it.mstep.sum_rsq[q.entry])
    if q.kind in MODELS[trace.problem.family].sums:  # (another family's own sum)
        sums = family_of(trace.problem).working_sums(
            {"sum_rx": it.mstep.sum_rx, "sum_rm": it.mstep.sum_rm})
        return float(sums[q.kind][q.entry])
    if q.kind == "moves":
        return float(moves(trace.problem, it.estep.params, it.mstep.params)[0])
    if q.kind == "loglik":
        return it.log_likelihood
    if q.kind == "N":
        return float(it.mstep.nk[q.k])
    if q.kind == family_kind(trace.problem):
        value = it.mstep.params.get(trace.problem.parameters[1])
        return float(value[q.k] if q.i is None else value[q.k, q.i])
    return float(it.mstep.params.get(PARAMETER_OF[q.kind])[q.entry])


def _point_value(detail: Any, q: Quantity) -> float:
    """r[n,k]; for ``assign[n]`` the component k (1-based) with the largest r[n,k]; a
    point's density under a component (dens[n,k]) or its mixture density (px[n]) as the
    E-step's table writes them (without a proportional kernel's constant)."""
    if q.kind == "assign":
        return float(np.argmax(detail.resp[q.n]) + 1)
    if q.kind == "dens":
        return float(detail.density[q.n, q.k])
    if q.kind == "px":
        return float(detail.mixture_density[q.n])
    return float(detail.resp[q.n, q.k])


def location(problem: Problem) -> str:
    """The parameter ``moves`` asks about: the first after the weights (a Gaussian's
    means, a binomial's p, a Poisson's rates)."""
    return problem.parameters[1]


def moves(problem: Problem, before: Params, after: Params) -> tuple[int, np.ndarray]:
    """``moves``: +k when component k's :func:`location` parameter moves furthest and
    up, -k when it moves furthest and down (1-based); and every component's move."""
    shift = np.asarray(after.get(location(problem)), dtype=float) - np.asarray(
        before.get(location(problem)), dtype=float)
    k = int(np.argmax(np.abs(shift)))
    return (k + 1 if shift[k] >= 0 else -(k + 1)), shift
