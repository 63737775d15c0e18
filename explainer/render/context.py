"""Trace -> render context: plain data (numbers, indices, flags) for the templates.

No output syntax here: numbers stay numbers (templates format them with the
filters), and remarks are named by kind (templates hold their wording).
Nothing here recomputes EM; it selects, orders and classifies what the trace holds.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import defaults
from ..backend import round_half_up
from ..errors import ProblemError
from .filters import LogValue
from ..trace import EStep, Iteration, MStep, Params, PointDetail, Trace


def elide(count: int, max_rows: int) -> list[int | None]:
    """Row indices (0-based) to show; ``None`` marks the omitted stretch.

    With more than *max_rows* rows: the first ``max_rows - 1``, a gap, the last.
    """
    if count <= max_rows:
        return list(range(count))
    return [*range(max_rows - 1), None, count - 1]


def elide_terms(count: int, max_rows: int) -> list[int | None]:
    """Terms of a written-out sum: all of them, or the first few, a gap, the last."""
    if count <= max_rows:
        return list(range(count))
    return [*range(defaults.SUM_HEAD_TERMS), None, count - 1]


def _log_values(values: np.ndarray, logs: np.ndarray) -> list[LogValue]:
    return [LogValue(float(v), float(lv)) for v, lv in zip(values, logs)]


def _all_equal(values: np.ndarray) -> bool:
    return bool(np.all(values == values[0]))


def _params_rows(params: Params, labels: Sequence[str],
                 exact: Params | None = None) -> list[dict[str, Any]]:
    return [{"k": k + 1, "label": labels[k], "weight": float(params.weights[k]),
             "mean": float(params.means[k]), "variance": float(params.variances[k]),
             "exact": None if exact is None else {
                 name: exact.get(p)[k] for name, p in _PARAM_NAMES}}
            for k in range(len(labels))]


_PARAM_NAMES = (("weight", "weights"), ("mean", "means"), ("variance", "variances"))


def _companion(trace: Trace | None, index: int) -> Iteration | None:
    """Iteration *index* of a companion run (exact or full precision), when it has it
    in detail."""
    if trace is None or index > len(trace.iterations):
        return None
    iteration = trace.iterations[index - 1]
    return iteration if iteration.detailed else None


def _exact_reach(trace: Trace) -> int:
    """How many iterations the exact run computed (0 when it did not finish the first)."""
    return len(trace.exact.iterations) if trace.exact is not None else 0


def _differs(shown: float, full: float, decimals: int) -> bool:
    """Whether two values print differently at the display precision."""
    return round_half_up(shown, decimals) != round_half_up(full, decimals)


def _difference(kind: str, shown: float, full: float, decimals: int,
                **where: int) -> dict[str, Any] | None:
    """A quantity of the hand calculation (rounded carry) that prints differently from
    the full-precision one: which, both values and by how much; None when they agree."""
    if not _differs(shown, full, decimals):
        return None
    return {"kind": kind, **where, "rounded": shown, "full": full, "by": shown - full}


def _point_list(indices: np.ndarray, limit: int, point) -> dict[str, Any]:
    """The first *limit* points of *indices* (made by *point*), and how many more there are."""
    return {"shown": [point(int(n)) for n in indices[:limit]],
            "more": max(0, len(indices) - limit), "count": len(indices)}


def _highlight(detail: PointDetail, spec: str | tuple[int, ...]) -> list[int]:
    """0-based points worked in full: given ones, or the most ambiguous and the first."""
    n_samples = detail.resp.shape[0]
    if not isinstance(spec, str):
        return [n - 1 for n in spec if n - 1 < n_samples]
    most_ambiguous = int(np.argmin(detail.resp.max(axis=1)))
    return [most_ambiguous] if most_ambiguous == 0 else [most_ambiguous, 0]


def _takeaway(detail: PointDetail, labels: Sequence[str], limit: int) -> dict[str, Any]:
    """Which points belong clearly to which component, which lean, which are ambiguous."""
    resp = detail.resp
    best = resp.argmax(axis=1)
    top = resp.max(axis=1)
    clear = top >= defaults.CLEAR_RESPONSIBILITY
    ambiguous = top < defaults.AMBIGUOUS_RESPONSIBILITY

    def point(n: int) -> dict[str, Any]:
        x = detail.x[n]
        return {"n": n + 1, "x": float(x) if np.ndim(x) == 0 else [float(v) for v in x],
                "r": [float(v) for v in resp[n]]}

    groups = [{"k": k + 1, "label": labels[k],
               "clearly": _point_list(np.flatnonzero((best == k) & clear), limit, point),
               "lean": _point_list(np.flatnonzero((best == k) & ~clear & ~ambiguous), limit,
                                   point)}
              for k in range(len(labels))]
    ambiguous_points = _point_list(np.flatnonzero(ambiguous), limit, point)
    return {"groups": groups, "ambiguous": ambiguous_points,
            "clear_threshold": defaults.CLEAR_RESPONSIBILITY,
            "ambiguous_threshold": defaults.AMBIGUOUS_RESPONSIBILITY,
            "single": len(labels) == 1}


def _exact_row(detail: PointDetail, n: int, cancel: str) -> dict[str, Any]:
    """The exact values of point n's E-step row; *cancel* names the terms a worked r_nk
    divides (``kernel`` when priors and constants cancel, ``density`` when the priors
    do, else ``weighted``)."""
    terms = {"kernel": detail.kernel_value, "density": detail.density,
             "weighted": detail.weighted_density}[cancel]
    return {"x": detail.x[n], "exponent": list(detail.exponent[n]),
            "density": list(detail.density[n]), "weighted": list(detail.weighted_density[n]),
            "mixture": detail.mixture_density[n], "resp": list(detail.resp[n]),
            "terms": list(terms[n])}


def estep_context(estep: EStep, trace: Trace, index: int = 0, exact: EStep | None = None,
                  full: EStep | None = None) -> dict[str, Any]:
    """Everything the E-step section shows, for one E-step kept in detail; *exact* and
    *full* are the same E-step in a companion run (exact values, full precision)."""
    problem = trace.problem
    detail = estep.detail
    assert detail is not None
    params = estep.params
    labels = [problem.component_label(k) for k in range(problem.components)]
    n_samples, n_components = detail.resp.shape
    log_resp = detail.log_resp
    equal_weights = _all_equal(params.weights)
    equal_variances = _all_equal(params.variances)
    exact_detail = exact.detail if exact is not None else None
    cancel = ("weighted" if not equal_weights or n_components == 1 else
              "kernel" if detail.kernel == "proportional" or equal_variances else "density")

    def row(n: int) -> dict[str, Any]:
        return {
            "n": n + 1, "x": float(detail.x[n]),
            "exponent": [float(v) for v in detail.exponent[n]],
            "density": _log_values(detail.density[n], detail.log_density[n]),
            "mixture": LogValue(float(detail.mixture_density[n]), float(detail.log_mixture[n])),
            "resp": _log_values(detail.resp[n], log_resp[n]),
            "exact": None if exact_detail is None else _exact_row(exact_detail, n, cancel),
        }

    rows = [None if n is None else row(n) for n in elide(n_samples, problem.max_rows)]
    highlight = [row(n) for n in _highlight(detail, problem.highlight)]
    d = problem.decimals
    displayed_logs = np.concatenate([detail.log_density.ravel(), log_resp.ravel(),
                                     detail.log_mixture])
    tiny = displayed_logs[np.isfinite(displayed_logs)]
    below_precision = bool(np.any(tiny < np.log(0.5 * 10.0 ** -d)))
    underflow = np.flatnonzero(np.any(detail.log_density < defaults.EXP_UNDERFLOW, axis=1))
    remarks = []
    if n_components > 1 and equal_weights:
        remarks.append({"kind": "equal_priors", "weight": float(params.weights[0])})
    if n_components > 1 and equal_variances and detail.kernel == "normalized":
        remarks.append({"kind": "equal_variances", "norm_const": float(detail.norm_const[0])})
    if detail.kernel == "proportional":
        remarks.append({"kind": "proportional", "norm_const": float(detail.norm_const[0])})
    if n_components == 1:
        remarks.append({"kind": "single_component"})
    if below_precision:
        remarks.append({"kind": "below_precision"})
    if underflow.size:
        remarks.append({"kind": "log_space", "point": row(int(underflow[0])),
                        "count": int(underflow.size)})
    return {
        "index": index,  # the iteration; 0 for the E-step-only question
        "kernel": detail.kernel,
        "components": [{"k": k + 1, "label": labels[k], "weight": float(params.weights[k]),
                        "mean": float(params.means[k]), "variance": float(params.variances[k]),
                        "two_var": 2.0 * float(params.variances[k]),
                        "norm_const": float(detail.norm_const[k]),
                        "exact": None if exact_detail is None else {
                            "norm_const": exact_detail.norm_const[k],
                            "weight": exact_detail.params.weights[k],
                            "mean": exact_detail.params.means[k],
                            "variance": exact_detail.params.variances[k],
                            "two_var": 2 * exact_detail.params.variances[k]}}
                       for k in range(n_components)],
        # Exact values: shown for this E-step, or asked for but past the budget.
        "exact": exact_detail is not None,
        # The first E-step past the exact run's reach, where the document says so.
        "exact_missing": problem.exact and index == _exact_reach(trace) + 1,
        "exact_cancel": cancel,
        "differences": [] if full is None else _estep_differences(detail, full, problem.decimals),
        # Past a few components the worked r_nk divide by p(x_n), written out once.
        "full_denominators": n_components <= defaults.FULL_DENOMINATOR_COMPONENTS,
        "equal_weights": equal_weights,
        "equal_variances": equal_variances,
        "rows": rows,
        "omitted": n_samples - sum(r is not None for r in rows),
        "highlight": highlight,
        "takeaway": _takeaway(detail, labels, problem.max_rows),
        "remarks": remarks,
        "log_likelihood": estep.log_likelihood,
    }


def _estep_differences(detail: PointDetail, full: EStep, decimals: int) -> list[dict[str, Any]]:
    """Every density, p(x_n) and r_nk of the hand calculation that prints differently
    from full precision, point by point."""
    other = full.detail
    assert other is not None
    found = []
    for n in range(detail.resp.shape[0]):
        for k in range(detail.resp.shape[1]):
            found.append(_difference("density", float(detail.density[n, k]),
                                     float(other.density[n, k]), decimals, n=n + 1, k=k + 1))
        found.append(_difference("mixture", float(detail.mixture_density[n]),
                                 float(other.mixture_density[n]), decimals, n=n + 1))
        for k in range(detail.resp.shape[1]):
            found.append(_difference("resp", float(detail.resp[n, k]),
                                     float(other.resp[n, k]), decimals, n=n + 1, k=k + 1))
    return [f for f in found if f is not None]


def _direction(before: float, after: float, decimals: int) -> str:
    """``up``, ``down`` or ``same`` (same when equal at the display precision)."""
    if round(after, decimals) == round(before, decimals):
        return "same"
    return "up" if after > before else "down"


def mstep_context(mstep: MStep, before: Params, trace: Trace, index: int,
                  exact: MStep | None = None, full: MStep | None = None) -> dict[str, Any]:
    """The written-out sums of one M-step, and why each parameter moved; *exact* and
    *full* are the same M-step in a companion run (exact values, full precision)."""
    problem = trace.problem
    d = problem.decimals
    detail = mstep.detail
    assert detail is not None
    n_samples = detail.resp.shape[0]
    terms = elide_terms(n_samples, problem.max_rows)
    empty = {e.component for e in mstep.events if e.kind == "empty_component"}
    floored = {e.component: e.value for e in mstep.events if e.kind == "variance_floor"}
    comps = []
    for k in range(problem.components):
        new = mstep.params
        pull = detail.mean_pull[:, k]
        shift = float(new.means[k] - before.means[k])
        # The point that pulled mean k hardest in the direction it moved.
        puller = int(np.argmax(pull * np.sign(shift))) if shift else None
        comps.append({
            "k": k + 1, "label": problem.component_label(k), "nk": float(mstep.nk[k]),
            "sum_rx": float(mstep.sum_rx[k]), "sum_rsq": float(mstep.sum_rsq[k]),
            "empty": k in empty,
            "floored": floored.get(k),
            "terms": [None if n is None else {
                "n": n + 1, "x": float(detail.x[n]), "r": float(detail.resp[n, k]),
                "mean": float(new.means[k]), "mean_term": float(detail.mean_terms[n, k]),
                "variance_term": float(detail.variance_terms[n, k])} for n in terms],
            "before": {"weight": float(before.weights[k]), "mean": float(before.means[k]),
                       "variance": float(before.variances[k]),
                       "share": float(before.weights[k]) * n_samples},
            "after": {"weight": float(new.weights[k]), "mean": float(new.means[k]),
                      "variance": float(new.variances[k])},
            "moved": {name: _direction(float(before.get(p)[k]), float(new.get(p)[k]),
                                       problem.decimals)
                      for name, p in (("weight", "weights"), ("mean", "means"),
                                      ("variance", "variances"))},
            "puller": None if puller is None else {
                "n": puller + 1, "x": float(detail.x[puller]),
                "r": float(detail.resp[puller, k])},
            "exact": None if exact is None else {
                "nk": exact.nk[k], "sum_rx": exact.sum_rx[k], "sum_rsq": exact.sum_rsq[k],
                **{name: exact.params.get(p)[k] for name, p in _PARAM_NAMES}},
            "full": None if full is None else {
                "nk": float(full.nk[k]),
                **{name: float(full.params.get(p)[k]) for name, p in _PARAM_NAMES}},
        })
    differences: list[dict[str, Any] | None] = []
    if full is not None:
        for k in range(problem.components):
            differences.append(_difference("nk", float(mstep.nk[k]), float(full.nk[k]), d,
                                           k=k + 1))
            differences.extend(_difference(name, float(mstep.params.get(p)[k]),
                                           float(full.params.get(p)[k]), d, k=k + 1)
                               for name, p in _PARAM_NAMES if p in mstep.updated)
    return {
        "index": index,
        "components": comps,
        "updated": list(mstep.updated),
        "fixed": [p for p in defaults.PARAMETERS if p not in mstep.updated],
        "events": [{"kind": e.kind, "k": e.component + 1, "value": e.value, "floor": e.floor,
                    "weight": float(mstep.params.weights[e.component])}
                   for e in mstep.events],
        "exact": exact is not None,
        "differences": [f for f in differences if f is not None],
    }


def iteration_context(iteration: Iteration, trace: Trace) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "index": iteration.index,
        "log_likelihood": iteration.log_likelihood,
        "log_likelihood_after": iteration.log_likelihood_after,
        "gain": iteration.gain,
        "detailed": iteration.detailed,
    }
    if iteration.detailed:
        exact = _companion(trace.exact, iteration.index)
        full = _companion(trace.full, iteration.index)
        ctx["estep"] = estep_context(iteration.estep, trace, iteration.index,
                                     exact=exact.estep if exact else None,
                                     full=full.estep if full else None)
        ctx["mstep"] = mstep_context(iteration.mstep, iteration.estep.params, trace,
                                     iteration.index, exact=exact.mstep if exact else None,
                                     full=full.mstep if full else None)
        if full is not None:
            ctx["log_likelihood_difference"] = _difference(
                "log_likelihood", iteration.log_likelihood_after, full.log_likelihood_after,
                trace.problem.decimals)
    return ctx


def _summary_rows(trace: Trace) -> list[dict[str, Any] | None]:
    its = trace.iterations
    rows: list[dict[str, Any] | None] = []
    for i in elide(len(its), trace.problem.max_rows):
        if i is None:
            rows.append(None)
            continue
        it = its[i]
        p = it.mstep.params
        rows.append({"index": it.index, "log_likelihood": it.log_likelihood,
                     "log_likelihood_after": it.log_likelihood_after, "gain": it.gain,
                     "weights": p.weights.tolist(), "means": p.means.tolist(),
                     "variances": p.variances.tolist(), "detailed": it.detailed})
    return rows


def _clustering(trace: Trace) -> dict[str, Any]:
    detail = trace.final.detail
    assert detail is not None
    resp = detail.resp
    best = resp.argmax(axis=1)
    ties = np.isclose(resp, resp.max(axis=1, keepdims=True), rtol=0, atol=1e-12).sum(axis=1) > 1
    labels = [trace.problem.component_label(k) for k in range(trace.problem.components)]
    log_resp = detail.log_resp
    rows = []
    for n in elide(resp.shape[0], trace.problem.max_rows):
        if n is None:
            rows.append(None)
            continue
        tied = [k + 1 for k in np.flatnonzero(
            np.isclose(resp[n], resp[n].max(), rtol=0, atol=1e-12))]
        rows.append({"n": n + 1, "x": float(detail.x[n]),
                     "resp": _log_values(resp[n], log_resp[n]),
                     "cluster": int(best[n]) + 1, "tie": tied if ties[n] else None})
    counts = [{"k": k + 1, "label": labels[k], "count": int(np.sum((best == k) & ~ties))}
              for k in range(len(labels))]
    return {"rows": rows, "counts": counts, "ties": int(ties.sum()),
            "omitted": resp.shape[0] - sum(r is not None for r in rows)}


def build_context(trace: Trace) -> dict[str, Any]:
    """The whole document's context."""
    if trace.problem.dim > 1:
        from .context_mv import build_context as build_multivariate

        return build_multivariate(trace)
    problem = trace.problem
    labels = [problem.component_label(k) for k in range(problem.components)]
    final = trace.final
    iterations = [iteration_context(it, trace) for it in trace.iterations]
    last = trace.iterations[-1] if trace.iterations else None
    events = [{"kind": e.kind, "k": e.component + 1, "value": e.value, "floor": e.floor}
              for e in trace.events]
    return {
        "dim": 1,
        "decimals": problem.decimals,
        "flavor": defaults.FLAVOR,
        "title": problem.title,
        "N": problem.n_samples,
        "K": problem.components,
        "named": problem.names is not None,
        "labels": labels,
        "data": [None if n is None else {"n": n + 1, "x": float(problem.data[n])}
                 for n in elide(problem.n_samples, problem.max_rows)],
        "kernel": problem.kernel,
        "updated": list(problem.update),
        "fixed": [p for p in defaults.PARAMETERS if p not in problem.update],
        "max_rows": problem.max_rows,
        "long_table_rows": defaults.LONG_TABLE_ROWS,
        "max_denominator": defaults.MAX_DENOMINATOR_WIDTH,
        "start": {"method": trace.start.method, "seed": trace.start.seed,
                  "params": _params_rows(trace.start.params, labels,
                                         trace.exact.start.params if trace.exact else None),
                  "equal_variances": _all_equal(trace.start.params.variances)},
        "stop": {"iterations": problem.iterations, "tol": problem.tol,
                 "reason": trace.stop_reason, "converged": trace.converged,
                 "ran": len(trace.iterations),
                 "last_gain": last.gain if last else None},
        "iterations": iterations,
        "detailed": [it for it in iterations if it["detailed"]],
        # The table of all iterations, whenever one iteration alone does not tell the story.
        "summary": (_summary_rows(trace) if len(trace.iterations) > 1
                    or any(not it.detailed for it in trace.iterations) else []),
        "estep_only": estep_context(
            final, trace, exact=trace.exact.final if trace.exact else None,
            full=trace.full.final if trace.full else None) if not trace.iterations else None,
        "final": {"params": _params_rows(final.params, labels),
                  "log_likelihood": final.log_likelihood,
                  "clustering": _clustering(trace),
                  "differences": _final_differences(trace)},
        "events": events,
        "exact": {"on": problem.exact,
                  "iterations": _exact_reach(trace),
                  "complete": problem.exact and trace.exact_budget is None,
                  "budget": trace.exact_budget,
                  "seconds": defaults.EXACT_SECONDS, "max_work": defaults.EXACT_MAX_WORK},
        "carry": problem.carry,
    }


