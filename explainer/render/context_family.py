"""The document's context for a mixture of another family than the Gaussian (binomial,
Bernoulli, Poisson, categorical): the skeleton (``skeleton.document``) filled with what
such a mixture prints.

What is the same for every family is here: the parameters' cells, the E-step's table
(each cell ``expression = value``, p(x_n), r_nk), the worked responsibilities, N_k and
the weights, the conclusion, the summary and the clustering. What is a family's own
comes from its document plug-in in :mod:`explainer.render.documents`: how one
likelihood is written out
(:meth:`~explainer.render.documents.base.FamilyDocument.density_terms`) and the sums of
its M-step (:meth:`~explainer.render.documents.base.FamilyDocument.update_terms`); its
templates write them.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..trace import EStep, Iteration, MStep, Params, Trace
from . import shown as sh
from .documents import FamilyDocument, document_of
from .shown import Cell
from .sheet import Later, Sheet
from .skeleton import (all_equal, companion, difference, direction, document,
                       elide, elide_terms, estep_differences, exact_reach, gap_of, gap_term,
                       highlight_points, iteration_head, kept_given, row_sums,
                       scientific_remark, takeaway, wanted_summary)


def build_context(trace: Trace) -> dict[str, Any]:
    """The whole document's context."""
    page = document_of(trace.problem)
    assert isinstance(page, FamilyDocument)
    # A hand calculation (rounded carry) prints the values it carried: no digits added.
    sheet = Sheet(trace.problem.decimals, grow=trace.problem.carry == "full",
                  align=not trace.problem.exact)
    sheet.kept_given = kept_given(trace)
    context = document(
        trace, sheet,
        lambda it, tr, sh_: _iteration(it, tr, sh_, page),
        lambda tr, sh_: _estep(tr.final, tr, 0, sh_, page,
                               tr.exact.final if tr.exact is not None else None,
                               tr.full.final if tr.full is not None else None),
        lambda tr, sh_, labels: _model(tr, sh_, labels, page))
    return context


class ParamCells:
    """The printed cells of one version of the parameters: ``weights[k]`` and the
    family's ``value[k]`` (a list of cells per component for a vector parameter), with
    ``complement[k]`` = 1 - value where the family writes it (binomial, Bernoulli)."""

    def __init__(self, sheet: Sheet, params: Params, page: FamilyDocument, version: Any,
                 given: bool):
        name = page.parameter
        value = params.get(name)
        # Given parameters a hand calculation keeps are printed as given throughout.
        kept = {p: given or p in sheet.kept_given for p in ("weights", name)}
        self.weights = [sheet.cell(("weights", version, k), float(w), given=kept["weights"])
                        for k, w in enumerate(params.weights)]

        def cell(index: tuple[int, ...]) -> Cell:
            return sheet.cell((name, version, *index), float(value[index]),
                              given=kept[name])
        if page.vector:
            self.value: list[Any] = [[cell((k, i)) for i in range(value.shape[1])]
                                     for k in range(value.shape[0])]
        else:
            self.value = [cell((k,)) for k in range(value.shape[0])]
        self.complement: list[Any] = []
        if page.complement:
            def one_minus(index: tuple[int, ...], p: Cell) -> Cell:
                # 1 - p of a p printed as it is (given, or a hand calculation's
                # carried p) is exact: printed as it is too (1 - 0.0004 = 0.9996).
                q = sheet.cell(("complement", version, *index), 1 - float(value[index]),
                               given=(kept[name] or not sheet.grow) and p.shown().exact)
                sheet.equation(("complement", version, *index), q, [p], lambda v: 1 - v)
                return q
            self.complement = [[one_minus((k, i), p) for i, p in enumerate(row)]
                               if page.vector else one_minus((k,), row)
                               for k, row in enumerate(self.value)]


def _point(page: FamilyDocument, n: int) -> dict[str, Any]:
    """Point n as the family writes it, numbered from 1."""
    return {"n": n + 1, **page.point(n)}


