"""Trace -> render context for d >= 2 (vectors and covariance matrices).

The same top-level keys as :mod:`explainer.render.context` where the meaning is the
same (iterations, stop, summary, clustering, ...); vectors are lists of floats and
matrices lists of rows, formatted by the templates. Nothing here recomputes EM: every
number is the trace's, or one of the textbook intermediates the trace derives
(deviation, Sigma^-1, |Sigma|, Mahalanobis term, outer products).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import defaults
from ..trace import EStep, Event, Iteration, MStep, Params, PointDetail, Trace
from .context import (_all_equal, _companion, _direction, _exact_reach, _highlight, _log_values,
                      _takeaway, elide, elide_terms)
from .filters import LogValue

# What each covariance type's M-step does, for the templates' formulas.
COVARIANCE_TYPE_NAMES = {"full": "full", "diag": "diagonal", "spherical": "spherical",
                         "tied": "tied (shared)"}


def _vector(values: Any) -> list[float]:
    return [float(v) for v in values]


def _matrix(values: Any) -> list[list[float]]:
    return [[float(v) for v in row] for row in values]


def _equal_matrices(matrices: np.ndarray) -> bool:
    return bool(np.all(matrices == matrices[0]))


def _params_rows(params: Params, labels: Sequence[str],
                 exact: Params | None = None) -> list[dict[str, Any]]:
    return [{"k": k + 1, "label": labels[k], "weight": float(params.weights[k]),
             "mean": _vector(params.means[k]), "cov": _matrix(params.variances[k]),
             "exact": None if exact is None else {
                 "weight": exact.weights[k], "mean": list(exact.means[k]),
                 "cov": [list(row) for row in exact.variances[k]]}}
            for k in range(len(labels))]


def _event(e: Event, weights: np.ndarray | None = None) -> dict[str, Any]:
    return {"kind": e.kind, "k": e.component + 1, "value": e.value, "floor": e.floor,
            "cause": e.cause, "points": e.points, "raise": e.floor - e.value,
            "weight": None if weights is None else float(weights[e.component])}


def _exact_component(detail: PointDetail, k: int) -> dict[str, Any]:
    return {"det": detail.determinant[k], "inv": [list(r) for r in detail.inverse[k]],
            "norm_const": detail.norm_const[k], "weight": detail.params.weights[k],
            "mean": list(detail.params.means[k]),
            "cov": [list(r) for r in detail.params.variances[k]]}


def _exact_row(detail: PointDetail, n: int) -> dict[str, Any]:
    return {"maha": list(detail.mahalanobis[n]), "density": list(detail.density[n]),
            "weighted": list(detail.weighted_density[n]), "mixture": detail.mixture_density[n],
            "resp": list(detail.resp[n]), "dev": [list(v) for v in detail.deviation[n]],
            "pdev": [list(v) for v in detail.precision_deviation[n]]}


def estep_context(estep: EStep, trace: Trace, index: int = 0,
                  exact: EStep | None = None) -> dict[str, Any]:
    """Everything the E-step section shows for d >= 2 (one E-step kept in detail)."""
    problem = trace.problem
    detail = estep.detail
    assert detail is not None
    params = estep.params
    labels = [problem.component_label(k) for k in range(problem.components)]
    n_samples, n_components = detail.resp.shape
    log_resp = detail.log_resp
    exact_detail = exact.detail if exact is not None else None

    def row(n: int) -> dict[str, Any]:
        return {
            "n": n + 1, "x": _vector(detail.x[n]),
            "maha": _vector(detail.mahalanobis[n]),
            "exponent": _vector(detail.exponent[n]),
            "density": _log_values(detail.density[n], detail.log_density[n]),
            "mixture": LogValue(float(detail.mixture_density[n]), float(detail.log_mixture[n])),
            "resp": _log_values(detail.resp[n], log_resp[n]),
            "dev": _matrix(detail.deviation[n]),
            "pdev": _matrix(detail.precision_deviation[n]),
            "exact": None if exact_detail is None else _exact_row(exact_detail, n),
        }

    rows = [None if n is None else row(n) for n in elide(n_samples, problem.max_rows)]
    highlight = [row(n) for n in _highlight(detail, problem.highlight)]
    d = problem.decimals
    logs = np.concatenate([detail.log_density.ravel(), log_resp.ravel(), detail.log_mixture])
    finite = logs[np.isfinite(logs)]
    underflow = np.flatnonzero(np.any(detail.log_density < defaults.EXP_UNDERFLOW, axis=1))
    equal_weights = _all_equal(params.weights)
    equal_covariances = _equal_matrices(params.variances)
    remarks = []
    if n_components > 1 and equal_weights:
        remarks.append({"kind": "equal_priors", "weight": float(params.weights[0])})
    if n_components > 1 and equal_covariances:
        remarks.append({"kind": "equal_covariances", "norm_const": float(detail.norm_const[0])})
    if n_components == 1:
        remarks.append({"kind": "single_component"})
    if bool(np.any(finite < np.log(0.5 * 10.0 ** -d))):
        remarks.append({"kind": "below_precision"})
    if underflow.size:
        remarks.append({"kind": "log_space", "point": row(int(underflow[0])),
                        "count": int(underflow.size)})
    takeaway = _takeaway(detail, labels, problem.max_rows)
    return {
        "index": index,
        "components": [{
            "k": k + 1, "label": labels[k], "weight": float(params.weights[k]),
            "mean": _vector(params.means[k]), "cov": _matrix(params.variances[k]),
            "det": float(detail.determinant[k]), "inv": _matrix(detail.inverse[k]),
            "norm_const": float(detail.norm_const[k]),
            "exact": None if exact_detail is None else _exact_component(exact_detail, k)}
            for k in range(n_components)],
        "exact": exact_detail is not None,
        "exact_missing": problem.exact and index == _exact_reach(trace) + 1,
        "equal_weights": equal_weights,
        "equal_covariances": equal_covariances,
        "rows": rows,
        "omitted": n_samples - sum(r is not None for r in rows),
        "highlight": highlight,
        "takeaway": takeaway,
        "remarks": remarks,
        "log_likelihood": estep.log_likelihood,
    }


def mstep_context(mstep: MStep, before: Params, trace: Trace, index: int,
                  exact: MStep | None = None) -> dict[str, Any]:
    """The written-out sums of one M-step for d >= 2: N_k, the weighted sums of vectors,
    the weighted outer products of the points worked in full, and the covariance
    update of the covariance type."""
    problem = trace.problem
    detail = mstep.detail
    assert detail is not None
    n_samples = detail.resp.shape[0]
    terms = elide_terms(n_samples, problem.max_rows)
    # The points whose outer products are written out: those worked in full in the E-step.
    chosen = [n - 1 for n in problem.highlight] if not isinstance(problem.highlight, str) \
        else sorted({int(np.argmin(detail.resp.max(axis=1))), 0})
    chosen = [n for n in chosen if n < n_samples][:defaults.OUTER_PRODUCT_POINTS]
    empty = {e.component for e in mstep.events if e.kind == "empty_component"}
    comps = []
    for k in range(problem.components):
        new = mstep.params
        shift = np.asarray(new.means[k], dtype=float) - np.asarray(before.means[k], dtype=float)
        length = float(np.linalg.norm(shift))
        pull = detail.mean_pull[:, k, :] @ shift if length else None
        puller = int(np.argmax(pull)) if pull is not None else None
        comps.append({
            "k": k + 1, "label": problem.component_label(k), "nk": float(mstep.nk[k]),
            "sum_rx": _vector(mstep.sum_rx[k]), "scatter": _matrix(mstep.sum_rsq[k]),
            "trace": float(np.trace(mstep.sum_rsq[k])),
            "empty": k in empty,
            "terms": [None if n is None else {
                "n": n + 1, "x": _vector(detail.x[n]), "r": float(detail.resp[n, k]),
                "mean_term": _vector(detail.mean_terms[n, k])} for n in terms],
            "outer": [{"n": n + 1, "x": _vector(detail.x[n]), "r": float(detail.resp[n, k]),
                       "dev": _vector(detail.new_deviation[n, k]),
                       "term": _matrix(detail.variance_terms[n, k])} for n in chosen],
            "before": {"weight": float(before.weights[k]), "mean": _vector(before.means[k]),
                       "cov": _matrix(before.variances[k]),
                       "det": float(np.linalg.det(np.asarray(before.variances[k], float)))},
            "after": {"weight": float(new.weights[k]), "mean": _vector(new.means[k]),
                      "cov": _matrix(new.variances[k]),
                      "det": float(np.linalg.det(np.asarray(new.variances[k], float)))},
            "moved": {"weight": _direction(float(before.weights[k]), float(new.weights[k]),
                                           problem.decimals)},
            "shift": _vector(shift), "shift_length": length,
            "puller": None if puller is None else {
                "n": puller + 1, "x": _vector(detail.x[puller]),
                "r": float(detail.resp[puller, k])},
            "exact": None if exact is None else {
                "nk": exact.nk[k], "weight": exact.params.weights[k],
                "mean": list(exact.params.means[k]),
                "cov": [list(r) for r in exact.params.variances[k]]},
        })
    return {
        "index": index,
        "components": comps,
        "updated": ["covariances" if p == "variances" else p for p in mstep.updated],
        "fixed": ["covariances" if p == "variances" else p
                  for p in defaults.PARAMETERS if p not in mstep.updated],
        "chosen": [n + 1 for n in chosen],
        "scatter_total": _matrix(np.sum(np.asarray(mstep.sum_rsq, dtype=float), axis=0)),
        "events": [_event(e, mstep.params.weights) for e in mstep.events],
        "exact": exact is not None,
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
        ctx["estep"] = estep_context(iteration.estep, trace, iteration.index,
                                     exact=exact.estep if exact else None)
        ctx["mstep"] = mstep_context(iteration.mstep, iteration.estep.params, trace,
                                     iteration.index, exact=exact.mstep if exact else None)
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
                     "weights": p.weights.tolist(), "means": _matrix(p.means),
                     "dets": np.linalg.det(np.asarray(p.variances, dtype=float)).tolist(),
                     "detailed": it.detailed})
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
        rows.append({"n": n + 1, "x": _vector(detail.x[n]),
                     "resp": _log_values(resp[n], log_resp[n]),
                     "cluster": int(best[n]) + 1, "tie": tied if ties[n] else None})
    counts = [{"k": k + 1, "label": labels[k], "count": int(np.sum((best == k) & ~ties))}
              for k in range(len(labels))]
    return {"rows": rows, "counts": counts, "ties": int(ties.sum()),
            "omitted": resp.shape[0] - sum(r is not None for r in rows)}


def build_context(trace: Trace) -> dict[str, Any]:
    """The whole document's context for d >= 2."""
    problem = trace.problem
    labels = [problem.component_label(k) for k in range(problem.components)]
    final = trace.final
    iterations = [iteration_context(it, trace) for it in trace.iterations]
    last = trace.iterations[-1] if trace.iterations else None
    return {
        "dim": problem.dim,
        "covariance_type": problem.covariance_type,
        "covariance_type_name": COVARIANCE_TYPE_NAMES[problem.covariance_type],
        "decimals": problem.decimals,
        "flavor": defaults.FLAVOR,
        "title": problem.title,
        "N": problem.n_samples,
        "K": problem.components,
        "named": problem.names is not None,
        "labels": labels,
        "data": [None if n is None else {"n": n + 1, "x": _vector(problem.data[n])}
                 for n in elide(problem.n_samples, problem.max_rows)],
        "kernel": problem.kernel,
        "updated": ["covariances" if p == "variances" else p for p in problem.update],
        "fixed": ["covariances" if p == "variances" else p
                  for p in defaults.PARAMETERS if p not in problem.update],
        "max_rows": problem.max_rows,
        "long_table_rows": defaults.LONG_TABLE_ROWS,
        "max_denominator": defaults.MAX_DENOMINATOR_WIDTH,
        "start": {"method": trace.start.method, "seed": trace.start.seed,
                  "params": _params_rows(trace.start.params, labels,
                                         trace.exact.start.params if trace.exact else None),
                  "events": [_event(e) for e in trace.start.events]},
        "stop": {"iterations": problem.iterations, "tol": problem.tol,
                 "reason": trace.stop_reason, "converged": trace.converged,
                 "ran": len(trace.iterations),
                 "last_gain": last.gain if last else None},
        "iterations": iterations,
        "detailed": [it for it in iterations if it["detailed"]],
        "summary": (_summary_rows(trace) if len(trace.iterations) > 1
                    or any(not it.detailed for it in trace.iterations) else []),
        "estep_only": estep_context(
            final, trace, exact=trace.exact.final if trace.exact else None)
        if not trace.iterations else None,
        "final": {"params": _params_rows(final.params, labels),
                  "log_likelihood": final.log_likelihood,
                  "clustering": _clustering(trace),
                  "differences": []},
        "events": [_event(e) for e in trace.events],
        "exact": {"on": problem.exact,
                  "iterations": _exact_reach(trace),
                  "complete": problem.exact and trace.exact_budget is None,
                  "budget": trace.exact_budget,
                  "seconds": defaults.EXACT_SECONDS, "max_work": defaults.EXACT_MAX_WORK},
        "carry": problem.carry,
    }
