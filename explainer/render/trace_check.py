"""A saved trace is checked before it is rendered: it is data from a file, and a
document would print whatever it holds.

Checked (the reader, :mod:`.json_reader`, has given every array its shape, and found
every key): values are finite where they must be (a log of 0 may be -inf); weights and
responsibilities lie in [0, 1] (a hand calculation's, rounded at each step, may pass 1
a little: they are only >= 0); the weights sum to 1 (a hand calculation's where they
are given: it computes the others as N_k / N of r_nk over rounded p(x_n)) and a
full-precision row of responsibilities sums to 1; the model's parameters lie in their ranges (covariance
matrices symmetric and positive definite); the iterations are numbered 1, 2, ...; the
number of iterations is what the problem allows, and all of them where
stop.iterations ended the run; the final E-step is of the parameters the run ended
with; in a full-precision iteration kept in detail, the responsibilities follow from
the logs, N_k and the weighted sums from the responsibilities, and the updated weights
and means from those (within 1e-7, relative); and every exact form evaluates to its
decimal value (within 1e-6, relative).
Then every step is redone from the values the trace holds before it (the start from the
problem, an E-step from the parameters before it, an M-step from its responsibilities,
the stop from the gains) in the trace's arithmetic, with the model plug-in's own steps,
and compared: a page prints only what its trace holds, and no trace whose numbers do
not follow from each other. (What is redone is never shown: documents still read the
trace alone.)
An exact form is evaluated with mpmath over SymPy's tree, an exponential of more
than 10^30 being no value (a tampered ``exp(exp(exp(100)))`` is refused, not
computed).
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .. import defaults
from ..backend import FLOAT, RoundedBackend
from ..engine import gain_stops
from ..families import model_of
from ..fields import entry_label
from ..numbers import describe
from ..trace import EStep, Event, Iteration, Params, Trace
from .trace_schema import damaged

# A full-precision row of responsibilities sums to 1 within this; an exact form equals
# its decimal within this, relative.
ROW_SUM_TOLERANCE = 1e-6
EXACT_TOLERANCE = 1e-6
SUM_TOLERANCE = 1e-7  # relative: N_k, sums, weights and means against what gives them
# Every step redone from the values before it: relative (a trace written by another
# version, or on another machine's BLAS, may differ in the last bits; a hand
# calculation's numbers are written decimals, the same on every machine).
RESTEP_TOLERANCE = {"float": 1e-9, "rounded": 1e-12}
_EXP_LIMIT = 1e30


def check_trace(trace: Trace) -> None:
    """Raise ProblemError("trace", ...) naming the first inconsistent value."""
    problem = trace.problem
    n, k = problem.n_samples, problem.components
    # The shapes, ranges and sums are the model plug-in's.
    model = model_of(problem)
    runs = [("", trace, problem.carry == "rounded")]
    if trace.full is not None:
        runs.append(("full_precision.", trace.full, False))
    for prefix, run, rounded in runs:
        if len(run.iterations) > problem.iterations:
            _fail(f"{prefix}iterations", f"{len(run.iterations)} iterations, but the problem "
                                         f"runs at most {problem.iterations}")
        _params(f"{prefix}start", run.start.params, k, model, rounded,
                given=problem.init_method == "given")
        for i, it in enumerate(run.iterations, start=1):
            where = f"{prefix}iterations[{i}]"
            if it.index != i:
                _fail(f"{where}.index", f"expected {i}, but got {describe(it.index)}")
            _iteration(where, it, n, k, model, rounded)
        # A run stopped by its count of iterations ran them all (a hand calculation's
        # companion at full precision: as many as it).
        runs_all = problem.iterations if prefix == "" else len(trace.iterations)
        if run.stop_reason == "iterations" and len(run.iterations) != runs_all:
            _fail(f"{prefix}iterations", f"{len(run.iterations)} iterations, but the run "
                                         f"stopped at stop.iterations, {runs_all}")
        if run.final is not None:
            _estep(f"{prefix}final", run.final, k, model, rounded)
            # The final E-step is of the parameters the run ended with.
            last = run.iterations[-1].mstep.params if run.iterations else run.start.params
            for name in model.shapes(k):
                if not np.array_equal(run.final.params.get(name), last.get(name)):
                    _fail(f"{prefix}final.{name}", "expected the parameters the run ended "
                                                   "with (the last iteration's, or the start)")
    for prefix, run, rounded in runs:
        xp = RoundedBackend(problem.decimals) if rounded else FLOAT
        _redone(prefix, run, model, xp, RESTEP_TOLERANCE["rounded" if rounded else "float"])
    if trace.exact is not None:
        _exact(trace.exact, trace)


# --------------------------------------------------------------------------- the steps redone

def _redone(prefix: str, run: Trace, model: Any, xp: Any, tolerance: float) -> None:
    """Every E-step and M-step of *run* gives what the trace holds from what it holds
    before it: the start from the problem, each E-step (its log-likelihood, and its
    per-point logs and responsibilities where kept) from the parameters before it, each
    M-step (its sums and new parameters) from the E-step's responsibilities, and the run
    ends where its stop rule ends it. Each step is started from the trace's own values
    (not from a run of its own), in the trace's arithmetic; nothing redone is shown.
    A trace written by another version may differ in the last bits (*tolerance*,
    relative)."""
    problem = run.problem
    x = problem.data
    start = model.start(xp)
    if run.start.method != problem.init_method:
        _fail(f"{prefix}start.method", f"expected {problem.init_method!r}, the problem's "
                                       f"init_method")
    if run.start.seed != problem.seed:
        _fail(f"{prefix}start.seed", f"expected {problem.seed}, the problem's seed")
    _agree(f"{prefix}start", run.start.params, start.params, model, tolerance)
    _events(f"{prefix}start.events", run.start.events, start.events, tolerance)
    # (A start by random responsibilities is an M-step: its events are the run's only.)
    events = [*run.start.events, *(start.mstep.events if start.mstep else ())]
    before = run.start.params
    estep = model.e_step(x, before, xp)
    for i, it in enumerate(run.iterations, start=1):
        where = f"{prefix}iterations[{i}]"
        _estep_agrees(where, it.estep, estep, tolerance)
        resp = estep.detail.resp if it.estep.detail is None else it.estep.detail.resp
        mstep = model.m_step(x, resp, before, problem.update, xp)
        for name in model.sum_shapes(problem.components):
            _close_to(f"{where}.{'N_k' if name == 'nk' else name}", getattr(it.mstep, name),
                      getattr(mstep, name), tolerance)
        _agree(where, it.mstep.params, mstep.params, model, tolerance)
        if tuple(it.mstep.updated) != tuple(problem.update):
            _fail(f"{where}.updated", f"expected {list(problem.update)}, the parameters the "
                                      f"problem updates")
        _events(f"{where}.events", it.mstep.events, mstep.events, tolerance)
        events.extend(it.mstep.events)
        before = it.mstep.params
        last = i == len(run.iterations)
        if last and run.final is None:
            break
        estep = model.e_step(x, before, xp)
        if not np.isnan(it.log_likelihood_after):
            _close_to(f"{where}.log_likelihood_after", np.array(it.log_likelihood_after),
                      np.array(estep.log_likelihood), tolerance)
        # (A hand calculation's companion at full precision runs as many iterations as
        # it, whatever its gains.)
        if prefix == "" and problem.tol is not None:
            stops = gain_stops(it.log_likelihood_after - it.estep.log_likelihood,
                              problem.tol, xp)
            if stops and not last:
                _fail(where, f"the gain is below stop.tol ({problem.tol:g}): the run stops "
                             f"here, but the trace goes on")
            if last and stops != (run.stop_reason == "tol"):
                _fail(f"{prefix}stop_reason", f"expected {'tol' if stops else 'iterations'}, "
                                              f"as the last gain gives")
    if run.final is not None:
        _estep_agrees(f"{prefix}final", run.final, estep, tolerance)
    if prefix == "":  # (a companion run at full precision keeps no events)
        _events("events", run.events, events, tolerance)
    if run.converged != (run.stop_reason == "tol"):
        _fail(f"{prefix}converged", f"expected {str(run.stop_reason == 'tol').lower()}, as "
                                    f"stop_reason {run.stop_reason!r} says")


def _events(field: str, got: Any, redone: Any, tolerance: float) -> None:
    """The events a step records are those it has when redone (kind, component, cause and
    points; the value and floor within *tolerance*)."""
    def key(event: Event) -> tuple[Any, ...]:
        return event.kind, event.component, event.cause, event.points

    if [key(e) for e in got] != [key(e) for e in redone]:
        _fail(field, f"expected {len(redone)} event{'' if len(redone) == 1 else 's'} "
                     f"({', '.join(e.kind for e in redone) or 'none'}), as the step redone "
                     f"has")
    for i, (a, b) in enumerate(zip(got, redone), start=1):
        _close_to(f"{field}[{i}].value", np.array(a.value), np.array(b.value), tolerance)
        _close_to(f"{field}[{i}].floor", np.array(a.floor), np.array(b.floor), tolerance)


def _estep_agrees(where: str, got: EStep, redone: EStep, tolerance: float) -> None:
    _close_to(f"{where}.log_likelihood", np.array(got.log_likelihood),
              np.array(redone.log_likelihood), tolerance)
    if got.detail is None:
        return
    assert redone.detail is not None
    for name, attribute in (("log_weighted", "log_weighted"), ("log_mixture", "log_mixture"),
                            ("responsibilities", "resp")):
        _close_to(f"{where}.{name}", getattr(got.detail, attribute),
                  getattr(redone.detail, attribute), tolerance, own=name == "responsibilities")


def _agree(where: str, got: Params, redone: Params, model: Any, tolerance: float) -> None:
    for field, name in model.saved_names().items():
        _close_to(f"{where}.{name}", got.get(field), redone.get(field), tolerance)


def _close_to(field: str, got: Any, redone: Any, tolerance: float, own: bool = False) -> None:
    """*got* is *redone* within *tolerance*, relative to the larger of the value and 1 (a
    log; a mean near 0, which float noise may give), or with *own* to the value itself
    (a responsibility of 10^-12 is printed with its digits); both -inf or both NaN where
    they are (a log of 0; a point no density reaches)."""
    if got is None or redone is None:
        if got is not redone:
            _fail(field, "missing" if got is None else "not expected here")
        return
    got = np.asarray(got, dtype=float)
    redone = np.asarray(redone, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        same = (got == redone) | (np.isnan(got) & np.isnan(redone)) | (
            np.abs(got - redone) <= tolerance * (np.abs(redone) if own
                                                 else np.maximum(np.abs(redone), 1.0)))
    if not np.all(same):
        index = np.argwhere(~same)[0]
        _fail(f"{field}{entry_label(index)}", f"does not follow from the values before it "
                                              f"(redone: {float(redone[tuple(index)]):.10g})")


def _fail(field: str, message: str) -> None:
    raise damaged(field, message)


def _finite(field: str, array: np.ndarray, allow_minus_inf: bool = False) -> None:
    values = np.asarray(array, dtype=float)
    bad = np.isnan(values) | (values == np.inf) | (
        (values == -np.inf) if not allow_minus_inf else False)
    if np.any(bad):
        index = entry_label(np.argwhere(bad)[0])
        _fail(f"{field}{index}", "expected a finite number")


def _params(field: str, params: Params, k: int, model: Any, rounded: bool = False,
            given: bool = False) -> None:
    """The parameters of *model* (its plug-in): finite, the weights from 0 to 1 summing to
    1 (a hand calculation's only where they are *given*: the start of init_method given),
    the model's own in its range."""
    for name in model.shapes(k):
        _finite(f"{field}.{name}", params.get(name))
    weights = params.weights
    if np.any(weights < 0) or (not rounded and np.any(weights > 1)):
        _fail(f"{field}.weights", "expected weights from 0 to 1")
    # (A hand calculation's computed weights are N_k / N of rounded r_nk divided by a
    # rounded p(x_n): they may miss 1 by a third where p(x_n) is 0.0015 written 0.002;
    # a start by k-means, written to one decimal, is 0.3 three times.)
    if (not rounded or given) and abs(float(np.sum(weights)) - 1) > defaults.WEIGHT_SUM_TOL:
        _fail(f"{field}.weights", f"the weights sum to {float(np.sum(weights)):.6g}, not 1")
    outside = model.out_of_range(params)
    if outside is not None:
        _fail(f"{field}.{outside[0]}", outside[1])


def _estep(field: str, estep: EStep, k: int, model: Any, rounded: bool) -> None:
    _params(field, estep.params, k, model, rounded)
    if not np.isfinite(estep.log_likelihood):
        _fail(f"{field}.log_likelihood", "expected a finite number")
    detail = estep.detail
    if detail is None:
        return
    _finite(f"{field}.log_weighted", detail.log_weighted, allow_minus_inf=True)
    _finite(f"{field}.log_mixture", detail.log_mixture, allow_minus_inf=True)
    resp = detail.resp
    _finite(f"{field}.responsibilities", resp)
    if np.any(resp < 0) or (not rounded and np.any(resp > 1)):
        _fail(f"{field}.responsibilities", "expected responsibilities from 0 to 1")
    if not rounded:
        sums = resp.sum(axis=1)
        bad = np.abs(sums - 1) > ROW_SUM_TOLERANCE
        if np.any(bad):
            row = int(np.argwhere(bad)[0][0])
            _fail(f"{field}.responsibilities[{row + 1}]", f"a row sums to {sums[row]:.6g}, "
                                                          f"not 1")


def _iteration(field: str, it: Iteration, n: int, k: int, model: Any, rounded: bool) -> None:
    _estep(field, it.estep, k, model, rounded)
    mstep = it.mstep
    _params(field, mstep.params, k, model, rounded)
    for name in model.sum_shapes(k):
        _finite(f"{field}.{'N_k' if name == 'nk' else name}", getattr(mstep, name))
    if np.any(mstep.nk < 0) or (not rounded and np.any(mstep.nk > n * (1 + ROW_SUM_TOLERANCE))):
        _fail(f"{field}.N_k", f"expected N_k from 0 to {n}")
    if not rounded and it.estep.detail is not None:
        _sums(field, it, n, model)


def _close(field: str, got: np.ndarray, expected: np.ndarray, scale: np.ndarray | float) -> None:
    bad = np.abs(got - expected) > SUM_TOLERANCE * np.maximum(scale, 1.0)
    if np.any(bad):
        index = entry_label(np.argwhere(bad)[0])
        _fail(f"{field}{index}", "does not follow from the values it is computed from")


def _sums(field: str, it: Iteration, n: int, model: Any) -> None:
    """A full-precision iteration's numbers follow from each other: r_nk from the logs,
    N_k and the model's weighted sums from r_nk, and the updated weights and the model's
    parameter (a Gaussian's means) from those."""
    detail, mstep = it.estep.detail, it.mstep
    assert detail is not None
    with np.errstate(invalid="ignore", over="ignore"):
        from_logs = np.exp(detail.log_weighted - detail.log_mixture[:, None])
    from_logs = np.where(np.isfinite(from_logs), from_logs, 0.0)
    _close(f"{field}.responsibilities", detail.resp, from_logs, 1.0)
    resp = np.asarray(detail.resp, dtype=float)
    _close(f"{field}.N_k", mstep.nk, resp.sum(axis=0), n)
    x = np.asarray(detail.x, dtype=float)
    for name, (expected, scale) in model.saved_sums(x, resp).items():
        _close(f"{field}.{name}", getattr(mstep, name), expected, scale)
    if "weights" in mstep.updated:
        _close(f"{field}.weights", mstep.params.weights, mstep.nk / n, 1.0)
    updated = model.updated_from_sums(mstep)
    if updated is not None:
        name, expected, scale = updated
        full = mstep.nk >= defaults.EMPTY_COMPONENT_NK  # an empty component keeps its own
        keep = full.reshape((-1,) + (1,) * (np.ndim(expected) - 1))
        _close(f"{field}.{name}", np.where(keep, mstep.params.get(name), 0.0),
               np.where(keep, expected, 0.0), scale)


# --------------------------------------------------------------------------- exact forms

def _exact(exact: Trace, trace: Trace) -> None:
    """Each exact value against the decimal the trace holds for it."""
    if len(exact.iterations) > len(trace.iterations):
        _fail("exact.iterations", "more exact iterations than iterations")
    pairs: list[tuple[str, Any, Any]] = []
    pairs += _param_pairs("exact.start", exact.start.params, trace.start.params)
    for i, (e, f) in enumerate(zip(exact.iterations, trace.iterations), start=1):
        where = f"iterations[{i}].exact"
        pairs += _param_pairs(where, e.mstep.params, f.mstep.params)
        pairs += [(f"{where}.N_k", e.mstep.nk, f.mstep.nk),
                  (f"{where}.sum_rx", e.mstep.sum_rx, f.mstep.sum_rx)]
        if e.estep.detail is not None and f.estep.detail is not None:
            pairs.append((f"{where}.responsibilities", e.estep.detail.resp,
                          f.estep.detail.resp))
    if exact.final is not None and trace.final is not None and \
            exact.final.detail is not None and trace.final.detail is not None:
        pairs.append(("exact.final.responsibilities", exact.final.detail.resp,
                      trace.final.detail.resp))
    for field, exact_values, floats in pairs:
        exact_values, floats = np.asarray(exact_values, dtype=object), np.asarray(floats)
        for index, value in _items(exact_values):
            target = float(floats[index])
            number = _value(value)
            if number is None or abs(number - target) > EXACT_TOLERANCE * max(
                    abs(target), 1e-300) + 1e-300:
                label = entry_label(index)
                _fail(f"{field}{label}", f"the exact value is not the decimal {target:.6g}")


def _param_pairs(field: str, exact: Params, floats: Params) -> list[tuple[str, Any, Any]]:
    return [(f"{field}.{name}", exact.get(name), floats.get(name)) for name in floats.names]


def _items(array: np.ndarray) -> Iterator[tuple[tuple[int, ...], Any]]:
    for index in np.ndindex(array.shape):
        yield index, array[index]


def _value(expr: Any) -> float | None:
    """The value of a SymPy expression as written in a trace, or None when it has none
    (not finite, or an exponential beyond 10^30)."""
    import mpmath

    with mpmath.workdps(30):
        try:
            value = _mp(expr, mpmath)
        except (ValueError, ZeroDivisionError, OverflowError, TypeError):
            return None
        if not mpmath.isfinite(value) or mpmath.im(value) != 0:
            return None
        try:
            return float(mpmath.re(value))
        except OverflowError:
            return None


def _mp(expr: Any, mpmath: Any) -> Any:
    import sympy as sp

    if expr.is_Integer or expr.is_Rational:
        return mpmath.mpf(int(expr.p)) / int(expr.q)
    if expr is sp.pi:
        return mpmath.pi
    if expr is sp.E:
        return mpmath.e
    if isinstance(expr, sp.Add):
        return mpmath.fsum(_mp(a, mpmath) for a in expr.args)
    if isinstance(expr, sp.Mul):
        result = mpmath.mpf(1)
        for a in expr.args:
            result *= _mp(a, mpmath)
        return result
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        return mpmath.power(_mp(base, mpmath), _mp(exponent, mpmath))
    if isinstance(expr, sp.exp):
        argument = _mp(expr.args[0], mpmath)
        if abs(argument) > _EXP_LIMIT:
            raise OverflowError("exponential too large")
        return mpmath.exp(argument)
    if isinstance(expr, sp.log):
        argument = _mp(expr.args[0], mpmath)
        if argument <= 0:
            raise ValueError("log of a number <= 0")
        return mpmath.log(argument)
    raise TypeError(f"unexpected {type(expr).__name__}")