def _estep(estep: EStep, trace: Trace, index: int, sheet: Sheet,
           page: FamilyDocument, exact: EStep | None = None,
           full: EStep | None = None) -> dict[str, Any]:
    """The E-step of iteration *index* (0: the E-step-only question); *exact* is the same
    E-step in exact arithmetic (display.exact), when the exact run reached it, *full*
    at full precision beside a hand calculation (display.carry: rounded)."""
    problem = trace.problem
    detail = estep.detail
    assert detail is not None
    params = estep.params
    version = max(index - 1, 0)
    labels = [problem.component_label(k) for k in range(problem.components)]
    n_samples, n_components = detail.resp.shape
    cells = ParamCells(sheet, params, page, ("estep", version),
                       version == 0 and trace.start.method == "given")
    exact_detail = exact.detail if exact is not None else None
    equal_weights = all_equal(params.weights)
    weights = [cells.weights[0]] * n_components if equal_weights else cells.weights

    def row(n: int) -> dict[str, Any]:
        density, terms, resp = [], [], []
        for k in range(n_components):
            cell = sheet.cell(("density", version, n, k), float(detail.density[n, k]),
                              log=float(detail.log_density[n, k]))
            terms.append(page.density_terms(sheet, ("density", version, n, k), cell, n, k,
                                              cells))
            density.append(cell)
            resp.append(sheet.resp(version, n, k, detail))
        mixture = sheet.mixture(version, n, detail, weights, density)
        return {**_point(page, n), "terms": terms, "density": density,
                "mixture": mixture, "resp": resp,
                "exact": None if exact_detail is None else {
                    "density": list(exact_detail.density[n]),
                    "mixture": exact_detail.mixture_density[n],
                    "resp": list(exact_detail.resp[n])}}

    rounded = problem.carry == "rounded"

    def worked(n: int) -> dict[str, Any]:
        r = row(n)
        pairs = [c for k in range(n_components) for c in (weights[k], r["density"][k])]
        for k in range(n_components):
            # A hand calculation divides by the p(x_n) it wrote down.
            sheet.worked_resp(version, n, k, r["resp"][k], weights[k], r["density"][k],
                              None if rounded else pairs, r["mixture"] if rounded else None)
        return r

    rows = [None if n is None else row(n) for n in elide(n_samples, problem.max_rows)]
    highlight = [worked(n) for n in highlight_points(detail, problem.highlight)]
    log_likelihood = sheet.cell(("ll", version), estep.log_likelihood)
    if rounded:  # the hand calculation's log-likelihood: the sum of a log p(x_n) column
        sheet.log_column(("estep", version), log_likelihood, rows, detail.log_mixture, None)
    remarks: list[dict[str, Any]] = []
    if n_components > 1 and equal_weights:
        remarks.append({"kind": "equal_priors", "weight": weights[0]})
    if n_components == 1:
        remarks.append({"kind": "single_component"})
    remarks.extend(page.estep_remarks(problem))
    remarks.extend(scientific_remark(rows + highlight, problem.decimals))
    resp_cell = lambda n, k: sheet.resp(version, n, k, detail)  # noqa: E731
    return {
        "index": index,
        "components": [{"k": k + 1, "label": labels[k], "weight": weights[k],
                        "value": cells.value[k],
                        "complement": cells.complement[k] if cells.complement else None}
                       for k in range(n_components)],
        "equal_weights": equal_weights,
        "exact": exact_detail is not None,
        # The first E-step past the exact run's reach, where the document says so.
        "exact_missing": problem.exact and index == exact_reach(trace) + 1,
        "rows": rows,
        "omitted": n_samples - sum(r is not None for r in rows),
        "highlight": highlight,
        "takeaway": Later(lambda: takeaway(
            detail, labels, problem.max_rows, resp_cell,
            point_of=lambda n: _point(page, n))),
        "row_sums": Later(lambda: row_sums(rows, problem.decimals,
                                           carried=detail.resp if rounded else None)),
        "remarks": remarks,
        "log_likelihood": log_likelihood,
        "differences": [] if full is None else estep_differences(detail, full,
                                                                  problem.decimals),
    }


def _param_differences(mine: Params, full: Params, parameter: str, decimals: int,
                       updated: Any = None) -> list[dict[str, Any]]:
    """The weights and the family's parameter of a hand calculation that print differently
    from full precision (only those *updated*, when given)."""
    found = []
    for name in ("weights", parameter):
        if updated is not None and name not in updated:
            continue
        values, others = mine.get(name), full.get(name)
        for index in np.ndindex(values.shape):
            entry = {"k": index[0] + 1, **({"entry": index[1] + 1} if len(index) > 1 else {})}
            found.append(difference("weight" if name == "weights" else "value",
                                    float(values[index]), float(others[index]), decimals,
                                    **entry))
    return [f for f in found if f is not None]


