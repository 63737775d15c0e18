"""A saved trace is checked before it is rendered: it is data from a file, and a
document would print whatever it holds.

Checked: every array has its shape (points, components, dimensions of the problem);
values are finite where they must be (a log of 0 may be -inf); weights and
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
An exact form is evaluated with mpmath over SymPy's tree, an exponential of more
than 10^30 being no value (a tampered ``exp(exp(exp(100)))`` is refused, not
computed).
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from .. import defaults
from ..errors import ProblemError
from ..families import model_of
from ..fields import entry_label
from ..trace import EStep, Iteration, Params, Trace

# A full-precision row of responsibilities sums to 1 within this; an exact form equals
# its decimal within this, relative.
ROW_SUM_TOLERANCE = 1e-6
EXACT_TOLERANCE = 1e-6
SUM_TOLERANCE = 1e-7  # relative: N_k, sums, weights and means against what gives them
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
                _fail(f"{where}.index", f"expected {i}, but got {it.index}")
            _iteration(where, it, n, k, model, rounded)
        # A run stopped by its count of iterations ran them all (a hand calculation's
        # companion at full precision: as many as it).
        runs_all = problem.iterations if prefix == "" else len(trace.iterations)
        if run.stop_reason == "iterations" and len(run.iterations) != runs_all:
            _fail(f"{prefix}iterations", f"{len(run.iterations)} iterations, but the run "
                                         f"stopped at stop.iterations, {runs_all}")
        if run.final is not None:
            _estep(f"{prefix}final", run.final, n, k, model, rounded)
            # The final E-step is of the parameters the run ended with.
            last = run.iterations[-1].mstep.params if run.iterations else run.start.params
            for name in model.shapes(k):
                if not np.array_equal(run.final.params.get(name), last.get(name)):
                    _fail(f"{prefix}final.{name}", "expected the parameters the run ended "
                                                   "with (the last iteration's, or the start)")
    if trace.exact is not None:
        _exact(trace.exact, trace)


def _fail(field: str, message: str) -> None:
    raise ProblemError("trace", f"{field}: {message}; the file was changed or damaged")


def _shape(field: str, array: np.ndarray, shape: tuple[int, ...]) -> None:
    if array.shape != shape:
        _fail(field, f"expected shape {shape}, but got {array.shape}")


def _finite(field: str, array: np.ndarray, allow_minus_inf: bool = False) -> None:
    values = np.asarray(array, dtype=float)
    bad = np.isnan(values) | (values == np.inf) | (
        (values == -np.inf) if not allow_minus_inf else False)
    if np.any(bad):
        index = entry_label(np.argwhere(bad)[0])
        _fail(f"{field}{index}", "expected a finite number")


def _params(field: str, params: Params, k: int, model: Any, rounded: bool = False,
            given: bool = False) -> None:
    """The parameters of *model* (its plug-in): their shapes, finite, the weights from 0
    to 1 summing to 1 (a hand calculation's only where they are *given*: the start of
    init_method given), the model's own in its range."""
    for name, shape in model.shapes(k).items():
        array = params.get(name)
        if array is None:
            _fail(f"{field}.{name}", "missing")
        _shape(f"{field}.{name}", array, shape)
        _finite(f"{field}.{name}", array)
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


def _estep(field: str, estep: EStep, n: int, k: int, model: Any, rounded: bool) -> None:
    _params(field, estep.params, k, model, rounded)
    if not np.isfinite(estep.log_likelihood):
        _fail(f"{field}.log_likelihood", "expected a finite number")
    detail = estep.detail
    if detail is None:
        return
    _shape(f"{field}.log_weighted", detail.log_weighted, (n, k))
    _shape(f"{field}.log_mixture", detail.log_mixture, (n,))
    _shape(f"{field}.responsibilities", detail.resp, (n, k))
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
    _estep(field, it.estep, n, k, model, rounded)
    mstep = it.mstep
    _params(field, mstep.params, k, model, rounded)
    sums = [("N_k" if name == "nk" else name, getattr(mstep, name), shape)
            for name, shape in model.sum_shapes(k).items()]
    for name, array, shape in sums:
        if array is None:
            _fail(f"{field}.{name}", "missing")
        _shape(f"{field}.{name}", array, shape)
        _finite(f"{field}.{name}", array)
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
        if exact_values.shape != floats.shape:
            _fail(field, f"expected shape {floats.shape}, but got {exact_values.shape}")
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
