"""Trace -> render context for d >= 2 (vectors and covariance matrices).

The same top-level keys as :mod:`explainer.render.context` where the meaning is the
same (iterations, stop, summary, clustering, ...); vectors are lists of floats and
matrices lists of rows, formatted by the templates. Nothing here recomputes EM: every
number is the trace's, or one of the textbook intermediates the trace derives
(deviation, Sigma^-1, |Sigma|, Mahalanobis term, outer products).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Sequence

import numpy as np

from .. import defaults
from ..trace import EStep, Event, Iteration, MStep, Params, PointDetail, Trace
from . import shown as sh
from .shown import Cell
from .sheet import Later, Sheet
from .skeleton import (all_equal, companion, direction, document, elide,
                       elide_terms, exact_reach, gap_of, gap_term, highlight_points,
                       iteration_head, kept_given, row_sums, scientific_remark, takeaway,
                       wanted_summary)

# What each covariance type's M-step does, for the templates' formulas.
COVARIANCE_TYPE_NAMES = {"full": "full", "diag": "diagonal", "spherical": "spherical",
                         "tied": "tied (shared)"}


def _vector(values: Any) -> list[float]:
    return [float(v) for v in values]


def _matrix(values: Any) -> list[list[float]]:
    return [[float(v) for v in row] for row in values]


def _equal_matrices(matrices: np.ndarray) -> bool:
    return bool(np.all(matrices == matrices[0]))


def _params_cells(sheet: Sheet, params: Params, version: Any, given: bool,
                  n_components: int) -> dict[str, Any]:
    """The cells of one version of the parameters: weights, mean vectors, covariance
    matrices (see :func:`.context._params_cells`)."""
    return {
        "weights": [sheet.cell(("weights", version, k), float(params.weights[k]), given=given)
                    for k in range(n_components)],
        "means": [[sheet.cell(("means", version, k, i), float(v), given=given)
                   for i, v in enumerate(params.means[k])] for k in range(n_components)],
        "covs": [[[sheet.cell(("covs", version, k, *_pair(i, j)), float(v), given=given)
                   for j, v in enumerate(row)] for i, row in enumerate(params.variances[k])]
                 for k in range(n_components)],
    }


def _params_rows(cells: dict[str, Any], labels: Sequence[str],
                 exact: Params | None = None) -> list[dict[str, Any]]:
    return [{"k": k + 1, "label": labels[k], "weight": cells["weights"][k],
             "mean": cells["means"][k], "cov": cells["covs"][k],
             "exact": None if exact is None else {
                 "weight": exact.weights[k], "mean": list(exact.means[k]),
                 "cov": [list(row) for row in exact.variances[k]]}}
            for k in range(len(labels))]


def _event(e: Event, weights: np.ndarray | None = None) -> dict[str, Any]:
    return {"kind": e.kind, "k": e.component + 1, "value": e.value, "floor": e.floor,
            "cause": e.cause, "points": e.points, "raise": e.floor - e.value,
            "weight": None if weights is None else float(weights[e.component])}


def _exact_component(detail: PointDetail, k: int) -> dict[str, Any]:
    cov = detail.params.variances[k]
    return {"det": detail.determinant[k], "inv": [list(r) for r in detail.inverse[k]],
            "adj": [[cov[1][1], -cov[0][1]], [-cov[1][0], cov[0][0]]] if len(cov) == 2
            else None,
            "norm_const": detail.norm_const[k], "weight": detail.params.weights[k],
            "mean": list(detail.params.means[k]),
            "cov": [list(r) for r in detail.params.variances[k]]}


def _exact_row(detail: PointDetail, n: int) -> dict[str, Any]:
    return {"maha": list(detail.mahalanobis[n]), "density": list(detail.density[n]),
            "weighted": list(detail.weighted_density[n]), "mixture": detail.mixture_density[n],
            "resp": list(detail.resp[n]), "dev": [list(v) for v in detail.deviation[n]],
            "pdev": [list(v) for v in detail.precision_deviation[n]]}


def _pair(i: int, j: int) -> tuple[int, int]:
    """The key of a symmetric matrix's entry: (i, j) and (j, i) are one printed number."""
    return (i, j) if i <= j else (j, i)