def _mstep(mstep: MStep, before: Params, trace: Trace, index: int, sheet: Sheet,
           page: FamilyDocument, log_resp: Callable[[int], np.ndarray],
           exact: MStep | None = None,
           full: MStep | None = None) -> dict[str, Any]:
    """N_k, the weights and the family's parameter of M-step *index*, written out; *exact*
    is the same M-step in exact arithmetic, *full* at full precision beside a hand
    calculation."""
    problem = trace.problem
    detail = mstep.detail
    assert detail is not None
    n_samples = detail.resp.shape[0]
    terms = elide_terms(n_samples, problem.max_rows)
    rest = gap_of(terms)  # the rows a written-out sum leaves out, as one subtotal
    empty = {e.component for e in mstep.events if e.kind == "empty_component"}
    old = ParamCells(sheet, before, page, ("before", index - 1),
                     index == 1 and trace.start.method == "given")
    new = ParamCells(sheet, mstep.params, page, index, False)
    shown_points = [n for n in terms if n is not None]

    def r_cell(n: int, k: int) -> Cell:
        return sheet.cell(("mstep-resp", index - 1, n, k), float(detail.resp[n, k]),
                          log=float(log_resp(n)[k]))
    comps = []
    for k in range(problem.components):
        nk = sheet.cell(("nk", index, k), float(mstep.nk[k]))
        rk = {n: r_cell(n, k) for n in shown_points}
        gap = None
        if rest:
            gap = gap_term(rest, r=sheet.subtotal(("nk-rest", index, k), detail.resp[rest, k]))
        sheet.equation(("nk", index, k), nk, [*rk.values(), *([gap["r"]] if gap else [])],
                       sh.d_sum)
        if "weights" in mstep.updated:
            sheet.equation(("weights", index, k), new.weights[k], [nk],
                           lambda v: v / n_samples)
        update = None
        if page.parameter in mstep.updated and k not in empty:
            update = page.update_terms(sheet, index, k, mstep, rk, terms, nk,
                                         new.value[k])
        before_value, after_value = before.get(page.parameter), \
            mstep.params.get(page.parameter)
        comps.append({
            "k": k + 1, "label": problem.component_label(k), "nk": nk,
            "terms": [gap if n is None else {"n": n + 1, "r": rk[n]} for n in terms],
            "empty": k in empty, "sums": update,
            "before": {"weight": old.weights[k], "value": old.value[k]},
            "after": {"weight": new.weights[k], "value": new.value[k]},
            "exact": None if exact is None else {
                "nk": exact.nk[k], "weight": exact.params.weights[k],
                "value": _exact_list(exact.params.get(page.parameter)[k])},
            "moved": {"weight": direction(float(before.weights[k]),
                                          float(mstep.params.weights[k]), problem.decimals),
                      "value": _moved(before_value[k], after_value[k], problem.decimals)},
        })
    return {
        "index": index,
        "components": comps,
        "updated": list(mstep.updated),
        "fixed": [p for p in problem.parameters if p not in mstep.updated],
        "events": _events(mstep.events),
        "exact": exact is not None,
        "differences": [] if full is None else [
            *[f for k in range(problem.components)
              if (f := difference("nk", float(mstep.nk[k]), float(full.nk[k]),
                                  problem.decimals, k=k + 1)) is not None],
            *_param_differences(mstep.params, full.params, page.parameter,
                                problem.decimals, mstep.updated)],
    }


def _exact_list(value: Any) -> Any:
    """An exact parameter of one component: a value, or a list for a vector."""
    return list(value) if np.ndim(value) else value


def _moved(before: Any, after: Any, decimals: int) -> Any:
    """``up``, ``down`` or ``same`` for a number; a list of those for a vector."""
    if np.ndim(before):
        return [direction(float(b), float(a), decimals) for b, a in zip(before, after)]
    return direction(float(before), float(after), decimals)


def _events(events: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"kind": e.kind, "k": e.component + 1, "value": e.value,
             "entry": int(e.cause) if e.cause else None} for e in events]


def _iteration(iteration: Iteration, trace: Trace, sheet: Sheet,
               page: FamilyDocument) -> dict[str, Any]:
    ctx = iteration_head(iteration, sheet)
    if iteration.detailed:
        detail = iteration.estep.detail
        assert detail is not None
        exact = companion(trace.exact, iteration.index)
        full = companion(trace.full, iteration.index)
        ctx["estep"] = _estep(iteration.estep, trace, iteration.index, sheet, page,
                              exact.estep if exact else None, full.estep if full else None)
        ctx["mstep"] = _mstep(iteration.mstep, iteration.estep.params, trace,
                              iteration.index, sheet, page, detail.log_resp_of,
                              exact.mstep if exact else None, full.mstep if full else None)
        if full is not None:
            ctx["log_likelihood_difference"] = difference(
                "log_likelihood", iteration.log_likelihood_after, full.log_likelihood_after,
                trace.problem.decimals)
    return ctx


