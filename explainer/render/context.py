"""Trace -> render context: plain data (numbers, indices, flags) for the templates.

No output syntax here: numbers stay numbers (templates format them with the
filters), and remarks are named by kind (templates hold their wording).
Nothing here recomputes EM; it selects, orders and classifies what the trace holds.
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Sequence

import numpy as np

from .. import defaults
from . import shown as sh
from .shown import Cell
from .sheet import Later, Sheet
from .skeleton import (all_equal, companion, difference, direction, document, elide,
                       elide_terms, estep_differences, exact_reach, gap_of, gap_term,
                       highlight_points, iteration_head, kept_given, row_sums,
                       scientific_remark, takeaway, wanted_summary)
from ..trace import EStep, Iteration, MStep, Params, PointDetail, Trace






def _params_cells(sheet: Sheet, params: Params, version: Any, given: bool,
                  labels: Sequence[str]) -> dict[str, list[Cell]]:
    """The cells of one version of the parameters (0: the start; i: after iteration i;
    a tuple such as ``("estep", i)``: version i as one section uses it)."""
    return {name: [sheet.cell((name, version, k), float(params.get(name)[k]),
                              given=given or name in sheet.kept_given)
                   for k in range(len(labels))] for name in defaults.PARAMETERS}








_PARAM_NAMES = (("weight", "weights"), ("mean", "means"), ("variance", "variances"))














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


def _spread_cells(sheet: Sheet, detail: PointDetail, params: Params, version: int,
                  variances: list[Cell], normalized: bool) -> tuple[list[Cell], list[Cell]]:
    """Each component's 2 sigma_k^2 (a number of its own: twice a rounded sigma^2 need
    not be 2 sigma^2 rounded) and c_k = 1 / sqrt(2 pi sigma_k^2) (written out where the
    kernel is normalized)."""
    two_var = []
    for k, variance in enumerate(variances):
        tv = sheet.cell(("two_var", version, k), 2 * float(params.variances[k]),
                        compact=True)
        sheet.equation(("two_var", version, k), tv, [variance], lambda v: 2 * v)
        two_var.append(tv)
    norm = []
    for k, variance in enumerate(variances):
        c = sheet.cell(("norm", version, k), float(detail.norm_const[k]),
                       log=float(detail.log_norm_const[k]))
        if normalized:
            sheet.equation(("norm", version, k), c, [variance],
                           lambda v: 1 / (2 * sh.pi() * v).sqrt())
        norm.append(c)
    return two_var, norm


def _estep_remarks(detail: PointDetail, weights: list[Cell], norm: list[Cell],
                   equal_weights: bool, equal_variances: bool, rows: list[Any],
                   decimals: int, point_cells: Callable[[int], dict[str, Any]]
                   ) -> list[dict[str, Any]]:
    """What the E-step remarks on: equal weights or variances that cancel, the dropped
    constant, a single component, numbers in scientific notation, and the points whose
    densities underflow (computed in log space)."""
    n_components = len(weights)
    normalized = detail.kernel == "normalized"
    remarks: list[dict[str, Any]] = []
    if n_components > 1 and equal_weights:
        remarks.append({"kind": "equal_priors", "weight": weights[0]})
    if n_components > 1 and equal_variances and normalized:
        remarks.append({"kind": "equal_variances", "norm_const": norm[0]})
    if detail.kernel == "proportional":
        remarks.append({"kind": "proportional", "norm_const": norm[0]})
    if n_components == 1:
        remarks.append({"kind": "single_component"})
    remarks.extend(scientific_remark(rows, decimals))
    underflow = np.flatnonzero(np.any(detail.log_density < defaults.EXP_UNDERFLOW, axis=1))
    if underflow.size:
        remarks.append({"kind": "log_space", "point": point_cells(int(underflow[0])),
                        "count": int(underflow.size)})
    return remarks


def estep_context(estep: EStep, trace: Trace, index: int = 0, exact: EStep | None = None,
                  full: EStep | None = None, sheet: Sheet | None = None) -> dict[str, Any]:
    """Everything the E-step section shows, for one E-step kept in detail; *exact* and
    *full* are the same E-step in a companion run (exact values, full precision).

    Its parameters are version ``index - 1`` of the sheet (the start for iteration 1 and
    for the E-step-only question, *index* 0)."""
    problem = trace.problem
    sheet = sheet if sheet is not None else Sheet(problem.decimals)
    detail = estep.detail
    assert detail is not None
    params = estep.params
    version = max(index - 1, 0)
    labels = [problem.component_label(k) for k in range(problem.components)]
    n_samples, n_components = detail.resp.shape
    equal_weights = all_equal(params.weights)
    equal_variances = all_equal(params.variances)
    exact_detail = exact.detail if exact is not None else None
    cancel = ("weighted" if not equal_weights or n_components == 1 else
              "kernel" if detail.kernel == "proportional" or equal_variances else "density")
    normalized = detail.kernel == "normalized"
    # A hand calculation (rounded carry) divides by its rounded p(x_n): it writes that
    # denominator, not the sum it was rounded from.
    full_denominators = (n_components <= defaults.FULL_DENOMINATOR_COMPONENTS
                         and problem.carry == "full")
    # The parameters as this E-step uses them: cells of their own, so that digits the
    # E-step needs do not travel back into the M-step that computed them.
    cells = _params_cells(sheet, params, ("estep", version),
                          version == 0 and trace.start.method == "given", labels)
    weights, means, variances = cells["weights"], cells["means"], cells["variances"]
    if equal_weights:
        # Equal weights cancel in a worked r_nk: one printed number, so that they do.
        weights = [weights[0]] * n_components
    two_var, norm = _spread_cells(sheet, detail, params, version, variances, normalized)

    def point_cells(n: int) -> dict[str, Any]:
        """The cells of point n's row, with the equations that print them."""
        x = sheet.cell(("x", n), float(detail.x[n]), given=True)
        exponent, density, resp = [], [], []
        for k in range(n_components):
            e = sheet.cell(("exponent", version, n, k), float(detail.exponent[n, k]),
                           compact=True)
            # -(x_n - mu_k)^2 / (2 sigma_k^2)
            sheet.equation(("exponent", version, n, k), e, [x, means[k], two_var[k]],
                           lambda xv, m, tv: -((xv - m) ** 2) / tv)
            exponent.append(e)
            density.append(sheet.density(version, n, k, detail, norm[k] if normalized else None,
                                         e))
            resp.append(sheet.resp(version, n, k, detail))
        mixture = sheet.mixture(version, n, detail, weights, density)
        return {"n": n + 1, "x": x, "exponent": exponent, "density": density,
                "mixture": mixture, "resp": resp,
                "exponent_min": float(np.min(detail.exponent[n])),
                "exact": None if exact_detail is None else _exact_row(exact_detail, n, cancel)}

    def worked(n: int) -> dict[str, Any]:
        """A highlighted point: its row, and the equations of its worked r_nk."""
        row = point_cells(n)
        pairs = [c for k in range(n_components) for c in (weights[k], row["density"][k])]
        for k in range(n_components):
            # The template writes every term out, or divides by p(x_n) where that line
            # would be too wide: both forms hold.
            sheet.worked_resp(version, n, k, row["resp"][k], weights[k], row["density"][k],
                              pairs if full_denominators else None, row["mixture"])
        return row

    rows = [None if n is None else point_cells(n) for n in elide(n_samples, problem.max_rows)]
    highlight = [worked(n) for n in highlight_points(detail, problem.highlight)]
    log_likelihood = sheet.cell(("ll", version), estep.log_likelihood)
    log_c = None
    if problem.carry == "rounded":
        # A hand calculation writes its log-likelihood as the sum of a log p(x_n) column.
        log_c = sheet.log_column(("estep", version), log_likelihood, rows,
                                 detail.log_mixture, None if normalized else variances[0])
    remarks = _estep_remarks(detail, weights, norm, equal_weights, equal_variances,
                             rows + highlight, problem.decimals, point_cells)
    resp_cell = lambda n, k: sheet.resp(version, n, k, detail)
    return {
        "index": index,  # the iteration; 0 for the E-step-only question
        "kernel": detail.kernel,
        "components": [{"k": k + 1, "label": labels[k], "weight": weights[k],
                        "mean": means[k], "variance": variances[k],
                        "two_var": two_var[k], "norm_const": norm[k],
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
        "exact_missing": problem.exact and index == exact_reach(trace) + 1,
        "exact_cancel": cancel,
        "differences": [] if full is None else estep_differences(detail, full, problem.decimals),
        # Past a few components the worked r_nk divide by p(x_n), written out once.
        "full_denominators": full_denominators,
        "equal_weights": equal_weights,
        "equal_variances": equal_variances,
        "rows": rows,
        "omitted": n_samples - sum(r is not None for r in rows),
        "highlight": highlight,
        # After the digits are settled: a point is classed as its r is printed.
        "takeaway": Later(lambda: takeaway(
            detail, labels, problem.max_rows, resp_cell,
            lambda n: sheet.cell(("x", n), float(detail.x[n]), given=True))),
        "row_sums": Later(lambda: row_sums(rows, problem.decimals, carried=(
            detail.resp if problem.carry == "rounded" else None))),
        "remarks": remarks,
        "log_likelihood": log_likelihood,
        "log_c": log_c,
    }


def mstep_context(mstep: MStep, before: Params, trace: Trace, index: int,
                  exact: MStep | None = None, full: MStep | None = None,
                  sheet: Sheet | None = None,
                  log_resp: Callable[[int], np.ndarray] | None = None) -> dict[str, Any]:
    """The written-out sums of one M-step, and why each parameter moved; *exact* and
    *full* are the same M-step in a companion run (exact values, full precision);
    *log_resp* sizes the responsibilities that underflowed.

    It turns version ``index - 1`` of the parameters into version *index*."""
    problem = trace.problem
    sheet = sheet if sheet is not None else Sheet(problem.decimals)
    decimals = problem.decimals
    detail = mstep.detail
    assert detail is not None
    n_samples = detail.resp.shape[0]
    labels = [problem.component_label(k) for k in range(problem.components)]
    terms = elide_terms(n_samples, problem.max_rows)
    rest = gap_of(terms)  # the rows a written-out sum leaves out, as one subtotal
    empty = {e.component for e in mstep.events if e.kind == "empty_component"}
    floored = {e.component: e.value for e in mstep.events if e.kind == "variance_floor"}
    old = _params_cells(sheet, before, ("before", index - 1),
                        index == 1 and trace.start.method == "given", labels)
    new = _params_cells(sheet, mstep.params, index, False, labels)
    resp = detail.resp
    # Cells only for the points the sums write out (all of them when none is elided).
    shown_points = [n for n in terms if n is not None]
    x = {n: sheet.cell(("x", n), float(detail.x[n]), given=True) for n in shown_points}
    # The responsibilities as the M-step's sums use them (their own cells: see above).

    def r_cell(n: int, k: int) -> Cell:
        return sheet.cell(("mstep-resp", index - 1, n, k), float(resp[n, k]),
                          log=None if log_resp is None else float(log_resp(n)[k]))
    comps = []
    for k in range(problem.components):
        params = mstep.params
        pull = detail.mean_pull_of(k)
        shift = float(params.means[k] - before.means[k])
        # The point that pulled mean k hardest in the direction it moved.
        puller = int(np.argmax(pull * np.sign(shift))) if shift else None
        nk = sheet.cell(("nk", index, k), float(mstep.nk[k]))
        sum_rx = sheet.cell(("sum_rx", index, k), float(mstep.sum_rx[k]))
        sum_rsq = sheet.cell(("sum_rsq", index, k), float(mstep.sum_rsq[k]))
        rk = {n: r_cell(n, k) for n in shown_points}
        pairs = [c for n in shown_points for c in (rk[n], x[n])]
        gap = None
        if rest:
            r_rest = resp[rest, k]
            gap = gap_term(rest, r=sheet.subtotal(("nk-rest", index, k), r_rest),
                           rx=sheet.subtotal(("sum_rx-rest", index, k), r_rest * detail.x[rest]),
                           rsq=sheet.subtotal(("sum_rsq-rest", index, k), r_rest * (
                               detail.x[rest] - float(params.means[k])) ** 2))
            sheet.equation(("nk", index, k), nk, [*rk.values(), gap["r"]], sh.d_sum)
            sheet.equation(("sum_rx", index, k), sum_rx, [*pairs, gap["rx"]],
                           sh.products_and_rest)
        else:
            sheet.equation(("nk", index, k), nk, list(rk.values()), sh.d_sum)
            sheet.equation(("sum_rx", index, k), sum_rx, pairs, sh.sum_of_products)
        if "weights" in mstep.updated:
            sheet.equation(("weights", index, k), new["weights"][k], [nk],
                           lambda v: v / n_samples)
        if "means" in mstep.updated and k not in empty:
            sheet.equation(("means", index, k), new["means"][k], [sum_rx, nk],
                           lambda a, b: a / b)
        variance = new["variances"][k]
        if "variances" in mstep.updated and k not in empty:
            # sum_n r_nk (x_n - mu_k^new)^2
            sheet.equation(("sum_rsq", index, k), sum_rsq, [new["means"][k], *pairs]
                           + ([gap["rsq"]] if gap else []),
                           sh.squares_and_rest if gap else sh.weighted_squares)
            if k in floored:  # the ratio before the floor raised it
                variance = sheet.cell(("raw_variance", index, k), float(floored[k]))
            sheet.equation(("variances", index, k), variance, [sum_rsq, nk],
                           lambda a, b: a / b)
        share = sheet.cell(("share", index, k), float(before.weights[k]) * n_samples)
        sheet.equation(("share", index, k), share, [old["weights"][k]],
                       lambda w: w * n_samples)
        comps.append({
            "k": k + 1, "label": problem.component_label(k), "nk": nk,
            "sum_rx": sum_rx, "sum_rsq": sum_rsq,
            "empty": k in empty,
            "floored": None if k not in floored else variance,
            "terms": [gap if n is None else {
                "n": n + 1, "x": x[n], "r": rk[n], "mean": new["means"][k]} for n in terms],
            "before": {"weight": old["weights"][k], "mean": old["means"][k],
                       "variance": old["variances"][k], "share": share},
            "after": {"weight": new["weights"][k], "mean": new["means"][k],
                      "variance": new["variances"][k]},
            "moved": {name: direction(float(before.get(p)[k]), float(params.get(p)[k]),
                                       problem.decimals)
                      for name, p in (("weight", "weights"), ("mean", "means"),
                                      ("variance", "variances"))},
            "puller": None if puller is None else {
                "n": puller + 1, "x": float(detail.x[puller]), "r": r_cell(puller, k)},
            "exact": None if exact is None else {
                "nk": exact.nk[k], "sum_rx": exact.sum_rx[k], "sum_rsq": exact.sum_rsq[k],
                **{name: exact.params.get(p)[k] for name, p in _PARAM_NAMES}},
            "full": None if full is None else {
                "nk": float(full.nk[k]),
                **{name: float(full.params.get(p)[k]) for name, p in _PARAM_NAMES}},
        })
    return {
        "index": index,
        "components": comps,
        "updated": list(mstep.updated),
        "fixed": [p for p in defaults.PARAMETERS if p not in mstep.updated],
        "events": [{"kind": e.kind, "k": e.component + 1,
                    "value": (comps[e.component]["floored"] if e.kind == "variance_floor"
                              else sheet.cell(("nk", index, e.component), e.value)),
                    "floor": e.floor,
                    "weight": new["weights"][e.component]}
                   for e in mstep.events],
        "collapsing": _collapsing(mstep, before, comps, empty | set(floored)),
        "exact": exact is not None,
        "differences": [] if full is None else _mstep_differences(mstep, full, decimals),
    }


def _collapsing(mstep: MStep, before: Params, comps: list[dict[str, Any]],
                kept: set[int]) -> list[dict[str, Any]]:
    """The components that carry about one point and whose variance shrinks: collapsing
    onto that point (before any floor is reached), said with the variance's size; not
    an empty or floored one (*kept*)."""
    detail = mstep.detail
    assert detail is not None
    resp = detail.resp
    return [{"k": k + 1, "nk": comps[k]["nk"], "variance": comps[k]["after"]["variance"],
             "point": {"n": int(np.argmax(resp[:, k])) + 1,
                       "x": float(detail.x[int(np.argmax(resp[:, k]))])}}
            for k in range(len(comps))
            if "variances" in mstep.updated and k not in kept
            and float(mstep.nk[k]) < defaults.COLLAPSE_NK
            and float(mstep.params.variances[k]) < float(before.variances[k])]


def _mstep_differences(mstep: MStep, full: MStep, decimals: int) -> list[dict[str, Any]]:
    """The hand calculation's N_k and updated parameters that print differently from
    full precision's, component by component."""
    found: list[dict[str, Any] | None] = []
    for k in range(len(mstep.nk)):
        found.append(difference("nk", float(mstep.nk[k]), float(full.nk[k]), decimals,
                                k=k + 1))
        found.extend(difference(name, float(mstep.params.get(p)[k]),
                                float(full.params.get(p)[k]), decimals, k=k + 1)
                     for name, p in _PARAM_NAMES if p in mstep.updated)
    return [f for f in found if f is not None]


def iteration_context(iteration: Iteration, trace: Trace,
                      sheet: Sheet | None = None) -> dict[str, Any]:
    sheet = sheet if sheet is not None else Sheet(trace.problem.decimals)
    i = iteration.index
    ctx = iteration_head(iteration, sheet)
    if iteration.detailed:
        exact = companion(trace.exact, i)
        full = companion(trace.full, i)
        ctx["estep"] = estep_context(iteration.estep, trace, i,
                                     exact=exact.estep if exact else None,
                                     full=full.estep if full else None, sheet=sheet)
        estep_detail = iteration.estep.detail
        assert estep_detail is not None
        ctx["mstep"] = mstep_context(iteration.mstep, iteration.estep.params, trace, i,
                                     exact=exact.mstep if exact else None,
                                     full=full.mstep if full else None, sheet=sheet,
                                     log_resp=estep_detail.log_resp_of)
        if full is not None:
            ctx["log_likelihood_difference"] = difference(
                "log_likelihood", iteration.log_likelihood_after, full.log_likelihood_after,
                trace.problem.decimals)
    return ctx
















def _summary_rows(trace: Trace) -> list[dict[str, Any] | None]:
    its = trace.iterations
    rows: list[dict[str, Any] | None] = []
    decimals = trace.problem.decimals
    # A hand calculation's values as carried (a tiny variance keeps its two digits).
    rounded = trace.problem.carry == "rounded"
    kept = kept_given(trace)

    def value(name: str, v: float) -> Any:
        if name in kept:  # as given (a weight of 1/3), as the calculation uses it
            return sh.given(float(v)) or sh.carried(float(v), decimals)
        return sh.carried(float(v), decimals) if rounded else float(v)
    for i in elide(len(its), trace.problem.max_rows):
        if i is None:
            rows.append(None)
            continue
        it = its[i]
        p = it.mstep.params
        rows.append({"index": it.index, "log_likelihood": it.log_likelihood,
                     "log_likelihood_after": it.log_likelihood_after, "gain": it.gain,
                     **{name: [value(name, v) for v in p.get(name)]
                        for name in defaults.PARAMETERS},
                     "detailed": it.detailed})
    return rows


def _clustering(trace: Trace, sheet: Sheet, variance: Cell) -> dict[str, Any]:
    """The final E-step's responsibilities and clusters; a hand calculation adds its
    p(x_n) and log p(x_n), whose sum is the final log-likelihood (*variance*: the cell
    of the final sigma_1^2, from which the proportional kernel's log c is computed)."""
    detail = trace.final.detail
    assert detail is not None
    problem = trace.problem
    rounded = problem.carry == "rounded"
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
        row = {"n": n + 1, "x": float(detail.x[n]),
               "resp": [(sh.carried(float(v), problem.decimals, float(lv)) if rounded else
                         sh.show(float(v), problem.decimals, log=float(lv)))
                        for v, lv in zip(resp[n], log_resp(n))],
               "cluster": int(best[n]) + 1, "tie": tied if ties[n] else None}
        if rounded:
            row["mixture"] = sheet.cell(("final-mixture", n),
                                        float(detail.mixture_density[n]),
                                        log=float(detail.log_mixture[n]))
        rows.append(row)
    counts = [{"k": k + 1, "label": labels[k], "count": int(np.sum((best == k) & ~ties))}
              for k in range(len(labels))]
    omitted = resp.shape[0] - sum(r is not None for r in rows)
    total = sheet.cell(("ll", len(trace.iterations)), trace.final.log_likelihood)
    log_c = None
    if rounded:
        log_c = sheet.log_column(("final",), total, rows, detail.log_mixture,
                                 variance if problem.kernel == "proportional" else None)
    return {"rows": rows, "counts": counts, "ties": int(ties.sum()),
            "omitted": omitted, "rounded": rounded, "log_c": log_c, "log_likelihood": total}


def build_context(trace: Trace) -> dict[str, Any]:
    """The whole document's context, filled by the builder of its document plug-in's
    parts, with the plug-in's ``parts``, ``points_in_data_order`` and ``user_macros``
    (see :class:`~explainer.render.documents.base.Document`)."""
    from .documents import document_of

    document = document_of(trace.problem)
    # (A builder's module is imported when its kind of document is made, not before.)
    module, name = _BUILDERS[document.parts]
    context = getattr(importlib.import_module(module, __package__), name)(trace)
    context.update(parts=document.parts, points_in_data_order=document.points_in_data_order,
                   user_macros=document.user_macros)
    return context


# The context builder of each kind of document (a document plug-in's parts): module, name.
_BUILDERS = {"parts": (".context", "_build_1d"), "mvparts": (".context_mv", "build_context"),
             "familyparts": (".context_family", "build_context")}


def _build_1d(trace: Trace) -> dict[str, Any]:
    """A Gaussian mixture's context in one dimension."""
    problem = trace.problem
    sheet = Sheet(problem.decimals, grow=problem.carry == "full", align=not problem.exact)
    sheet.kept_given = kept_given(trace)
    return document(trace, sheet, iteration_context, _estep_only, _model)


def _estep_only(trace: Trace, sheet: Sheet) -> dict[str, Any]:
    return estep_context(trace.final, trace, exact=trace.exact.final if trace.exact else None,
                         full=trace.full.final if trace.full else None, sheet=sheet)


def _model(trace: Trace, sheet: Sheet, labels: list[str]) -> Any:
    """The 1-D model's keys of the document (see skeleton.document)."""
    problem = trace.problem
    final = trace.final
    ran = len(trace.iterations)
    given = trace.start.method == "given"
    start = _params_cells(sheet, trace.start.params, 0, given, labels)
    end = _params_cells(sheet, final.params, ran, given and not ran, labels)
    clustering = _clustering(trace, sheet, end["variances"][0])

    def keys() -> dict[str, Any]:
        return {
            "dim": 1,
            "data": [None if n is None else {"n": n + 1, "x": sheet.cell(
                        ("x", n), float(problem.data[n]), given=True)}
                     for n in elide(problem.n_samples, problem.max_rows)],
            "updated": list(problem.update),
            "fixed": [p for p in defaults.PARAMETERS if p not in problem.update],
            "start": {"method": trace.start.method, "seed": trace.start.seed,
                      "params": _cell_rows(start, labels, trace.exact.start.params
                                           if trace.exact else None),
                      "equal_variances": all_equal(trace.start.params.variances)},
            "summary": _summary_rows(trace) if wanted_summary(trace) else [],
            "final": {"params": _cell_rows(end, labels),
                      "log_likelihood": sheet.cell(("ll", ran), final.log_likelihood),
                      "clustering": clustering,
                      "differences": _final_differences(trace)},
            "events": [{"kind": e.kind, "k": e.component + 1, "value": e.value,
                        "floor": e.floor} for e in trace.events],
        }
    return keys


def _cell_rows(cells: dict[str, list[Cell]], labels: Sequence[str],
               exact: Params | None = None) -> list[dict[str, Any]]:
    """The rows of a parameter table: one per component, its printed cells."""
    return [{"k": k + 1, "label": labels[k],
             **{name: cells[p][k] for name, p in _PARAM_NAMES},
             "exact": None if exact is None else {
                 name: exact.get(p)[k] for name, p in _PARAM_NAMES}}
            for k in range(len(labels))]






def _final_differences(trace: Trace) -> list[dict[str, Any]]:
    """With a rounded carry: the final parameters and log-likelihood that print
    differently from the full-precision run."""
    if trace.full is None:
        return []
    assert trace.full.final is not None
    decimals = trace.problem.decimals
    mine, full = trace.final.params, trace.full.final.params
    found = [difference(name, float(mine.get(p)[k]), float(full.get(p)[k]), decimals, k=k + 1)
             for k in range(trace.problem.components) for name, p in _PARAM_NAMES]
    found.append(difference("log_likelihood", trace.final.log_likelihood,
                             trace.full.final.log_likelihood, decimals))
    return [f for f in found if f is not None]