def _component_constants(sheet: Sheet, detail: PointDetail, covs: list[Any], version: int
                         ) -> tuple[list[Cell], list[Any], list[Any], list[Cell]]:
    """Each component's |Sigma_k|, Sigma_k^-1, adjugate (d = 2: written out, the inverse
    as adj(Sigma) / |Sigma|; else None) and c_k = 1 / ((2 pi)^(d/2) sqrt|Sigma_k|)."""
    dim = detail.x.shape[1]
    det, inv, adj, norm = [], [], [], []
    for k, c in enumerate(covs):
        det_k = sheet.cell(("det", version, k), float(detail.determinant[k]), compact=True)
        inv_k = [[sheet.cell(("inv", version, k, *_pair(i, j)), float(v), compact=True)
                  for j, v in enumerate(row)] for i, row in enumerate(detail.inverse[k])]
        norm_k = sheet.cell(("norm", version, k), float(detail.norm_const[k]),
                            log=float(detail.log_norm_const[k]))
        adj_k = None
        if dim == 2:
            # |Sigma| = a d - b c, and Sigma^-1 = adj(Sigma) / |Sigma|, as written.
            sheet.equation(("det", version, k), det_k, [c[0][0], c[1][1], c[0][1], c[1][0]],
                           lambda a, d, b, cc: a * d - b * cc)
            off = sheet.scaled(("adj", version, k, 0, 1), c[0][1], "-1")
            adj_k = [[c[1][1], off], [off, c[0][0]]]
            for i in range(2):
                for j in range(2):
                    sheet.equation(("inv", version, k, *_pair(i, j)), inv_k[i][j],
                                   [adj_k[i][j], det_k],
                                   lambda a, dt: a / dt)
        # c_k = 1 / ((2 pi)^(d/2) sqrt|Sigma_k|)
        sheet.equation(("norm", version, k), norm_k, [det_k],
                       lambda dt: 1 / ((2 * sh.pi()) ** (Decimal(dim) / 2) * dt.sqrt()))
        det.append(det_k)
        inv.append(inv_k)
        adj.append(adj_k)
        norm.append(norm_k)
    return det, inv, adj, norm