def _final_rows(problem: Any, sheet: Sheet, page: FamilyDocument, detail: Any,
                best: np.ndarray, ties: np.ndarray) -> list[dict[str, Any] | None]:
    """The final responsibilities' rows (None for the rows left out), each point's cluster
    and ties; a hand calculation's as carried, with its p(x_n), whose logs add up to its
    final log-likelihood."""
    rounded = problem.carry == "rounded"
    decimals = problem.decimals
    resp = detail.resp
    rows: list[dict[str, Any] | None] = []
    for n in elide(problem.n_samples, problem.max_rows):
        if n is None:
            rows.append(None)
            continue
        row = {**_point(page, n),
               "resp": [sh.carried(float(v), decimals, float(lv)) if rounded
                        else sh.show(float(v), decimals, log=float(lv))
                        for v, lv in zip(resp[n], detail.log_resp_of(n))],
               "cluster": int(best[n]) + 1,
               "tie": [k + 1 for k in np.flatnonzero(np.isclose(
                   resp[n], resp[n].max(), rtol=0, atol=1e-12))] if ties[n] else None}
        if rounded:
            row["mixture"] = sheet.cell(("final-mixture", n), float(detail.mixture_density[n]),
                                        log=float(detail.log_mixture[n]))
        rows.append(row)
    return rows


def _model(trace: Trace, sheet: Sheet, labels: list[str], page: FamilyDocument) -> Any:
    """The family's keys of the document (see skeleton.document)."""
    problem = trace.problem
    final = trace.final
    assert final is not None and final.detail is not None
    ran = len(trace.iterations)
    given = trace.start.method == "given"
    start = ParamCells(sheet, trace.start.params, page, 0, given)
    end = ParamCells(sheet, final.params, page, ran, given and not ran)
    detail = final.detail
    resp = detail.resp
    best = resp.argmax(axis=1)
    ties = np.isclose(resp, resp.max(axis=1, keepdims=True), rtol=0, atol=1e-12).sum(axis=1) > 1
    rounded = problem.carry == "rounded"
    decimals = problem.decimals
    rows = _final_rows(problem, sheet, page, detail, best, ties)
    total = sheet.cell(("ll", ran), final.log_likelihood)
    if rounded:
        sheet.log_column(("final",), total, rows, detail.log_mixture, None)
    counts = [{"k": k + 1, "label": labels[k], "count": int(np.sum((best == k) & ~ties))}
              for k in range(len(labels))]
    kept = sheet.kept_given

    def shown(name: str, v: Any) -> Any:
        """A summary's value: as given where a hand calculation keeps it, as carried in
        one, else the float."""
        if np.ndim(v):
            return [shown(name, u) for u in v]
        if name in kept:
            return sh.given(float(v)) or sh.carried(float(v), decimals)
        return sh.carried(float(v), decimals) if rounded else float(v)

    def table(cells: ParamCells) -> list[dict[str, Any]]:
        return [{"k": k + 1, "label": labels[k], "weight": cells.weights[k],
                 "value": cells.value[k]} for k in range(len(labels))]

    summary = []
    for i in elide(ran, problem.max_rows) if wanted_summary(trace) else []:
        if i is None:
            summary.append(None)
            continue
        it = trace.iterations[i]
        summary.append({"index": it.index, "log_likelihood": it.log_likelihood,
                        "log_likelihood_after": it.log_likelihood_after,
                        "weights": shown("weights", it.mstep.params.weights),
                        "value": shown(page.parameter,
                                       it.mstep.params.get(page.parameter)),
                        "detailed": it.detailed})
    differences: list[dict[str, Any]] = []
    if trace.full is not None and trace.full.final is not None:
        differences = _param_differences(final.params, trace.full.final.params,
                                         page.parameter, decimals)
        found = difference("log_likelihood", final.log_likelihood,
                           trace.full.final.log_likelihood, decimals)
        differences.extend([found] if found is not None else [])

    def keys() -> dict[str, Any]:
        return {
            "dim": problem.dim,
            "family": page.name,
            "parameter": page.parameter,
            "vector": page.vector,
            "figure": page.figure,
            "likelihood": page.likelihood,
            "likelihoods": page.likelihoods,
            "categories": list(problem.categories) if problem.categories else None,
            "trials": (int(problem.trials[0]) if problem.trials is not None
                       and all_equal(problem.trials) else None),
            "data": [None if n is None else _point(page, n)
                     for n in elide(problem.n_samples, problem.max_rows)],
            "updated": list(problem.update),
            "fixed": [p for p in problem.parameters if p not in problem.update],
            "start": {"method": trace.start.method, "seed": trace.start.seed,
                      "params": table(start)},
            "summary": summary,
            "final": {"params": table(end),
                      "log_likelihood": total,
                      "differences": differences,
                      "clustering": {"rows": rows, "counts": counts, "ties": int(ties.sum()),
                                     "rounded": rounded, "log_likelihood": total,
                                     "omitted": problem.n_samples - sum(
                                         r is not None for r in rows)}},
            "events": _events(trace.events),
            "remarks": page.document_remarks(trace),
        }
    return keys