def _final_differences(trace: Trace) -> list[dict[str, Any]]:
    """With a rounded carry: the final parameters and log-likelihood that print
    differently from the full-precision run."""
    if trace.full is None:
        return []
    assert trace.full.final is not None
    d = trace.problem.decimals
    mine, full = trace.final.params, trace.full.final.params
    found = [_difference(name, float(mine.get(p)[k]), float(full.get(p)[k]), d, k=k + 1)
             for k in range(trace.problem.components) for name, p in _PARAM_NAMES]
    found.append(_difference("log_likelihood", trace.final.log_likelihood,
                             trace.full.final.log_likelihood, d))
    return [f for f in found if f is not None]


def select_part(context: dict[str, Any], trace: Trace, part: str | None,
                iteration: int | None) -> dict[str, Any]:
    """*context* with ``part`` and ``selected`` (the iteration context the part shows).

    An iteration part shows *iteration* (default: the first one kept in detail), or the
    E-step of an E-step-only question.
    """
    context["part"] = part
    context["selected"] = None
    if part is None:
        if iteration is not None:
            raise ProblemError("--iteration", "choose a part to show (--part) with --iteration")
        return context
    if part not in defaults.PARTS:
        raise ProblemError("--part", f"expected one of {', '.join(defaults.PARTS)}, "
                                     f"but got {part!r}")
    ran = len(trace.iterations)
    if part in defaults.ITERATION_PARTS:
        if ran == 0:
            if part in ("mstep", "conclusion"):
                raise ProblemError("--part", f"there is no {part}: stop.iterations is 0 "
                                             f"(an E-step only)")
            if iteration not in (None, 0, 1):
                raise ProblemError("--iteration", f"expected 1 (the E-step only), "
                                                  f"but got {iteration}")
            return context
        detailed = [it for it in context["iterations"] if it["detailed"]]
        if iteration is None:
            if not detailed:
                raise ProblemError("--iteration", "no iteration is kept in detail "
                                                  "(display.detail); name one")
            context["selected"] = detailed[0]
            return context
        if not 1 <= iteration <= ran:
            raise ProblemError("--iteration", f"expected an iteration from 1 to {ran}, "
                                              f"but got {iteration}")
        chosen = context["iterations"][iteration - 1]
        if not chosen["detailed"]:
            raise ProblemError("--iteration", f"iteration {iteration} is not kept in detail; "
                                              f"add it to display.detail (--detail "
                                              f"{iteration})")
        context["selected"] = chosen
    elif part == "summary" and ran == 0:
        raise ProblemError("--part", "there is no summary: stop.iterations is 0 "
                                     "(an E-step only)")
    elif part == "plots" and not context["plots"]:
        raise ProblemError("--part", "the plots part needs the figures drawn (--plots and -o)")
    elif iteration is not None:
        raise ProblemError("--iteration", f"the {part} part belongs to no single iteration")
    return context