def estep_context(estep: EStep, trace: Trace, index: int = 0,
                  exact: EStep | None = None, sheet: Sheet | None = None) -> dict[str, Any]:
    """Everything the E-step section shows for d >= 2 (one E-step kept in detail); its
    parameters are version ``index - 1`` of the sheet, as this E-step uses them."""
    problem = trace.problem
    sheet = sheet if sheet is not None else Sheet(problem.decimals)
    detail = estep.detail
    assert detail is not None
    params = estep.params
    labels = [problem.component_label(k) for k in range(problem.components)]
    n_samples, n_components = detail.resp.shape
    dim = problem.dim
    exact_detail = exact.detail if exact is not None else None
    version = max(index - 1, 0)
    cells = _params_cells(sheet, params, ("estep", version),
                          version == 0 and trace.start.method == "given", n_components)
    weights, means, covs = cells["weights"], cells["means"], cells["covs"]
    det, inv, adj, norm = _component_constants(sheet, detail, covs, version)

    def row(n: int, worked: bool = False) -> dict[str, Any]:
        x = [sheet.cell(("x", n, i), float(v), given=True) for i, v in enumerate(detail.x[n])]
        dev, pdev, maha, exponent, density, resp = [], [], [], [], [], []
        for k in range(n_components):
            dev_k = [sheet.cell(("dev", version, n, k, i), float(v), compact=True)
                     for i, v in enumerate(detail.deviation[n, k])]
            pdev_k = [sheet.cell(("pdev", version, n, k, i), float(v), compact=True)
                      for i, v in enumerate(detail.precision_deviation[n, k])]
            maha_k = sheet.cell(("maha", version, n, k), float(detail.mahalanobis[n, k]),
                                compact=True)
            if worked:
                for i in range(dim):
                    # x_n - mu_k, Sigma_k^-1 (x_n - mu_k) and the quadratic form, written out.
                    sheet.equation(("dev", version, n, k, i), dev_k[i], [x[i], means[k][i]],
                                   lambda a, b: a - b)
                    sheet.equation(("pdev", version, n, k, i), pdev_k[i],
                                   [c for j in range(dim) for c in (inv[k][i][j], dev_k[j])],
                                   sh.sum_of_products)
                sheet.equation(("maha", version, n, k), maha_k,
                               [c for i in range(dim) for c in (dev_k[i], pdev_k[i])],
                               sh.sum_of_products)
            # The exponent -Delta^2 / 2, a number of its own (half a rounded Delta^2 need not
            # be the exponent rounded).
            e = sheet.cell(("exponent", version, n, k), float(detail.exponent[n, k]),
                           compact=True)
            sheet.equation(("exponent", version, n, k), e, [maha_k], lambda m: -m / 2)
            dev.append(dev_k)
            pdev.append(pdev_k)
            maha.append(maha_k)
            exponent.append(e)
            density.append(sheet.density(version, n, k, detail, norm[k], e))
            resp.append(sheet.resp(version, n, k, detail))
        mixture = sheet.mixture(version, n, detail, weights, density)
        if worked:
            for k in range(n_components):  # pi_k N_nk / p(x_n)
                sheet.worked_resp(version, n, k, resp[k], weights[k], density[k],
                                  mixture=mixture)
        return {
            "n": n + 1, "x": x, "maha": maha, "exponent": exponent, "density": density,
            "mixture": mixture, "resp": resp, "dev": dev, "pdev": pdev,
            "exact": None if exact_detail is None else _exact_row(exact_detail, n),
        }

    rows = [None if n is None else row(n) for n in elide(n_samples, problem.max_rows)]
    highlight = [row(n, worked=True) for n in highlight_points(detail, problem.highlight)]
    underflow = np.flatnonzero(np.any(detail.log_density < defaults.EXP_UNDERFLOW, axis=1))
    equal_weights = all_equal(params.weights)
    equal_covariances = _equal_matrices(params.variances)
    remarks = []
    if n_components > 1 and equal_weights:
        remarks.append({"kind": "equal_priors", "weight": weights[0]})
    if n_components > 1 and equal_covariances:
        remarks.append({"kind": "equal_covariances", "norm_const": norm[0]})
    if n_components == 1:
        remarks.append({"kind": "single_component"})
    remarks.extend(scientific_remark(rows + highlight, problem.decimals))
    if underflow.size:
        remarks.append({"kind": "log_space", "point": row(int(underflow[0])),
                        "count": int(underflow.size)})
    resp_cell = lambda n, k: sheet.resp(version, n, k, detail)
    return {
        "index": index,
        "components": [{
            "k": k + 1, "label": labels[k], "weight": weights[k],
            "mean": means[k], "cov": covs[k], "det": det[k], "inv": inv[k], "adj": adj[k],
            "norm_const": norm[k],
            "exact": None if exact_detail is None else _exact_component(exact_detail, k)}
            for k in range(n_components)],
        "exact": exact_detail is not None,
        "exact_missing": problem.exact and index == exact_reach(trace) + 1,
        "equal_weights": equal_weights,
        "equal_covariances": equal_covariances,
        "rows": rows,
        "omitted": n_samples - sum(r is not None for r in rows),
        "highlight": highlight,
        "takeaway": Later(lambda: takeaway(detail, labels, problem.max_rows, resp_cell)),
        "row_sums": Later(lambda: row_sums(rows, problem.decimals, carried=(
            detail.resp if problem.carry == "rounded" else None))),
        "remarks": remarks,
        "log_likelihood": sheet.cell(("ll", version), estep.log_likelihood),
    }


def _floored(sheet: Sheet, mstep: MStep, index: int, k: int, cov: list[list[Cell]]
             ) -> tuple[list[list[Cell]], Cell | None]:
    """Component k's covariance as its update writes it: the M-step's own matrix where
    the floor raised it (with the lift, and the equations of the raised entries), else
    the new covariance's cells (and no lift)."""
    floor = next((e for e in mstep.events
                  if e.kind == "covariance_floor" and e.component == k), None)
    if floor is None:
        return cov, None
    dim = len(cov)
    # The M-step's own matrix, before the floor added (floor - lambda) I to it.
    lift = floor.floor - floor.value
    raised = sheet.cell(("lift", index, k), lift)
    raw = [[sheet.cell(("raw_covs", index, k, *_pair(i, j)),
                       float(mstep.params.variances[k][i][j]) - (lift if i == j else 0.0))
            for j in range(dim)] for i in range(dim)]
    for i in range(dim):
        for j in range(dim):
            if i == j:
                sheet.equation(("lifted", index, k, i, j), cov[i][j],
                               [raw[i][j], raised], lambda a, b: a + b)
            else:
                sheet.equation(("lifted", index, k, *_pair(i, j)), cov[i][j],
                               [raw[i][j]], lambda a: a)
    return raw, raised


def _covariance_update(sheet: Sheet, index: int, k: int, covariance_type: str,
                       cov: list[list[Cell]], scatter: list[list[Cell]], trace_k: Cell,
                       nk: Cell, total: list[list[Cell]], n_samples: int) -> None:
    """The equations of component k's covariance entries in its covariance type: S_k / N_k
    (full; diag on the diagonal), tr(S_k) / (d N_k) (spherical), the scatter summed over
    the components / N (tied)."""
    dim = len(cov)
    for i in range(dim):
        for j in range(dim):
            key = ("covs", index, k, *_pair(i, j))
            if covariance_type == "full" or (covariance_type == "diag" and i == j):
                sheet.equation(key, cov[i][j], [scatter[i][j], nk], lambda a, b: a / b)
            elif covariance_type == "spherical" and i == j:
                sheet.equation(key, cov[i][j], [trace_k, nk],
                               lambda t, b, d=dim: t / (d * b))
            elif covariance_type == "tied":
                sheet.equation(key, cov[i][j], [total[i][j]], lambda a: a / n_samples)


def _outer_product(sheet: Sheet, detail: Any, index: int, n: int, k: int, r: Cell,
                   x: list[Cell]) -> dict[str, Any]:
    """Point n's weighted outer product r_nk (x_n - mu_k)(x_n - mu_k)^T, written out."""
    dev = [sheet.cell(("mstep-dev", index, n, k, i), float(v))
           for i, v in enumerate(detail.new_deviation[n, k])]
    term = [[sheet.cell(("outer", index, n, k, *_pair(i, j)), float(v)) for j, v in
             enumerate(row)] for i, row in enumerate(detail.variance_terms[n, k])]
    for i in range(len(dev)):
        for j in range(len(dev)):
            # r_nk (x_n - mu_k)_i (x_n - mu_k)_j
            sheet.equation(("outer", index, n, k, *_pair(i, j)), term[i][j],
                           [r, dev[i], dev[j]], lambda a, b, c: a * b * c)
    return {"n": n + 1, "x": x, "r": r, "dev": dev, "term": term}


def mstep_context(mstep: MStep, before: Params, trace: Trace, index: int,
                  exact: MStep | None = None, sheet: Sheet | None = None,
                  log_resp: Callable[[int], np.ndarray] | None = None) -> dict[str, Any]:
    """The written-out sums of one M-step for d >= 2: N_k, the weighted sums of vectors,
    the weighted outer products of the points worked in full, and the covariance
    update of the covariance type; version ``index - 1`` of the parameters becomes
    version *index*."""
    problem = trace.problem
    sheet = sheet if sheet is not None else Sheet(problem.decimals)
    detail = mstep.detail
    assert detail is not None
    n_samples = detail.resp.shape[0]
    n_components = problem.components
    dim = problem.dim
    terms = elide_terms(n_samples, problem.max_rows)
    rest = gap_of(terms)  # the rows a written-out sum leaves out, as one subtotal
    written = [n for n in terms if n is not None]
    # The points whose outer products are written out: those worked in full in the E-step.
    chosen = [n - 1 for n in problem.highlight] if not isinstance(problem.highlight, str) \
        else sorted({int(np.argmin(detail.resp.max(axis=1))), 0})
    chosen = [n for n in chosen if n < n_samples][:defaults.OUTER_PRODUCT_POINTS]
    empty = {e.component for e in mstep.events if e.kind == "empty_component"}
    old = _params_cells(sheet, before, ("before", index - 1),
                        index == 1 and trace.start.method == "given", n_components)
    new = _params_cells(sheet, mstep.params, index, False, n_components)
    # Cells only for the points the sums and outer products write out.
    shown_points = sorted({n for n in terms if n is not None} | set(chosen))
    x = {n: [sheet.cell(("x", n, i), float(v), given=True) for i, v in enumerate(detail.x[n])]
         for n in shown_points}

    def r_cell(n: int, k: int) -> Cell:
        return sheet.cell(("mstep-resp", index - 1, n, k), float(detail.resp[n, k]),
                          log=None if log_resp is None else float(log_resp(n)[k]))

    covariance_type = problem.covariance_type
    scatter_total = np.sum(np.asarray(mstep.sum_rsq, dtype=float), axis=0)
    total = [[sheet.cell(("scatter_total", index, *_pair(i, j)), float(v))
              for j, v in enumerate(row)]
             for i, row in enumerate(scatter_total)]
    comps = []
    for k in range(n_components):
        params = mstep.params
        shift = np.asarray(params.means[k], dtype=float) - np.asarray(before.means[k],
                                                                       dtype=float)
        length = float(np.linalg.norm(shift))
        pull = detail.mean_pull_of(k) @ shift if length else None
        puller = int(np.argmax(pull)) if pull is not None else None
        nk = sheet.cell(("nk", index, k), float(mstep.nk[k]))
        rk = {n: r_cell(n, k) for n in shown_points}
        sum_rx = [sheet.cell(("sum_rx", index, k, i), float(v))
                  for i, v in enumerate(mstep.sum_rx[k])]
        scatter = [[sheet.cell(("scatter", index, k, *_pair(i, j)), float(v)) for j, v in
                    enumerate(row)] for i, row in enumerate(mstep.sum_rsq[k])]
        trace_k = sheet.cell(("trace", index, k), float(np.trace(mstep.sum_rsq[k])))
        gap = None
        if rest:
            r_rest = detail.resp[rest, k]
            gap = gap_term(rest, r=sheet.subtotal(("nk-rest", index, k), r_rest), rx=[
                sheet.subtotal(("sum_rx-rest", index, k, i), r_rest * detail.x[rest, i])
                for i in range(dim)])
        sheet.equation(("nk", index, k), nk,
                       [rk[n] for n in written] + ([gap["r"]] if gap else []), sh.d_sum)
        for i in range(dim):
            pairs = [c for n in written for c in (rk[n], x[n][i])]
            if gap:
                sheet.equation(("sum_rx", index, k, i), sum_rx[i], [*pairs, gap["rx"][i]],
                               sh.products_and_rest)
            else:
                sheet.equation(("sum_rx", index, k, i), sum_rx[i], pairs, sh.sum_of_products)
        if "weights" in mstep.updated:
            sheet.equation(("weights", index, k), new["weights"][k], [nk],
                           lambda v: v / n_samples)
        if "means" in mstep.updated and k not in empty:
            for i in range(dim):
                sheet.equation(("means", index, k, i), new["means"][k][i], [nk, sum_rx[i]],
                               lambda a, b: b / a)
        cov, raised = _floored(sheet, mstep, index, k, new["covs"][k])
        if "variances" in mstep.updated and k not in empty:
            sheet.equation(("trace", index, k), trace_k,
                           [scatter[j][j] for j in range(dim)], sh.d_sum)
            _covariance_update(sheet, index, k, covariance_type, cov, scatter, trace_k, nk,
                               total, n_samples)
        outer = [_outer_product(sheet, detail, index, n, k, rk[n], x[n]) for n in chosen]
        comps.append({
            "k": k + 1, "label": problem.component_label(k), "nk": nk,
            "sum_rx": sum_rx, "scatter": scatter, "trace": trace_k,
            "empty": k in empty,
            "terms": [gap if n is None else {"n": n + 1, "x": x[n], "r": rk[n]}
                      for n in terms],
            "outer": outer,
            "raw": None if raised is None else {"cov": cov, "lift": raised},
            "before": {"weight": old["weights"][k], "mean": old["means"][k],
                       "cov": old["covs"][k],
                       "det": float(np.linalg.det(np.asarray(before.variances[k], float)))},
            "after": {"weight": new["weights"][k], "mean": new["means"][k],
                      "cov": new["covs"][k],
                      "det": float(np.linalg.det(np.asarray(params.variances[k], float)))},
            "moved": {"weight": direction(float(before.weights[k]), float(params.weights[k]),
                                           problem.decimals)},
            "shift": _vector(shift), "shift_length": length,
            "puller": None if puller is None else {
                "n": puller + 1, "x": _vector(detail.x[puller]), "r": r_cell(puller, k)},
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
        "scatter_total": total,
        "events": [_event(e, mstep.params.weights) for e in mstep.events],
        "exact": exact is not None,
    }


def iteration_context(iteration: Iteration, trace: Trace,
                      sheet: Sheet | None = None) -> dict[str, Any]:
    sheet = sheet if sheet is not None else Sheet(trace.problem.decimals)
    i = iteration.index
    ctx = iteration_head(iteration, sheet)
    if iteration.detailed:
        exact = companion(trace.exact, i)
        ctx["estep"] = estep_context(iteration.estep, trace, i,
                                     exact=exact.estep if exact else None, sheet=sheet)
        assert iteration.estep.detail is not None
        ctx["mstep"] = mstep_context(iteration.mstep, iteration.estep.params, trace, i,
                                     exact=exact.mstep if exact else None, sheet=sheet,
                                     log_resp=iteration.estep.detail.log_resp_of)
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
    log_resp = detail.log_resp_of
    rows = []
    for n in elide(resp.shape[0], trace.problem.max_rows):
        if n is None:
            rows.append(None)
            continue
        tied = [k + 1 for k in np.flatnonzero(
            np.isclose(resp[n], resp[n].max(), rtol=0, atol=1e-12))]
        rows.append({"n": n + 1, "x": _vector(detail.x[n]),
                     "resp": [sh.show(float(v), trace.problem.decimals, log=float(lv))
                              for v, lv in zip(resp[n], log_resp(n))],
                     "cluster": int(best[n]) + 1, "tie": tied if ties[n] else None})
    counts = [{"k": k + 1, "label": labels[k], "count": int(np.sum((best == k) & ~ties))}
              for k in range(len(labels))]
    return {"rows": rows, "counts": counts, "ties": int(ties.sum()),
            "omitted": resp.shape[0] - sum(r is not None for r in rows)}


def build_context(trace: Trace) -> dict[str, Any]:
    """The whole document's context for d >= 2 (a hand calculation's, d = 2, printed as
    carried)."""
    sheet = Sheet(trace.problem.decimals, grow=trace.problem.carry == "full",
                  align=not trace.problem.exact)
    sheet.kept_given = kept_given(trace)
    return document(trace, sheet, iteration_context, _estep_only, _model)


def _estep_only(trace: Trace, sheet: Sheet) -> dict[str, Any]:
    return estep_context(trace.final, trace,
                         exact=trace.exact.final if trace.exact else None, sheet=sheet)


def _model(trace: Trace, sheet: Sheet, labels: list[str]) -> Any:
    """The d >= 2 model's keys of the document (see skeleton.document)."""
    problem = trace.problem
    final = trace.final
    ran = len(trace.iterations)
    given = trace.start.method == "given"
    start = _params_cells(sheet, trace.start.params, 0, given, problem.components)
    end = _params_cells(sheet, final.params, ran, given and not ran, problem.components)

    def keys() -> dict[str, Any]:
        return {
            "dim": problem.dim,
            "covariance_type": problem.covariance_type,
            "covariance_type_name": COVARIANCE_TYPE_NAMES[problem.covariance_type],
            "data": [None if n is None else {"n": n + 1, "x": [
                        sheet.cell(("x", n, i), float(v), given=True)
                        for i, v in enumerate(problem.data[n])]}
                     for n in elide(problem.n_samples, problem.max_rows)],
            "updated": ["covariances" if p == "variances" else p for p in problem.update],
            "fixed": ["covariances" if p == "variances" else p
                      for p in defaults.PARAMETERS if p not in problem.update],
            "start": {"method": trace.start.method, "seed": trace.start.seed,
                      "params": _params_rows(start, labels, trace.exact.start.params
                                             if trace.exact else None),
                      "events": [_event(e) for e in trace.start.events]},
            "summary": _summary_rows(trace) if wanted_summary(trace) else [],
            "final": {"params": _params_rows(end, labels),
                      "log_likelihood": sheet.cell(("ll", ran), final.log_likelihood),
                      "clustering": _clustering(trace),
                      "differences": []},
            "events": [_event(e) for e in trace.events],
        }
    return keys
